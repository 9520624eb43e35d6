"""The notifications page: the list behind the bell, mark read, and the per-kind settings."""

from datetime import timedelta

import pytest
from django.utils import timezone

from sla.choices import NotificationKind
from sla.models import Notification, NotificationPreference
from sla.selectors import unread_count
from tests.factories import TicketFactory
from tracker import services
from tracker.choices import Kind


def notify(user, ticket, n=1, kind=NotificationKind.ASSIGNMENT):
    now = timezone.now()
    return [
        Notification.objects.create(
            recipient=user,
            ticket=ticket,
            kind=kind,
            key=f"test:{ticket.pk}:{i}",
            title=f"{ticket.key} note {i}",
            body="Something needs you.",
            created_at=now - timedelta(minutes=n - i),
        )
        for i in range(n)
    ]


def test_an_assignment_shows_on_the_page_newest_first_with_a_link_to_the_ticket(cast, client_for):
    ticket = services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="Payslips are blank")
    services.ticket_assign(ticket=ticket, actor=cast.agent1, assignee=cast.agent2, take_over=True)  # across groups
    older = TicketFactory(requester=cast.requester)
    Notification.objects.filter(pk=notify(cast.agent2, older)[0].pk).update(
        created_at=timezone.now() - timedelta(days=1)
    )

    page = client_for(cast.agent2).get("/notifications/").content.decode()

    assert page.index(ticket.key) < page.index(older.key)
    assert f'href="/tickets/{ticket.key}/"' in page
    assert 'Notifications <span class="bell">2' in page
    assert page.count("Mark read</button>") == 2


def test_mark_one_read_returns_the_list_and_the_bell(cast, client_for):
    ticket = TicketFactory(requester=cast.requester)
    first, second = notify(cast.agent1, ticket, 2)
    client = client_for(cast.agent1)

    response = client.post("/notifications/read/", {"id": first.pk}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="inbox"' in html and 'id="bell"' in html and 'hx-swap-oob="true"' in html
    assert html.count("Mark read</button>") == 1
    first.refresh_from_db(), second.refresh_from_db()
    assert first.read_at is not None and second.read_at is None


def test_mark_all_read_clears_the_bell_and_works_without_javascript(cast, client_for):
    notify(cast.agent1, TicketFactory(requester=cast.requester), 3)
    client = client_for(cast.agent1)

    response = client.post("/notifications/read/", {"all": "1"})

    assert response.status_code == 302 and response["Location"] == "/notifications/"
    assert unread_count(cast.agent1) == 0
    assert b'<span class="bell">' not in client.get("/notifications/").content


def test_one_cannot_mark_anothers_notifications_read(cast, client_for):
    (theirs,) = notify(cast.agent2, TicketFactory(requester=cast.requester))
    client_for(cast.agent1).post("/notifications/read/", {"id": theirs.pk})
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_a_requester_sees_their_notifications_linked_to_the_portal(cast, client_for):
    ticket = services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="Mail is down")
    notify(cast.requester, ticket)
    notify(cast.other_requester, ticket)
    client = client_for(cast.requester)

    portal = client.get("/portal/").content.decode()
    page = client.get("/notifications/").content.decode()

    assert 'href="/notifications/"' in portal and '<span class="bell">1' in portal
    assert f'href="/portal/tickets/{ticket.key}/"' in page and page.count("Mark read</button>") == 1


def test_settings_turn_email_off_per_kind(cast, client_for):
    client = client_for(cast.manager)
    form = {f"{k}-{c}": "on" for k in NotificationKind.values for c in ("in_app", "email")}
    del form["breach-email"]

    response = client.post("/notifications/preferences/", form)

    assert response.status_code == 302
    prefs = {p.kind: p for p in NotificationPreference.objects.filter(user=cast.manager)}
    assert prefs["breach"].email is False and prefs["breach"].in_app is True
    assert prefs["warning"].email is True
    page = client.get("/notifications/").content.decode()
    assert 'name="breach-email"' in page and 'name="breach-email" id="id_breach-email" checked' not in page
    assert 'name="warning-email" id="id_warning-email" checked' in page


@pytest.mark.parametrize("rows", [1, 20])
def test_the_page_runs_the_same_queries_for_1_or_20_notifications(
    cast, client_for, rows, django_assert_num_queries
):
    tickets = TicketFactory.create_batch(rows, requester=cast.requester)
    for ticket in tickets:
        notify(cast.agent1, ticket)
    client = client_for(cast.agent1)
    client.get("/notifications/")
    # session, user, bell count, page count, page rows with their tickets, preferences
    with django_assert_num_queries(6):
        response = client.get("/notifications/")
    assert response.content.count(b"Mark read</button>") == rows
    first = Notification.objects.filter(recipient=cast.agent1).last()
    # session, user, update, page count, page rows, bell count
    with django_assert_num_queries(6):
        client.post("/notifications/read/", {"id": first.pk}, HTTP_HX_REQUEST="true")
