"""Time logging, support capacity and the team backlog in the browser: Log work refuses a bad value in place
(typed values kept, the next submit works) and the time shows on the timeline; the capacity page shows the week
over its share with the decision, records one (refusal first), and downloads its CSV; the lead re-orders the
backlog."""

import pytest
from playwright.sync_api import expect

from devflow.models import BacklogRank, CapacityDecision
from tests.e2e.test_accessibility import AUDIT
from tracker import services
from tracker.choices import Kind
from tracker.models import WorkLog


@pytest.fixture
def p1(cast):
    cast.l3.support_share = 20
    cast.l3.save()
    ticket = services.ticket_create(actor=cast.agent1, kind=Kind.INCIDENT, title="Payroll run stopped", impact=1,
                                    urgency=1, requester=cast.requester, service=cast.services["payroll"])
    services.ticket_escalate(ticket=ticket, actor=cast.agent1)
    services.ticket_escalate(ticket=ticket, actor=cast.agent2)
    return ticket


def test_log_work_refuses_a_bad_value_in_place_then_shows_on_the_timeline(cast, p1, signed_in, shot):
    devon = signed_in(cast.engineer)
    devon.goto(f"/tickets/{p1.key}/")
    devon.get_by_text("Log work…").click()
    form = devon.locator("#work-form")
    form.get_by_label("Time spent").fill("25h")
    form.get_by_label("Note").fill("Traced the stopped run")
    form.get_by_role("button", name="Log work").click()
    expect(devon.locator("#work-form")).to_contain_text("at most 24 hours")
    form = devon.locator("#work-form")
    expect(form.get_by_label("Note")).to_have_value("Traced the stopped run")
    expect(form.get_by_label("Time spent")).to_have_value("25h")
    shot(devon, "log-work-refused")
    form.get_by_label("Time spent").fill("1h 30m")
    form.get_by_role("button", name="Log work").click()
    expect(devon.locator(".timeline")).to_contain_text("Traced the stopped run")
    expect(devon.locator(".timeline")).to_contain_text("1h 30m")
    assert WorkLog.objects.get().minutes == 90


def test_the_capacity_page_shows_the_week_over_its_share_and_records_a_decision(cast, p1, signed_in, shot):
    services.worklog_add(ticket=p1, actor=cast.engineer, minutes=900)
    services.worklog_add(ticket=p1, actor=cast.engineer2, minutes=600)
    carl = signed_in(cast.change_manager)
    carl.goto(f"/dev/teams/{cast.l3.pk}/capacity/")
    week = carl.locator("tr", has_text="this week")
    expect(week).to_contain_text("25.0 h")
    expect(week).to_contain_text("over")
    expect(week).to_contain_text("no decision recorded")
    expect(carl.locator("svg.capacity-chart")).to_be_visible()
    assert carl.evaluate(AUDIT) == []

    # refused without a note, typed values kept, then recorded
    form = carl.locator("#decision-form")
    form.get_by_label("P1 incident or emergency change").fill(p1.key)
    form.get_by_label("Agreed with").select_option(label="maria")
    form.get_by_role("button", name="Record decision").click()
    expect(carl.locator("#decision-form")).to_contain_text("Say what was agreed")
    form = carl.locator("#decision-form")
    expect(form.get_by_label("P1 incident or emergency change")).to_have_value(p1.key)
    form.get_by_label("What was agreed").fill("Payroll first; the sprint waits a day.")
    form.get_by_role("button", name="Record decision").click()
    week = carl.locator("tr", has_text="this week")
    expect(week).to_contain_text("decided by carl")
    expect(week).to_contain_text("agreed with maria")
    expect(week).to_contain_text("the sprint waits a day.")
    assert CapacityDecision.objects.get().decided_by == cast.change_manager
    shot(carl, "capacity")
    with carl.expect_download() as download:
        carl.get_by_role("link", name="Download CSV").click()
    assert f"25.0,0.0,yes,{p1.key} by carl" in open(download.value.path(), encoding="utf-8").read()


def test_the_team_lead_moves_a_defect_to_the_top_of_the_backlog(cast, signed_in, shot):
    high = services.ticket_create(actor=cast.engineer, kind=Kind.DEFECT, title="Tax import drops Z codes",
                                  group=cast.l3, impact=1, urgency=2, severity="s1")
    low = services.ticket_create(actor=cast.engineer, kind=Kind.DEFECT, title="Typo on the payslip footer",
                                 group=cast.l3, impact=3, urgency=3, severity="s4")
    maria = signed_in(cast.manager)
    maria.goto("/dev/teams/")
    maria.get_by_role("row", name="Payroll Dev").get_by_role("link", name="Backlog").click()
    rows = maria.locator("#backlog-results tbody tr")
    expect(rows.first).to_contain_text(high.key)
    assert maria.evaluate(AUDIT) == []
    maria.get_by_role("button", name=f"Move {low.key} up").click()
    expect(maria.locator("#backlog-results")).to_contain_text(f"{low.key} is now #1")
    expect(maria.locator("#backlog-results tbody tr").first).to_contain_text(low.key)
    shot(maria, "backlog")
    assert BacklogRank.objects.get(ticket=low).position == 1
