"""Global search: tickets, people, services and knowledge articles in one ranked list; a key jumps."""

from tests.factories import published_article
from tracker import selectors, services
from tracker.choices import Kind


def kinds(hits):
    return [h.kind for h in hits]


def test_a_ticket_key_ranks_first_and_the_page_jumps_to_it(cast, client_for):
    ticket = services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="VPN drops at noon")
    hits = selectors.global_search(user=cast.agent1, text=ticket.key.lower())
    assert hits[0].title.startswith(ticket.key) and hits[0].score == 100
    response = client_for(cast.agent1).get("/search/", {"q": ticket.key})
    assert response.status_code == 302 and response["Location"] == f"/tickets/{ticket.key}/"


def test_one_box_finds_a_ticket_an_article_a_person_and_a_service(cast, client_for):
    services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="Payroll export is empty",
                           service=cast.services["payroll"])
    published_article(title="Running the payroll export", body="Steps.")
    cast.agent2.first_name, cast.agent2.last_name = "Pat", "Payrollson"
    cast.agent2.save()
    found = kinds(selectors.global_search(user=cast.agent1, text="payroll"))
    assert {"Ticket", "Article", "Person", "Service"} <= set(found)
    page = client_for(cast.agent1).get("/search/", {"q": "payroll"}, HTTP_HX_REQUEST="true").content.decode()
    assert "Payroll export is empty" in page and "Running the payroll export" in page and "Payrollson" in page


def test_title_matches_rank_above_description_matches(cast):
    by_text = services.ticket_create(actor=cast.agent1, kind=Kind.INCIDENT, title="Slow laptop",
                                     description="The printer queue is stuck too")
    by_title = services.ticket_create(actor=cast.agent1, kind=Kind.INCIDENT, title="Printer queue stuck")
    titles = [h.title for h in selectors.global_search(user=cast.agent1, text="printer queue")]
    assert titles.index(f"{by_title.key} {by_title.title}") < titles.index(f"{by_text.key} {by_text.title}")


def test_requesters_find_only_their_own_tickets_and_no_people(cast):
    mine = services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="Printer jams")
    services.ticket_create(actor=cast.other_requester, kind=Kind.INCIDENT, title="Printer smokes")
    hits = selectors.global_search(user=cast.requester, text="printer")
    assert [h.title for h in hits if h.kind == "Ticket"] == [f"{mine.key} Printer jams"]
    assert hits[0].url == f"/portal/tickets/{mine.key}/"
    assert "Person" not in kinds(selectors.global_search(user=cast.requester, text="lena"))


def test_short_or_odd_input_finds_nothing_and_never_fails(cast, client_for):
    assert selectors.global_search(user=cast.agent1, text="a") == []
    client = client_for(cast.agent1)
    for text in ("", "x", "%", "_", "INC-", "INC-99999999999999", "' OR 1=1 --", "é" * 300):
        assert client.get("/search/", {"q": text}).status_code == 200
