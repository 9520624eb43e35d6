"""Swarming and work logs: who may invite whom, joining, helping, leaving, the timeline, followers, the
"Swarming" view, and the time logged on a ticket."""
from datetime import timedelta

import pytest
from django.utils import timezone

from sla.models import Notification
from tests.factories import GroupFactory, UserFactory
from tracker import selectors, services
from tracker.choices import EventKind, Role, Status, Tier
from tracker.errors import AccessDenied, Conflict, TransitionRefused, ValidationFailed
from tracker.models import Contributor, TicketEvent, WorkLog


@pytest.fixture
def swarm(cast):
    """App Support (L2) swarms; an incident is with it, held by liam."""
    cast.l2.swarming = True
    cast.l2.save()
    ticket = services.ticket_create(actor=cast.agent2, kind="incident", title="Payslips show last month",
                                    requester=cast.requester, service=cast.services["payroll"], group=cast.l2)
    services.ticket_assign(ticket=ticket, actor=cast.agent2, assignee=cast.agent2)
    return ticket


def _swarming_keys(user):
    view = selectors.saved_view("swarming")
    return set(selectors.queue(user=user, view=view).values_list("key", flat=True))


def test_a_member_of_a_swarming_team_invites_an_expert_without_handing_the_ticket_over(cast, swarm):
    contributor = services.contributor_invite(ticket=swarm, actor=cast.agent2, user=cast.engineer,
                                              note="Knows the payslip batch")
    swarm.refresh_from_db()
    assert (swarm.group, swarm.assignee) == (cast.l2, cast.agent2)  # no hand-off
    assert contributor.invited_by == cast.agent2 and contributor.left_at is None
    event = TicketEvent.objects.get(ticket=swarm, kind=EventKind.SWARM)
    assert (event.field, event.new, event.note) == ("invited", cast.engineer.display_name, "Knows the payslip batch")


def test_inviting_in_a_team_that_does_not_swarm_is_refused(cast):
    ticket = services.ticket_create(actor=cast.agent2, kind="incident", title="Slow", group=cast.l2)
    with pytest.raises(Conflict, match="does not swarm"):
        services.contributor_invite(ticket=ticket, actor=cast.agent2, user=cast.engineer)
    assert not Contributor.objects.exists()


def test_only_the_team_its_manager_or_managers_may_invite(cast, swarm):
    with pytest.raises(AccessDenied, match="Only members of App Support"):
        services.contributor_invite(ticket=swarm, actor=cast.agent1, user=cast.engineer)
    services.contributor_invite(ticket=swarm, actor=cast.manager, user=cast.engineer)  # the group's manager
    services.contributor_invite(ticket=swarm, actor=cast.admin, group=cast.l3)


def test_inviting_the_same_person_twice_is_a_conflict_naming_them(cast, swarm):
    services.contributor_invite(ticket=swarm, actor=cast.agent2, user=cast.engineer)
    with pytest.raises(Conflict, match="devon is already contributing"):
        services.contributor_invite(ticket=swarm, actor=cast.agent2, user=cast.engineer)
    services.contributor_invite(ticket=swarm, actor=cast.agent2, group=cast.l3)
    with pytest.raises(Conflict, match="Payroll Dev is already contributing"):
        services.contributor_invite(ticket=swarm, actor=cast.agent2, group=cast.l3)


def test_invitees_must_be_active_staff_and_not_the_assignee(cast, swarm):
    with pytest.raises(ValidationFailed, match="not an active agent"):
        services.contributor_invite(ticket=swarm, actor=cast.agent2, user=cast.requester)
    gone = UserFactory(username="gone", role=Role.ENGINEER_L3, is_active=False)
    with pytest.raises(ValidationFailed, match="not an active agent"):
        services.contributor_invite(ticket=swarm, actor=cast.agent2, user=gone)
    with pytest.raises(ValidationFailed, match="already works"):
        services.contributor_invite(ticket=swarm, actor=cast.agent2, user=cast.agent2)
    with pytest.raises(ValidationFailed, match="already with App Support"):
        services.contributor_invite(ticket=swarm, actor=cast.agent2, group=cast.l2)
    with pytest.raises(ValidationFailed, match="either a person or a group"):
        services.contributor_invite(ticket=swarm, actor=cast.agent2, user=cast.engineer, group=cast.l3)


