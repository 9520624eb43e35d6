"""Display helpers of change enablement: windows in the viewer's zone and risk badges (the change calendar),
a task's window at its site and in the viewer's zone."""
from datetime import UTC
from functools import lru_cache
from urllib.parse import quote

from django import template
from django.urls import get_script_prefix
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from tracker.models import Ticket
from tracker.templatetags.crossline import _KEY_SLOT, _key_url_pattern, key_url, status_label
from tracker.templatetags.icons import icon
from tracker.templatetags.ticket_page import choice_display, cut, day_month
from tracker.timezones import zone_named

register = template.Library()

RISK_TONE = {"low": "ok", "medium": "warn", "high": "bad"}


def _local(value):
    return timezone.localtime(value)


@register.filter
def span(start, end=None):
    """A window in the active zone, named: "Fri 4 Dec 2026 19:00–21:00 GMT", "Sat 28 Mar 2026 22:00 GMT – Sun 29
    Mar 04:00 BST" (across a summer-time change each end names its own offset)."""
    if not start:
        return ""
    a = _local(start)
    text = date_format(a, "D j M Y H:i")
    if not end or end == start:
        return f"{text} {a.tzname()}"
    b = _local(end)
    if b.date() == a.date() and a.tzname() == b.tzname():
        return f"{text}–{date_format(b, 'H:i')} {a.tzname()}"
    same_zone = a.tzname() == b.tzname()
    end_text = date_format(b, "D j M H:i" if b.year == a.year else "D j M Y H:i")
    return f"{text}{'' if same_zone else ' ' + a.tzname()} – {end_text} {b.tzname()}"


@register.filter
def clock(value):
    """The time of day in the active zone: "19:00"."""
    return date_format(_local(value), "H:i") if value else ""


@register.filter
def risk_tone(risk):
    """The badge tone of a change's risk: low ok, medium warn, high bad."""
    return RISK_TONE.get(risk or "", "status")


@register.filter
def risk_label(risk):
    from tracker.choices import Risk

    try:
        return f"{Risk(risk).label} risk"
    except ValueError:
        return "Risk not set"


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 11 <= n % 100 <= 13 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


@register.filter
def rule_text(blackout):
    """How a blackout recurs, on its own wall clock: "Every week, Fri 18:00 → Mon 06:00 (Europe/London), from
    4 Dec 2026"; a dated one is its window in the viewer's zone."""
    from itsm.choices import Repeat

    if not blackout.repeats:
        return f"Once: {span(blackout.starts_at, blackout.ends_at)}"
    first, length = blackout.local_span()
    last = first + length
    if blackout.repeat == Repeat.DAILY:
        when = f"Every day, {first:%H:%M} → {last:%H:%M}"
    elif blackout.repeat == Repeat.WEEKLY:
        when = f"Every week, {first:%a %H:%M} → {last:%a %H:%M}"
    elif blackout.repeat == Repeat.MONTHLY:
        same = last.date() == first.date()
        when = (f"Every month, the {_ordinal(first.day)} {first:%H:%M} → "
                + (f"{last:%H:%M}" if same else f"the {_ordinal(last.day)} {last:%H:%M}"))
    elif blackout.repeat == Repeat.MONTHLY_LAST_WORKDAY:
        days = (last.date() - first.date()).days
        when = f"Every month, the last working day {first:%H:%M} → " + (
            f"{last:%H:%M}" if not days else f"{last:%H:%M} {days} day{'s' if days > 1 else ''} later")
    else:
        when = f"Every year, {first:%-d %b %H:%M} → {last:%-d %b %H:%M}"
    until = f" until {blackout.repeat_until:%-d %b %Y}" if blackout.repeat_until else ""
    return f"{when} ({blackout.time_zone}), from {first:%-d %b %Y}{until}"


@register.simple_tag
def calendar_event(item, service=None):
    """One change on a day of the calendar: its part of the window, key and title (a link), then its service
    (unless the calendar shows one service), risk, state, collision and blackout badges. Built here rather than by
    a sub-template: a month shows a few hundred of them."""
    entry = item.thing
    ticket = entry.ticket
    others = " ".join(t.key for t in entry.collisions)
    badges = []
    if entry.collisions:
        badges.append(format_html('<span class="badge warn">{}Collision<span class="sr-only"> with {}</span></span>',
                                  icon("triangle-alert"), others))
    for hit in entry.hits:
        if hit.override is not None:
            badges.append(format_html('<span class="badge status" title="{}: {}">{}Override</span>',
                                      hit.blackout.name, hit.override.reason, icon("shield-check")))
        elif ticket.is_open:
            badges.append(format_html('<span class="badge bad" title="{}">{}Blackout</span>', hit.blackout.name,
                                      icon("calendar-x")))
    where = "" if service else format_html('<span class="muted">{}</span> ', ticket.service.name if
                                           ticket.service_id else "no service")
    return format_html(
        '<li class="cal-event risk-{}{}"><a href="{}" title="{}{}"><span class="cal-time">{}</span> '
        '<span class="key">{}</span><span class="cal-name">{}</span></a><span class="cal-meta small">{}'
        '<span class="badge {}">{}</span> <span class="badge status">{}</span> {}</span></li>',
        ticket.risk or "none", " collides" if entry.collisions else "", key_url("tracker:ticket", ticket.key),
        ticket.title, f" · overlaps {others}" if others else "", item.label, ticket.key, ticket.title, where,
        risk_tone(ticket.risk), risk_label(ticket.risk), status_label(ticket.status),
        format_html_join("", "{}", ((b,) for b in badges)))


