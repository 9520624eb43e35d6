"""The end-to-end scenarios of the domain, with one real account per role, across all four apps.

Each reads as the story it tells; steps go through the same API and domain functions the UI uses.
"""
from datetime import datetime, time, timedelta

from django.utils import timezone

from devflow import selectors as dev_selectors
from devflow.services import (
    defect_from_incident,
    release_add_ticket,
    release_create,
    release_notes_assemble,
    release_notes_review,
    release_publish,
    release_ship,
    release_uat_sign,
)
from itsm import selectors as itsm_selectors
from itsm import services as itsm
from sla import services as sla
from sla.models import Calendar, Clock, Notification, Policy, TierTarget
from tests.factories import published_article
from tracker import selectors, services
from tracker.choices import Status, Tier
from tracker.models import Link, Ticket, TicketEvent


def _p1_policy():
    always = Calendar.objects.create(name="24x7", time_zone="UTC", always_open=True)
    policy = Policy.objects.create(name="P1", order=1, calendar=always, priorities=[1], response_s=900,
                                   resolution_s=4 * 3600)
    TierTarget.objects.create(policy=policy, tier=Tier.L3, goal_s=1800)
    return policy


def _cab(cast, **extra):
    """The CAB of the change scenarios: carl chairs it, maria and devon sit on it."""
    return itsm.cab_save(actor=cast.change_manager, name="Change Advisory Board",
                         members=[cast.change_manager, cast.manager, cast.engineer], **extra)


def test_routine_change_is_asked_and_approved_with_no_drama(cast, api):
    _cab(cast)
    client = api(cast.agent2)
    key = client.post("/api/v1/tickets/", {"kind": "change", "title": "Add EU VAT rates to the web shop",
                                          "change_type": "normal"}, format="json").json()["key"]
    url = f"/api/v1/tickets/{key}/transition/"
    assert client.post(url, {"to": "review", "implementation_plan": "Import the rate table", "risk": "low",
                             "backout_plan": "Restore yesterday's table"}, format="json").status_code == 200
    for member in (cast.change_manager, cast.manager):  # a majority of three
        vote = api(member).post(f"/api/v1/changes/{key}/approvals/vote/", {"decision": "approved"}, format="json")
        assert vote.status_code == 200
    assert vote.json()["status"] == "approved"
    for body in ({"to": "in_progress"}, {"to": "resolved", "implementation_result": "successful"}):
        assert client.post(url, body, format="json").status_code == 200
    done = api(cast.change_manager).post(url, {"to": "closed", "review_notes": "Rates live; no incidents."},
                                         format="json")
    assert done.status_code == 200 and done.json()["status"] == "closed"


def test_routine_standard_change_comes_from_a_template_and_needs_no_cab(cast, api):
    template = itsm.template_create(actor=cast.change_manager, title="Rotate VPN certificates", risk="low",
                                    implementation_plan="Run the rotation playbook", backout_plan="Restore the pair")
    client = api(cast.agent2)
    key = client.post(f"/api/v1/changes/templates/{template.pk}/changes/", {}, format="json").json()["key"]
    for body in ({"to": "approved"}, {"to": "in_progress"}, {"to": "resolved", "implementation_result": "successful"}):
        assert client.post(f"/api/v1/tickets/{key}/transition/", body, format="json").status_code == 200
    assert client.get(f"/api/v1/changes/{key}/approvals/").json() == []  # no CAB round at all


def test_cab_rejects_the_requester_revisits_and_the_cab_approves(cast, api):
    _cab(cast, rule="all")
    requester = api(cast.agent2)
    key = requester.post("/api/v1/tickets/", {"kind": "change", "title": "Move payroll batch to 02:00",
                                             "change_type": "normal"}, format="json").json()["key"]
    url = f"/api/v1/tickets/{key}/transition/"
    vote = f"/api/v1/changes/{key}/approvals/vote/"
    submit = {"to": "review", "implementation_plan": "Edit cron", "backout_plan": "Revert cron", "risk": "medium"}
    assert requester.post(url, submit, format="json").status_code == 200
    assert requester.post(vote, {"decision": "approved"}, format="json").status_code == 403  # not theirs to approve
    assert api(cast.change_manager).post(vote, {"decision": "approved"}, format="json").status_code == 200
    assert api(cast.manager).post(vote, {"decision": "rejected", "comment": "Clashes with the bank upload"},
                                  format="json").json()["status"] == "rejected"
    assert requester.post(url, {"to": "new"}, format="json").status_code == 200
    patch = requester.patch(f"/api/v1/tickets/{key}/", {"implementation_plan": "Edit cron after upload"},
                            format="json", HTTP_IF_MATCH=requester.get(f"/api/v1/tickets/{key}/")["ETag"])
    assert patch.status_code == 200
    assert requester.post(url, {"to": "review"}, format="json").status_code == 200
    for member in (cast.change_manager, cast.manager, cast.engineer):
        answer = api(member).post(vote, {"decision": "approved", "comment": "After the upload: fine"}, format="json")
    assert answer.json()["status"] == "approved"
    history = [(e["kind"], e["new"]) for e in requester.get(f"/api/v1/tickets/{key}/history/").json()]
    assert [n for k, n in history if k == "status"] == ["review", "rejected", "new", "review", "approved"]
    rounds = requester.get(f"/api/v1/changes/{key}/approvals/").json()
    assert [(r["number"], r["status"]) for r in rounds] == [(2, "approved"), (1, "rejected")]


