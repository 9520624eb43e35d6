"""What the ticket page reads often enough to be worth a shortcut: a choice field's label.

Django's `get_<field>_display()` rebuilds a dict of every choice and translates every label on each call; the
page shows ~40 of them (its header, details, links and the changes on its service). `display` gives the same
string from a table built once per field and language. And a form field's block without an include."""
from functools import lru_cache

from django import template
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

register = template.Library()


@lru_cache(maxsize=256)
def _labels(field, language: str | None) -> dict:
    return {make_hashable(value): force_str(label, strings_only=True) for value, label in field.flatchoices}


def choice_display(instance, name: str):
    """What `instance.get_<name>_display()` returns, without rebuilding the field's choices."""
    field = instance._meta.get_field(name)
    value = getattr(instance, field.attname)
    key = make_hashable(value)
    labels = _labels(field, get_language())
    return labels[key] if key in labels else force_str(value, strings_only=True)


@register.filter
def display(instance, name: str):
    """`{{ ticket|display:"status" }}` reads as `{{ ticket.get_status_display }}`."""
    return choice_display(instance, name)


@register.simple_tag
def field_block(f):
    """`{% field_block form.note %}` writes what `{% include "tracker/_field.html" with f=form.note %}` does (the
    label, the widget, its help and errors in a div), without an include per field."""
    help_text = f'<div class="help">{conditional_escape(f.help_text)}</div>' if f.help_text else ""
    return mark_safe(f'<div class="field">{conditional_escape(f.label_tag())}{conditional_escape(f)}{help_text}'
                     f"{conditional_escape(f.errors)}</div>\n")
