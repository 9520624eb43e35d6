"""The sweep applies each warning and breach once: escalation, manager notified, timeline, outbox."""

import gc
import weakref
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone

from sla import services as sla
from sla.choices import NotificationKind
from sla.models import ClockEffect, Notification, OutboxMessage, SweepHeartbeat
from sla.selectors import unread_count
from sla.services import sweep
from tests.sla.conftest import MONDAY_9
from tracker import services
from tracker.choices import EventKind
from tracker.models import TicketEvent


@pytest.fixture
def incident(cast, always, make_policy):
    make_policy(always, response_s=100, resolution_s=1000)
    return services.ticket_create(
        actor=cast.requester,
        kind="incident",
        title="Payroll down",
        now=MONDAY_9,
        service=cast.services["payroll"],
    )


def test_an_idle_sweep_does_nothing_and_stamps_its_heartbeat(incident):
    assert sla.clocks_sweep(now=MONDAY_9 + timedelta(seconds=10)) == 0
    assert SweepHeartbeat.objects.get(pk="sla-sweep").runs == 1


def test_passing_75_percent_warns_the_group_once(incident, cast):
    at = MONDAY_9 + timedelta(seconds=80)
    assert sla.clocks_sweep(now=at) == 1
    assert sla.clocks_sweep(now=at) == 0
    effect = ClockEffect.objects.get()
    assert effect.level == 75 and effect.due_at == MONDAY_9 + timedelta(seconds=75)
    assert list(Notification.objects.values_list("recipient__username", "kind")) == [
        ("lena", NotificationKind.WARNING)
    ]


def test_a_breach_escalates_to_the_next_tier_and_notifies_the_manager_exactly_once(incident, cast):
    at = MONDAY_9 + timedelta(seconds=150)
    # Given the sweep missed the warnings, when it runs late, then only the breach applies.
    assert sla.clocks_sweep(now=at) == 1
    for _ in range(3):
        assert sla.clocks_sweep(now=at + timedelta(seconds=5)) == 0
    incident.refresh_from_db()
    assert incident.group == cast.l2
    effect = ClockEffect.objects.get()
    assert effect.level == 100 and effect.escalated_to == cast.l2
    assert Notification.objects.filter(recipient=cast.manager, kind=NotificationKind.BREACH).count() == 1
    assert unread_count(cast.manager) == 1
    assert TicketEvent.objects.filter(ticket=incident, kind=EventKind.ESCALATION).count() == 1
    assert TicketEvent.objects.filter(ticket=incident, kind=EventKind.SLA, new="breached").count() == 1
    # The L2 group hears about the escalation.
    assert Notification.objects.filter(recipient=cast.agent2, kind=NotificationKind.ESCALATION).count() == 1
    assert OutboxMessage.objects.filter(recipient=cast.manager, kind=NotificationKind.BREACH).count() == 1


@pytest.mark.parametrize("sweeps", [[300], [150, 250]], ids=["one late sweep", "a sweep per breach"])
def test_each_breach_escalates_one_tier_whether_swept_together_or_apart(cast, always, make_policy, sweeps):
    # Given a 100 s response target and a 200 s resolution target, both breached by 300 s.
    make_policy(always, response_s=100, resolution_s=200)
    incident = services.ticket_create(actor=cast.requester, kind="incident", title="Payroll down", now=MONDAY_9,
                                      service=cast.services["payroll"])
    for seconds in sweeps:
        sla.clocks_sweep(now=MONDAY_9 + timedelta(seconds=seconds))
    incident.refresh_from_db()
    assert incident.group == cast.l3
    assert list(ClockEffect.objects.filter(level=100).order_by("due_at").values_list("escalated_to", flat=True)) == [
        cast.l2.pk, cast.l3.pk]
    assert TicketEvent.objects.filter(ticket=incident, kind=EventKind.ESCALATION).count() == 2


