"""`{% url %}` resolved once per name and arguments: a page of the desk writes 40-60 links, most of them the
same on every page (the top bar, the forms' actions), and Django's tag resolves each one again.

    {% load links %}   after the other libraries: its `url` replaces the built-in tag in that template

Same syntax and output as the built-in tag (`{% url 'name' arg key=value as var %}`, autoescaped, the
request's current app); the URL is looked up in a per-process cache keyed by everything `reverse()` reads
(name, arguments, current app, URLconf and script prefix), so a changed prefix or URLconf is a new entry;
an argument other than a string or an integer (e.g. a model instance) goes to `reverse()` every time.

Most links on a ticket page carry that ticket's key, so a cache per name *and arguments* missed on nearly every
page of a desk with many tickets. A URL whose arguments are plain words (letters, digits, "-" and "_") or
non-negative integers is therefore made from a pattern resolved once per name and kind of each argument, with
a slot per argument that the values fill: such a value passes the same converters as its slot did (str, slug,
int: the project registers no converter of its own) and `reverse()` would not quote it. Any other value
(all digits in a string, ".", "/", spaces, a negative number) goes through the exact cache above.
"""

import html
import re
from functools import cache, lru_cache

from django import template
from django.template.defaulttags import CsrfTokenNode, URLNode
from django.template.defaulttags import url as builtin_url
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from tracker.form_html import _var

from .crossline import role_label
from .icons import icon

register = template.Library()

# arguments whose text is their value: a cache key that cannot go stale (a quoted name in a tag is a SafeString)
_PLAIN = (str, SafeString, int)


@lru_cache(maxsize=4096)
def _reverse(view_name, args: tuple, kwargs: tuple, current_app, urlconf, prefix) -> str:
    return reverse(view_name, args=args, kwargs=dict(kwargs), current_app=current_app, urlconf=urlconf)


_WORD = re.compile(r"[A-Za-z0-9_-]*[A-Za-z_-][A-Za-z0-9_-]*")  # not all digits: an int converter refuses it


def _slot(i: int, value) -> str | int | None:
    """The stand-in of argument `i` (of `value`'s kind) in a pattern: a word or a number no real value is (with
    the value's digits apart, no stand-in's text is inside another's); None: `value` is not slot-safe."""
    if type(value) is int:
        return 7_340_000_000_001 + i * 7_919 if value >= 0 else None
    if type(value) in (str, SafeString) and _WORD.fullmatch(value):
        return f"Slot{i}x7340w"
    return None


@lru_cache(maxsize=1024)
def _pattern(view_name, shape: tuple, current_app, urlconf, prefix) -> tuple[tuple[str, ...], tuple[int, ...]] | None:
    """The URL of `view_name` cut at a slot per argument (`shape`: each argument's name or position and kind):
    its pieces, and which argument goes between each two; None when `reverse()` refuses the slots (that name then
    resolves per value)."""
    stand_ins = [(name, _slot(i, 0 if kind is int else "x")) for i, (name, kind) in enumerate(shape)]
    args = [v for name, v in stand_ins if name is None]
    kwargs = {name: v for name, v in stand_ins if name is not None}
    try:
        url = reverse(view_name, args=args, kwargs=kwargs, current_app=current_app, urlconf=urlconf)
    except NoReverseMatch:
        return None
    slots = [str(v) for _, v in stand_ins]
    if any(url.count(slot) != 1 for slot in slots):
        return None
    order = sorted(range(len(slots)), key=lambda i: url.index(slots[i]))
    pieces = re.split("|".join(re.escape(slots[i]) for i in order), url)
    return tuple(pieces), tuple(order)


def _slotted(view_name, args: tuple, kwargs: tuple, current_app, urlconf, prefix) -> str | None:
    """The URL from the name's pattern with these values in its slots, or None when a value is not slot-safe."""
    values = [*args, *(v for _, v in kwargs)]
    if not values or any(_slot(i, v) is None for i, v in enumerate(values)):
        return None
    shape = (*((None, type(a)) for a in args), *((k, type(v)) for k, v in kwargs))
    found = _pattern(view_name, shape, current_app, urlconf, prefix)
    if found is None:
        return None
    pieces, order = found
    out = [pieces[0]]
    for piece, i in zip(pieces[1:], order, strict=True):
        out += (str(values[i]), piece)
    return "".join(out)


def _env(context) -> tuple:
    """What `reverse()` reads besides the name and arguments (current app, URLconf, script prefix), read once per
    render: a page writes ~40 links, and the URLconf and prefix are each a context-local lookup."""
    env = getattr(context, "_links_env", None)
    if env is None:
        try:
            current_app = context.request.current_app
        except AttributeError:
            try:
                current_app = context.request.resolver_match.namespace
            except AttributeError:
                current_app = None
        env = context._links_env = (current_app, get_urlconf(), get_script_prefix())
    return env


