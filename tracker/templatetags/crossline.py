"""Display helpers shared by every page: durations, SLA badges, priorities, Markdown."""
from datetime import timedelta
from functools import lru_cache
from urllib.parse import quote

from django import template
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from tracker.markdown import render_markdown

register = template.Library()

METRIC_SHORT = {"response": "Resp", "resolution": "Res", "pick": "Pick"}


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


def clock_view(clock, now):
    """What one clock looks like: a label, a tone (ok/warn/bad/paused/done) and a full sentence."""
    metric = METRIC_SHORT.get(clock.metric, clock.metric)
    tier = f" L{clock.tier}" if getattr(clock, "tier", None) else ""
    name = f"{clock.get_metric_display() if hasattr(clock, 'get_metric_display') else clock.metric}{tier}"
    if clock.state in ("met", "cancelled"):
        tone = "bad" if clock.breached else "done"
        word = "met late" if clock.breached else clock.state
        return {"short": f"{metric}{tier} {word}", "tone": tone, "text": f"{name}: {word}"}
    if clock.state == "paused":
        return {"short": f"{metric}{tier} paused", "tone": "paused", "text": f"{name}: paused"}
    if clock.due_at is None:
        return {"short": f"{metric}{tier}", "tone": "ok", "text": f"{name}: running"}
    left = clock.due_at - now
    if clock.breached or left.total_seconds() < 0:
        return {"short": f"{metric}{tier} -{duration(-left)}", "tone": "bad",
                "text": f"{name}: breached {duration(-left)} ago"}
    goal = getattr(clock, "goal_s", 0) or 0
    used = 1 - (left.total_seconds() / goal) if goal else 0
    tone = "warn" if used >= 0.75 or getattr(clock, "warned_percent", 0) else "ok"
    return {"short": f"{metric}{tier} {duration(left)}", "tone": tone,
            "text": f"{name}: {duration(left)} left (due {timezone.localtime(clock.due_at):%d %b %H:%M})"}


def current_clocks(ticket) -> list:
    """The live clocks of the ticket's latest cycle, from the prefetch (no query)."""
    cache = getattr(ticket, "_prefetched_objects_cache", {})
    if "sla_clocks" not in cache:
        return []
    clocks = list(cache["sla_clocks"])
    if not clocks:
        return []
    cycle = max(c.cycle for c in clocks)
    return [c for c in clocks if c.cycle == cycle and (c.state in ("running", "paused") or c.breached)]


@register.simple_tag
def sla_badges(ticket, now=None):
    """The ticket's live SLA badges, built here rather than by a sub-template: a list page shows 50-100."""
    now = now or timezone.now()
    badges = [clock_view(c, now) for c in current_clocks(ticket)]
    if not badges:
        return mark_safe('<span class="muted small">—</span>')
    return format_html_join(
        "",
        '<span class="badge sla-{}" title="{}"><span class="sr-only">{}</span>'
        '<span aria-hidden="true">{}</span></span> ',
        ((b["tone"], b["text"], b["text"], b["short"]) for b in badges),
    )


_KEY_SLOT = "KEY-0"


@lru_cache(maxsize=64)
def _key_url_pattern(prefix: str, name: str) -> str:
    return reverse(name, args=[_KEY_SLOT])


@register.simple_tag
def key_url(name, key):
    """`{% url name key %}` for a ticket-key URL, resolved once per name: list rows link 3-4 times each."""
    return format_html("{}", _key_url_pattern(get_script_prefix(), name).replace(_KEY_SLOT, quote(str(key))))


@register.simple_tag
def clock_info(clock, now=None):
    return clock_view(clock, now or timezone.now())


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


# --- Times in the viewer's zone (activated per request by tracker.timezones.UserTimeZoneMiddleware) ---------
WHEN_FORMATS = {"full": "j M Y H:i", "short": "j M H:i", "date": "j M Y"}


def _when_text(value, style: str) -> str:
    from django.utils.formats import date_format

    local = timezone.localtime(value)
    text = date_format(local, WHEN_FORMATS.get(style, WHEN_FORMATS["full"]))
    return text if style == "date" else f"{text} {local.tzname()}"


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
