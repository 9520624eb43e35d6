"""Pages show times in the viewer's own time zone, named; the API and the SLA dashboard's days stay put."""
from datetime import UTC, datetime

import pytest
from django.template import Context, Template
from django.utils import timezone

from tracker import services
from tracker.choices import Kind

RAISED = datetime(2026, 11, 25, 5, 5, tzinfo=UTC)  # 14:05 in Tokyo, 06:05 in Berlin


@pytest.fixture
def ticket(cast):
    return services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="Payslips are blank",
                                  service=cast.services["payroll"], now=RAISED)


def test_a_user_in_tokyo_sees_ticket_times_in_jst(cast, ticket, client_for):
    cast.requester.time_zone = "Asia/Tokyo"
    cast.requester.save()
    page = client_for(cast.requester).get(f"/portal/tickets/{ticket.key}/").content.decode()
    assert '<time datetime="2026-11-25T05:05:00Z">25 Nov 2026 14:05 JST</time>' in page


def test_the_same_page_in_berlin_and_without_a_zone(cast, ticket, client_for):
    cast.requester.time_zone = "Europe/Berlin"
    cast.requester.save()
    assert "25 Nov 2026 06:05 CET" in client_for(cast.requester).get(f"/portal/tickets/{ticket.key}/").content.decode()
    cast.requester.time_zone = "Not/AZone"  # an unknown name falls back to settings.TIME_ZONE (UTC)
    cast.requester.save()
    assert "25 Nov 2026 05:05 UTC" in client_for(cast.requester).get(f"/portal/tickets/{ticket.key}/").content.decode()


def test_the_portal_list_shows_the_local_time_too(cast, ticket, client_for):
    cast.requester.time_zone = "Asia/Tokyo"
    cast.requester.save()
    assert "25 Nov 14:05 JST" in client_for(cast.requester).get("/portal/").content.decode()


def test_the_zone_does_not_leak_into_the_api_or_the_next_request(cast, ticket, api, client_for):
    cast.agent1.time_zone = "Asia/Tokyo"
    cast.agent1.save()
    client = client_for(cast.agent1)
    client.get("/portal/")
    body = client.get(f"/api/v1/tickets/{ticket.key}/").json()
    assert body["created_at"].endswith("Z") or body["created_at"].endswith("+00:00")
    assert timezone.get_current_timezone_name() == "UTC"


def test_the_when_filters_render_in_the_active_zone():
    template = Template('{% load crossline %}{{ t|when }}|{{ t|when:"short" }}|{{ t|when:"date" }}|{{ t|when_time }}|'
                        '{{ none|when }}')
    with timezone.override("America/New_York"):
        text = template.render(Context({"t": RAISED, "none": None}))
    assert text == ("25 Nov 2026 00:05 EST|25 Nov 00:05 EST|25 Nov 2026|"
                    '<time datetime="2026-11-25T05:05:00Z">25 Nov 2026 00:05 EST</time>|')
