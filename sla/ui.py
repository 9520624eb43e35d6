"""What the SLA engine adds to the core's pages, through `tracker.extensions`: badges in the ticket header and
the queue, the clocks panel, the "Breaching soon" and "Breached" views, the "SLA due" sort, the timeline's
SLA rows, the dashboard link, the notifications bell and the manager's landing page."""

import re
from datetime import UTC, datetime
from html import escape

from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from tracker import extensions as ext
from tracker.choices import Role
from tracker.templatetags.crossline import _choice_label, duration, when

from . import selectors
from .choices import Metric

METRIC_SHORT = {"response": "Resp", "resolution": "Res", "pick": "Pick"}


def clock_view(clock, now) -> dict:
    """What one clock looks like: a label, a tone (ok/warn/bad/paused/done) and a full sentence."""
    metric = METRIC_SHORT.get(clock.metric, clock.metric)
    tier = f" L{clock.tier}" if clock.tier else ""
    name = f"{_choice_label(Metric, clock.metric)}{tier}"  # get_metric_display() rebuilds every choice
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
    used = 1 - (left.total_seconds() / clock.goal_s) if clock.goal_s else 0
    tone = "warn" if used >= 0.75 or clock.warned_percent else "ok"
    return {"short": f"{metric}{tier} {duration(left)}", "tone": tone,
            "text": f"{name}: {duration(left)} left (due {when(clock.due_at)})"}


def current_clocks(ticket) -> list:
    """The live clocks of the ticket's latest cycle, from the prefetch (no query)."""
    cache = getattr(ticket, "_prefetched_objects_cache", {})
    clocks = list(cache.get("sla_clocks", ()))
    if not clocks:
        return []
    cycle = max(c.cycle for c in clocks)
    return [c for c in clocks if c.cycle == cycle and (c.state in ("running", "paused") or c.breached)]


def badges(ticket, now=None) -> str:
    """The ticket's live SLA badges, built here rather than by a sub-template: a list page shows 50-100."""
    now = now or timezone.now()
    shown = [clock_view(c, now) for c in current_clocks(ticket)]
    if not shown:
        return mark_safe('<span class="muted small">—<span class="sr-only">no running SLA clock</span></span>')
    # What format_html_join writes, without a lazy-string check and a SafeString per argument: 50-100 per page.
    return mark_safe("".join(
        f'<span class="badge sla-{escape(b["tone"])}" title="{text}"><span class="sr-only">{text}</span>'
        f'<span aria-hidden="true">{escape(b["short"])}</span></span> '
        for b in shown for text in (escape(b["text"]),)))


def clocks_panel(*, request, ticket, now):
    """Every clock of the ticket, newest cycle first, from the page's prefetch (ticket_clocks() otherwise)."""
    cache = getattr(ticket, "_prefetched_objects_cache", {})
    clocks = list(cache["sla_clocks"]) if "sla_clocks" in cache else selectors.ticket_clocks(ticket)
    clocks.sort(key=lambda c: (-c.cycle, c.metric, c.tier or 0))
    return {"rows": [{"clock": c, "view": clock_view(c, now)} for c in clocks]}


# Notes written by the engine name times in UTC ("due 2026-11-25 14:00:00 UTC") and may start with "SLA".
_UTC_TIME = re.compile(r"(\d{4}-\d{2}-\d{2} \d{2}:\d{2})(?::\d{2})? UTC")
_PREFIX = re.compile(r"^SLA\b:?\s*")


def _local(match: re.Match) -> str:
    moment = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
    return when(moment)


def timeline_row(event) -> str:
    note = _PREFIX.sub("", event.note or "") or event.new or ""
    return format_html("<strong>SLA</strong> · {}", _UTC_TIME.sub(_local, note))


def register() -> None:
    ext.register(
        selectors.with_clocks,
        ext.Badge("sla", "SLA", badges, sort="due", order=10),
        ext.QueueSort("due", "SLA due", "next_due", selectors.with_next_due, nullable=True),
        ext.QueueView("breaching", "Breaching soon", selectors.breaching_soon, sort="due", order=10,
                      empty="Nothing is due to breach in the next two hours."),
        # newest first: ordering every breached ticket by due is a full sort
        ext.QueueView("breached", "Breached", selectors.breached, order=20, empty="No live clock has breached."),
        ext.Panel("sla-clocks", "sla/panel_clocks.html", clocks_panel, order=20),
        ext.TimelineRenderer("sla", timeline_row),
        ext.NavLink("dashboard", "SLA dashboard", "sla:dashboard", order=40, icon="chart-column"),
        ext.TopbarItem("sla/bell.html", order=10),
        ext.Home(Role.MANAGER, "sla:dashboard"),
        ext.NavLink("mailboxes", "Mailboxes", "sla:mailboxes", order=92, icon="settings", roles=(Role.ADMIN,)),
        ext.NavLink("mail", "Held mail", "sla:mail-review", order=94, icon="inbox", roles=(Role.ADMIN, Role.MANAGER)),
    )


def register_webhooks() -> None:
    """The webhooks settings page in the top bar, for administrators and managers only."""
    ext.register(ext.NavLink("webhooks", "Webhooks", "sla:webhooks", order=90, icon="zap",
                             roles=(Role.ADMIN, Role.MANAGER)))
