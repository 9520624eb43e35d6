"""Major incidents on the pages: declare (a refusal in place, the reason kept), link children from the ticket page
and in bulk from the queue, resolve with children; the badge, panel and "Major incidents" view; and the process
managers' landing pages, their figures, who may open them and their query budgets."""
from datetime import timedelta

import pytest
from django.utils import timezone

from itsm import services as itsm
from itsm.models import MajorIncident
from sla.models import Calendar, Clock, Policy
from sla.services import clocks_sweep
from tests.factories import UserFactory
from tracker import services
from tracker.choices import Kind, Role, Status
from tracker.models import Ticket, User

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def iris(db):
    return UserFactory(username="iris", role=Role.INCIDENT_MANAGER)


@pytest.fixture
def pia(db):
    return UserFactory(username="pia", role=Role.PROBLEM_MANAGER)


def incident(cast, title="No mail on floor 2", **values):
    return services.ticket_create(actor=cast.agent1, kind=Kind.INCIDENT, title=title, requester=cast.requester,
                                  **values)


@pytest.fixture
def major(cast, iris):
    ticket = incident(cast, "Email down for all of Berlin", impact=1, urgency=1, service=cast.services["mail"])
    itsm.major_declare(ticket=ticket, actor=cast.agent1, reason="No mail in Berlin since 08:10")
    return ticket


def test_a_p3_is_refused_in_place_with_the_reason_kept_and_declares_once_it_is_p1(cast, client_for, iris):
    ticket = incident(cast)
    client = client_for(cast.agent1)
    page = client.get(f"/tickets/{ticket.key}/")
    assert b"Declare major incident" in page.content
    refused = client.post(f"/tickets/{ticket.key}/major/declare/", {"reason": "All of Berlin, no mail"}, **HX)
    assert refused.status_code == 400
    assert b"must be P1" in refused.content and b"All of Berlin, no mail" in refused.content
    services.ticket_update(ticket=ticket, actor=cast.agent1, version=ticket.version, changes={"impact": 1,
                                                                                             "urgency": 1})
    done = client.post(f"/tickets/{ticket.key}/major/declare/", {"reason": "All of Berlin, no mail"}, **HX)
    assert done.status_code == 200 and b"is now a major incident" in done.content
    assert b"Major incident" in done.content and b"Told at once" in done.content
    assert MajorIncident.objects.filter(ticket=ticket).exists()


def test_children_linked_from_the_ticket_page_show_on_both_pages(cast, client_for, major):
    kid = incident(cast)
    client = client_for(cast.agent1)
    refused = client.post(f"/tickets/{major.key}/major/children/", {"keys": f"{kid.key} INC-999"}, **HX)
    assert refused.status_code == 400 and b"No ticket INC-999" in refused.content and b"INC-999" in refused.content
    done = client.post(f"/tickets/{major.key}/major/children/", {"keys": kid.key.lower()}, **HX)
    assert done.status_code == 200 and f"Linked {kid.key}".encode() in done.content
    child_page = client.get(f"/tickets/{kid.key}/")
    assert b"Part of major incident" in child_page.content and major.key.encode() in child_page.content


def test_linking_to_a_major_incident_in_bulk_from_the_queue(cast, client_for, major):
    kids = [incident(cast, f"No mail on floor {n}") for n in range(3)]
    client = client_for(cast.agent1)
    queue = client.get("/queue/")
    assert b"Link to major incident" in queue.content and b'name="major_key"' in queue.content
    response = client.post("/queue/bulk/", {"keys": [k.key for k in kids], "action": "link-major",
                                            "major_key": major.key})
    assert response.status_code == 200 and b"linked to the major incident" in response.content
    assert len(itsm.major_children(major)) == 3
    again = client.post("/queue/bulk/", {"keys": [kids[0].key], "action": "link-major", "major_key": major.key})
    assert again.status_code == 400 and b"already a child of this major incident" in again.content
    missing = client.post("/queue/bulk/", {"keys": [kids[0].key], "action": "link-major", "major_key": ""})
    assert b"Type the key of the major incident" in missing.content


