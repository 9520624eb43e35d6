"""The agent pages: sign-in, home per role, the queue, the ticket workspace, the new-ticket form."""

import pytest
from django.test import Client

from tests.factories import TicketFactory
from tracker import services
from tracker.choices import Kind, Status
from tracker.models import Link, Ticket


def incident(cast, **extra):
    return services.ticket_create(
        actor=cast.requester,
        kind=Kind.INCIDENT,
        title="Payslips are blank",
        service=cast.services["payroll"],
        **extra,
    )


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/queue/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_sign_in_lands_each_role_where_their_work_is(cast):
    expected = {
        cast.requester: "/portal/",
        cast.agent1: "/queue/?view=my-group",
        cast.engineer: "/dev/",
        cast.manager: "/dashboard/",
    }
    for user, url in expected.items():
        client = Client()
        response = client.post("/login/", {"username": user.username, "password": "pw"})
        assert response.status_code == 302
        assert client.get(response["Location"])["Location"] == url


def test_the_queue_lists_and_filters_tickets(cast, client_for):
    incident(cast)
    services.ticket_create(actor=cast.agent1, kind=Kind.CHANGE, title="Upgrade the payroll database")
    page = client_for(cast.agent1).get("/queue/", {"view": "open", "kind": "change"})
    assert page.status_code == 200
    assert b"Upgrade the payroll database" in page.content and b"Payslips are blank" not in page.content


def test_a_requester_is_sent_from_the_queue_to_the_portal(cast, client_for):
    assert client_for(cast.requester).get("/queue/")["Location"] == "/portal/"


@pytest.mark.parametrize("rows", [1, 50])
def test_queue_queries_do_not_grow_with_rows(cast, client_for, rows, django_assert_max_num_queries):
    client = client_for(cast.agent1)
    TicketFactory.create_batch(
        rows, requester=cast.requester, group=cast.l1, assignee=cast.agent1, service=cast.services["payroll"]
    )
    client.get("/queue/")  # warm the session
    with django_assert_max_num_queries(12) as captured:
        response = client.get("/queue/", {"view": "open"})
    assert response.status_code == 200 and response.content.count(b"data-row") == rows
    queue_queries[rows] = len(captured)
    if len(queue_queries) == 2:
        assert queue_queries[1] == queue_queries[50], queue_queries


queue_queries: dict[int, int] = {}


@pytest.mark.parametrize("rows, counted", [(3, False), (51, True)])
def test_the_queue_counts_only_when_the_first_page_cannot_hold_every_match(
    cast, client_for, rows, counted, django_assert_max_num_queries
):
    client = client_for(cast.agent1)
    TicketFactory.create_batch(rows, requester=cast.requester, group=cast.l1)
    client.get("/queue/")  # warm the session
    with django_assert_max_num_queries(12) as captured:
        response = client.get("/queue/", {"view": "open"})
    assert f"<strong>{rows} tickets</strong>".encode() in response.content
    # the bounded count: up to 1,001 matches read (their ids) or counted
    assert any("LIMIT 1001" in q["sql"] and "tracker_ticket" in q["sql"] for q in captured) is counted
workspace_queries: dict[int, int] = {}


@pytest.mark.parametrize("rows", [1, 30])
def test_workspace_queries_do_not_grow_with_the_timeline(
    cast, client_for, rows, django_assert_max_num_queries
):
    ticket = incident(cast)
    client = client_for(cast.agent1)
    for n in range(rows):
        services.ticket_comment(ticket=ticket, actor=cast.agent1, body=f"note {n}", internal=n % 2 == 0)
    other = TicketFactory(requester=cast.requester)
    services.ticket_link(source=ticket, target=other, type="relates_to", actor=cast.agent1)
    client.get(f"/tickets/{ticket.key}/")
    with django_assert_max_num_queries(30) as captured:
        response = client.get(f"/tickets/{ticket.key}/")
    assert response.status_code == 200 and b"note 0" in response.content
    workspace_queries[rows] = len(captured)
    if len(workspace_queries) == 2:
        assert workspace_queries[1] == workspace_queries[30], workspace_queries


def test_an_agent_comments_transitions_and_escalates_from_the_workspace(cast, client_for):
    ticket = incident(cast)
    client = client_for(cast.agent1)
    url = f"/tickets/{ticket.key}/"
    assert client.post(url + "comment/", {"body": "Looking **now**"}).status_code == 200
    response = client.post(url + "transition/", {"to": Status.IN_PROGRESS, "version": ticket.version})
    assert response.status_code == 200, response.content
    ticket.refresh_from_db()
    response = client.post(url + "escalate/", {"version": ticket.version, "note": "needs app support"})
    assert response.status_code == 200
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS and ticket.group == cast.l2
    page = client.get(url).content.decode()
    assert "Looking <strong>now</strong>" in page and "Escalated from" in page


