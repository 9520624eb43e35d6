"""The queue's rows, built in Python: a page shows 50 rows of up to 16 cells, and a template tag, filter or
`{% include %}` per cell costs more than the rest of the page together.

    {% load queue_table %}
    {% queue_row t %}        one row, with the page's `columns`, `now` and (after an action) `row_error`,
                             `row_notice`, `row_take_over`
    {% queue_rows rows %}    every row of a page
    {% column_items column_choices %}   the column picker's list
    {% view_links views my_views view saved counts %}   the views' pills

Every cell says what the template said before: the same markup, classes, ARIA and htmx attributes, and
times in the viewer's zone (the zone `tracker.timezones.UserTimeZoneMiddleware` activated).
"""

import html
from functools import cache, lru_cache
from urllib.parse import quote

from django import template
from django.contrib.humanize.templatetags.humanize import NaturalTimeFormatter, naturaltime
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.dates import MONTHS_3
from django.utils.safestring import SafeString
from django.utils.timesince import timesince
from django.utils.translation import get_language

from tracker.choices import Kind, Status

from .crossline import _KEY_SLOT, _choice_label, _key_url_pattern
from .icons import icon

register = template.Library()

DASH = "—"
_icon = cache(icon)  # the same markup for a name every time: two per row


def escape(value) -> str:
    """Django's `escape` without its lazy-string check: the same text, at a third of the cost (~40 per row)."""
    return html.escape(str(value))


def _url(name: str, key: str, prefix: str | None = None) -> str:
    """`{% key_url name key %}`: the URL pattern is resolved once per name, the key put in its slot."""
    return _pattern(get_script_prefix() if prefix is None else prefix, name).replace(_KEY_SLOT, quote(str(key)))


@lru_cache(maxsize=64)
def _pattern(prefix: str, name: str) -> str:
    """The URL pattern of `name`, escaped once: the key's slot and a quoted key hold no character HTML escapes, so
    putting the quoted key in the escaped pattern writes what escaping the whole URL writes."""
    return escape(_key_url_pattern(prefix, name))


@cache
def _month(language: str | None, month: int) -> str:
    """The month's short name as the queue shows it ('Dec'), per language."""
    return str(MONTHS_3[month]).title()


def _name(obj, attr: str) -> str:
    """`{{ obj.attr|default:"—" }}`, escaped."""
    value = getattr(obj, attr) if obj is not None else None
    return escape(value) if value else DASH


def _stamp(value, language: str | None = None, zone=None) -> tuple[str, str]:
    """A date-time in the viewer's zone (`zone`, else the active one) as the queue shows it: ('2026-12-06 20:10',
    '06 Dec 20:10')."""
    local = timezone.localtime(value, zone)
    hm = f"{local.hour:02d}:{local.minute:02d}"
    month = _month(language or get_language(), local.month)
    return f"{local.year}-{local.month:02d}-{local.day:02d} {hm}", f"{local.day:02d} {month} {hm}"


# --- "3 minutes ago": `naturaltime`'s texts and rules, each translated text worked out once per language and count


@lru_cache(maxsize=256)
def _label(language: str | None, choices, value) -> str:
    """A status's (kind's) label in the active language, escaped: looked up once per language and value."""
    return escape(_choice_label(choices, value))


@lru_cache(maxsize=4096)
def _translated(language: str | None, group: str, name: str, key: str, value) -> str:
    texts = NaturalTimeFormatter.time_strings if group == "time" else NaturalTimeFormatter.past_substrings
    return str(texts[name] % {key: value}) if key else str(texts[name])


class _PastUnit:
    """One of naturaltime's past units ("%(num)d weeks") as `timesince` formats it, translated once per count."""

    def __init__(self, name: str, language: str | None):
        self.name, self.language = name, language

    def __mod__(self, params) -> str:
        return _translated(self.language, "unit", self.name, "num", params["num"])


@cache
def _past_units(language: str | None) -> dict:
    return {name: _PastUnit(name, language) for name in NaturalTimeFormatter.past_substrings}