def test_resolving_with_children_from_the_ticket_page(cast, client_for, major):
    kids = [incident(cast, f"No mail on floor {n}") for n in range(2)]
    itsm.major_link_children(major_ticket=major, children=kids, actor=cast.agent1)
    client = client_for(cast.agent1)
    page = client.get(f"/tickets/{major.key}/")
    assert b"Resolve with children" in page.content
    assert page.content.count(b'name="children"') == 2
    refused = client.post(f"/tickets/{major.key}/major/resolve/", {"note": "", "children": [kids[0].key]}, **HX)
    assert refused.status_code == 400 and b"Write the resolution note" in refused.content
    done = client.post(f"/tickets/{major.key}/major/resolve/", {"note": "Relay restarted.",
                                                                "children": [kids[0].key]}, **HX)
    assert done.status_code == 200 and f"Resolved {major.key} with {kids[0].key}".encode() in done.content
    assert [Ticket.objects.get(pk=k.pk).status for k in kids] == [Status.RESOLVED, Status.NEW]


def test_the_badge_and_the_major_incidents_view(cast, client_for, major):
    other = incident(cast, "Printer jammed")
    client = client_for(cast.agent1)
    view = client.get("/queue/", {"view": "majors"})
    assert major.key.encode() in view.content and other.key.encode() not in view.content
    User.objects.filter(pk=cast.agent1.pk).update(queue_columns=["title", "major"])  # a column people may add
    row = client.get("/queue/", {"view": "open"}).content.decode()
    assert row.count("Major incident</span>") == 1


def test_requesters_cannot_declare(cast, client_for, major):
    ticket = incident(cast, impact=1, urgency=1)
    response = client_for(cast.requester).post(f"/tickets/{ticket.key}/major/declare/", {"reason": "x"})
    assert response.status_code == 302 and not MajorIncident.objects.filter(ticket=ticket).exists()


major_page_queries: dict[int, int] = {}


@pytest.mark.parametrize("children", [1, 8])
def test_a_major_incidents_page_keeps_its_query_budget(cast, client_for, major, children,
                                                       django_assert_max_num_queries):
    itsm.major_link_children(major_ticket=major, actor=cast.agent1,
                             children=[incident(cast, f"No mail {n}") for n in range(children)])
    client = client_for(cast.agent1)
    client.get(f"/tickets/{major.key}/")
    with django_assert_max_num_queries(14) as captured:  # the ticket page's budget, panels and actions included
        response = client.get(f"/tickets/{major.key}/")
    assert response.status_code == 200 and response.content.count(b"No mail ") >= children
    major_page_queries[children] = len(captured)
    if len(major_page_queries) == 2:
        assert major_page_queries[1] == major_page_queries[8], major_page_queries


# --- the process managers' landing pages -------------------------------------------------------------------


def test_the_process_managers_land_on_their_process_health(cast, client_for, iris, pia):
    assert client_for(iris).get("/")["Location"] == "/process/incidents/"
    assert client_for(pia).get("/")["Location"] == "/process/problems/"
    page = client_for(iris).get("/process/incidents/")
    assert b"Incident health" in page.content and b"Problem health" not in page.content  # the top bar's link
    assert b"?view=open&amp;kind=incident" in page.content


@pytest.mark.parametrize("who, incidents, problems", [
    ("manager", 200, 200), ("admin", 200, 200), ("agent1", 302, 302), ("engineer", 302, 302)])
def test_who_may_open_the_landing_pages(cast, client_for, who, incidents, problems):
    client = client_for(getattr(cast, who))
    assert client.get("/process/incidents/").status_code == incidents
    assert client.get("/process/problems/").status_code == problems


def test_pia_may_not_open_the_incident_page_nor_iris_the_problem_page(client_for, iris, pia):
    assert client_for(pia).get("/process/incidents/").status_code == 302
    assert client_for(iris).get("/process/problems/").status_code == 302


