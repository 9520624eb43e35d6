"""What the SLA engine shows on the core's pages: the header badges, the clocks panel, timeline rows."""

from sla import ui
from tracker import services
from tracker.choices import Kind
from tracker.models import TicketEvent


def test_the_ticket_header_shows_the_running_clocks_not_a_dash(cast, always, make_policy, client_for):
    make_policy(always, response_s=3600, resolution_s=8 * 3600)
    ticket = services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="VPN drops")
    page = client_for(cast.agent1).get(f"/tickets/{ticket.key}/").content.decode()
    header = page.split('aria-label="Workflow"')[0]  # the card above the workflow buttons
    assert "Resp 59m" in header or "Resp 1h 00m" in header
    assert "no running SLA clock" not in header
    assert 'id="h-sla"' in page and "First response" in page  # the panel lists the clocks too


def test_sla_timeline_rows_name_times_in_the_viewers_zone_without_a_doubled_prefix(cast, settings):
    from django.utils import timezone

    event = TicketEvent(kind="sla", note="SLA: response clock started, target 1h00m, due 2026-07-01 12:00:00 UTC")
    with timezone.override("Europe/Berlin"):
        html = ui.timeline_row(event)
    assert "SLA: SLA" not in html and html.count("SLA") == 1
    assert "1 Jul 2026 14:00 CEST" in html and "UTC" not in html


def test_the_queue_badges_write_what_format_html_join_wrote():
    from datetime import timedelta
    from types import SimpleNamespace

    from django.utils import timezone
    from django.utils.html import format_html_join

    now = timezone.now()
    clocks = [SimpleNamespace(metric="resolution", tier=None, cycle=1, state="running", breached=False,
                              due_at=now + timedelta(hours=3), goal_s=4 * 3600, warned_percent=0),
              SimpleNamespace(metric="pick", tier=3, cycle=1, state="running", breached=True,
                              due_at=now - timedelta(minutes=42), goal_s=600, warned_percent=0),
              SimpleNamespace(metric="<x>", tier=None, cycle=1, state="paused", breached=False,
                              due_at=None, goal_s=0, warned_percent=0)]
    ticket = SimpleNamespace(_prefetched_objects_cache={"sla_clocks": clocks})
    shown = [ui.clock_view(c, now) for c in clocks]
    expected = format_html_join(
        "", '<span class="badge sla-{}" title="{}"><span class="sr-only">{}</span>'
            '<span aria-hidden="true">{}</span></span> ',
        ((b["tone"], b["text"], b["text"], b["short"]) for b in shown))
    assert ui.badges(ticket, now) == expected
    assert "&lt;x&gt;" in ui.badges(ticket, now)


def test_badges_and_panel_from_the_badge_columns_equal_those_from_whole_clocks(
        cast, always, make_policy, django_assert_num_queries):
    from django.db.models import Prefetch, prefetch_related_objects
    from django.utils import timezone

    from sla import selectors
    from sla.models import Clock
    from tracker.models import Ticket

    make_policy(always, response_s=3600, resolution_s=8 * 3600)
    created = [services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title=f"VPN drops {i}")
               for i in range(3)]
    Clock.objects.filter(ticket=created[1], metric="response").update(state="paused", due_at=None)
    Clock.objects.filter(ticket=created[2], metric="response").update(breached=True)
    now = timezone.now()
    narrowed = list(selectors.with_clocks(Ticket.objects.filter(pk__in=[t.pk for t in created])).order_by("pk"))
    whole = list(Ticket.objects.filter(pk__in=[t.pk for t in created]).order_by("pk"))
    prefetch_related_objects(whole, Prefetch("sla_clocks", queryset=Clock.objects.order_by("metric", "-cycle")))
    with django_assert_num_queries(0):  # nothing the badges or the panel read was left in the database
        shown = [(ui.badges(t, now), ui.clocks_panel(request=None, ticket=t, now=now)["rows"]) for t in narrowed]
    expected = [(ui.badges(t, now), ui.clocks_panel(request=None, ticket=t, now=now)["rows"]) for t in whole]
    assert [b for b, _ in shown] == [b for b, _ in expected]
    assert [[r["view"] for r in rows] for _, rows in shown] == [[r["view"] for r in rows] for _, rows in expected]
    assert "paused" in shown[1][0] and "sla-bad" in shown[2][0]
