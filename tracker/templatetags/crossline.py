"""Display helpers shared by every page: times in the viewer's zone, durations, priorities, Markdown, and
what the apps registered in `tracker.extensions` (badges, timeline rows)."""
import re
from datetime import timedelta
from functools import lru_cache
from urllib.parse import quote

from django import template
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from tracker import extensions
from tracker.markdown import render_markdown

register = template.Library()

@register.filter
def markdown(text):
    return mark_safe(render_markdown(text))  # noqa: S308 - nh3 sanitised it


@register.filter
def duration(value):
    """timedelta or seconds -> '2d 3h', '3h 05m', '12m', '40s'."""
    if value is None or value == "":
        return ""
    seconds = int(value.total_seconds() if isinstance(value, timedelta) else value)
    seconds = abs(seconds)
    days, rem = divmod(seconds, 86400)
    hours, rem = divmod(rem, 3600)
    minutes, secs = divmod(rem, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m"
    return f"{secs}s"


@register.filter
def priority_class(priority):
    return f"p{priority}"


_KEY_SLOT = "KEY-0"


@lru_cache(maxsize=64)
def _key_url_pattern(prefix: str, name: str) -> str:
    return reverse(name, args=[_KEY_SLOT])


@register.simple_tag
def key_url(name, key):
    """`{% url name key %}` for a ticket-key URL, resolved once per name: list rows link 3-4 times each."""
    return format_html("{}", _key_url_pattern(get_script_prefix(), name).replace(_KEY_SLOT, quote(str(key))))


@register.simple_tag(takes_context=True)
def query_with(context, **changes):
    """The current query string with some parameters replaced (None removes one); for sort and page links."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = value
    return params.urlencode()


# Labels by enum lookup: get_FOO_display() rebuilds a dict of every choice per call, per row of a list.
@register.filter
def status_label(value):
    from tracker.choices import Status

    return _choice_label(Status, value)


@register.filter
def role_label(value):
    """A user's role as `get_role_display` names it, without rebuilding every role's label (the top bar's)."""
    from tracker.choices import Role

    return _choice_label(Role, value)


@register.filter
def kind_label(value):
    from tracker.choices import Kind

    return _choice_label(Kind, value)


def _choice_label(choices, value):
    try:
        return choices(value).label
    except ValueError:
        return value


@register.filter
def field_label(name):
    from tracker.models import Ticket

    try:
        return Ticket._meta.get_field(name).verbose_name
    except Exception:  # noqa: BLE001 - a field recorded by an older schema
        return name.replace("_", " ")


@register.filter
def field_value(value, name):
    """A recorded value as people read it: the label of a choice ("rolled_back" -> "Rolled back"), a date-time
    in the viewer's zone (`event_value`)."""
    from tracker.models import Ticket

    try:
        choices = dict(Ticket._meta.get_field(name).flatchoices)
    except Exception:  # noqa: BLE001 - a field recorded by an older schema
        choices = {}
    if value in ("", None):
        return value
    return choices[value] if value in choices else event_value(value)


# --- Times in the viewer's zone (activated per request by tracker.timezones.UserTimeZoneMiddleware) ---------
WHEN_FORMATS = {"full": "j M Y H:i", "short": "j M H:i", "date": "j M Y"}


def _when_text(value, style: str) -> str:
    """The formats of WHEN_FORMATS written out directly: Django's date formatter costs more than the rest of
    a list row. "j M Y H:i" is the day without a leading zero, the month's short name (translated), the year,
    the 24-hour time."""
    from django.utils.dates import MONTHS_3

    local = timezone.localtime(value)
    day = f"{local.day} {str(MONTHS_3[local.month]).title()}"
    if style == "date":
        return f"{day} {local.year}"
    time = f"{local.hour:02d}:{local.minute:02d}"
    text = f"{day} {time}" if style == "short" else f"{day} {local.year} {time}"
    return f"{text} {local.tzname()}"


@register.filter
def when(value, style="full"):
    """An aware datetime in the active zone with the zone named: '25 Nov 2026 14:05 CET'.
    Styles: "full" (default), "short" (no year), "date" (no time, no zone)."""
    if not value:
        return ""
    return _when_text(value, style)


@register.filter
def when_time(value, style="full"):
    """`when` inside `<time datetime="…Z">`: machines read the UTC instant, people the local time."""
    from datetime import UTC

    if not value:
        return ""
    utc = value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return format_html('<time datetime="{}">{}</time>', utc, _when_text(value, style))


_ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")


@register.filter
def event_value(value):
    """A value a timeline row recorded, as people read it: a date-time (kept as ISO 8601, UTC) in the viewer's
    zone, named; anything else as it was written."""
    from datetime import datetime

    if value and _ISO_MOMENT.match(value):
        try:
            return _when_text(datetime.fromisoformat(value), "full")
        except ValueError:
            return value
    return value


@register.simple_tag
def ticket_badges(ticket, now=None):
    """Every registered badge of a ticket (the SLA clocks, ...), from prefetched data."""
    now = now or timezone.now()
    return format_html_join("", "{}", ((b.render(ticket, now),) for b in extensions.registry.badges))


@register.simple_tag
def badge_cell(badge, ticket, now):
    return badge.render(ticket, now)


@register.simple_tag
def timeline_event(event):
    """An event kind an app registered a renderer for, as that app words it; None for the core's kinds."""
    renderer = extensions.registry.timeline.get(event.kind)
    return renderer.render(event) if renderer else ""


@register.simple_tag(takes_context=True)
def ticket_href(context, key):
    """Where the viewer reads this ticket: the ticket page for staff, their own page for requesters."""
    return extensions.ticket_url(context["request"].user, key)


@register.filter
def link_reading(event):
    """A link event as its ticket reads it: "caused by CHG-3" on the incident, "caused INC-7" on the change."""
    from tracker.choices import LINK_INVERSE_LABEL, LinkType

    try:
        kind = LinkType(event.field)
    except ValueError:
        return event.note
    other = event.new or event.old  # a new link names the other ticket in `new`, a removed one in `old`
    inbound = (event.note or "").removeprefix("removed: ").startswith(f"{other} ")
    label = LINK_INVERSE_LABEL[kind] if inbound else kind.label
    return f"{'Linked' if event.new else 'Unlinked'}: {label} {other}"


@register.filter
def count_for(counts, view):
    """A queue view's count from `tracker.selectors.view_counts`: built-in views by slug, saved ones by id (or
    the view's name there, "saved-12", as pins keep it)."""
    if isinstance(view, str):
        key = view
    else:
        key = view.slug if hasattr(view, "slug") else f"saved-{view.pk}"
    return (counts or {}).get(key, "")


@register.filter
def is_in(value, container):
    return value in (container or ())


@register.filter
def has_column(columns, slug):
    """Whether the queue shows the column `slug` (`columns`: tracker.selectors.Column list)."""
    return any(c.slug == slug for c in columns or ())


@register.filter
def work_total(events):
    """The time logged on a ticket, summed from its timeline's work rows (already read for the page): '2h 05m'."""
    minutes = sum(int(e.new) for e in events if e.kind == "work" and e.new.isdigit())
    return duration(minutes * 60) if minutes else ""