@pytest.mark.parametrize("sweeps", [[150], [70, 150]], ids=["one late sweep", "a sweep per breach"])
def test_a_pick_target_of_a_tier_the_ticket_already_left_does_not_escalate_it_again(
    cast, always, make_policy, sweeps
):
    # Given a 60 s response target and a 100 s L1 pick target: the response breach moves the ticket to L2 first.
    make_policy(always, response_s=60, resolution_s=3600, tiers={1: 100})
    ticket = services.ticket_create(actor=cast.requester, kind="incident", title="Payroll down", now=MONDAY_9,
                                    service=cast.services["payroll"])
    for seconds in sweeps:
        sla.clocks_sweep(now=MONDAY_9 + timedelta(seconds=seconds))
    ticket.refresh_from_db()
    assert ticket.group == cast.l2
    assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.ESCALATION).count() == 1


def test_a_breach_at_the_last_tier_is_recorded_instead_of_failing(cast, always, make_policy):
    make_policy(always, response_s=60)
    ticket = services.ticket_create(
        actor=cast.agent2, kind="incident", title="Ledger", now=MONDAY_9, group=cast.l3
    )
    assert sla.clocks_sweep(now=MONDAY_9 + timedelta(minutes=2)) == 1
    ticket.refresh_from_db()
    assert ticket.group == cast.l3
    assert "last tier" in ClockEffect.objects.get().note
    assert TicketEvent.objects.filter(ticket=ticket, note__contains="no functional escalation").exists()


def test_a_ticket_picked_in_time_is_never_escalated(incident, cast):
    services.ticket_comment(
        ticket=incident, actor=cast.agent1, body="On it", now=MONDAY_9 + timedelta(seconds=30)
    )
    assert sla.clocks_sweep(now=MONDAY_9 + timedelta(seconds=200)) == 0
    incident.refresh_from_db()
    assert incident.group == cast.l1


def test_an_l3_pick_target_breach_notifies_the_teams_manager(cast, always, make_policy):
    make_policy(always, response_s=None, resolution_s=None, tiers={3: 60}, functional_escalation=False)
    ticket = services.ticket_create(
        actor=cast.agent2, kind="incident", title="Ledger", now=MONDAY_9, group=cast.l3
    )
    assert sla.clocks_sweep(now=MONDAY_9 + timedelta(seconds=61)) == 1
    assert (
        Notification.objects.filter(
            recipient=cast.manager, kind=NotificationKind.BREACH, title__contains="L3 pick"
        ).count()
        == 1
    )
    assert ticket.sla_clocks.get().breached