def test_the_incident_figures(cast, client_for, iris, major):
    calendar = Calendar.objects.create(name="24x7", time_zone="UTC", always_open=True)
    Policy.objects.create(name="Every ticket", order=10, calendar=calendar, response_s=3600, resolution_s=4 * 3600)
    l1 = incident(cast, group=cast.l1)
    l2 = incident(cast, "Payslip blank", group=cast.l2)
    Ticket.objects.filter(pk=l2.pk).update(created_at=timezone.now() - timedelta(days=30))
    done = incident(cast, "Fixed already", group=cast.l2)
    services.ticket_transition(ticket=done, to=Status.CANCELLED, actor=cast.agent1, values={"resolution_note": "x"})
    health = client_for(iris).get("/process/incidents/").context["health"]
    counts = {row["tier"]: row["count"] for row in health.by_tier}
    assert (counts[1], counts[2], counts[3], counts[None]) == (2, 1, 0, 0)  # the major and l1 are at the desk
    assert not health.breached
    assert health.total == 3
    assert health.oldest[0] == l2
    assert [m.ticket for m in health.majors] == [major] and health.majors[0].children == 0
    clocks_sweep(now=timezone.now() + timedelta(hours=5))  # breaches (and escalates) l1 and l2
    health = client_for(iris).get("/process/incidents/").context["health"]
    assert {c.ticket for c in health.breached} == {l1, l2}  # the major has no clock (raised before the policy)
    assert health.breached_count == Clock.objects.filter(breached=True, state="running").exclude(ticket=done).count()


def test_the_problem_figures_and_the_root_cause_age_setting(cast, client_for, pia, settings):
    def problem(title, days, **values):
        p = services.ticket_create(actor=cast.agent2, kind=Kind.PROBLEM, title=title, **values)
        Ticket.objects.filter(pk=p.pk).update(created_at=timezone.now() - timedelta(days=days))
        return p

    stale = problem("Mail relay drops connections", 20)
    problem("Payslips blank", 20, root_cause="Template cache")
    fresh = problem("VPN drops", 3)
    known = problem("Printer driver", 30, root_cause="Driver 4.2", workaround="Use 4.1")
    services.ticket_transition(ticket=known, to=Status.IN_PROGRESS, actor=cast.agent2)
    services.ticket_transition(ticket=known, to=Status.KNOWN_ERROR, actor=cast.agent2)
    health = client_for(pia).get("/process/problems/").context["health"]
    assert health.total == 4 and health.known_errors == 1 and health.days == 14
    assert [p.key for p in health.without_cause] == [stale.key]
    assert health.oldest[0].key == known.key
    assert {row["status"]: row["count"] for row in health.by_status} == {Status.NEW: 3, Status.KNOWN_ERROR: 1}
    settings.CROSSLINE_PROBLEM_RCA_DAYS = 2
    health = client_for(pia).get("/process/problems/").context["health"]
    assert {p.key for p in health.without_cause} == {stale.key, fresh.key}


landing_queries: dict[tuple[str, int], int] = {}


@pytest.mark.parametrize("rows", [1, 15])
@pytest.mark.parametrize("page", ["incidents", "problems"])
def test_the_landing_pages_keep_their_query_budget(cast, client_for, iris, rows, page,
                                                   django_assert_max_num_queries):
    kind = Kind.INCIDENT if page == "incidents" else Kind.PROBLEM
    for n in range(rows):
        t = services.ticket_create(actor=cast.agent2, kind=kind, title=f"Trouble {n}", group=cast.l2,
                                   impact=1, urgency=1)
        if kind == Kind.INCIDENT and n % 3 == 0:
            itsm.major_declare(ticket=t, actor=cast.agent2, reason="All of Berlin")
        if kind == Kind.PROBLEM:
            Ticket.objects.filter(pk=t.pk).update(created_at=timezone.now() - timedelta(days=20))
    client = client_for(cast.manager)
    client.get(f"/process/{page}/")
    with django_assert_max_num_queries(11) as captured:
        response = client.get(f"/process/{page}/")
    assert response.status_code == 200
    landing_queries[(page, rows)] = len(captured)
    if (page, 1) in landing_queries and (page, 15) in landing_queries:
        assert landing_queries[(page, 1)] == landing_queries[(page, 15)], landing_queries


def test_the_requester_is_not_shown_who_was_told(cast, client_for, major):
    page = client_for(cast.requester).get(f"/portal/tickets/{major.key}/")
    assert page.status_code == 200 and major.title.encode() in page.content
    assert b"Told" not in page.content and b"No mail in Berlin since 08:10" not in page.content