def test_a_stale_version_is_refused_with_a_collision_warning(cast, client_for):
    ticket = incident(cast)
    loaded = ticket.version
    services.ticket_update(ticket=ticket, actor=cast.agent2, version=ticket.version, changes={"urgency": 1})
    response = client_for(cast.agent1).post(
        f"/tickets/{ticket.key}/fields/title/", {"title": "Mine", "version": loaded}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 412
    assert b"changed by someone else" in response.content
    assert b"Your unsaved title" in response.content and b">Mine</textarea>" in response.content
    assert Ticket.objects.get(pk=ticket.pk).title == "Payslips are blank"


def test_the_changes_poll_warns_when_someone_else_updated(cast, client_for):
    ticket = incident(cast)
    loaded = ticket.updated_at.isoformat()
    client = client_for(cast.agent1)
    assert b"was updated" not in client.get(f"/tickets/{ticket.key}/changes/", {"t": loaded}).content
    services.ticket_comment(ticket=ticket, actor=cast.agent2, body="on it")
    assert b"was updated" in client.get(f"/tickets/{ticket.key}/changes/", {"t": loaded}).content


def test_a_refused_transition_is_a_4xx_fragment_not_a_500(cast, client_for):
    ticket = incident(cast)
    response = client_for(cast.agent1).post(
        f"/tickets/{ticket.key}/transition/", {"to": Status.CLOSED, "version": ticket.version}
    )
    assert response.status_code == 409 and b"cannot move" in response.content


def test_link_and_unlink_by_key(cast, client_for):
    ticket, other = incident(cast), incident(cast)
    client = client_for(cast.agent1)
    assert (
        client.post(
            f"/tickets/{ticket.key}/link/", {"type": "relates_to", "key": other.key.lower()}
        ).status_code
        == 200
    )
    link = Link.objects.get(source=ticket, target=other)
    assert client.post(f"/tickets/{ticket.key}/links/{link.pk}/delete/").status_code == 200
    assert not Link.objects.exists()
    response = client.post(f"/tickets/{ticket.key}/link/", {"type": "relates_to", "key": "INC-99999"})
    assert response.status_code == 404 and b"No ticket INC-99999" in response.content


def test_bulk_assign_and_status(cast, client_for):
    a, b = incident(cast), incident(cast)
    client = client_for(cast.agent1)
    response = client.post("/queue/bulk/", {"keys": [a.key, b.key], "action": "assign_me"})
    assert response.status_code == 200
    assert set(Ticket.objects.values_list("assignee", flat=True)) == {cast.agent1.pk}
    client.post("/queue/bulk/", {"keys": [a.key], "action": "status", "to": Status.IN_PROGRESS})
    assert Ticket.objects.get(pk=a.pk).status == Status.IN_PROGRESS


def test_new_ticket_form_creates_with_kind_fields_and_suggests_duplicates(cast, client_for):
    incident(cast)
    client = client_for(cast.agent1)
    assert b"Payslips are blank" in client.get("/tickets/new/similar/", {"title": "blank payslips"}).content
    assert b"P1" in client.get("/tickets/new/priority/", {"impact": 1, "urgency": 1}).content
    assert b"Severity" in client.get("/tickets/new/", {"kind": "defect"}).content
    response = client.post(
        "/tickets/new/",
        {
            "kind": "defect",
            "title": "Rounding error",
            "impact": 2,
            "urgency": 2,
            "severity": "s2",
            "group": cast.l3.pk,
        },
    )
    assert response.status_code == 302
    defect = Ticket.objects.get(kind=Kind.DEFECT)
    assert defect.severity == "s2" and response["Location"] == f"/tickets/{defect.key}/"


def test_markdown_preview_is_sanitised(cast, client_for):
    response = client_for(cast.agent1).post("/preview/", {"body": "**hi** <script>x</script>"})
    assert b"<strong>hi</strong>" in response.content and b"<script>" not in response.content


def test_requester_suggestions_match_part_of_a_name_for_staff_only(cast, client_for):
    from tests.factories import UserFactory
    from tracker.choices import Role

    UserFactory.create_batch(12, first_name="Alicia", role=Role.REQUESTER)
    page = client_for(cast.agent1).get("/tickets/new/requesters/", {"requester": "alic"}).content.decode()
    assert page.count("data-fill=") == 10
    assert page.index(">Alice ") < page.index(">Alicia ")  # requesters first, by name

    page = client_for(cast.agent1).get("/tickets/new/requesters/", {"requester": "zzz"}).content.decode()
    assert "Nobody matches" in page and "data-fill=" not in page
    assert client_for(cast.requester).get("/tickets/new/requesters/", {"requester": "ali"}).status_code == 302


def test_new_ticket_takes_the_requester_by_username_or_email_without_javascript(cast, client_for):
    client = client_for(cast.agent1)
    form = {"kind": "incident", "title": "VPN drops", "impact": 2, "urgency": 2}
    assert client.post("/tickets/new/", {**form, "requester": "alice"}).status_code == 302
    assert client.post("/tickets/new/", {**form, "requester": "ALICE@example.test"}).status_code == 302
    refused = client.post("/tickets/new/", {**form, "requester": "ali"})
    assert refused.status_code == 400 and b"No user &#x27;ali&#x27;" in refused.content
    assert list(Ticket.objects.filter(title="VPN drops").values_list("requester__username", flat=True)) == [
        "alice",
        "alice",
    ]


def test_row_actions_in_the_queue_swap_the_row_and_a_stale_row_is_refused(cast, client_for):
    ticket = incident(cast)
    client = client_for(cast.agent1)
    row = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": f"row-{ticket.key}"}
    taken = client.post(f"/tickets/{ticket.key}/assign-me/", {"version": ticket.version}, **row)
    assert taken.status_code == 200 and f'id="row-{ticket.key}"'.encode() in taken.content
    assert Ticket.objects.get(pk=ticket.pk).assignee == cast.agent1
    stale = client.post(f"/tickets/{ticket.key}/escalate/", {"version": ticket.version}, **row)
    assert stale.status_code == 412 and b"changed by someone else" in stale.content
    fresh = Ticket.objects.get(pk=ticket.pk)
    escalated = client.post(f"/tickets/{ticket.key}/escalate/", {"version": fresh.version}, **row)
    assert escalated.status_code == 200 and b"App Support" in escalated.content


def test_links_read_in_each_tickets_direction_in_the_panel_and_the_timeline(cast, client_for):
    change = services.ticket_create(actor=cast.agent1, kind=Kind.CHANGE, title="Upgrade payroll")
    outage = incident(cast)
    link = services.ticket_link(source=outage, target=change, type="caused_by", actor=cast.agent1)
    on_incident = client_for(cast.agent1).get(f"/tickets/{outage.key}/").content.decode()
    on_change = client_for(cast.agent1).get(f"/tickets/{change.key}/").content.decode()
    assert "Linked: caused by " + change.key in on_incident and "Caused by</span>" in on_incident
    assert "Linked: caused " + outage.key in on_change and "Caused</span>" in on_change
    assert "caused_by" not in on_change.replace('value="caused_by"', "")

    services.ticket_unlink(link=Link.objects.get(pk=link.pk), actor=cast.agent1)
    on_change = client_for(cast.agent1).get(f"/tickets/{change.key}/").content.decode()
    assert "Unlinked: caused " + outage.key in on_change


def test_a_change_window_shows_in_the_viewers_zone_with_the_zone_named(cast, client_for):
    from datetime import UTC, datetime

    change = services.ticket_create(actor=cast.agent1, kind=Kind.CHANGE, title="Upgrade payroll",
                                    window_start=datetime(2026, 7, 1, 20, 0, tzinfo=UTC))
    cast.agent1.time_zone = "Europe/Berlin"
    cast.agent1.save(update_fields=["time_zone"])
    page = client_for(cast.agent1).get(f"/tickets/{change.key}/").content.decode()
    assert "1 Jul 2026 22:00 CEST" in page and "20:00:00+00:00<" not in page


@pytest.mark.parametrize("kind", [k for k, _ in Kind.choices])
def test_no_page_shows_djangos_dashes_placeholder(cast, client_for, kind):
    agent = client_for(cast.agent1)
    assert "---------" not in agent.get(f"/tickets/new/?kind={kind}").content.decode()
    ticket = services.ticket_create(actor=cast.agent1, kind=kind, title="Something")
    assert "---------" not in agent.get(f"/tickets/{ticket.key}/").content.decode()
    for name in ("implementation_result", "risk", "change_type", "severity", "category", "service"):
        response = agent.get(f"/tickets/{ticket.key}/fields/{name}/")
        assert response.status_code == 404 or "---------" not in response.content.decode()
    assert "---------" not in agent.get("/queue/").content.decode()


def test_a_change_window_is_picked_in_the_agents_zone(cast, client_for):
    cast.agent1.time_zone = "Asia/Tokyo"
    cast.agent1.save(update_fields=["time_zone"])
    agent = client_for(cast.agent1)
    assert "In your time zone, Asia/Tokyo." in agent.get("/tickets/new/?kind=change").content.decode()
    response = agent.post("/tickets/new/", {"kind": "change", "title": "Patch the payroll DB", "impact": 2,
                                            "urgency": 2, "window_start": "2026-07-01T22:00"})
    assert response.status_code == 302, response.content.decode()[:2000]
    change = Ticket.objects.get(kind=Kind.CHANGE)
    assert change.window_start.isoformat() == "2026-07-01T13:00:00+00:00"  # 22:00 in Tokyo is 13:00 UTC
