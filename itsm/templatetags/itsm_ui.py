"""Display helpers of change enablement: a task's window at its site and in the viewer's zone."""
from datetime import UTC

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html

from tracker.timezones import zone_named

register = template.Library()


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
