"""Problem management on the pages: the known-error banner on an incident (and its one click), the problem's
Analysis panel and its resolve-with-incidents action, a problem from the ticket page and from the queue, and the
known-error database; each in a constant number of queries."""
import pytest

from itsm import services
from tests.itsm.test_problems import incident, known_error
from tracker import services as core
from tracker.choices import Kind, LinkType, Status
from tracker.models import Comment, Link, Ticket

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.mark.parametrize("rows", [1, 3])
def test_the_banner_shows_on_an_open_incident_within_the_page_budget(cast, client_for, rows,
                                                                     django_assert_max_num_queries):
    problems = [known_error(cast, incident(cast, f"Old {n}")) for n in range(rows)]
    fresh = incident(cast, "Payslip blank today", requester=cast.other_requester)
    client = client_for(cast.agent1)
    client.get(f"/tickets/{fresh.key}/")
    with django_assert_max_num_queries(14):  # the ticket page (README: workspace 14)
        page = client.get(f"/tickets/{fresh.key}/").content.decode()
    for problem in problems:
        assert f"Known error <a class=\"key\" href=\"/tickets/{problem.key}/\">{problem.key}</a>" in page
    assert "Link and apply workaround" in page and "PDF viewer" in page
    assert page.index('id="known-errors"') < page.index('id="ticket-title"')  # at the top of the page


def test_no_banner_on_a_closed_incident_or_another_service(cast, client_for):
    known_error(cast)
    other = incident(cast, service=cast.services["mail"])
    page = client_for(cast.agent1).get(f"/tickets/{other.key}/").content.decode()
    assert "Link and apply workaround" not in page


def test_one_click_links_applies_the_workaround_and_the_banner_says_linked(cast, client_for):
    problem = known_error(cast)
    fresh = incident(cast, requester=cast.other_requester)
    response = client_for(cast.agent1).post(f"/tickets/{fresh.key}/known-error/{problem.key}/apply/", **HX)
    assert response.status_code == 200
    page = response.content.decode()
    assert f"Linked to <a class=\"key\" href=\"/tickets/{problem.key}/\">{problem.key}</a>" in page
    assert "Link and apply workaround" not in page
    assert Comment.objects.get(ticket=fresh, internal=False).body.startswith(f"This is a known error ({problem.key}")


def test_the_click_on_a_problem_resolved_meanwhile_says_so_in_place(cast, client_for):
    problem = known_error(cast)
    fresh = incident(cast)
    client = client_for(cast.agent1)
    assert "Link and apply workaround" in client.get(f"/tickets/{fresh.key}/").content.decode()
    core.ticket_transition(ticket=problem, to=Status.RESOLVED, actor=cast.agent2, values={"resolution_note": "Fixed"})
    response = client.post(f"/tickets/{fresh.key}/known-error/{problem.key}/apply/", **HX)
    assert response.status_code == 409
    assert "no longer an open known error" in response.content.decode()
    assert not Link.objects.filter(source=fresh).exists() and not Comment.objects.filter(ticket=fresh).exists()


def test_a_problem_from_the_ticket_page_with_other_keys(cast, client_for):
    first, second = incident(cast), incident(cast, "Blank again")
    response = client_for(cast.agent2).post(f"/tickets/{first.key}/problem/",
                                            {"title": "Blank payslips", "keys": f"{second.key.lower()}, "}, **HX)
    assert response.status_code == 200 and "HX-Redirect" in response
    problem = Ticket.objects.get(kind=Kind.PROBLEM)
    assert response["HX-Redirect"] == f"/tickets/{problem.key}/"
    assert Link.objects.filter(target=problem, type=LinkType.INSTANCE_OF).count() == 2


def test_a_refused_problem_from_the_ticket_page_keeps_what_was_typed(cast, client_for):
    first = incident(cast)
    request = core.ticket_create(actor=cast.requester, kind=Kind.REQUEST, title="Laptop")
    response = client_for(cast.agent2).post(f"/tickets/{first.key}/problem/",
                                            {"title": "Mine", "keys": request.key}, **HX)
    assert response.status_code == 400
    page = response.content.decode()
    assert f"{request.key} is not" in page and 'value="Mine"' in page
    assert not Ticket.objects.filter(kind=Kind.PROBLEM).exists()


def test_the_queue_bulk_action_creates_a_problem_from_the_ticked_incidents(cast, client_for):
    first, second = incident(cast), incident(cast, "Blank again")
    client = client_for(cast.agent2)
    assert "Create problem from incidents" in client.get("/queue/").content.decode()
    response = client.post("/queue/bulk/", {"action": "problem-from-incidents", "keys": [first.key, second.key],
                                            "bulk-problem-title": "Blank payslips"}, **HX)
    problem = Ticket.objects.get(kind=Kind.PROBLEM)
    assert problem.title == "Blank payslips" and problem.key in response.content.decode()
    taken = client.post("/queue/bulk/", {"action": "problem-from-incidents", "keys": [first.key]}, **HX)
    assert taken.status_code == 400 and f"already an instance of {problem.key}" in taken.content.decode()


