"""`{% icon "name" %}`: one icon from the vendored Lucide sprite, static/icons/sprite.svg (its README says
which icons it holds and how to add one).

    {% load icons %}
    {% icon "bell" %}                      decorative, beside a text label: aria-hidden
    {% icon "bell" label="Notifications" %}  stands alone: role="img" with that aria-label
"""

import xml.etree.ElementTree as ET
from functools import cache

from django import template
from django.contrib.staticfiles import finders
from django.core.exceptions import ImproperlyConfigured
from django.templatetags.static import static
from django.utils.html import format_html

register = template.Library()

SPRITE = "icons/sprite.svg"
SVG_NS = "http://www.w3.org/2000/svg"


@cache
def sprite_url() -> str:
    return static(SPRITE)


@cache
def sprite_ids() -> frozenset[str]:
    """The symbol ids in the sprite, read once from the file the staticfiles finders serve."""
    path = finders.find(SPRITE)
    if path is None:
        raise ImproperlyConfigured(f"{SPRITE} is not in any static folder; see static/icons/README.md")
    return frozenset(symbol.get("id") for symbol in ET.parse(path).getroot().iter(f"{{{SVG_NS}}}symbol"))


@register.simple_tag
def icon(name, label=""):
    """The icon `name` as an inline <svg> that uses the sprite; raises for a name the sprite lacks."""
    # Raised in every mode: a typo would otherwise ship as an empty box. Tests check every literal use.
    if name not in sprite_ids():
        raise template.TemplateSyntaxError(
            f'Unknown icon "{name}": {SPRITE} has no <symbol id="{name}">. Use a name from '
            f"static/icons/icons.txt, or add the Lucide name there and rebuild the sprite with "
            f"static/icons/build_sprite.py (see static/icons/README.md)."
        )
    href = f"{sprite_url()}#{name}"
    if label:
        return format_html(
            '<svg class="icon" role="img" aria-label="{}" focusable="false"><use href="{}"></use></svg>', label, href
        )
    return format_html('<svg class="icon" aria-hidden="true" focusable="false"><use href="{}"></use></svg>', href)