def test_the_outbox_sends_each_email_once_with_a_stable_message_id(incident, cast, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    sla.clocks_sweep(now=MONDAY_9 + timedelta(seconds=150))
    queued = OutboxMessage.objects.count()
    assert queued >= 2  # the manager's breach mail and the L2 escalation mail
    assert sla.outbox_deliver(now=MONDAY_9 + timedelta(seconds=151)) == queued
    assert sla.outbox_deliver(now=MONDAY_9 + timedelta(seconds=152)) == 0
    assert len(mail.outbox) == queued
    manager_mail = next(m for m in mail.outbox if m.to == ["maria@example.test"])
    assert (
        manager_mail.extra_headers["Message-ID"]
        == OutboxMessage.objects.get(recipient=cast.manager).message_id
    )
    assert "breached" in manager_mail.subject


def test_a_failing_mail_server_keeps_the_message_queued_with_back_off(incident, settings, monkeypatch):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    sla.clocks_sweep(now=MONDAY_9 + timedelta(seconds=150))

    def refuse(self, *args, **kwargs):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    assert sla.outbox_deliver(now=MONDAY_9 + timedelta(seconds=151)) == 0
    pending = OutboxMessage.objects.filter(sent_at__isnull=True)
    assert pending.count() == OutboxMessage.objects.count()
    assert all(m.attempts == 1 and "smtp down" in m.last_error for m in pending)
    assert pending.first().available_at > MONDAY_9 + timedelta(seconds=151)


def test_a_user_who_turned_breach_email_off_gets_only_the_bell(incident, cast):
    sla.preference_set(user=cast.manager, kind=NotificationKind.BREACH, email=False)
    sla.clocks_sweep(now=MONDAY_9 + timedelta(seconds=150))
    assert Notification.objects.filter(recipient=cast.manager).count() == 1
    assert not OutboxMessage.objects.filter(recipient=cast.manager).exists()


def test_marking_notifications_read_clears_the_bell(incident, cast):
    sla.clocks_sweep(now=MONDAY_9 + timedelta(seconds=150))
    assert unread_count(cast.manager) == 1
    assert sla.notification_mark_read(user=cast.manager) == 1
    assert unread_count(cast.manager) == 0


def test_assigning_a_ticket_notifies_the_new_assignee(incident, cast):
    services.ticket_assign(ticket=incident, actor=cast.agent1, assignee=cast.agent2, take_over=True, now=MONDAY_9)
    note = Notification.objects.get(recipient=cast.agent2, kind=NotificationKind.ASSIGNMENT)
    assert note.url == f"/tickets/{incident.key}/" and incident.key in note.title


def test_a_warning_names_the_due_time_in_each_recipients_zone(incident, cast):
    cast.manager.time_zone = "Asia/Tokyo"
    cast.manager.save(update_fields=["time_zone"])
    cast.l1.members.add(cast.manager)
    assert sla.clocks_sweep(now=MONDAY_9 + timedelta(seconds=80)) == 1
    due = MONDAY_9 + timedelta(seconds=100)  # the test policy's 100 s response target
    bodies = dict(Notification.objects.values_list("recipient__username", "body"))
    tokyo = timezone.localtime(due, ZoneInfo("Asia/Tokyo"))
    assert f"{tokyo:%H:%M} JST" in bodies["maria"]
    assert f"{due:%H:%M} UTC" in bodies["lena"]


def _watch_collector(monkeypatch, *, fail_first: bool = False) -> list:
    """Record whether the garbage collector is on each time a batch's effects are applied."""
    seen = []
    apply_due = sweep._apply_due

    def watching(clocks, now):
        seen.append(gc.isenabled())
        if fail_first and len(seen) == 1:
            raise RuntimeError("a batch that fails")
        return apply_due(clocks, now)

    monkeypatch.setattr(sweep, "_apply_due", watching)
    return seen


def test_the_garbage_collector_is_off_while_a_batch_is_applied_and_on_again_after(incident, monkeypatch):
    seen = _watch_collector(monkeypatch)
    assert sla.clocks_sweep(now=MONDAY_9 + timedelta(seconds=80)) == 1
    assert seen == [False] and gc.isenabled()


def test_a_failing_batch_turns_the_garbage_collector_back_on(incident, monkeypatch):
    seen = _watch_collector(monkeypatch, fail_first=True)
    sla.clocks_sweep(now=MONDAY_9 + timedelta(seconds=80))  # the batch fails, its clocks are redone one by one
    assert seen[0] is False and gc.isenabled()
    assert ClockEffect.objects.count() == 1


def test_a_sweep_leaves_a_garbage_collector_that_was_off_off(incident, monkeypatch):
    seen = _watch_collector(monkeypatch)
    gc.disable()
    try:
        assert sla.clocks_sweep(now=MONDAY_9 + timedelta(seconds=80)) == 1
        assert seen == [False] and not gc.isenabled()
    finally:
        gc.enable()


def test_a_batchs_clocks_are_freed_before_the_garbage_collector_is_back(incident, monkeypatch):
    refs = []
    apply_due = sweep._apply_due

    def watching(clocks, now):
        refs.extend(weakref.ref(clock) for clock in clocks)
        return apply_due(clocks, now)

    alive_when_enabled = []
    enable = gc.enable

    def enabling():
        alive_when_enabled.append(sum(ref() is not None for ref in refs))
        enable()

    monkeypatch.setattr(sweep, "_apply_due", watching)
    monkeypatch.setattr(gc, "enable", enabling)
    assert sla.clocks_sweep(now=MONDAY_9 + timedelta(seconds=80)) == 1
    assert len(refs) == 1 and alive_when_enabled == [0]


def test_a_pool_process_compiles_the_sweeps_notice_templates_as_it_starts():
    from celery.signals import worker_process_init

    from sla import notifications, tasks

    receivers = [ref() if isinstance(ref, weakref.ref) else ref for _, ref in worker_process_init.receivers]
    assert tasks._sweep_warm_up in receivers
    notifications._template.cache_clear()
    notifications._layout.cache_clear()
    tasks._sweep_warm_up(sender=None)
    assert notifications._template.cache_info().currsize == 2  # the breach and the warning
    assert notifications._layout.cache_info().currsize == 1