def test_the_change_from_hell_keeps_every_hand_off_on_one_timeline(cast, api):
    agent, cab = cast.agent2, cast.change_manager
    _cab(cast, rule="any", quorum=1)
    change = services.ticket_create(actor=agent, kind="change", title="Payroll 4.8 go-live", change_type="normal",
                                    service=cast.services["payroll"])
    day = (timezone.now() + timedelta(days=1)).date()
    tasks = [itsm.task_add(change=change, actor=agent, title=f"Go-live {site}", business_unit=unit, site=site,
                           country=country, time_zone=zone, planned_start=datetime.combine(day, time(9)),
                           planned_end=datetime.combine(day, time(11)), assignee=owner)
             for site, unit, country, zone, owner in (
                 ("Berlin", "Retail DACH", "DE", "Europe/Berlin", cast.engineer),
                 ("Singapore", "APAC Finance", "SG", "Asia/Singapore", cast.engineer),
                 ("New York", "Americas Finance", "US", "America/New_York", agent))]
    services.ticket_transition(ticket=change, to=Status.REVIEW, actor=agent, values={
        "implementation_plan": "Site by site", "backout_plan": "Restore 4.7 images", "risk": "high"})
    itsm.approval_vote(ticket=change, actor=cab, decision="approved", comment="Go")
    change.refresh_from_db()
    services.ticket_transition(ticket=change, to=Status.IN_PROGRESS, actor=agent)
    berlin, singapore, new_york = tasks
    itsm.task_handoff(task=singapore, actor=cast.engineer, assignee=cast.engineer2, note="Dana is on site")
    for task, owner in ((berlin, cast.engineer), (singapore, cast.engineer2)):
        itsm.task_report(task=task, actor=owner, state="in_progress")
    itsm.task_report(task=berlin, actor=cast.engineer, state="done")
    itsm.task_report(task=singapore, actor=cast.engineer2, state="failed", note="SG tax tables did not load")
    itsm.task_report(task=new_york, actor=cab, state="cancelled")
    itsm.rollback_record(change=change, actor=cast.engineer, run_by=cast.engineer, ran_at=timezone.now(),
                         outcome="restored")
    incidents = [services.ticket_create(actor=user, kind="incident", title="Payslips empty after go-live",
                                        service=cast.services["payroll"])
                 for user in (cast.requester, cast.other_requester)]
    for incident in incidents:
        services.ticket_link(source=incident, target=change, type="caused_by", actor=cast.agent1)
    change.refresh_from_db()
    services.ticket_transition(ticket=change, to=Status.RESOLVED, actor=agent,
                               values={"implementation_result": "rolled_back"})
    services.ticket_comment(ticket=change, actor=cab, body="Rolled back at 02:40; PIR on Monday.", internal=True)
    services.ticket_transition(ticket=change, to=Status.CLOSED, actor=cab, values={
        "review_notes": "Berlin cut-over ran before the data sync finished.", "review_cause": "No sync check",
        "review_actions": "Add a sync check to the plan"})

    kinds = list(TicketEvent.objects.filter(ticket=change).values_list("kind", flat=True))
    assert {"created", "link", "status", "comment", "field", "task"} <= set(kinds)
    steps = list(TicketEvent.objects.filter(ticket=change, kind="task").values_list("field", flat=True))
    assert steps == ["added", "added", "added", "handoff", "in_progress", "in_progress", "done", "failed",
                     "cancelled", "rollback"]
    links = api(cast.agent1).get(f"/api/v1/tickets/{change.key}/links/").json()
    assert sorted(row["type"] for row in links) == ["caused_by", "caused_by"]
    assert itsm_selectors.change_rates(user=cab, start=change.created_at, end=timezone.now()).overall.failed == 1
    change.refresh_from_db()
    assert change.implementation_result == "rolled_back" and change.status == Status.CLOSED


