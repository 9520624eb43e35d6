"""The notifications bell's number, for the top bar item SLA registers."""
from django import template

from sla.selectors import unread_count

register = template.Library()


@register.simple_tag
def unread_notifications(user) -> int:
    return unread_count(user)
