"""A service through its operations gate in the browser, one browser context per account: the service manager
opens the gate appointing two approvers; each approver signs off their items in their own session; the service
manager's early accept is refused in place (the open items named, the note kept); once every item is signed the
service manager accepts, the service shows operational, and the portal offers it to a requester."""

from playwright.sync_api import expect

from tests.factories import ServiceFactory
from tracker.choices import ServiceLifecycle

LIAM = ["User acceptance test done", "Monitoring in place", "Release notes published"]
LENA = ["Knowledge articles for the desk", "Support groups assigned", "SLA policy set",
        "Contacts and escalation paths"]


def _named(user, first, last):
    user.first_name, user.last_name = first, last
    user.save()
    return user


def _sign(page, labels, shot, name):
    for label in labels:
        page.get_by_label(f"What you checked for {label.lower()}").fill(f"{label}: checked with the project team.")
        page.get_by_role("button", name=f"Sign off “{label}”").click()
        expect(page.get_by_role("listitem", name=label)).to_contain_text("Signed off by")
    shot(page, name)


def test_a_service_goes_live_through_its_gate_with_two_approvers_and_the_service_manager(cast, signed_in, shot):
    maria = _named(cast.manager, "Maria", "Moreau")
    liam = _named(cast.agent2, "Liam", "Lucas")
    lena = _named(cast.agent1, "Lena", "Lindqvist")
    service = ServiceFactory(name="Expense claims", lifecycle=ServiceLifecycle.PLANNED, service_manager=maria,
                             project_group=cast.l3)
    cast.l1.services.add(service)

    # the portal does not offer it yet
    alice = signed_in(cast.requester)
    alice.goto("/portal/new/?kind=incident")
    expect(alice.get_by_label("Which service?").locator("option", has_text="Expense claims")).to_have_count(0)

    # the service manager opens the gate, appointing liam and lena
    manager = signed_in(maria)
    manager.goto("/services/")
    manager.get_by_role("link", name="Expense claims").click()
    expect(manager.get_by_role("heading", name="Expense claims")).to_be_visible()
    for label in LIAM:
        manager.get_by_label(label, exact=True).select_option(label="Liam Lucas")
    for label in LENA:
        manager.get_by_label(label, exact=True).select_option(label="Lena Lindqvist")
    shot(manager, "gate-open-form")
    manager.get_by_role("button", name="Open the operations gate").click()
    expect(manager.locator("#gate")).to_contain_text("0 of 7 signed off")
    shot(manager, "gate-opened")

    # approver 1 signs off their items in their own session
    liam_page = signed_in(liam)
    liam_page.goto(f"/services/{service.pk}/")
    _sign(liam_page, LIAM, shot, "gate-liam-signed")
    expect(liam_page.locator("#gate")).to_contain_text("3 of 7 signed off")

    # the service manager's early accept is refused in place, the open items named and the note kept
    manager.reload()
    manager.get_by_label("Acceptance note (optional)").fill("Go-live on Monday 07:00.")
    manager.get_by_role("button", name="Accept the service").click()
    alert = manager.locator("#gate-accept-form").get_by_role("alert")
    expect(alert).to_contain_text("4 of 7 items are not signed off yet: Knowledge articles for the desk; "
                                  "Support groups assigned; SLA policy set; Contacts and escalation paths")
    expect(manager.get_by_label("Acceptance note (optional)")).to_have_value("Go-live on Monday 07:00.")
    expect(manager.locator("#lifecycle-badge")).to_have_text("In transition")
    shot(manager, "gate-accept-refused")

    # approver 2 signs off theirs
    lena_page = signed_in(lena)
    lena_page.goto(f"/services/{service.pk}/")
    _sign(lena_page, LENA, shot, "gate-lena-signed")
    expect(lena_page.locator("#gate")).to_contain_text("7 of 7 signed off")
    expect(lena_page.get_by_role("button", name="Accept the service")).to_have_count(0)  # not hers to accept

    # the same form accepts it now: the service is operational
    manager.get_by_role("button", name="Accept the service").click()
    expect(manager.locator("#lifecycle-badge")).to_have_text("Operational")
    expect(manager.locator("#gate")).to_contain_text("Accepted by Maria Moreau")
    expect(manager.locator("#gate")).to_contain_text("Go-live on Monday 07:00.")
    shot(manager, "gate-accepted")

    # and the portal offers it to alice
    alice.reload()
    expect(alice.get_by_label("Which service?").locator("option", has_text="Expense claims")).to_have_count(1)
    shot(alice, "gate-portal-offers-service")


def test_the_service_pages_have_named_inputs_landmarks_and_contrast(cast, signed_in):
    from itsm.choices import FieldType
    from itsm.services import catalogue_setup as setup
    from itsm.services import gate as gates
    from tests.e2e.test_accessibility import audit

    service = ServiceFactory(name="Expense claims", lifecycle=ServiceLifecycle.PLANNED, service_manager=cast.manager,
                             project_group=cast.l3)
    service.owners.add(cast.manager)
    gates.gate_open(service=service, actor=cast.manager)
    item = setup.item_create(service=service, actor=cast.manager, name="Travel claim")
    setup.field_add(item=item, actor=cast.manager, label="Currency", type=FieldType.CHOICE, choices=["EUR", "GBP"])
    page = signed_in(cast.manager)
    problems = []
    for url in ("/services/", f"/services/{service.pk}/", f"/services/{service.pk}/catalogue/",
                f"/services/{service.pk}/catalogue/{item.pk}/"):
        problems += audit(page, url)
    assert problems == [], "\n".join(problems)
