"""Scenario 4 in the browser, twice, with one real account per role: a P1 that the service desk cannot solve
reaches the development team, turns out to be a defect, is fixed, shipped in a release, the desk sees what
changed and the user is told.

- In a tiered team: L1 (lena) keeps ownership while L2 (liam) and then L3 (devon) work it, and hears of
  every hand-off.
- In a swarming team: L2 (liam) brings the L3 engineer (devon) onto the ticket; they work it together and
  it is never handed off beyond L2.

Shipping the release goes through the domain (the release screens are the development flow's own pages);
every other step is a click of the person whose job it is.
"""

from playwright.sync_api import expect

from devflow.services import releases as rel
from sla.models import Clock, Notification
from tracker.choices import Kind, LinkType, Status
from tracker.models import Contributor, Link, Ticket, TicketEvent

from .swarms import invite, open_from_swarming_view, record_help


def _raise_p1_in_the_portal(signed_in, cast, title):
    alice = signed_in(cast.requester)
    alice.get_by_role("link", name="Report a problem").first.click()
    alice.get_by_label("Summary").fill(title)
    alice.get_by_label("Details").fill("Everyone in Finance sees zero net pay on this month's payslip.")
    alice.get_by_label("Which service?").select_option(label="Payroll")
    alice.get_by_label("How many people are affected?").select_option(label="High")
    alice.get_by_label("How urgent is it?").select_option(label="High")
    alice.get_by_role("button", name="Submit").click()
    expect(alice.get_by_role("status")).to_contain_text("is raised")
    incident = Ticket.objects.get(title=title)
    assert incident.priority == 1 and incident.group == cast.l1
    return alice, incident


def _open(page, ticket):
    page.goto(f"/tickets/{ticket.key}/")
    expect(page.get_by_role("heading", name=ticket.title)).to_be_visible()


def _escalate(page, why):
    page.get_by_text("Escalate…").click()
    page.get_by_label("Why").fill(why)
    page.get_by_role("button", name="Escalate", exact=True).click()


def _l1_takes_it_and_escalates_to_l2(signed_in, cast, incident, shot, name):
    lena = signed_in(cast.agent1)
    _open(lena, incident)
    lena.get_by_role("button", name="Assign to me").click()
    expect(lena.locator("#f-owner")).to_contain_text("lena")
    lena.get_by_role("button", name="Start work").click()
    expect(lena.get_by_role("status")).to_contain_text("is now “In progress”")
    _escalate(lena, "Payroll calculation, not a desk fix")
    expect(lena.locator(".timeline")).to_contain_text("Escalated from Service Desk to App Support")
    shot(lena, f"{name}-01-l1-escalated")
    incident.refresh_from_db()
    assert incident.group == cast.l2 and incident.owner == cast.agent1 and incident.assignee is None
    return lena


def _engineer_raises_the_defect_and_fixes_it(devon, cast, incident, shot, name):
    _open(devon, incident)
    devon.get_by_text("Create defect…").click()  # the form: title, severity, component, affected version
    devon.locator("#defect-form").get_by_role("button", name="Create defect").click()
    expect(devon.get_by_role("status")).to_contain_text(f"raised from {incident.key} and linked")
    defect = Ticket.objects.get(kind=Kind.DEFECT, links_in__source=incident, links_in__type=LinkType.FIXED_BY)
    assert defect.requester == cast.engineer  # the engineer raised it: never the user's own ticket
    _open(devon, defect)
    devon.get_by_text("Triage…").click()
    devon.locator("form[data-move=triaged]").get_by_role("button", name="Triage").click()
    expect(devon.get_by_role("status")).to_contain_text("is now “Triaged”")
    devon.get_by_role("button", name="Start work").click()
    expect(devon.get_by_role("status")).to_contain_text("is now “In progress”")
    devon.get_by_role("button", name="Send to review").click()
    expect(devon.get_by_role("status")).to_contain_text("is now “In review”")
    devon.get_by_text("Mark fixed…").click()
    move = devon.locator("form[data-move=fixed]")
    move.get_by_label("Fix version").fill("4.8")
    move.get_by_label("Resolution note").fill("Net pay rounds half up again")
    move.get_by_role("button", name="Mark fixed").click()
    expect(devon.get_by_role("status")).to_contain_text("Fixed")
    shot(devon, f"{name}-03-defect-fixed")
    return Ticket.objects.get(pk=defect.pk)


def _ship(cast, defect):
    release = rel.release_create(actor=cast.engineer, service=cast.services["payroll"], version="4.8",
                                 name="Payroll spring")
    rel.release_add_ticket(release=release, actor=cast.engineer, ticket=defect)
    rel.release_update(release=release, actor=cast.engineer, revision=release.revision,
                       notes="Fixes the net pay rounding of 4.7.")
    rel.release_notes_review(release=release, actor=cast.engineer2, revision=release.revision)
    rel.release_uat_sign(release=release, actor=cast.agent2, note="Net pay checked for Finance")
    rel.release_publish(release=release, actor=cast.engineer)
    rel.release_ship(release=release, actor=cast.engineer)


def _resolve(page, incident, note, shot, shot_name):
    _open(page, incident)
    page.get_by_text("Resolve…").click()
    move = page.locator("form[data-move=resolved]")
    move.get_by_label("Resolution note").fill(note)
    move.get_by_role("button", name="Resolve").click()
    expect(page.get_by_role("status")).to_contain_text("Resolved")
    shot(page, shot_name)


