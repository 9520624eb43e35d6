"""An agent raises a ticket for someone who phoned in: the requester is picked from suggestions."""

import re

from playwright.sync_api import expect

from tracker.models import Ticket


def test_agent_picks_the_requester_from_suggestions(cast, signed_in, shot):
    page = signed_in(cast.agent1)
    page.goto("/tickets/new/")
    page.get_by_label("Title").fill("Cannot open the payroll export")
    page.get_by_label("Requester").press_sequentially("alic")
    suggestions = page.get_by_role("list", name="Matching people")
    expect(suggestions.get_by_role("button")).to_have_count(1)
    shot(page, "11-new-ticket-requester")
    suggestions.get_by_role("button", name=re.compile("Alice")).click()
    expect(page.get_by_label("Requester")).to_have_value("alice")
    expect(suggestions.get_by_role("button")).to_have_count(0)
    page.get_by_role("button", name="Create ticket").click()
    expect(page.get_by_role("heading", name="Cannot open the payroll export")).to_be_visible()
    assert Ticket.objects.get(title="Cannot open the payroll export").requester == cast.requester