def test_a_resolved_ticket_takes_no_new_contributors(cast, swarm):
    services.ticket_transition(ticket=swarm, to=Status.IN_PROGRESS, actor=cast.agent2)
    services.ticket_transition(ticket=swarm, to=Status.RESOLVED, actor=cast.agent2,
                               values={"resolution_note": "Batch re-run"})
    with pytest.raises(TransitionRefused, match="reopen it"):
        services.contributor_invite(ticket=swarm, actor=cast.agent2, user=cast.engineer)


def test_a_contributor_comments_records_help_logs_work_and_leaves_all_on_the_timeline(cast, swarm):
    contributor = services.contributor_invite(ticket=swarm, actor=cast.agent2, user=cast.engineer)
    services.ticket_comment(ticket=swarm, actor=cast.engineer, body="Looking at the batch log", internal=True)
    services.contribution_record(ticket=swarm, actor=cast.engineer, note="Found the stuck batch job", minutes=45)
    services.worklog_add(ticket=swarm, actor=cast.engineer, minutes=30, note="Re-ran it")
    services.contributor_leave(contributor=contributor, actor=cast.engineer, note="Done here")
    steps = list(TicketEvent.objects.filter(ticket=swarm, kind__in=(EventKind.SWARM, EventKind.WORK))
                 .values_list("kind", "field", "note"))
    assert steps == [
        ("swarm", "invited", ""),
        ("work", "minutes", "Found the stuck batch job"),
        ("swarm", "helped", "Found the stuck batch job"),
        ("work", "minutes", "Re-ran it"),
        ("swarm", "left", "Done here"),
    ]
    logs = list(WorkLog.objects.filter(ticket=swarm).values_list("user__username", "minutes", "group__name"))
    assert logs == [("devon", 45, "Payroll Dev"), ("devon", 30, "Payroll Dev")]  # devon's own team
    contributor.refresh_from_db()
    assert contributor.left_at is not None
    with pytest.raises(Conflict, match="already left"):
        services.contributor_leave(contributor=contributor, actor=cast.engineer)
    with pytest.raises(AccessDenied, match="not contributing"):
        services.contribution_record(ticket=swarm, actor=cast.engineer, note="more")


def test_recording_help_needs_a_note(cast, swarm):
    services.contributor_invite(ticket=swarm, actor=cast.agent2, user=cast.engineer)
    with pytest.raises(ValidationFailed, match="Say what you did"):
        services.contribution_record(ticket=swarm, actor=cast.engineer, note="  ")


def test_a_group_contribution_is_left_by_a_member_or_the_inviter_not_by_others(cast, swarm):
    contribution = services.contributor_invite(ticket=swarm, actor=cast.agent2, group=cast.l3)
    with pytest.raises(AccessDenied):
        services.contributor_leave(contributor=contribution, actor=cast.agent1)
    services.contribution_record(ticket=swarm, actor=cast.engineer2, note="Checked the payroll export")
    services.contributor_leave(contributor=contribution, actor=cast.engineer2)
    again = services.contributor_invite(ticket=swarm, actor=cast.agent2, group=cast.l3)  # after leaving: again
    services.contributor_leave(contributor=again, actor=cast.agent2)  # the inviter


def test_someone_else_cannot_end_a_persons_contribution_unless_they_may_invite(cast, swarm):
    contributor = services.contributor_invite(ticket=swarm, actor=cast.agent2, user=cast.engineer)
    with pytest.raises(AccessDenied, match="Only Devon|Only devon"):
        services.contributor_leave(contributor=contributor, actor=cast.engineer2)
    services.contributor_leave(contributor=contributor, actor=cast.manager)


@pytest.mark.parametrize("minutes, message", [(0, "at least one minute"), (-5, "at least one minute"),
                                              (24 * 60 + 1, "at most 24 hours")])
def test_work_logs_outside_1_minute_to_24_hours_are_refused(cast, swarm, minutes, message):
    with pytest.raises(ValidationFailed, match=message):
        services.worklog_add(ticket=swarm, actor=cast.agent2, minutes=minutes)
    assert not WorkLog.objects.exists()


