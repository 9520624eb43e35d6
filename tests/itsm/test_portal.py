"""The self-service portal and the knowledge base."""

import pytest
from django.test import Client

from itsm.models import KnowledgeArticle
from tests.factories import published_article
from tracker import services
from tracker.choices import Kind, Status
from tracker.models import Ticket


@pytest.fixture
def alice(cast):
    client = Client()
    client.force_login(cast.requester)
    return client


def test_a_requester_raises_an_incident_and_follows_it(cast, alice):
    response = alice.post(
        "/portal/new/",
        {
            "kind": "incident",
            "title": "Cannot print payslip",
            "impact": 3,
            "urgency": 2,
            "service": cast.services["payroll"].pk,
        },
    )
    ticket = Ticket.objects.get()
    assert response["Location"] == f"/portal/tickets/{ticket.key}/"
    assert ticket.requester == cast.requester and ticket.group == cast.l1
    alice.post(f"/tickets/{ticket.key}/comment/", {"body": "Still broken"})
    page = alice.get(f"/portal/tickets/{ticket.key}/").content.decode()
    assert "Cannot print payslip" in page and "Still broken" in page


def test_a_requester_never_sees_internal_notes_or_other_peoples_tickets(cast, alice):
    mine = services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="Mine")
    services.ticket_comment(ticket=mine, actor=cast.agent1, body="secret triage note", internal=True)
    theirs = services.ticket_create(actor=cast.other_requester, kind=Kind.INCIDENT, title="Bob's")
    assert b"secret triage note" not in alice.get(f"/portal/tickets/{mine.key}/").content
    assert alice.get(f"/portal/tickets/{theirs.key}/").status_code == 404
    assert alice.get(f"/tickets/{theirs.key}/changes/").status_code == 404
    assert b"Bob's" not in alice.get("/portal/").content


def test_a_requester_may_not_raise_a_change(cast, alice):
    response = alice.post("/portal/new/", {"kind": "change", "title": "x", "impact": 3, "urgency": 3})
    assert response.status_code == 400 and not Ticket.objects.exists()


def test_a_requester_closes_their_resolved_ticket(cast, alice):
    ticket = services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="Mine")
    services.ticket_transition(ticket=ticket, to=Status.IN_PROGRESS, actor=cast.agent1)
    services.ticket_transition(
        ticket=ticket,
        to=Status.RESOLVED,
        actor=cast.agent1,
        values={"resolution_note": "Restarted the spooler"},
    )
    alice.post(f"/portal/tickets/{ticket.key}/transition/", {"to": Status.CLOSED, "version": ticket.version})
    assert Ticket.objects.get(pk=ticket.pk).status == Status.CLOSED


def test_the_page_is_told_when_the_desk_answers(cast, alice):
    ticket = services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="Mine")
    loaded = ticket.updated_at.isoformat()
    services.ticket_comment(ticket=ticket, actor=cast.agent1, body="We are on it")
    banner = alice.get(f"/tickets/{ticket.key}/changes/", {"t": loaded}).content.decode()
    assert "was updated" in banner and f"/portal/tickets/{ticket.key}/" in banner


def test_the_knowledge_base_is_searchable_without_signing_in(db):
    published_article(title="Reset your password", body="Use **Forgot password**.")
    KnowledgeArticle.objects.create(title="Draft", body="password", state="draft")
    page = Client().get("/kb/", {"q": "password"}).content.decode()
    assert "Reset your password" in page and "Draft" not in page
    article = KnowledgeArticle.objects.get(title="Reset your password")
    assert b"<strong>Forgot password</strong>" in Client().get(f"/kb/{article.pk}/").content


def test_my_tickets_pages_past_the_first_25(cast, alice):
    keys = [services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title=f"Issue {n}").key
            for n in range(30)]
    first = alice.get("/portal/").content.decode()
    second = alice.get("/portal/?page=2").content.decode()
    assert f">{keys[-1]}<" in first and "Page 1 of 2" in first and 'href="?page=2"' in first
    assert f">{keys[0]}<" in second and f">{keys[0]}<" not in first
    shown = {k for k in keys if f">{k}<" in first or f">{k}<" in second}
    assert shown == set(keys)


def test_a_requester_following_a_ticket_link_lands_on_their_ticket(cast, alice):
    ticket = services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="Printer jams")
    response = alice.get(f"/tickets/{ticket.key}/")
    assert response.status_code == 302 and response["Location"] == f"/portal/tickets/{ticket.key}/"
    other = services.ticket_create(actor=cast.other_requester, kind=Kind.INCIDENT, title="Not hers")
    assert alice.get(f"/tickets/{other.key}/").status_code == 404


def test_a_requesters_refused_comment_says_why(cast, alice):
    ticket = services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="Printer jams")
    response = alice.post(f"/tickets/{ticket.key}/comment/", {"body": "psst", "internal": "on"}, follow=True)
    page = response.content.decode()
    assert "may not internal note" in page and "Write something" not in page
    assert not ticket.comments.exists()