def test_a_p1_goes_from_l1_to_a_fix_in_a_release_and_everyone_hears_of_it(cast, api):
    _p1_policy()
    payroll = cast.services["payroll"]
    created = api(cast.requester).post("/api/v1/tickets/", {"kind": "incident", "title": "Net pay is zero",
                                                            "impact": 1, "urgency": 1, "service": payroll.pk},
                                       format="json").json()
    incident = Ticket.objects.get(key=created["key"])
    assert incident.priority == 1 and incident.group == cast.l1

    services.ticket_transition(ticket=incident, to=Status.IN_PROGRESS, actor=cast.agent1)
    services.ticket_assign(ticket=incident, actor=cast.agent1, assignee=cast.agent1)
    services.ticket_escalate(ticket=incident, actor=cast.agent1, note="Payroll calc, not a desk fix")
    services.ticket_escalate(ticket=incident, actor=cast.agent2, note="Looks like the 4.7 rounding change")
    assert incident.group == cast.l3
    assert any(t.pk == incident.pk for t in dev_selectors.l3_queue(user=cast.engineer, team_ids=[cast.l3.pk]))

    assert api(cast.engineer).post(f"/api/v1/tickets/{incident.key}/pick/").status_code == 200
    assert api(cast.engineer2).post(f"/api/v1/tickets/{incident.key}/pick/").status_code == 409
    incident.refresh_from_db()  # picked through the API: this copy is one version behind
    pick = Clock.objects.get(ticket=incident, metric="pick")
    assert pick.state == "met" and not pick.breached

    defect = defect_from_incident(incident=incident, actor=cast.engineer)
    assert Link.objects.filter(source=incident, target=defect, type="fixed_by").exists()
    services.ticket_transition(ticket=defect, to=Status.TRIAGED, actor=cast.engineer)
    services.ticket_transition(ticket=defect, to=Status.IN_PROGRESS, actor=cast.engineer)
    services.ticket_transition(ticket=defect, to=Status.FIXED, actor=cast.engineer,
                               values={"fix_version": "4.8", "resolution_note": "Round half up again"})
    release = release_create(actor=cast.engineer, service=payroll, version="4.8", name="Payroll spring")
    release_add_ticket(release=release, actor=cast.engineer, ticket=defect)
    release_notes_assemble(release=release, actor=cast.engineer, revision=release.revision)
    release_notes_review(release=release, actor=cast.engineer2, revision=release.revision)
    release_uat_sign(release=release, actor=cast.agent2, note="Finance checked net pay with the fix")
    release_publish(release=release, actor=cast.engineer)
    release_ship(release=release, actor=cast.engineer)
    # The requester waiting on the incident heard that the fix shipped.
    assert Notification.objects.filter(recipient=cast.requester, ticket=incident, kind="release",
                                       body__contains="shipped in Payroll 4.8").exists()

    # The desk sees what changed on the service before users call.
    assert [r.version for r in dev_selectors.service_releases(service_id=payroll.pk, now=timezone.now())] == ["4.8"]
    assert TicketEvent.objects.filter(ticket=defect, kind="release", new="4.8").exists()

    services.ticket_comment(ticket=incident, actor=cast.engineer, body="Fixed in Payroll 4.8, shipped today.")
    services.ticket_transition(ticket=incident, to=Status.RESOLVED, actor=cast.engineer,
                               values={"resolution_note": "Fixed by DEF-1 in 4.8."})
    told = Notification.objects.filter(recipient=cast.requester, ticket=incident, kind="update")
    assert told.filter(body__contains="Fixed in Payroll 4.8").exists()
    assert told.filter(body__contains="Fixed by DEF-1 in 4.8.").exists()
    assert api(cast.requester).get(f"/api/v1/tickets/{incident.key}/").json()["status"] == "resolved"
    # The previous owner stayed on as a watcher and heard of the fix too; both hand-offs are on the timeline.
    assert incident.watchers.filter(pk=cast.agent1.pk).exists()
    assert Notification.objects.filter(recipient=cast.agent1, ticket=incident, kind="update").exists()
    assert TicketEvent.objects.filter(ticket=incident, kind="escalation").count() == 2
    resolution = Clock.objects.get(ticket=incident, metric="resolution")
    assert resolution.state == "met" and not resolution.breached


def test_a_breach_while_nobody_watches_is_escalated_and_the_manager_told_once(cast):
    always = Calendar.objects.create(name="24x7", time_zone="UTC", always_open=True)
    Policy.objects.create(name="All", order=1, calendar=always, response_s=60, resolution_s=3600)
    now = timezone.now()
    ticket = services.ticket_create(actor=cast.requester, kind="incident", title="Mail down", now=now,
                                    service=cast.services["payroll"])
    for _ in range(3):  # several sweeps, as several workers or a retry would run them
        sla.clocks_sweep(now=now + timedelta(minutes=5))
    ticket.refresh_from_db()
    assert ticket.group == cast.l2
    assert Notification.objects.filter(recipient=cast.manager, ticket=ticket, kind="breach").count() == 1
    assert TicketEvent.objects.filter(ticket=ticket, kind="escalation").count() == 1


def test_an_end_user_finds_the_answer_in_the_knowledge_base_and_raises_nothing(cast, client):
    published_article(title="Reset your VPN token", body="Open the VPN app and choose *Reset*.")
    found = itsm_selectors.article_search(text="vpn token")
    assert [a.title for a in found] == ["Reset your VPN token"]
    client.force_login(cast.requester)
    page = client.get("/portal/?q=vpn+token")
    assert page.status_code == 200 and b"Reset your VPN token" in page.content
    assert not Ticket.objects.exists()
    assert not selectors.ticket_list(user=cast.requester).exists()