def test_work_cannot_be_logged_in_the_future_and_requesters_log_none(cast, swarm):
    with pytest.raises(ValidationFailed, match="future"):
        services.worklog_add(ticket=swarm, actor=cast.agent2, minutes=10,
                             worked_at=timezone.now() + timedelta(hours=2))
    with pytest.raises(AccessDenied):
        services.worklog_add(ticket=swarm, actor=cast.requester, minutes=10)


def test_the_time_counts_for_the_tickets_group_then_the_contributing_group_then_the_first_group(cast, swarm):
    other = GroupFactory(name="Web Dev", tier=Tier.L3)
    cast.engineer2.assignment_groups.add(other)  # dana: Payroll Dev and Web Dev
    services.contributor_invite(ticket=swarm, actor=cast.agent2, group=other)
    services.worklog_add(ticket=swarm, actor=cast.agent2, minutes=5)  # liam is in App Support, the ticket's group
    services.worklog_add(ticket=swarm, actor=cast.engineer2, minutes=6)  # through Web Dev, not Payroll Dev
    services.worklog_add(ticket=swarm, actor=cast.engineer, minutes=7)  # devon's first group
    services.worklog_add(ticket=swarm, actor=cast.change_manager, minutes=8)  # no group at all
    logs = list(WorkLog.objects.order_by("minutes").values_list("minutes", "group__name"))
    assert logs == [(5, "App Support"), (6, "Web Dev"), (7, "Payroll Dev"), (8, None)]


def test_contributors_hear_of_updates_and_invitees_are_asked_in(cast, swarm):
    services.contributor_invite(ticket=swarm, actor=cast.agent2, user=cast.engineer, note="batch")
    services.contributor_invite(ticket=swarm, actor=cast.agent2, group=cast.l3)
    asked = Notification.objects.filter(kind="assignment", title__contains="Your help is asked")
    assert sorted(asked.values_list("recipient__username", flat=True)) == ["dana", "devon"]  # devon once
    Notification.objects.all().delete()
    services.ticket_comment(ticket=swarm, actor=cast.agent2, body="Public reply", internal=False)
    services.ticket_comment(ticket=swarm, actor=cast.agent2, body="Internal note", internal=True)
    got = Notification.objects.values_list("recipient__username", "body")
    public = sorted(u for u, body in got if "Public reply" in body)
    internal = sorted(u for u, body in got if "Internal note" in body)
    assert public == ["alice", "dana", "devon"]  # the requester, the contributor and the group's members
    assert internal == ["dana", "devon"]  # never the requester
    Notification.objects.all().delete()
    services.contribution_record(ticket=swarm, actor=cast.engineer, note="Found it")
    assert sorted(Notification.objects.values_list("recipient__username", flat=True)) == ["dana", "liam"]


def test_the_swarming_view_lists_my_contributions_not_a_non_contributing_engineer(cast, swarm):
    outsider = UserFactory(username="olga", role=Role.ENGINEER_L3)
    GroupFactory(name="Web Dev", tier=Tier.L3).members.add(outsider)
    services.contributor_invite(ticket=swarm, actor=cast.agent2, user=cast.engineer)
    assert _swarming_keys(cast.engineer) == {swarm.key}
    assert _swarming_keys(outsider) == set()
    assert _swarming_keys(cast.engineer2) == set()  # devon's teammate, not invited
    services.contributor_invite(ticket=swarm, actor=cast.agent2, group=cast.l3)
    assert _swarming_keys(cast.engineer2) == {swarm.key}  # through Payroll Dev
    shown = selectors.ticket_contributors(ticket=swarm, user=outsider)
    assert outsider not in [c.user for c in shown]
    services.contributor_leave(contributor=shown[0], actor=cast.engineer)
    assert _swarming_keys(cast.engineer) == {swarm.key}  # still on it through Payroll Dev
    services.contributor_leave(contributor=shown[1], actor=cast.engineer2)
    assert _swarming_keys(cast.engineer) == _swarming_keys(cast.engineer2) == set()
