"""Scenario 4 end to end in the browser, one real account per role, every step taken where its person takes it:
a P1 raised in the portal (alice) that L1 (lena) cannot solve goes to L2 (liam), then to the L3 team, where devon
picks it within the team's target; devon finds a defect and raises it from the incident; the fix is merged (a
signed GitHub delivery to the VCS webhook moves the defect to fixed); devon plans the release, adds the defect
to it from the defect's page and assembles the notes, dana reviews them, liam signs UAT off, devon publishes
them to the desk; lena reads the notes on the service from the incident's own page; devon ships; the incident
is resolved and alice is told, twice: that the fix shipped, and that her incident is resolved. An integrator's
subscription receives the release as it ships."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from devflow.models import CodeLink, Release, Repository
from sla.choices import WebhookEvent
from sla.models import Clock, Notification, WebhookDelivery, WebhookSubscription
from tracker.choices import Kind, LinkType, Status
from tracker.models import Ticket, TicketEvent

from ..vcs_helpers import github_pull_request, signed_github_post
from .test_p1_scenarios import _escalate, _l1_takes_it_and_escalates_to_l2, _open, _raise_p1_in_the_portal


@pytest.fixture
def payroll_repository(cast):
    return Repository.objects.create(name="acme/payroll", provider="github", secret="s3cret-payroll",
                                     url="https://github.com/acme/payroll", service=cast.services["payroll"],
                                     team=cast.l3)


def test_scenario_4_a_p1_becomes_a_defect_fixed_shipped_and_the_user_is_told(
        cast, p1_policy, payroll_repository, signed_in, shot, live_server):
    integration = WebhookSubscription.objects.create(
        name="Release feed", url="http://127.0.0.1:9/", secret="feed", events=[WebhookEvent.RELEASE_SHIPPED],
        created_at=timezone.now())
    alice, incident = _raise_p1_in_the_portal(signed_in, cast, "Net pay is zero for Finance")
    lena = _l1_takes_it_and_escalates_to_l2(signed_in, cast, incident, shot, "scenario4")

    # 2nd line: liam takes it and escalates it to the development team.
    liam = signed_in(cast.agent2)
    _open(liam, incident)
    liam.get_by_role("button", name="Assign to me").click()
    expect(liam.locator("#f-assignee")).to_contain_text("liam")
    _escalate(liam, "Net pay calculation: looks like the 4.7 rounding change")
    expect(liam.locator(".timeline")).to_contain_text("Escalated from App Support to Payroll Dev")

    # 3rd line: devon picks it from his team's queue, within the L3 target.
    devon = signed_in(cast.engineer)
    devon.goto("/dev/")
    devon.get_by_role("button", name=f"Pick {incident.key}").click()
    expect(devon.get_by_role("status")).to_contain_text(f"You picked {incident.key}")
    pick = Clock.objects.get(ticket=incident, metric="pick")
    assert pick.state == "met" and not pick.breached
    shot(devon, "scenario4-03-l3-picked")

    # It is a defect: devon raises it from the incident, with a severity (so it starts triaged) and a component.
    _open(devon, incident)
    devon.get_by_text("Create defect…").click()
    form = devon.locator("#defect-form")
    form.get_by_label("Title").fill("Net pay rounding drops the cents")
    form.get_by_label("Severity").select_option("s2")
    form.get_by_label("Component").fill("Net pay calculation")
    form.get_by_label("Affected version").fill("4.7")
    form.get_by_role("button", name="Create defect").click()
    expect(devon.get_by_role("status")).to_contain_text(f"raised from {incident.key} and linked")
    defect = Ticket.objects.get(kind=Kind.DEFECT, links_in__source=incident, links_in__type=LinkType.FIXED_BY)
    assert (defect.status, defect.requester, defect.assignee, defect.group) == (
        Status.TRIAGED, cast.engineer, cast.engineer, cast.l3)
    assert defect.priority != 1  # its own targets, not the outage's P1
    _open(devon, defect)
    devon.get_by_role("button", name="Start work").click()
    expect(devon.get_by_role("status")).to_contain_text("is now “In progress”")
    devon.get_by_role("button", name="Send to review").click()
    expect(devon.get_by_role("status")).to_contain_text("is now “In review”")

    # The fix is merged: GitHub's signed delivery links the pull request and moves the defect to fixed.
    pr = github_pull_request(48, "Round net pay half up again", f"Fixes {defect.key}: the 4.7 rounding change.")
    status, body = signed_github_post(live_server.url, payroll_repository, "pull_request", pr, "delivery-48")
    assert status == 200, body
    defect.refresh_from_db()
    assert defect.status == Status.FIXED
    assert CodeLink.objects.filter(ticket=defect, kind="pull_request", ref="48", state="merged").exists()
    assert signed_github_post(live_server.url, payroll_repository, "pull_request", pr, "delivery-48")[0] == 200
    assert TicketEvent.objects.filter(ticket=defect, kind="code").count() == 1  # the replay changed nothing
    _open(devon, defect)
    expect(devon.locator(".timeline")).to_contain_text("Pull request #48 merged")
    expect(devon.locator("#f-status, .badge.status").first).to_contain_text("Fixed")
    shot(devon, "scenario4-04-fix-merged")

    # The release: devon plans it, adds the defect, assembles the notes and adds a line for the desk.
    devon.goto("/dev/releases/new/")
    devon.get_by_label("Service", exact=True).select_option(label="Payroll")
    devon.get_by_label("Version", exact=True).fill("4.8")
    devon.get_by_label("Name", exact=True).fill("Payroll spring fix")
    devon.get_by_role("button", name="Plan release").click()
    expect(devon.get_by_role("heading", name="Payroll 4.8")).to_be_visible()
    release = Release.objects.get(version="4.8")
    _open(devon, defect)  # the fix joins the release from the defect's own page
    devon.get_by_label("Release", exact=True).select_option(label="4.8")
    devon.get_by_role("button", name="Add to release").click()
    expect(devon.get_by_role("status")).to_contain_text(f"{defect.key} added to Payroll 4.8")
    devon.goto(f"/dev/releases/{release.pk}/")
    expect(devon.locator("#release-tickets")).to_contain_text("Net pay rounding drops the cents")
    devon.get_by_role("button", name="Assemble from tickets").click()
    expect(devon.get_by_label("Release notes")).to_have_value(re.compile(defect.key))
    notes = devon.get_by_label("Release notes")
    notes.fill(notes.input_value() + "\n\nNet pay is rounded half up again, as before 4.7.")
    devon.get_by_role("button", name="Save").click()
    expect(devon.get_by_role("status")).to_contain_text("saved")
    shot(devon, "scenario4-05-release-notes")

    # A second engineer reviews the notes; 2nd line signs UAT off (the fix is verified); devon publishes.
    dana = signed_in(cast.engineer2)
    dana.goto(f"/dev/releases/{release.pk}/")
    dana.get_by_role("button", name="Mark notes reviewed").click()
    expect(dana.get_by_role("status")).to_contain_text("Notes reviewed")
    liam.goto(f"/dev/releases/{release.pk}/")
    liam.get_by_label("UAT note").fill("Finance ran this month's payslips in UAT: net pay is right.")
    liam.get_by_role("button", name="Sign off UAT").click()
    expect(liam.get_by_role("status")).to_contain_text("UAT signed off")
    defect.refresh_from_db()
    assert defect.status == Status.VERIFIED
    devon.goto(f"/dev/releases/{release.pk}/")
    devon.get_by_role("button", name="Publish to the desk").click()
    expect(devon.get_by_role("link", name="the desk's article")).to_be_visible()

    # The desk learns what changed, on the incident's own page, before go-live.
    _open(lena, incident)
    panel = lena.get_by_role("region", name="Changed on this service (14 days)")
    panel.locator("summary", has_text="4.8").click()
    expect(panel).to_contain_text("rounded half up again")
    shot(lena, "scenario4-06-desk-reads-the-notes")

    # Go-live: devon ships; the defect closes, the incident's timeline says so, alice is told in plain words.
    devon.once("dialog", lambda dialog: dialog.accept())
    devon.get_by_role("button", name="Ship").click()
    expect(devon.get_by_role("status")).to_contain_text("shipped")
    defect.refresh_from_db()
    assert defect.status == Status.CLOSED
    assert TicketEvent.objects.filter(ticket=incident, kind="release").exists()
    shipped = Notification.objects.get(recipient=cast.requester, ticket=incident, kind="release")
    assert f"The fix for your issue {incident.key} shipped in Payroll 4.8" in shipped.body
    assert WebhookDelivery.objects.filter(subscription=integration, event="release.shipped").count() == 1

    # The incident is resolved by the engineer who worked it; alice sees it resolved in the portal.
    note = "Fixed in Payroll 4.8, shipped today: net pay is right again."
    _open(devon, incident)
    devon.get_by_text("Resolve…").click()
    move = devon.locator("form[data-move=resolved]")
    move.get_by_label("Resolution note").fill(note)
    move.get_by_role("button", name="Resolve").click()
    expect(devon.get_by_role("status")).to_contain_text("Resolved")
    alice.goto(f"/portal/tickets/{incident.key}/")
    expect(alice.locator(".badge.status").first).to_have_text("Resolved")
    expect(alice.locator("main")).to_contain_text(note)
    shot(alice, "scenario4-07-user-told")
    assert Notification.objects.filter(recipient=cast.requester, ticket=incident, kind="update",
                                       body__contains=note).exists()
    assert TicketEvent.objects.filter(ticket=incident, kind="escalation").count() == 2
