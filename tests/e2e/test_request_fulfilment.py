"""A catalogue request followed through in the browser: Maria approves Alice's new laptop on the approval page
(a rejection without a reason is refused in place first), an agent finishes its two tasks on the ticket page
and Alice sees it fulfilled on her page; and a "VPN access" request fulfilled by its handler (the task run
eagerly here), whose result Alice reads."""

from playwright.sync_api import expect

from itsm.choices import ApprovalState
from itsm.models import CatalogField, CatalogRequest
from tests.itsm.test_fulfilment import laptop_item, order, vpn_item
from tracker.choices import Status
from tracker.models import Ticket


def test_maria_approves_an_agent_fulfils_and_alice_sees_it_done(cast, signed_in, shot):
    cast.requester.manager = cast.manager
    cast.requester.save(update_fields=["manager"])
    cast.l1.members.add(cast.agent2)  # liam works both tasks: procurement (App Support) and hand-over (desk)
    item = laptop_item(cast)
    CatalogField.objects.create(item=item, name="model", label="Which model", order=1)
    request = order(item, cast.requester, answers={"model": "14-inch"})
    key = request.ticket.key

    # Maria finds it from the top bar
    maria = signed_in(cast.manager)
    maria.get_by_role("link", name="Requests to approve").click()
    expect(maria.get_by_role("table", name="Requests waiting for your decision")).to_contain_text("New laptop")
    maria.get_by_role("link", name=key).click()
    expect(maria.get_by_role("heading", name="New laptop")).to_be_visible()
    expect(maria.locator("main")).to_contain_text("14-inch")

    # a rejection without a reason is refused in place
    maria.get_by_role("button", name="Reject").click()
    form = maria.locator("#decide-form")
    expect(form.get_by_role("alert")).to_contain_text("Say why you reject")
    shot(maria, "request-approval-reject-refused")
    assert CatalogRequest.objects.get(pk=request.pk).approval == ApprovalState.PENDING

    # the next submit works
    maria.get_by_label("Note to Alice").fill("Budget OK for this quarter")
    maria.get_by_role("button", name="Approve").click()
    expect(maria.locator("#decide-form")).to_contain_text(f"{key} is approved")
    expect(maria.locator("#decide-form")).to_contain_text("Budget OK for this quarter")
    shot(maria, "request-approval-approved")

    # an agent finishes both tasks on the ticket page
    liam = signed_in(cast.agent2)
    liam.goto(f"/tickets/{key}/")
    panel = liam.locator("#fulfilment")
    expect(panel).to_contain_text("Approved")
    for number, note in ((1, "Ordered, PO-4411"), (2, "Handed over in London")):
        row = liam.locator(f"#fulfilment-task-{number}")
        row.get_by_text("Done…").click()
        row.get_by_label("What was done (optional)").fill(note)
        row.get_by_role("button", name=f"Mark T{number} done").click()
        expect(liam.locator("#toasts")).to_contain_text(f"{key} T{number} is done")
    expect(liam.locator("#toasts")).to_contain_text("the request is resolved")
    shot(liam, "request-fulfilment-tasks-done")
    assert Ticket.objects.get(pk=request.ticket_id).status == Status.RESOLVED

    # Alice sees it fulfilled
    alice = signed_in(cast.requester)
    alice.goto(f"/portal/tickets/{key}/")
    expect(alice.locator("main")).to_contain_text("Resolved")
    expect(alice.locator("main")).to_contain_text("Handed over in London")
    shot(alice, "request-fulfilled-portal")


def test_an_automated_request_is_fulfilled_by_its_handler_and_alice_reads_the_result(cast, signed_in, shot,
                                                                                      eager_tasks):
    request = order(vpn_item(cast), cast.requester)  # the handler runs on commit, eagerly
    key = request.ticket.key
    request.refresh_from_db()
    assert request.automation == "succeeded"

    alice = signed_in(cast.requester)
    alice.goto(f"/portal/tickets/{key}/")
    expect(alice.locator("main")).to_contain_text("Resolved")
    expect(alice.locator("main")).to_contain_text("Added Alice to the group “VPN users”")
    shot(alice, "request-automated-portal")

    lena = signed_in(cast.agent1)
    lena.goto(f"/tickets/{key}/")
    panel = lena.locator("#fulfilment")
    expect(panel).to_contain_text("Done")
    expect(panel).to_contain_text("Added Alice to the group")
    shot(lena, "request-automated-ticket")