class CachedURLNode(URLNode):
    def render(self, context):
        args = tuple(arg.resolve(context) for arg in self.args)
        kwargs = tuple((k, v.resolve(context)) for k, v in self.kwargs.items())
        view_name = self.view_name.resolve(context)
        current_app, urlconf, prefix = _env(context)
        if not (isinstance(view_name, str) and all(type(a) in _PLAIN for a in args)
                and all(type(v) in _PLAIN for _, v in kwargs)):  # e.g. a model instance: as the built-in tag does
            return super().render(context)
        url = ""
        try:
            url = (_slotted(view_name, args, kwargs, current_app, urlconf, prefix)
                   or _reverse(view_name, args, kwargs, current_app, urlconf, prefix))
        except NoReverseMatch:
            if self.asvar is None:
                raise
        if self.asvar:
            context[self.asvar] = url
            return ""
        if not context.autoescape:
            return url
        return html.escape(url) if type(url) is str else conditional_escape(url)  # the same text, without a lazy check


@register.tag
def url(parser, token):
    node = builtin_url(parser, token)
    return CachedURLNode(node.view_name, node.args, node.kwargs, node.asvar)


@register.simple_tag(takes_context=True)
def nav_anchors(context, links, nav):
    """The top bar's links (`nav_links` of `tracker.context_processors.top_bar`) as its template loop wrote them:
    each URL resolved as `{% url %}` above, the current page's marked, its icon before its label. Every page
    shows them; the loop cost ~40 template nodes a page."""
    current_app, urlconf, prefix = _env(context)
    out = []
    for link in links:
        url = html.escape(_reverse(link.url_name, (), (), current_app, urlconf, prefix))
        current = 'aria-current="page"' if nav == link.nav else ""
        mark = conditional_escape(icon(link.icon)) if link.icon else ""
        out.append(f'<a href="{url}{_var(link.query)}" {current}>{mark}{_var(link.label)}</a>\n    ')
    return mark_safe("".join(out))  # noqa: S308 - every value is escaped or safe HTML


_SEARCH = ('\n  <div class="who">\n    <button type="button" class="tool" data-palette '
           'aria-label="Search everything (Ctrl+K)" title="Search (Ctrl+K)">{}<span class="hide-sm">Search</span>'
           "</button>")
_TOOLS = ('\n    <button type="button" class="tool" data-theme-toggle aria-label="Theme: follows the system (change)" '
          'title="Theme"><span class="t-system">{}</span><span class="t-light">{}</span><span class="t-dark">{}</span>'
          '</button>\n    <button type="button" class="tool" data-density-toggle aria-label="Density: comfortable '
          '(change)" title="Density"><span class="d-comfortable">{}</span><span class="d-compact">{}</span></button>')


@cache
def _search() -> str:
    return _SEARCH.format(icon("search"))


@cache
def _tools() -> str:
    return _TOOLS.format(icon("monitor"), icon("sun"), icon("moon"), icon("layout-list"), icon("rows-3"))


@register.simple_tag(takes_context=True)
def topbar_start(context):
    """The signed-in top bar up to the apps' items, as base.html wrote it: the main links (and Admin for staff
    accounts), the pinned views' place for desk staff, and the search button."""
    user = context.get("user")
    current_app, urlconf, prefix = _env(context)
    admin = ""
    if user.is_staff:
        admin = (f'<a href="{html.escape(_reverse("admin:index", (), (), current_app, urlconf, prefix))}">'
                 f'{icon("settings")}Admin</a>')
    pins = ""
    if context.get("show_pins"):
        load = ""
        if not context.get("pins_by_queue"):
            url = html.escape(_reverse("tracker:queue-pins", (), (), current_app, urlconf, prefix))
            load = (f' hx-get="{url}" hx-trigger="load, every 60s [document.visibilityState==\'visible\']" '
                    'hx-swap="outerHTML"')
        pins = f'<div id="pins" class="pins"{load}></div>'
    anchors = nav_anchors(context, context.get("nav_links", ""), context.get("nav", ""))
    return mark_safe(  # noqa: S308 - every value is escaped or safe HTML
        f'\n  <nav aria-label="Main">\n    {anchors}{admin}\n  </nav>\n  {pins}{_search()}')


@register.simple_tag(takes_context=True)
def topbar_end(context):
    """The signed-in top bar after the apps' items, as base.html wrote it: the theme and density toggles, who is
    signed in with their role, and the sign-out form."""
    user = context.get("user")
    current_app, urlconf, prefix = _env(context)
    role = _var(role_label(user.role))
    logout = html.escape(_reverse("logout", (), (), current_app, urlconf, prefix))
    tools = _tools()
    return mark_safe(  # noqa: S308 - every value is escaped or safe HTML
        f'{tools}\n    <span title="{role}">{_var(user.display_name)} <span class="small role">({role})</span></span>\n'
        f'    <form method="post" action="{logout}">{CsrfTokenNode().render(context)}<button class="linkish" '
        f'type="submit">{icon("log-out")}Sign out</button></form>\n  </div>')
