"""Saved views in the browser: an agent saves the current filters for the team; a teammate sees the view
with its count and opens it; a refused save keeps the typed name."""

import re

from playwright.sync_api import expect

from tests.factories import TicketFactory
from tracker.models import QueueView


def test_a_view_saved_for_the_team_is_used_by_a_teammate(cast, signed_in, shot):
    cast.l1.members.add(cast.agent2)
    TicketFactory.create_batch(2, requester=cast.requester, group=cast.l1, priority=1, title="Till down")
    TicketFactory.create_batch(3, requester=cast.requester, group=cast.l1, priority=4, title="Mouse squeaks")
    lena = signed_in(cast.agent1)
    lena.goto("/queue/?view=open&priority=1")
    lena.get_by_text("Save view…").click()
    lena.get_by_label("Name").fill("Desk P1")
    lena.get_by_label("Who sees it").select_option(label=f"{cast.l1.name} (my team)")
    lena.get_by_role("button", name="Save the current filters and sort").click()
    nav = lena.get_by_role("navigation", name="Saved views")
    expect(nav.get_by_role("link", name=re.compile("Desk P1"))).to_be_visible()
    expect(lena.locator("#toasts")).to_contain_text("shared with Service Desk")

    # the same name again is refused in place, and the name stays to be changed
    lena.get_by_text("Save view…").click()
    lena.get_by_label("Name").fill("Desk P1")
    lena.get_by_label("Who sees it").select_option(label=f"{cast.l1.name} (my team)")
    lena.get_by_role("button", name="Save the current filters and sort").click()
    form = lena.locator("#save-view")
    expect(form.get_by_role("alert")).to_contain_text("already in Service Desk")
    expect(form.get_by_label("Name")).to_have_value("Desk P1")
    assert QueueView.objects.count() == 1

    liam = signed_in(cast.agent2)
    liam.goto("/queue/")
    view = liam.get_by_role("navigation", name="Saved views").get_by_role("link", name=re.compile("Desk P1"))
    expect(view.locator(".count")).to_have_text("2")
    view.click()
    expect(liam.locator("#results")).to_contain_text("Till down")
    expect(liam.locator("#results")).not_to_contain_text("Mouse squeaks")
    shot(liam, "saved-team-view")
