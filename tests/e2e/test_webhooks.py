"""A manager sets up a webhook: a bad receiver URL is refused in place (what was typed kept), then saved; the
secret is shown once; a new ticket's delivery fails at the receiver, shows in the log, and Redeliver sends it."""

import re

from playwright.sync_api import expect

from sla.models import WebhookDelivery, WebhookSubscription
from tests.sla.test_webhooks import Receiver
from tracker import services


def test_a_manager_sets_up_a_webhook_sees_the_log_and_redelivers(signed_in, cast, eager_tasks, shot):
    with Receiver(script=[500]) as rx:
        page = signed_in(cast.manager)
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Webhooks").click()
        page.get_by_role("link", name="New webhook").first.click()
        page.get_by_label("Name").fill("Status page")
        page.get_by_label("Receiver URL").fill("127.0.0.1/hook")
        page.get_by_role("checkbox", name="Ticket created ticket.created").uncheck()
        page.get_by_role("checkbox", name="SLA breach sla.breach").check()
        page.get_by_role("button", name="Save webhook").click()
        expect(page.get_by_role("alert")).to_contain_text("http:// or https://")
        expect(page.get_by_label("Name")).to_have_value("Status page")
        expect(page.get_by_label("Receiver URL")).to_have_value("127.0.0.1/hook")
        expect(page.get_by_role("checkbox", name="SLA breach sla.breach")).to_be_checked()
        expect(page.get_by_role("checkbox", name="Ticket created ticket.created")).not_to_be_checked()
        shot(page, "webhooks-refused")

        page.get_by_label("Receiver URL").fill(rx.url)
        page.get_by_role("checkbox", name="Ticket created ticket.created").check()
        page.get_by_role("button", name="Save webhook").click()
        sub = WebhookSubscription.objects.get()
        expect(page.locator("#webhook-secret")).to_contain_text(sub.secret)
        expect(page.get_by_text("Nothing sent yet.")).to_be_visible()

        ticket = services.ticket_create(actor=cast.agent1, kind="incident", title="VPN drops",
                                        service=cast.services["payroll"])
        page.reload()
        expect(page.locator("#webhook-secret")).to_have_count(0)  # shown once
        row = page.locator("tbody tr").first
        expect(row).to_contain_text("ticket.created")
        expect(row).to_contain_text("500")
        shot(page, "webhooks-log")

        row.get_by_role("button", name=re.compile("^Redeliver")).click()
        expect(page.get_by_text("is queued again")).to_be_visible()
        row = page.locator("tbody tr").first
        expect(row).to_contain_text("delivered")
        expect(row).to_contain_text("manual")
        shot(page, "webhooks-redelivered")
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == "delivered" and delivery.attempts == 2
    assert len(rx.received) == 2 and ticket.key.encode() in rx.received[1]["body"]
