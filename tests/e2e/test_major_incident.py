"""A major incident worked in the browser: declared from the ticket page (a P3 refused in place with the typed
reason kept, then declared once it is P1), children linked in bulk from the queue, and resolved with the
children ticked, one note to each of their requesters."""

from playwright.sync_api import expect

from itsm import services as itsm
from tests.factories import UserFactory
from tracker import services
from tracker.choices import Kind, Role, Status
from tracker.models import Comment, Ticket

REASON = "Email down for all of Berlin since 08:10"


def test_declare_link_children_in_bulk_and_resolve_with_them(cast, signed_in, shot):
    UserFactory(username="iris", role=Role.INCIDENT_MANAGER, first_name="Iris", last_name="Ibsen")
    major = services.ticket_create(actor=cast.agent1, kind=Kind.INCIDENT, title="Berlin mail relay down",
                                   requester=cast.requester)
    kids = [services.ticket_create(actor=cast.agent1, kind=Kind.INCIDENT, title=f"No mail on floor {n}",
                                   requester=cast.other_requester) for n in range(3)]
    lena = signed_in(cast.agent1)

    # a P3 is refused in place, the reason kept
    lena.goto(f"/tickets/{major.key}/")
    lena.get_by_text("Declare major incident…").click()
    lena.get_by_label("What makes it major?").fill(REASON)
    lena.get_by_role("button", name="Declare major incident").click()
    form = lena.locator("#major-form")
    expect(form.get_by_role("alert")).to_contain_text("a major incident must be P1")
    expect(lena.get_by_label("What makes it major?")).to_have_value(REASON)
    shot(lena, "major-declare-refused")

    # raised to P1, the same form declares it
    services.ticket_update(ticket=major, actor=cast.agent1, version=major.version, changes={"impact": 1, "urgency": 1})
    lena.get_by_role("button", name="Declare major incident").click()
    expect(lena.locator("#toasts")).to_contain_text(f"{major.key} is now a major incident")
    expect(lena.locator("#workspace")).to_contain_text("Told at once: Iris Ibsen")

    # children linked in bulk from the queue
    lena.goto("/queue/?view=open&kind=incident")
    for kid in kids:
        lena.get_by_label(f"Tick {kid.key}").check()
    lena.locator("#bulk-action").select_option(label="Link to major incident…")
    lena.locator("#bulk-link-major-key").fill(major.key)
    lena.get_by_role("button", name="Apply to ticked").click()
    expect(lena.locator("#toasts")).to_contain_text(f"linked to the major incident {major.key}")

    # resolved with two of its three children, from its page
    lena.goto(f"/tickets/{major.key}/")
    expect(lena.locator("#h-major")).to_be_visible()
    lena.get_by_text("Resolve with children…").click()
    note = lena.get_by_label("One note for the major incident and its children")
    note.fill("The Berlin relay was restarted; mail flows again.")
    lena.get_by_label(f"{kids[2].key} No mail on floor 2").uncheck()
    shot(lena, "major-resolve-with-children")
    lena.get_by_role("button", name="Resolve major incident").click()
    expect(lena.locator("#toasts")).to_contain_text(f"Resolved {major.key} with {kids[0].key}, {kids[1].key}")
    statuses = [Ticket.objects.get(pk=k.pk).status for k in kids]
    assert statuses == [Status.RESOLVED, Status.RESOLVED, Status.NEW]
    assert Comment.objects.filter(ticket__in=kids[:2], internal=False).count() == 2

    # the child's page says what it is part of
    lena.goto(f"/tickets/{kids[2].key}/")
    expect(lena.get_by_text(f"Part of major incident {major.key}")).to_be_visible()


def test_the_incident_manager_lands_on_the_incident_process_health(cast, signed_in, shot):
    iris = UserFactory(username="iris", role=Role.INCIDENT_MANAGER, first_name="Iris", last_name="Ibsen")
    major = services.ticket_create(actor=cast.agent1, kind=Kind.INCIDENT, title="Email down for all of Berlin",
                                   requester=cast.requester, impact=1, urgency=1, group=cast.l2)
    itsm.major_declare(ticket=major, actor=cast.agent1, reason="No mail in Berlin since 08:10")
    services.ticket_create(actor=cast.agent1, kind=Kind.INCIDENT, title="Printer jammed", requester=cast.requester)
    page = signed_in(iris)
    expect(page.get_by_role("heading", name="Incident process health")).to_be_visible()
    expect(page.get_by_role("link", name="Incident health")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("table", name="Open major incidents")).to_contain_text("Email down for all of Berlin")
    shot(page, "incident-health")
    page.get_by_role("link", name="Every open incident").click()
    expect(page.locator("table.queue-table")).to_contain_text("Printer jammed")