def _ago(value, now, language: str | None = None) -> str:
    """`naturaltime(value)` as it reads at the instant `now` (the page's): the same texts by the same rules, with
    the translations looked up once per language and count instead of once per row."""
    if value > now:
        return naturaltime(value)
    delta, language = now - value, language or get_language()
    if delta.days:
        return _translated(language, "time", "past-day", "delta",
                           timesince(value, now, time_strings=_past_units(language)))
    seconds = delta.seconds
    if seconds == 0:
        return _translated(language, "time", "now", "", None)
    if seconds < 60:
        return _translated(language, "time", "past-second", "count", seconds)
    if seconds // 60 < 60:
        return _translated(language, "time", "past-minute", "count", seconds // 60)
    return _translated(language, "time", "past-hour", "count", seconds // 3600)


def _title(t, ctx) -> str:
    title = escape(t.title)
    extra = ""
    error, notice = ctx.get("row_error"), ctx.get("row_notice")
    if error:
        take = ""
        if ctx.get("row_take_over"):
            take = (f'<button type="button" class="small" hx-post="{_url("tracker:ticket-assign-me", t.key)}" '
                    f"hx-vals='{{\"version\": \"{escape(t.version)}\", \"take_over\": \"1\"}}' "
                    f'hx-target="#row-{escape(t.key)}" hx-swap="outerHTML">Take over</button>')
        extra = f'<div class="alert error small" role="alert">{escape(error.message)}\n          {take}</div>'
    elif notice:
        extra = f'<div class="alert ok small" role="status">{escape(notice)}</div>'
    return f'<td class="title"><span class="title-text" title="{title}">{title}</span>{extra}</td>'


def _cell(column, t, now, ctx, language, zone=None) -> str:  # noqa: PLR0911 - one branch per core column
    slug = column.slug
    if slug == "title":
        return _title(t, ctx)
    if slug == "status":
        return f'<td><span class="badge status">{_label(language, Status, t.status)}</span></td>'
    if slug == "priority":
        return f'<td><span class="badge p{escape(t.priority)}">P{escape(t.priority)}</span></td>'
    if column.badge:
        return f"<td>{column.badge.render(t, now)}</td>"
    if slug == "updated":
        full, _ = _stamp(t.updated_at, language, zone)
        return f'<td class="small nowrap" title="{full}">{escape(_ago(t.updated_at, now, language))}</td>'
    if slug == "created":
        full, short = _stamp(t.created_at, language, zone)
        return f'<td class="hide-sm small nowrap" title="{full}">{short}</td>'
    if slug == "kind":
        return f'<td class="nowrap">{_label(language, Kind, t.kind)}</td>'
    if slug == "requester":
        return f'<td class="hide-sm nowrap">{escape(t.requester.display_name)}</td>'
    if slug in ("assignee", "owner"):
        return f'<td class="hide-sm nowrap">{_name(getattr(t, slug), "display_name")}</td>'
    if slug in ("group", "service", "category"):
        return f'<td class="hide-sm nowrap">{_name(getattr(t, slug), "name")}</td>'
    return ""


@register.simple_tag(takes_context=True)
def queue_row(context, t):
    """One `<tr>` of the queue for ticket `t` (what `tracker/queue.html#row` renders)."""
    return SafeString(_row(context, t, *_page(context)))


def _page(context) -> tuple:
    """What every row of a page reads alike: the columns, the page's instant, the URL prefix, the language, the
    viewer's time zone."""
    return (context.get("columns") or (), context.get("now") or timezone.now(), get_script_prefix(), get_language(),
            timezone.get_current_timezone())


def _row(context, t, columns, now, prefix, language, zone) -> str:
    key, version = escape(t.key), escape(t.version)
    quoted = quote(str(t.key))
    href = _pattern(prefix, "tracker:ticket").replace(_KEY_SLOT, quoted)
    assign = _pattern(prefix, "tracker:ticket-assign-me").replace(_KEY_SLOT, quoted)
    cells = "".join(f"\n        {_cell(c, t, now, context, language, zone)}\n        " for c in columns)
    error = context.get("row_error")
    lone_error = ""
    if error and not any(c.slug == "title" for c in columns):
        lone_error = f'<div class="alert error small" role="alert">{escape(error.message)}</div>'
    escalate = ""
    if t.is_open:
        escalate = (f'<button type="button" class="small" data-action="escalate" title="Escalate to the next tier (e)" '
                    f'hx-post="{_pattern(prefix, "tracker:ticket-escalate").replace(_KEY_SLOT, quoted)}" '
                    f'hx-vals=\'{{"version": "{version}"}}\' '
                    f'hx-target="#row-{key}" hx-swap="outerHTML">{_icon("arrow-up-right")}'
                    f'<span class="act-label">Escalate</span></button>')
    return (
        f'\n      <tr id="row-{key}" data-row data-href="{href}" '
        f'data-preview="{_pattern(prefix, "tracker:ticket-preview").replace(_KEY_SLOT, quoted)}">\n'
        f'        <td><input type="checkbox" name="keys" value="{key}" aria-label="Tick {key}"></td>\n'
        f'        <td class="key"><a href="{href}" data-open>{key}</a></td>\n'
        f"        {cells}\n"
        f'        <td class="actions">\n'
        f"          {lone_error}\n"
        f'          <button type="button" class="small" data-action="assign-me" title="Assign to me (a)" '
        f'hx-post="{assign}" hx-vals=\'{{"version": "{version}"}}\' '
        f'hx-target="#row-{key}" hx-swap="outerHTML">{_icon("user-check")}'
        f'<span class="act-label">Take</span></button>\n'
        f"          {escalate}\n"
        f"        </td>\n"
        f"      </tr>"
    )


@register.simple_tag(takes_context=True)
def queue_rows(context, rows):
    """Every row of the page in one tag (what a `{% for %}` of `queue_row` wrote, a line break after each)."""
    page = _page(context)
    return SafeString("".join(f"{_row(context, t, *page)}\n    " for t in rows))


# --- The views' pills ---------------------------------------------------------------------------------------------


@register.simple_tag
def view_links(views, my_views, view, saved, counts):
    """The queue's views, then the viewer's saved views, each a link (the current one marked) with its count
    once the counts are loaded."""
    queue = escape(reverse("tracker:queue"))
    current = 'aria-current="true"'

    def count(key) -> str:
        return f' <span class="count">{escape(counts.get(key, ""))}</span>' if counts else ""

    links = []
    for v in views:
        mark = current if v.slug == view.slug and not saved else ""
        links.append(f'<a href="{queue}?view={escape(v.slug)}" {mark}>{escape(v.label)}{count(v.slug)}</a>')
    links.append("\n  ")
    for q in my_views:
        mark = current if saved is not None and saved.pk == q.pk else ""
        title = f"Shared with {escape(q.group.name)}" if q.group else "Only you see this view"
        links.append(f'<a href="{queue}?{escape(q.query)}&amp;saved={escape(q.pk)}" {mark} title="{title}">'
                     f'{_icon("users") if q.group else _icon("star")}{escape(q.name)}{count(f"saved-{q.pk}")}</a>')
    return SafeString("".join(links))


# --- The column picker's list: the same for everyone with the same columns shown ------------------------------


@register.simple_tag
def column_items(choices):
    """The column picker's items for `column_choices` (shown columns first, in order, then the others)."""
    return SafeString(_column_items(tuple((c["column"].slug, str(c["column"].label), c["shown"]) for c in choices)))


@lru_cache(maxsize=512)
def _column_items(choices: tuple) -> str:
    items = []
    for slug, label, shown in choices:
        slug, label = escape(slug), escape(label)
        items.append(
            f'<li draggable="true" data-column="{slug}">\n'
            f'            <span class="grip" aria-hidden="true">{_icon("grip-vertical")}</span>\n'
            f'            <input type="hidden" name="order" value="{slug}">\n'
            f'            <label class="check"><input type="checkbox" name="columns" value="{slug}"'
            f'{" checked" if shown else ""}> {label}</label>\n'
            f'            <span class="spacer"></span>\n'
            f'            <button type="submit" class="small ghost" name="move" value="{slug}:up" '
            f'data-column-move="up" aria-label="Move {label} up" title="Move up">{_icon("arrow-up")}</button>\n'
            f'            <button type="submit" class="small ghost" name="move" value="{slug}:down" '
            f'data-column-move="down" aria-label="Move {label} down" title="Move down">{_icon("arrow-down")}</button>\n'
            f"          </li>")
    return "".join(items)


# --- The filter form: its selects and multi-choice lists, without a widget template per option ---------------


def _attrs(bound) -> str:
    """The widget's attributes as Django's `attrs.html` writes them (True: bare name; False: left out)."""
    widget = bound.field.widget
    attrs = {**widget.attrs, **bound.build_widget_attrs({}, widget)}
    if bound.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", bound.auto_id)
    return "".join(f" {name}" if value is True else f' {name}="{escape(value)}"'
                   for name, value in attrs.items() if value is not False)


def _chosen(bound) -> set[str]:
    return set(bound.field.widget.format_value(bound.value()))


@register.simple_tag
def select_field(bound):
    """`{{ form.field }}` for a single-choice select, as Django's select widget renders it."""
    chosen = _chosen(bound)
    options = "".join(
        f'\n  <option value="{escape(value)}"{" selected" if str(value) in chosen else ""}>{escape(label)}</option>\n'
        for value, label in bound.field.choices)
    return SafeString(f'<select name="{escape(bound.html_name)}"{_attrs(bound)}>{options}\n</select>')


@register.simple_tag
def multi_field(bound, label):
    """A multi-choice filter as a disclosure of checkboxes: the chosen options in its summary, a search box
    once it has more than six."""
    chosen = _chosen(bound)
    name, html_name, lower = escape(bound.name), escape(bound.html_name), escape(str(label).lower())
    choices = [(escape(value), escape(text), str(value) in chosen) for value, text in bound.field.choices]
    summary = "".join(f'<span class="chosen">{text}</span>' for _, text, on in choices if on)
    search = (f'<input type="search" aria-label="Find a {lower}" placeholder="Find…">'
              if len(choices) > 6 else "")
    boxes = "".join(f'<label><input type="checkbox" name="{html_name}" value="{value}"{" checked" if on else ""}>'
                    f" {text}</label>" for value, text, on in choices)
    return SafeString(
        f'<div class="field"><span class="label" id="lbl-{name}">{escape(label)}</span>\n'
        f'  <details class="multi"><summary aria-describedby="lbl-{name}">{summary}'
        f'<span class="any"{" hidden" if bound.value() else ""}>Any {lower}</span></summary>\n'
        f'    <fieldset aria-labelledby="lbl-{name}">{search}{boxes}</fieldset>\n'
        f"  </details></div>")
