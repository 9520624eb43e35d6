"""Top-bar helpers that read from the apps below (SLA notifications)."""
from django import template

register = template.Library()


@register.simple_tag
def unread_notifications(user) -> int:
    """Unread in-app notifications; 0 until the SLA engine's notifications exist."""
    try:
        from sla.selectors import unread_count
    except ImportError:
        return 0
    return unread_count(user)
