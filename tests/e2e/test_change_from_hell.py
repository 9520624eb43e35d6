"""Scenario 3, "the change from hell", in the browser from the first step, with one account per role: liam (2nd
line) raises the change on the new-ticket form, carl (change manager) schedules its window, liam submits it to
the Payroll CAB, whose members carl and maria vote in their own sessions; then tasks for business units in three
countries and time zones, task owners in two zones reporting in their own sessions (a hand-off, a failure), the
rollback, incidents raised by a user and linked as caused by the change, the change manager's review, and the
change failure rate on the dashboard moving -- every step on the change's one timeline.
A screenshot per step lands in test-artifacts/chg-hell-*.png."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from itsm import services as itsm
from itsm.choices import CabRule
from itsm.models import ApprovalRound, ChangeRollback, ChangeTask
from tests.e2e.changes import raise_change, schedule, submit_to_cab, vote
from tracker.choices import Status
from tracker.models import Link, Ticket

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def payroll_cab(cast):
    """The change manager's set-up, not a step of the scenario: the Payroll CAB, carl and maria, both must approve."""
    return itsm.cab_save(actor=cast.change_manager, name="Payroll CAB", service=cast.services["payroll"],
                         rule=CabRule.ALL, members=[cast.change_manager, cast.manager])


@pytest.fixture
def zones(cast):
    """Where people work (their profile's time zone): liam and carl in London, devon in Berlin, dana in Singapore."""
    for user, zone in ((cast.agent2, "Europe/London"), (cast.change_manager, "Europe/London"),
                       (cast.engineer, "Europe/Berlin"), (cast.engineer2, "Asia/Singapore")):
        user.time_zone = zone
        user.save(update_fields=["time_zone"])


def _add_task(page, form, *, title, unit, site, country, zone, day, start, end, owner=None, group=None):
    form.get_by_label("Title").fill(title)
    form.get_by_label("Business unit").fill(unit)
    form.get_by_label("Site", exact=True).fill(site)
    form.get_by_label("Country").fill(country)
    form.get_by_label("Time zone").fill(zone)
    form.get_by_label("Starts (site time)").fill(f"{day}T{start}")
    form.get_by_label("Ends (site time)").fill(f"{day}T{end}")
    if owner:
        form.get_by_label("Owner").select_option(label=owner)
    if group:
        form.get_by_label("Group").select_option(label=group)
    form.get_by_role("button", name="Add task").click()