@pytest.mark.parametrize("rows", [1, 4])
def test_the_problem_page_shows_its_analysis_within_the_budget(cast, client_for, rows, django_assert_max_num_queries):
    problem = known_error(cast, *[incident(cast, f"Blank {n}") for n in range(rows)])
    client = client_for(cast.agent2)
    client.get(f"/tickets/{problem.key}/")
    with django_assert_max_num_queries(14):  # the ticket page (README: workspace 14)
        page = client.get(f"/tickets/{problem.key}/").content.decode()
    assert 'id="h-analysis"' in page and f"{rows} incident" in page and "font cache is full" in page
    assert "Resolve with incidents" in page and page.count('name="incidents"') == rows


def test_the_analysis_panel_edits_the_root_cause_and_tells_its_age(cast, client_for):
    problem = services.problem_from_incidents(incidents=[incident(cast)], actor=cast.agent2)
    client = client_for(cast.agent2)
    assert "No root cause" in client.get(f"/tickets/{problem.key}/").content.decode()
    response = client.post(f"/tickets/{problem.key}/analysis/", {
        "version": problem.version, "cause_category": "capacity", "root_cause": "Disk full on the renderer",
        "workaround": "Print from the app", "known_error": "on"}, **HX)
    assert response.status_code == 200, response.content.decode()[:500]
    problem.refresh_from_db()
    assert problem.cause_category == "capacity" and problem.known_error and problem.root_cause
    assert "No root cause" not in response.content.decode()
    stale = client.post(f"/tickets/{problem.key}/analysis/", {"version": 1, "root_cause": "Mine"}, **HX)
    assert stale.status_code == 412


def test_resolving_from_the_page_resolves_the_ticked_incidents_only(cast, client_for):
    ticked, unticked = incident(cast, "Ticked"), incident(cast, "Not ticked")
    problem = known_error(cast, ticked, unticked)
    response = client_for(cast.agent2).post(f"/tickets/{problem.key}/resolve-with-incidents/", {
        "resolution_note": "Fixed in 2.4.1", "incidents": [ticked.key], "version": problem.version}, **HX)
    assert response.status_code == 200, response.content.decode()[:500]
    assert Ticket.objects.get(pk=ticked.pk).status == Status.RESOLVED
    assert Ticket.objects.get(pk=unticked.pk).status == Status.NEW
    refused = client_for(cast.agent2).post(f"/tickets/{problem.key}/resolve-with-incidents/", {
        "resolution_note": "", "incidents": [unticked.key]}, **HX)
    assert refused.status_code == 400


@pytest.mark.parametrize("rows", [1, 5])
def test_the_known_error_database_searches_and_filters(cast, client_for, rows, django_assert_max_num_queries):
    for n in range(rows):
        known_error(cast, incident(cast, f"Blank {n}"), workaround=f"Workaround number {n}")
    other = known_error(cast, incident(cast, service=cast.services["mail"]), workaround="Use webmail")
    client = client_for(cast.agent1)
    client.get("/known-errors/")
    with django_assert_max_num_queries(6):
        page = client.get("/known-errors/").content.decode()
    assert page.count('class="key"') == rows + 1 and "Known-error database" in page
    page = client.get("/known-errors/", {"q": "webmail"}).content.decode()
    assert other.key in page and page.count('class="key"') == 1
    page = client.get("/known-errors/", {"service": cast.services["payroll"].pk}).content.decode()
    assert other.key not in page and page.count('class="key"') == rows
    assert client_for(cast.requester).get("/known-errors/").status_code == 302


def test_the_ticket_page_renders_a_top_panel_of_any_app(cast, client_for, settings, tmp_path):
    """The core's top slot renders whatever panel an app registers there, above the ticket."""
    from tracker import extensions as ext

    (tmp_path / "top_probe.html").write_text('<div id="top-probe">Top: {{ panel.word }}</div>')
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], tmp_path]}]
    probe = ext.Panel("top-probe", "top_probe.html", lambda **kw: {"word": "hello"}, column="top")
    ext.register(probe)
    try:
        page = client_for(cast.agent1).get(f"/tickets/{incident(cast).key}/").content.decode()
    finally:
        ext.registry.panels.remove(probe)
    assert "Top: hello" in page and page.index("top-probe") < page.index('id="ticket-title"')
