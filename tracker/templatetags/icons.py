"""`{% icon "name" %}`: one icon from the vendored Lucide sprite, static/icons/sprite.svg (its README says
which icons it holds and how to add one).

    {% load icons %}
    {% icon "bell" %}                      decorative, beside a text label: aria-hidden
    {% icon "bell" label="Notifications" %}  stands alone: role="img" with that aria-label
"""

import xml.etree.ElementTree as ET
from functools import cache, lru_cache

from django import template
from django.contrib.staticfiles import finders
from django.core.exceptions import ImproperlyConfigured
from django.template.library import parse_bits
from django.templatetags.static import static
from django.utils.html import conditional_escape, format_html

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


def icon(name, label=""):
    """The icon `name` as an inline <svg> that uses the sprite; raises for a name the sprite lacks."""
    # Raised in every mode: a typo would otherwise ship as an empty box. Tests check every literal use.
    if name not in sprite_ids():
        raise template.TemplateSyntaxError(
            f'Unknown icon "{name}": {SPRITE} has no <symbol id="{name}">. Use a name from '
            f"static/icons/icons.txt, or add the Lucide name there and rebuild the sprite with "
            f"static/icons/build_sprite.py (see static/icons/README.md)."
        )
    if type(name) is str and type(label) is str:
        return _icon_html(name, label)
    return _write(name, label)


@lru_cache(maxsize=512)
def _icon_html(name: str, label: str):
    return _write(name, label)


def _write(name, label):
    href = f"{sprite_url()}#{name}"
    if label:
        return format_html(
            '<svg class="icon" role="img" aria-label="{}" focusable="false"><use href="{}"></use></svg>', label, href
        )
    return format_html('<svg class="icon" aria-hidden="true" focusable="false"><use href="{}"></use></svg>', href)


class IconNode(template.Node):
    """`{% icon %}`: with a known name written as a literal (most uses), the <svg> is made once, when the
    template is compiled; otherwise the arguments are read at each render, as a simple tag reads them."""

    def __init__(self, args, kwargs, asvar):
        self.args, self.kwargs, self.asvar = args, kwargs, asvar
        self.html = None
        literal = len(args) == 1 and not args[0].is_var and not args[0].filters and isinstance(args[0].var, str)
        if literal and not kwargs and not asvar and args[0].var in sprite_ids():
            self.html = icon(args[0].var)

    def render(self, context):
        if self.html is not None:
            return self.html
        html = icon(*(a.resolve(context) for a in self.args),
                    **{k: v.resolve(context) for k, v in self.kwargs.items()})
        if self.asvar:
            context[self.asvar] = html
            return ""
        return conditional_escape(html) if context.autoescape else html


@register.tag(name="icon")
def icon_tag(parser, token):
    bits = token.split_contents()[1:]
    asvar = None
    if len(bits) >= 2 and bits[-2] == "as":
        asvar = bits[-1]
        bits = bits[:-2]
    args, kwargs = parse_bits(parser, bits, ["name", "label"], None, None, ("",), [], None, False, "icon")
    return IconNode(args, kwargs, asvar)