def test_the_change_from_hell(cast, payroll_cab, zones, signed_in, shot):
    # Tomorrow (UTC): every site's 20:00-22:00 is still ahead, whatever the hour of the run (Singapore is UTC+8).
    day = (timezone.now() + timedelta(days=1)).date()
    after = day + timedelta(days=1)

    # The manager's dashboard before: no change has gone live yet.
    maria = signed_in(cast.manager)
    maria.goto("/dashboard/?days=30")
    rates = maria.get_by_label("Change rates", exact=True)
    expect(rates).to_contain_text("0 of 0 changes")
    shot(maria, "chg-hell-00-dashboard-before")

    # liam (2nd line) raises the change on the new-ticket form: high risk, a plan site by site and a backout plan.
    liam = signed_in(cast.agent2)
    change = raise_change(liam, shot, "chg-hell-01-new-change", title="Payroll 4.8 go-live", service="Payroll",
                          group="App Support (L2)", risk="high",
                          plan="Site by site: Berlin, then Singapore, then New York", backout="Restore the 4.7 images")
    key = change.key
    expect(liam.locator("#approvals")).to_contain_text("Submitting asks Payroll CAB to vote")

    # carl, the change manager, schedules the window before the CAB sees it (an approved window is frozen): from
    # Singapore's evening to New York's, typed on his own clock in London; the calendar then shows it.
    carl = signed_in(cast.change_manager)
    carl.goto(f"/tickets/{key}/")
    expect(carl.locator("#schedule-panel").get_by_text("Not scheduled yet")).to_be_visible()
    schedule(carl, f"{day}T12:00", f"{after}T04:00")
    window = carl.locator("#schedule-panel .window")
    expect(window).to_contain_text(f"{day:%a} {day.day} {day:%b %Y} 12:00")
    expect(window).to_contain_text(f"{after:%a} {after.day} {after:%b}")
    expect(window).to_contain_text("04:00")
    shot(carl, "chg-hell-02-scheduled")
    carl.locator("#schedule-panel").get_by_role("link", name="Calendar").click()
    expect(carl).to_have_url(re.compile(rf"/changes/calendar/\?view=week&date={day}"))
    expect(carl.locator(".cal-week")).to_contain_text(key)
    expect(carl.locator(".cal-week")).to_contain_text("Payroll 4.8 go-live")
    shot(carl, "chg-hell-03-calendar")

    # liam submits it to the CAB from its page: round 1 asks carl and maria.
    liam.reload()
    submit_to_cab(liam, shot, "chg-hell-04-submitted")
    expect(liam.locator("#approvals")).to_contain_text("Payroll CAB")

    # carl and maria vote in their own sessions; the rule is "all", so the change waits for the second vote.
    vote(carl, shot, "chg-hell-05-carl", change, "Approve", "Go, site by site.")
    expect(carl.locator(".badge.status").first).to_have_text("In CAB review")
    vote(maria, shot, "chg-hell-06-maria", change, "Approve", "Fine, with the 4.7 images at hand.")
    expect(maria.locator(".badge.status").first).to_have_text("Approved")
    approvals = maria.locator("#approvals")
    expect(approvals).to_contain_text("2 of 2 approvals")
    for text in ("carl", "Go, site by site.", "maria", "Fine, with the 4.7 images at hand."):
        expect(approvals).to_contain_text(text)
    shot(maria, "chg-hell-07-approved")

    # liam, who owns the change, plans a task per site; a window that ends before it starts is refused in place.
    liam.goto(f"/tickets/{key}/")
    liam.get_by_text("Add a task…").click()
    form = liam.locator("#task-add-form")
    _add_task(liam, form, title="Cut over Berlin stores", unit="Retail DACH", site="Berlin", country="DE",
              zone="Europe/Berlin", day=day, start="20:00", end="19:00", owner="devon")
    form = liam.locator("#task-add-form")
    expect(form.get_by_role("alert")).to_contain_text("must end after it starts")
    expect(form.get_by_label("Title")).to_have_value("Cut over Berlin stores")
    shot(liam, "chg-hell-08-task-refused")
    form.get_by_label("Ends (site time)").fill(f"{day}T22:00")
    form.get_by_role("button", name="Add task").click()
    expect(liam.get_by_role("status")).to_contain_text("Added T1 Berlin")
    for title, unit, site, country, zone, owner, group in (
            ("Cut over Singapore office", "APAC Finance", "Singapore", "SG", "Asia/Singapore", "devon", None),
            ("Cut over New York office", "Americas Finance", "New York", "US", "America/New_York", None,
             "App Support (L2)")):
        liam.get_by_text("Add a task…").click()
        _add_task(liam, liam.locator("#task-add-form"), title=title, unit=unit, site=site, country=country,
                  zone=zone, day=day, start="20:00", end="22:00", owner=owner, group=group)
        expect(liam.get_by_role("status")).to_contain_text(f"{site}")
    tasks = liam.get_by_role("table", name=f"Tasks of {key}")
    expect(tasks).to_contain_text("20:00–22:00 +08")  # Singapore's own clock
    expect(tasks).to_contain_text("your time")
    liam.get_by_role("button", name="Start implementation").click()
    expect(liam.get_by_role("status")).to_contain_text("In progress")
    shot(liam, "chg-hell-09-tasks-planned")

    # devon (Berlin) hands Singapore to dana, then starts and finishes Berlin from "My change tasks".
    devon = signed_in(cast.engineer)
    devon.goto("/changes/tasks/")
    singapore = devon.locator(f"#task-row-{ChangeTask.objects.get(site='Singapore').pk}")
    expect(singapore).to_contain_text("your time")
    singapore.get_by_text("Hand off…").click()
    singapore.get_by_label("To").select_option(label="dana (dana)")
    singapore.get_by_label("Why").fill("Dana is on site in Singapore")
    singapore.get_by_role("button", name="Hand off T2").click()
    expect(singapore).to_contain_text("dana's to report")
    berlin = devon.locator(f"#task-row-{ChangeTask.objects.get(site='Berlin').pk}")
    berlin.get_by_role("button", name="Start T1 Berlin").click()
    expect(berlin.get_by_role("button", name="Done T1 Berlin")).to_be_visible()
    expect(berlin).to_contain_text("In progress")
    berlin.get_by_role("button", name="Done T1 Berlin").click()
    expect(berlin).to_contain_text("Done")
    expect(berlin.get_by_role("button", name="Done T1 Berlin")).to_have_count(0)
    shot(devon, "chg-hell-10-devon-berlin-done")

    # dana (Singapore) starts her task; a failure without a note is refused in the row, then reported.
    dana = signed_in(cast.engineer2)
    dana.goto("/changes/tasks/")
    row = dana.locator(f"#task-row-{ChangeTask.objects.get(site='Singapore').pk}")
    expect(row).to_contain_text("Cut over Singapore office")
    row.get_by_role("button", name="Start T2 Singapore").click()
    expect(row).to_contain_text("In progress")
    row.get_by_text("Failed…").click()
    row.get_by_role("button", name="Report T2 failed").click()
    expect(row.get_by_role("alert")).to_contain_text("a failed task needs its result note")
    row.get_by_label("What went wrong at Singapore").fill("Payroll runs fail: SG tax tables missing from 4.8")
    row.get_by_role("button", name="Report T2 failed").click()
    expect(row).to_contain_text("Failed")
    expect(row).to_contain_text("SG tax tables missing from 4.8")
    shot(dana, "chg-hell-11-dana-singapore-failed")

    # liam: "successful" is refused while a task failed; he records the rollback devon ran, calls off New York,
    # and records the go-live as rolled back.
    liam.goto(f"/tickets/{key}/")
    expect(liam.get_by_role("alert").first).to_contain_text("The go-live failed (T2 Singapore)")
    liam.get_by_text("Record implementation…").click()
    move = liam.locator("form[data-move=resolved]")
    move.get_by_label("Implementation result").select_option(label="Successful")
    move.get_by_role("button", name="Record implementation").click()
    expect(liam.locator("form[data-move=resolved]").get_by_role("alert")).to_contain_text("T2 Singapore failed")
    shot(liam, "chg-hell-12-successful-refused")
    rollback = liam.locator("#rollback-form")
    rollback.get_by_label("Run by").select_option(label="devon")
    ran = timezone.now().astimezone(LONDON).strftime("%Y-%m-%dT%H:%M")
    rollback.get_by_label("Finished at").fill(ran)
    rollback.get_by_label("Outcome").select_option(label="Service restored to the previous state")
    rollback.get_by_label("Note").fill("4.7 images redeployed in Singapore")
    rollback.get_by_role("button", name="Record rollback").click()
    expect(liam.get_by_role("status")).to_contain_text("Rollback of")
    liam.once("dialog", lambda dialog: dialog.accept())
    liam.get_by_role("button", name="Cancel T3 New York").click()
    expect(liam.get_by_role("status")).to_contain_text("T3 New York is cancelled")
    liam.get_by_text("Record implementation…").click()
    move = liam.locator("form[data-move=resolved]")
    expect(move.get_by_label("Implementation result")).to_have_value("rolled_back")
    move.get_by_role("button", name="Record implementation").click()
    expect(liam.get_by_role("status")).to_contain_text("Resolved")
    shot(liam, "chg-hell-13-rolled-back")

    # alice raises an incident in the portal; lena links it as caused by the change.
    alice = signed_in(cast.requester)
    alice.get_by_role("link", name="Report a problem").first.click()
    alice.get_by_label("Summary").fill("My payslip preview shows last month")
    alice.get_by_label("Which service?").select_option(label="Payroll")
    alice.get_by_role("button", name="Submit").click()
    expect(alice.get_by_role("status")).to_contain_text("is raised")
    shot(alice, "chg-hell-14-incident-raised")
    incident = Ticket.objects.get(title="My payslip preview shows last month")
    lena = signed_in(cast.agent1)
    lena.goto(f"/tickets/{incident.key}/")
    link = lena.locator("#link-form")
    link.get_by_label("Link type").select_option(label="caused by")
    link.get_by_label("Ticket key").fill(key)
    link.get_by_role("button", name="Link").click()
    expect(lena.get_by_role("status")).to_contain_text(f"caused by {key}")
    shot(lena, "chg-hell-15-incident-linked")

    # carl, the change manager, closes only after the review: refused without it, in place; then closed.
    carl.goto(f"/tickets/{key}/")
    carl.get_by_text("Close after review…").click()
    close = carl.locator("form[data-move=closed]")
    close.get_by_label("Review: what happened").fill("Singapore failed; rolled back within the hour.")
    close.get_by_role("button", name="Close after review").click()
    close = carl.locator("form[data-move=closed]")
    expect(close.get_by_role("alert")).to_contain_text("because it was rolled back")
    expect(close.get_by_label("Review: what happened")).to_have_value("Singapore failed; rolled back within the hour.")
    shot(carl, "chg-hell-16-close-refused")
    close.get_by_label("Review: cause").fill("The 4.8 package lacked the SG tax tables.")
    close.get_by_label("Review: actions").fill("Check tax tables in the pipeline (devon); retry as 4.8.1.")
    close.get_by_role("button", name="Close after review").click()
    expect(carl.get_by_role("status")).to_contain_text("Closed")

    # One timeline tells it all: the window, the round and each vote by whoever cast it, the plan, hand-off,
    # reports, rollback, result, the incident, the review, the close.
    timeline = carl.locator(".timeline")
    for who, text in (("carl", f"window start to {day.day} {day:%b %Y} 12:00"),
                      ("carl", f"window end to {after.day} {after:%b %Y} 04:00"),
                      ("liam", "Round 1 opened with Payroll CAB"),
                      ("carl", "Approved in round 1: “Go, site by site.”"),
                      ("maria", "Approved in round 1: “Fine, with the 4.7 images at hand.”"),
                      ("maria", "Round 1 approved")):
        expect(timeline.get_by_role("listitem").filter(has_text=text)).to_contain_text(who)
    for text in ("Task added", "Task handed off", "from devon to dana", "Task started", "Task done", "Task failed",
                 "SG tax tables missing", "Rollback", "Task cancelled", "Rolled back", f"caused {incident.key}",
                 "The 4.8 package lacked the SG tax tables", "Closed"):
        expect(timeline).to_contain_text(text)
    shot(carl, "chg-hell-17-one-timeline")

    # The dashboard's change failure rate moved, and the figure lists the change behind it.
    maria.goto("/dashboard/?days=30")
    rates = maria.get_by_label("Change rates", exact=True)
    expect(rates).to_contain_text("1 of 1 changes")
    rates.get_by_role("link", name=re.compile(r"100")).last.click()
    expect(maria.get_by_role("table", name="Changes")).to_contain_text(key)
    shot(maria, "chg-hell-18-failure-rate")

    change.refresh_from_db()
    assert change.status == Status.CLOSED and change.implementation_result == "rolled_back"
    assert change.risk == "high" and change.requester == cast.agent2
    assert (change.window_start, change.window_end) == (
        datetime(day.year, day.month, day.day, 12, tzinfo=LONDON).astimezone(UTC),
        datetime(after.year, after.month, after.day, 4, tzinfo=LONDON).astimezone(UTC))
    approval_round = ApprovalRound.objects.get(ticket=change)
    assert approval_round.status == "approved"
    assert {(a.approver, a.decision) for a in approval_round.approvals.all()} == {
        (cast.change_manager, "approved"), (cast.manager, "approved")}
    assert ChangeRollback.objects.get().run_by == cast.engineer
    assert Link.objects.filter(source=incident, target=change, type="caused_by").exists()
