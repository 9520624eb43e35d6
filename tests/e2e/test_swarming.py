"""Swarming in the browser: an agent of a swarming team invites an expert from the ticket page; the expert finds
the ticket in their Swarming view, records their help, logs work and leaves. Refusals (a team that does not
swarm, bad minutes) show in place, keep what was typed, and the next submit works."""

import pytest
from playwright.sync_api import expect

from tracker import services
from tracker.choices import Kind
from tracker.models import Contributor, WorkLog

from .swarms import invite, open_from_swarming_view, record_help


@pytest.fixture
def swarm(cast):
    cast.l2.swarming = True
    cast.l2.save()
    return services.ticket_create(actor=cast.agent2, kind=Kind.INCIDENT, title="Payslips show last month",
                                  requester=cast.requester, service=cast.services["payroll"], group=cast.l2)


def open_ticket(page, ticket):
    page.goto(f"/tickets/{ticket.key}/")
    expect(page.get_by_role("heading", name=ticket.title)).to_be_visible()


def test_an_expert_is_invited_finds_the_ticket_helps_logs_work_and_leaves(cast, swarm, signed_in, shot):
    liam = signed_in(cast.agent2)
    open_ticket(liam, swarm)
    expect(liam.locator("#swarm-panel")).to_contain_text("App Support swarms")
    invite(liam, who="devon", why="Knows the payslip batch")
    expect(liam.locator(".timeline")).to_contain_text("Knows the payslip batch")
    shot(liam, "swarm-invited")

    devon = signed_in(cast.engineer)
    open_from_swarming_view(devon, swarm)
    record_help(devon, what="Found the stuck batch job and re-ran it", minutes=45)
    panel = devon.locator("#swarm-panel")
    panel.get_by_text("Log work…").click()
    panel.locator("#id_work_minutes").fill("30")
    panel.locator("#id_work_note").fill("Checked the next run")
    panel.get_by_role("button", name="Log work").click()
    expect(devon.locator("#swarm-panel")).to_contain_text("1h 15m")
    shot(devon, "swarm-helped")
    devon.locator("#swarm-panel").get_by_role("button", name="Leave: devon").click()
    expect(devon.locator(".timeline")).to_contain_text("left the swarm")
    assert Contributor.objects.get().left_at is not None and WorkLog.objects.count() == 2
    devon.goto("/queue/?view=swarming")
    expect(devon.get_by_role("link", name=swarm.key)).to_have_count(0)


def test_refusals_show_in_place_keep_the_typed_text_and_the_next_submit_works(cast, swarm, signed_in, shot):
    services.contributor_invite(ticket=swarm, actor=cast.agent2, user=cast.engineer)
    liam = signed_in(cast.agent2)
    open_ticket(liam, swarm)
    panel = liam.locator("#swarm-panel")
    panel.get_by_text("Invite…").click()
    panel.get_by_label("Person").fill("devon")
    panel.get_by_label("Why").fill("Second opinion on the batch")
    panel.get_by_role("button", name="Invite").click()
    form = liam.locator("#invite-form")
    expect(form.get_by_role("alert")).to_contain_text("already contributing")
    expect(form.get_by_label("Why")).to_have_value("Second opinion on the batch")
    form.get_by_label("Person").fill("dana")
    form.get_by_role("button", name="Invite").click()
    expect(liam.locator("#swarm-panel .contributors")).to_contain_text("dana")

    panel = liam.locator("#swarm-panel")
    panel.get_by_text("Log work…").click()
    panel.locator("#id_work_minutes").fill("0")
    panel.locator("#id_work_note").fill("Call with the payroll office")
    panel.get_by_role("button", name="Log work").click()
    form = liam.locator("#work-form")
    expect(form.get_by_role("alert")).to_contain_text("at least one minute")
    expect(form.locator("#id_work_note")).to_have_value("Call with the payroll office")
    shot(liam, "swarm-refused-minutes")
    form.locator("#id_work_minutes").fill("20")
    form.get_by_role("button", name="Log work").click()
    expect(liam.locator(".timeline")).to_contain_text("Call with the payroll office")
    assert WorkLog.objects.get().minutes == 20


def test_inviting_in_a_team_that_does_not_swarm_is_refused_in_place(cast, signed_in):
    ticket = services.ticket_create(actor=cast.agent2, kind=Kind.INCIDENT, title="Slow payslip page",
                                    group=cast.l2, requester=cast.requester)
    liam = signed_in(cast.agent2)
    open_ticket(liam, ticket)
    expect(liam.locator("#invite-form")).to_have_count(0)  # not offered where the team does not swarm
    # A page loaded before the team stopped swarming still shows the form: the refusal comes in place.
    cast.l2.swarming = True
    cast.l2.save()
    open_ticket(liam, ticket)
    cast.l2.swarming = False
    cast.l2.save()
    panel = liam.locator("#swarm-panel")
    panel.get_by_text("Invite…").click()
    panel.get_by_label("Person").fill("devon")
    panel.get_by_label("Why").fill("Needs the batch expert")
    panel.get_by_role("button", name="Invite").click()
    form = liam.locator("#invite-form")
    expect(form.get_by_role("alert")).to_contain_text("does not swarm")
    expect(form.get_by_label("Why")).to_have_value("Needs the batch expert")
    assert not Contributor.objects.exists()