def _span(start, end, zone) -> str:
    """'Tue 27 Nov 09:00–11:00 CET', or across midnight 'Tue 27 Nov 22:00 – Wed 28 Nov 02:00 SGT'."""
    a, b = timezone.localtime(start, zone), timezone.localtime(end, zone)
    if a.date() == b.date():
        return f"{date_format(a, 'D j M H:i')}–{date_format(b, 'H:i')} {b.tzname()}"
    return f"{date_format(a, 'D j M H:i')} – {date_format(b, 'D j M H:i')} {b.tzname()}"


@register.filter
def site_window(task) -> str:
    """The task's planned window on the site's own clock."""
    return _span(task.planned_start, task.planned_end, zone_named(task.time_zone) or UTC)


@register.filter
def viewer_window(task) -> str:
    """The same window in the viewer's zone (the zone active for the page)."""
    return _span(task.planned_start, task.planned_end, timezone.get_current_timezone())


@register.simple_tag
def task_window(task):
    """Both, in one cell: the site's time, then the viewer's when their clock differs; machine-readable too."""
    site, mine = site_window(task), viewer_window(task)
    utc = task.planned_start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if site == mine:
        return format_html('<time datetime="{}">{}</time>', utc, site)
    return format_html('<time datetime="{}">{}</time><br><span class="small muted">{} your time</span>',
                       utc, site, mine)


TASK_TONES = {"planned": "status", "in_progress": "sla-warn", "done": "ok", "failed": "bad", "cancelled": "sla-done"}
RESULT_TONES = {"successful": "ok", "failed": "bad", "rolled_back": "warn"}


@register.filter
def task_tone(state: str) -> str:
    """The badge colour of a task's state."""
    return TASK_TONES.get(state, "status")


@register.filter
def result_tone(result: str) -> str:
    """The badge colour of a change's implementation result."""
    return RESULT_TONES.get(result, "status")


# --- major incidents: read from what the ticket page has already loaded (its links and timeline) -----------


@register.simple_tag
def major_children(links, open_only=False):
    """A major incident's children from the page's links (`major parent_of child`), oldest first."""
    kids = [row["other"] for row in links or () if row["direction"] == "out" and row["link"].type == "parent_of"]
    kids.sort(key=lambda t: (t.created_at, t.pk))
    return [t for t in kids if t.is_open] if open_only else kids


@register.simple_tag
def major_told(timeline):
    """Who was told when the incident was declared major, as its timeline row recorded it."""
    for event in timeline or ():
        if event.kind == "major" and event.field == "declared":
            return (event.note or "").partition("Told: ")[2].rstrip(".")
    return ""


@register.simple_tag
def change_rows(changes):
    """The "Changes on this service" panel's rows, written in Python: the panel is on most ticket pages with up to
    ten rows, and a tag or filter per cell cost more than reading them. The same markup as the loop it replaced:
    `<li>` per change with its link, title cut at 50 characters, status, result and last update (viewer's zone).
    The pages of a service's tickets show the same changes: a row is written once per process for the values it
    shows, the viewer's language and zone."""
    if not changes:
        return ""
    link = _key_url_pattern(get_script_prefix(), "tracker:ticket")
    language, zone = get_language(), timezone.get_current_timezone_name()
    rows = [_change_row(link, c.key, c.title, c.status, c.implementation_result, c.updated_at, language, zone)
            for c in changes]
    return mark_safe("".join(rows))  # noqa: S308 - every value below is escaped


@lru_cache(maxsize=1024)
def _change_row(link: str, key: str, title: str, status: str, result: str, updated_at, language, zone: str) -> str:
    """One change's row (`language` and `zone`, the active ones, only key the cache)."""
    change = Ticket(status=status, implementation_result=result)
    shown = f" · {escape(choice_display(change, 'implementation_result'))}" if result else ""
    return (f'<li><span class="badge status">change</span> '
            f'<a class="key" href="{escape(link.replace(_KEY_SLOT, quote(str(key))))}">{escape(key)}</a> '
            f'{escape(cut(title, 50))} <span class="small muted">{escape(choice_display(change, "status"))}'
            f'{shown} · {escape(day_month(updated_at))}</span></li>')
