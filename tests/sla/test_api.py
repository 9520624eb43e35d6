"""The SLA API and the ticket list's SLA filters, ordering and embedded clocks."""

from datetime import timedelta

import pytest
from django.utils import timezone

from sla import services as sla
from sla.models import Policy
from sla.services.mail_poll import mailboxes_poll
from tests.factories import TicketFactory
from tracker import services


@pytest.fixture
def two_incidents(cast, always, make_policy):
    make_policy(always, response_s=600, resolution_s=3600)
    now = timezone.now()
    slow = services.ticket_create(
        actor=cast.requester,
        kind="incident",
        title="Slow",
        now=now - timedelta(minutes=9),
        service=cast.services["payroll"],
    )
    fresh = services.ticket_create(
        actor=cast.requester, kind="incident", title="Fresh", now=now, service=cast.services["payroll"]
    )
    return slow, fresh


def test_a_tickets_clocks_show_business_time_left(api, cast, two_incidents):
    slow, _ = two_incidents
    response = api(cast.agent1).get(f"/api/v1/sla/clocks/?ticket={slow.key}")
    assert response.status_code == 200, response.content
    by_metric = {row["metric"]: row for row in response.json()}
    assert 0 < by_metric["response"]["remaining_s"] <= 60 and by_metric["response"]["state"] == "running"
    assert by_metric["response"]["breached"] is False


def test_a_requester_cannot_see_clocks_of_someone_elses_ticket(api, cast, two_incidents):
    slow, _ = two_incidents
    assert api(cast.other_requester).get(f"/api/v1/sla/clocks/?ticket={slow.key}").status_code == 404


def test_the_ticket_list_filters_breaching_within_and_breached(api, cast, two_incidents):
    slow, fresh = two_incidents
    client = api(cast.agent1)
    keys = [t["key"] for t in client.get("/api/v1/tickets/?breaching_within=2").json()["results"]]
    assert keys == [slow.key]
    assert client.get("/api/v1/tickets/?breached=true").json()["results"] == []
    sla.clocks_sweep(now=timezone.now() + timedelta(minutes=5))
    keys = {t["key"] for t in client.get("/api/v1/tickets/?breached=true").json()["results"]}
    assert keys == {slow.key}


def test_the_ticket_list_can_order_by_time_remaining(cast, two_incidents):
    from tracker.filtersets import TicketFilterSet
    from tracker.selectors import ticket_list

    slow, fresh = two_incidents
    TicketFactory()  # no clock: last
    qs = TicketFilterSet({"ordering": "sla_remaining"}, queryset=ticket_list(user=cast.agent1)).qs
    assert [t.key for t in qs][:2] == [slow.key, fresh.key]


def test_the_api_list_orders_by_time_remaining_and_pages_by_cursor(api, cast, two_incidents):
    slow, fresh = two_incidents
    no_clock = TicketFactory()
    client = api(cast.agent1)
    page = client.get("/api/v1/tickets/?ordering=sla_remaining&page_size=1").json()
    keys = [page["results"][0]["key"]]
    while page["next"]:
        page = client.get(page["next"]).json()
        keys += [row["key"] for row in page["results"]]
    assert keys == [slow.key, fresh.key, no_clock.key]


def test_each_ticket_in_the_list_embeds_its_clocks(api, cast, two_incidents):
    rows = api(cast.agent1).get("/api/v1/tickets/").json()["results"]
    assert {c["metric"] for c in rows[0]["sla"]} == {"response", "resolution"}


@pytest.mark.parametrize("rows", [1, 20])
def test_the_ticket_list_query_count_does_not_grow_with_clocks(
    api, cast, always, make_policy, rows, django_assert_max_num_queries
):
    make_policy(always)
    for _ in range(rows):
        services.ticket_create(
            actor=cast.requester, kind="incident", title="x", service=cast.services["payroll"]
        )
    client = api(cast.agent1)
    client.get("/api/v1/tickets/")  # warm the calendar cache
    with django_assert_max_num_queries(8):
        assert client.get("/api/v1/tickets/?page_size=50").status_code == 200


def test_admins_write_policies_and_staff_only_read_them(api, cast, always):
    body = {
        "name": "P2",
        "calendar": always.pk,
        "priorities": [2],
        "response_s": 1800,
        "resolution_s": 14400,
        "tier_targets": [{"tier": 3, "goal_s": 1800}],
    }
    assert api(cast.agent1).post("/api/v1/sla/policies/", body, format="json").status_code == 403
    response = api(cast.admin).post("/api/v1/sla/policies/", body, format="json")
    assert response.status_code == 201, response.content
    assert Policy.objects.get(name="P2").tier_targets.get().goal_s == 1800
    assert api(cast.agent1).get("/api/v1/sla/policies/").json()[0]["name"] == "P2"
    assert api(cast.requester).get("/api/v1/sla/policies/").status_code == 403


def test_a_calendar_imports_uk_holidays(api, cast):
    client = api(cast.admin)
    response = client.post(
        "/api/v1/sla/calendars/",
        {
            "name": "London",
            "time_zone": "Europe/London",
            "hours": [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(5)],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    response = client.post(
        f"/api/v1/sla/calendars/{response.json()['id']}/import-holidays/",
        {"country": "GB", "subdivision": "ENG", "years": [2026]},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert {"date": "2026-12-25", "name": "Christmas Day"} in response.json()["holidays"]


def test_a_bad_time_zone_is_a_400_that_says_what_to_fix(api, cast):
    response = api(cast.admin).post(
        "/api/v1/sla/calendars/", {"name": "X", "time_zone": "Mars/Olympus"}, format="json"
    )
    assert response.status_code == 400 and "IANA" in response.json()["detail"]


def test_notifications_list_and_mark_read(api, cast, two_incidents):
    sla.clocks_sweep(now=timezone.now() + timedelta(minutes=5))
    client = api(cast.manager)
    assert client.get("/api/v1/sla/notifications/unread-count/").json() == {"unread": 1}
    rows = client.get("/api/v1/sla/notifications/?unread=true").json()["results"]
    assert rows[0]["kind"] == "breach"
    assert client.post("/api/v1/sla/notifications/read/", {}, format="json").json()["unread"] == 0


def test_preferences_default_to_on_and_can_be_turned_off(api, cast):
    client = api(cast.manager)
    assert all(r["email"] for r in client.get("/api/v1/sla/notifications/preferences/").json())
    rows = client.put(
        "/api/v1/sla/notifications/preferences/",
        [{"kind": "warning", "email": False, "in_app": True}],
        format="json",
    ).json()
    assert {r["kind"]: r["email"] for r in rows}["warning"] is False


def test_the_heartbeat_says_stale_until_the_sweep_runs(api, cast):
    client = api(cast.agent1)
    assert client.get("/api/v1/sla/heartbeat/").json()["ok"] is False
    sla.clocks_sweep()
    sla.outbox_deliver()
    beats = client.get("/api/v1/sla/heartbeat/").json()
    assert beats["ok"] is False  # the webhook relay and the mailbox poll have not run yet
    assert [b["name"] for b in beats["jobs"] if b["stale"]] == ["webhooks", "mail"]
    sla.webhooks_deliver()
    mailboxes_poll()
    assert client.get("/api/v1/sla/heartbeat/").json()["ok"] is True