def _user_is_told(alice, incident, note, shot, shot_name):
    alice.goto(f"/portal/tickets/{incident.key}/")
    expect(alice.locator(".badge.status").first).to_have_text("Resolved")
    expect(alice.locator("main")).to_contain_text(note)
    shot(alice, shot_name)
    assert Notification.objects.filter(recipient__username="alice", ticket=incident, kind="update",
                                       body__contains=note).exists()


def test_tiered_l1_keeps_ownership_while_l2_and_l3_work_the_p1(cast, p1_policy, signed_in, shot):
    alice, incident = _raise_p1_in_the_portal(signed_in, cast, "Net pay is zero for Finance")
    _l1_takes_it_and_escalates_to_l2(signed_in, cast, incident, shot, "p1-tiered")

    # liam (L2) becomes responsible, finds the 4.7 rounding change, and escalates to the development team.
    liam = signed_in(cast.agent2)
    _open(liam, incident)
    liam.get_by_role("button", name="Assign to me").click()
    expect(liam.locator("#f-assignee")).to_contain_text("liam")
    expect(liam.locator("#f-owner")).to_contain_text("lena")
    _escalate(liam, "Looks like the 4.7 rounding change")
    expect(liam.locator(".timeline")).to_contain_text("Escalated from App Support to Payroll Dev")

    # devon (L3) picks it from the team's queue, within the L3 target.
    devon = signed_in(cast.engineer)
    devon.goto("/dev/")
    devon.get_by_role("button", name=f"Pick {incident.key}").click()
    expect(devon.get_by_role("status")).to_contain_text(f"You picked {incident.key}")
    shot(devon, "p1-tiered-02-l3-picked")
    pick = Clock.objects.get(ticket=incident, metric="pick")
    assert pick.state == "met" and not pick.breached

    # lena still owns it: it is in her "Owned by me" view, worked by devon, and she heard of each hand-off.
    lena = signed_in(cast.agent1)
    lena.goto("/queue/?view=owned")
    row = lena.locator(f"#row-{incident.key}")
    expect(row).to_be_visible()
    _open(lena, incident)
    expect(lena.locator("#f-owner")).to_contain_text("lena")
    expect(lena.locator("#f-assignee")).to_contain_text("devon")
    incident.refresh_from_db()
    assert incident.owner == cast.agent1 and incident.assignee == cast.engineer and incident.group == cast.l3
    told = Notification.objects.filter(recipient=cast.agent1, ticket=incident)
    assert told.filter(kind="escalation").exists()  # liam's escalation to L3
    assert told.filter(kind="assignment").count() >= 2  # liam, then devon, became responsible

    defect = _engineer_raises_the_defect_and_fixes_it(devon, cast, incident, shot, "p1-tiered")
    _ship(cast, defect)

    # The desk sees what changed on the service, on the incident's own page, before users call.
    _open(lena, incident)
    expect(lena.get_by_role("complementary")).to_contain_text("4.8")
    shot(lena, "p1-tiered-04-desk-sees-release")

    note = "Fixed in Payroll 4.8, shipped today: net pay is right again."
    _resolve(devon, incident, note, shot, "p1-tiered-05-resolved")
    _user_is_told(alice, incident, note, shot, "p1-tiered-06-user-told")
    assert Notification.objects.filter(recipient=cast.agent1, ticket=incident, kind="update").exists()
    assert TicketEvent.objects.filter(ticket=incident, kind="escalation").count() == 2
    assert TicketEvent.objects.filter(ticket=defect, kind="release", new="4.8").exists()


def test_swarming_l2_and_l3_work_the_p1_together_without_a_hand_off(cast, p1_policy, signed_in, shot):
    cast.l2.swarming = True
    cast.l2.save()
    alice, incident = _raise_p1_in_the_portal(signed_in, cast, "Net pay is zero for Sales")
    _l1_takes_it_and_escalates_to_l2(signed_in, cast, incident, shot, "p1-swarm")

    # liam takes it and brings devon (L3) onto it as a contributor: no hand-off.
    liam = signed_in(cast.agent2)
    _open(liam, incident)
    liam.get_by_role("button", name="Assign to me").click()
    expect(liam.locator("#f-assignee")).to_contain_text("liam")
    invite(liam, who="devon", why="Knows the 4.7 rounding change")
    shot(liam, "p1-swarm-02-devon-invited")

    # devon finds it in his Swarming view (not handed to his team), records his help, raises and fixes the defect.
    devon = signed_in(cast.engineer)
    open_from_swarming_view(devon, incident)
    record_help(devon, what="Traced it to the 4.7 rounding change", minutes=40)
    # a non-contributing L3 engineer does not see the swarm in their view
    dana = signed_in(cast.engineer2)
    dana.goto("/queue/?view=swarming")
    expect(dana.get_by_role("link", name=incident.key)).to_have_count(0)

    defect = _engineer_raises_the_defect_and_fixes_it(devon, cast, incident, shot, "p1-swarm")
    _ship(cast, defect)

    note = "Fixed in Payroll 4.8: net pay is right again."
    _resolve(liam, incident, note, shot, "p1-swarm-05-resolved")
    _user_is_told(alice, incident, note, shot, "p1-swarm-06-user-told")

    incident.refresh_from_db()
    assert incident.group == cast.l2 and incident.assignee == cast.agent2 and incident.owner == cast.agent1
    assert TicketEvent.objects.filter(ticket=incident, kind="escalation").count() == 1  # L1 -> L2 only
    assert Contributor.objects.filter(ticket=incident, user=cast.engineer).exists()
    assert Link.objects.filter(source=incident, target=defect, type=LinkType.FIXED_BY).exists()
    assert incident.status == Status.RESOLVED
