"""The catalogue's pages: "Request something" in the portal (grouped, searchable, only what the viewer may
order), an item's form (refused answers shown in place, everything typed kept), following the request, the
desk's catalogue and its order on someone's behalf, and the ticket page's panel."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from itsm.choices import CatalogAudience
from itsm.models import CatalogRequest
from itsm.services import catalogue as cat
from tests.factories import ServiceFactory
from tests.itsm.catalogue_items import GOOD, make_item
from tracker.choices import ServiceLifecycle
from tracker.models import Ticket


@pytest.fixture
def alice(cast):
    client = Client()
    client.force_login(cast.requester)
    return client


@pytest.fixture
def lena(cast):
    client = Client()
    client.force_login(cast.agent1)
    return client


def test_the_portal_catalogue_groups_what_a_requester_may_order_by_service(cast, alice, laptop, vpn):
    make_item(laptop.service, name="Admin rights", audience=CatalogAudience.STAFF)
    make_item(ServiceFactory(name="Future CRM", lifecycle=ServiceLifecycle.PLANNED), name="CRM seat")
    make_item(laptop.service, name="Fax machine", active=False)
    page = alice.get("/portal/catalogue/").content.decode()
    assert "New laptop" in page and "A standard laptop, set up for you" in page and "VPN access" in page
    assert page.index("<h2 id=\"svc-") < page.index("Mail") < page.index("Payroll")  # grouped, by service name
    assert "Admin rights" not in page and "CRM seat" not in page and "Fax machine" not in page
    assert 'href="/portal/new/?kind=request">Describe it</a>' in page


def test_the_catalogue_search_answers_in_place(cast, alice, laptop, vpn):
    part = alice.get("/portal/catalogue/", {"q": "laptop"}, headers={"HX-Request": "true",
                                                                     "HX-Target": "catalogue-results"})
    html = part.content.decode()
    assert "New laptop" in html and "VPN access" not in html and "<html" not in html
    assert "VPN access" in alice.get("/portal/catalogue/", {"q": "mail"}).content.decode()  # the service's name
    assert "Nothing in the catalogue matches “zzz”" in alice.get("/portal/catalogue/", {"q": "zzz"}).content.decode()


def test_the_item_form_renders_each_kind_of_question(cast, alice, laptop):
    page = alice.get(f"/portal/catalogue/{laptop.pk}/").content.decode()
    assert re.search(r'<select id="q-model" name="a-model" required', page)
    assert all(f'<option value="{m}">' in page for m in ("ThinkPad T14", "MacBook Air 13"))
    assert 'type="date" id="q-needed_by"' in page and "The first working day." in page
    assert 'type="number" id="q-monitors"' in page and 'min="0"' in page and 'max="2"' in page
    assert 'type="checkbox" id="q-docking" name="a-docking"' in page
    assert 'list="people"' in page and '<option value="bob">' in page
    assert "Your line manager (" in page and "Hardware fulfils it" in page


def test_a_refused_order_shows_each_message_in_place_and_keeps_what_was_typed(cast, alice, laptop):
    typed = {"a-model": "MacBook Air 13", "a-justification": "Starts on Monday", "a-cost_centre": "4100",
             "a-docking": "on", "a-monitors": "7"}
    response = alice.post(f"/portal/catalogue/{laptop.pk}/", typed)
    page = response.content.decode()
    assert response.status_code == 400 and not Ticket.objects.exists()
    assert "Check 3 answers" in page and "Fix: Needed by, Cost centre, Extra monitors" in page
    assert "This answer is required." in page and "Use the form CC-1234." in page and "At most 2." in page
    assert '<option value="MacBook Air 13" selected>' in page and ">Starts on Monday</textarea>" in page
    assert 'value="4100"' in page and 'value="7"' in page and re.search(r'id="q-docking"[^>]* checked', page)
    fixed = {**typed, "a-cost_centre": "CC-4100", "a-monitors": "1", "a-needed_by": "2030-05-02"}
    response = alice.post(f"/portal/catalogue/{laptop.pk}/", fixed)
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/portal/tickets/{ticket.key}/"


def test_the_requester_follows_the_order_on_their_page(cast, alice, laptop):
    ticket = cat.request_order(actor=cast.requester, item=laptop, answers={**GOOD, "for_whom": "bob"})
    page = alice.get(f"/portal/tickets/{ticket.key}/").content.decode()
    assert "Your order" in page and "New laptop" in page
    assert f"Waiting for approval by {cast.manager.display_name}" in page
    assert "Bob" in page and "Thu 2 May 2030" in page and "Starts once it is approved." in page


def test_the_portal_links_request_something_and_report_a_problem(cast, alice):
    page = alice.get("/portal/").content.decode()
    assert '<a class="btn" href="/portal/catalogue/">Request something</a>' in page
    assert 'href="/portal/new/?kind=request"' not in page  # the free-text form is "Describe it" in the catalogue
    assert 'href="/portal/new/?kind=incident"' in page and "Report a problem" in page


def test_the_desk_orders_a_staff_only_item_for_a_requester(cast, lena, laptop):
    admin = make_item(laptop.service, name="Admin rights", audience=CatalogAudience.STAFF)
    assert "Admin rights" in lena.get("/catalogue/").content.decode()
    assert lena.get("/portal/catalogue/")["Location"] == "/catalogue/"
    refused = lena.post(f"/catalogue/{admin.pk}/", {"requester": "nobody"})
    assert refused.status_code == 400 and "pick the requester from the list" in refused.content.decode()
    assert 'value="nobody"' in refused.content.decode()
    response = lena.post(f"/catalogue/{admin.pk}/", {"requester": "alice"})
    ticket = Ticket.objects.get()
    assert response["Location"] == f"/tickets/{ticket.key}/" and ticket.requester == cast.requester


def test_a_requester_cannot_open_a_staff_only_item(cast, alice, laptop):
    admin = make_item(laptop.service, name="Admin rights", audience=CatalogAudience.STAFF)
    assert alice.get(f"/portal/catalogue/{admin.pk}/").status_code == 404
    assert alice.get("/catalogue/").status_code == 302  # the desk's pages send a requester home


def test_the_ticket_page_shows_the_item_answers_and_approval(cast, lena, laptop):
    ticket = cat.request_order(actor=cast.requester, item=laptop, answers={**GOOD, "for_whom": "bob"})
    page = lena.get(f"/tickets/{ticket.key}/").content.decode()
    assert "Catalogue request" in page and "Business justification" in page and "Bob" in page
    assert f"Waiting for approval by {cast.manager.display_name}" in page


def test_the_new_request_form_offers_the_catalogue(cast, lena):
    page = lena.get("/tickets/new/", {"kind": "request"}).content.decode()
    assert "Order from the catalogue" in page and 'href="/catalogue/"' in page


def test_the_catalogue_page_reads_as_many_queries_for_one_item_as_for_twelve(cast, alice):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert alice.get("/portal/catalogue/").status_code == 200
        return len(captured)

    def add(n):
        make_item(cast.services["payroll" if n % 2 else "mail"], name=f"Item {n}",
                  fields=[("what", "What", "text", {}), ("when", "When", "date", {})])

    add(0)
    alice.get("/portal/catalogue/")  # the session and the caches, once
    one = queries()
    for n in range(1, 12):
        add(n)
    assert queries() == one <= 6  # session, user, items with services, their fields (+ savepoints of the test)


def test_no_order_is_written_twice_by_a_refused_post(cast, alice, vpn):
    alice.post(f"/portal/catalogue/{vpn.pk}/", {"a-reason": ""})
    assert not CatalogRequest.objects.exists()
