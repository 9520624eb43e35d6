"""The steps of a change that several browser journeys share, each done the way its role does it on the pages:
the agent raises a change and submits it to the CAB, a CAB member votes from their own landing page, someone
sets the change window on the Schedule panel. Screenshots are named by the caller's step."""

import re

from playwright.sync_api import expect

from tracker.models import Ticket

PLAN = "1. Stop the batch\n2. Edit the cron line\n3. Start the batch"


def raise_change(page, shot, step, *, title, service="", group="", risk="medium", plan=PLAN,
                 backout="Restore the previous cron line"):
    """An agent raises a normal change on the new-ticket form; the change's page opens."""
    page.goto("/tickets/new/")
    page.get_by_label("Kind").select_option("change")
    expect(page.get_by_label("Change type")).to_be_visible()
    page.get_by_label("Title").fill(title)
    page.get_by_label("Change type").select_option("normal")
    page.get_by_label("Risk").select_option(risk)
    page.get_by_label("Implementation plan").fill(plan)
    page.get_by_label("Backout plan").fill(backout)
    if service:
        page.locator("#id_service").select_option(label=service)
    if group:
        page.locator("#id_group").select_option(label=group)
    shot(page, step)
    page.get_by_role("button", name="Create ticket").click()
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    return Ticket.objects.get(title=title)


def submit_to_cab(page, shot, step):
    """The change's requester submits it to the CAB from its page: round 1 opens."""
    page.get_by_text("Submit to CAB…").click()
    page.locator("form[data-move=review]").get_by_role("button", name="Submit to CAB").click()
    expect(page.locator(".badge.status").first).to_have_text("In CAB review")
    expect(page.locator("#approvals")).to_contain_text("Round 1")
    shot(page, step)


def vote(page, shot, step, change, decision, comment=""):
    """A CAB member sees the change waiting for them on their landing page (whatever it is: the queue, the
    dashboard), opens "My approvals" and votes on the change's page."""
    page.goto("/")
    waiting = page.get_by_role("link", name=re.compile(r"Approvals\s+1 waiting for your vote"))
    expect(waiting).to_be_visible()
    shot(page, f"{step}-landing")
    waiting.click()
    views = page.get_by_role("navigation", name="Saved views")
    expect(views.get_by_role("link", name=re.compile(r"My approvals\s+1"))).to_be_visible()
    page.get_by_role("table", name="Tickets").get_by_role("link", name=change.key).click()
    expect(page.get_by_role("heading", name=change.title)).to_be_visible()
    page.get_by_text("Vote…").click()
    form = page.locator("#vote-form")
    form.get_by_label(decision).check()
    if comment:
        form.get_by_label("Comment").fill(comment)
    shot(page, f"{step}-vote")
    form.get_by_role("button", name="Cast vote").click()
    expect(page.get_by_role("status").filter(has_text="Your vote on")).to_be_visible()


def schedule(page, start, end):
    """Fill the change's Schedule panel (times in the viewer's zone, as `YYYY-MM-DDTHH:MM`) and submit it."""
    panel = page.locator("#schedule-panel")
    panel.get_by_label("Start").fill(start)
    panel.get_by_label("End").fill(end)
    panel.get_by_role("button", name=re.compile("Schedule|Reschedule")).click()
    return panel
