"""A sweep batch renders each clock notification text once and fills in each ticket: the same rows as a render
per ticket, in every wording, language and time zone."""

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from sla.choices import NotificationKind
from sla.services.notifications import ClockTexts, _Outgoing, _queue
from tracker.models import Ticket, User

NOW = datetime(2026, 3, 30, 9, 0, tzinfo=UTC)


def _rows(out: _Outgoing) -> tuple[list, list]:
    notes = [(n.recipient_id, n.kind, n.key, n.title, n.body, n.url) for n in out.notifications]
    mails = [(m.recipient_id, m.key, m.subject, m.body, m.html_body, m.message_id, m.to_address) for m in out.outbox]
    return notes, mails


def _queued(texts, *, ticket, users, kind, context):
    out = _Outgoing()
    _queue(out, ticket=ticket, users=users, kind=kind, now=NOW, key=f"clock1:L{context['level']}", context=context,
           prefs={}, texts=texts)
    return _rows(out)


@pytest.mark.parametrize("kind,level", [(NotificationKind.WARNING, 75), (NotificationKind.BREACH, 100)])
@pytest.mark.parametrize("escalates", [True, False])
@pytest.mark.parametrize("with_group", [True, False])
@pytest.mark.parametrize("title", ['Payroll <down> & "late"', "x" * 260])
def test_batch_texts_are_the_texts_a_render_per_ticket_writes(kind, level, escalates, with_group, title):
    users = [
        User(pk=1, username="lena", email="lena@example.test", language="en", time_zone="Europe/Berlin"),
        User(pk=2, username="max", email="max@example.test", language="de", time_zone="America/New_York"),
        User(pk=3, username="ann", email="ann@example.test", language="", time_zone="Not/AZone"),
        User(pk=4, username="req", email="req@example.test", language="de", time_zone="Asia/Kolkata",
             role="requester"),
    ]
    ticket = Ticket(pk=7, key="INC-7", title=title, priority=2, requester=users[3], kind="incident")
    clock = SimpleNamespace(policy=SimpleNamespace(functional_escalation=escalates))
    group = SimpleNamespace(name="Service Desk & L1") if with_group else None
    texts = ClockTexts()
    for due_at in (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), datetime(2026, 7, 1, 23, 59, 59, tzinfo=UTC)):
        context = {"clock": clock, "label": "Resolution", "level": level, "group": group, "due_at": due_at}
        rendered = _queued(None, ticket=ticket, users=users, kind=kind, context=context)
        assert _queued(texts, ticket=ticket, users=users, kind=kind, context=context) == rendered
        assert rendered[0] and rendered[1]


def test_a_title_with_a_line_break_is_rendered_as_such():
    user = User(pk=1, username="lena", email="lena@example.test", time_zone="UTC")
    ticket = Ticket(pk=7, key="INC-7", title="two\nlines", priority=2, requester=user, kind="incident")
    context = {"clock": SimpleNamespace(policy=SimpleNamespace(functional_escalation=False)), "label": "Response",
               "level": 100, "group": None, "due_at": NOW}
    assert ClockTexts().for_clock(NotificationKind.BREACH, ticket, context, NOW) is None


def test_plain_rows_are_written_as_bulk_create_writes_them_and_a_repeat_is_skipped(cast):
    from sla.models import Notification
    from tracker.inserts import insert_rows

    def rows(title):
        return [Notification(recipient=user, ticket=None, kind=NotificationKind.BREACH, key=f"k{user.pk}",
                             title=title, body="b\tody\\ with \"quotes\"\nand lines", url="", created_at=NOW)
                for user in (cast.agent1, cast.manager)]

    insert_rows(rows("first"))
    insert_rows(rows("again"), ignore_conflicts=True)  # the same keys: nothing new, nothing changed
    insert_rows([], ignore_conflicts=True)
    assert sorted(Notification.objects.values_list("recipient", "key", "title", "body", "read_at", "created_at")) == [
        (u.pk, f"k{u.pk}", "first", "b\tody\\ with \"quotes\"\nand lines", None, NOW)
        for u in sorted((cast.agent1, cast.manager), key=lambda u: u.pk)]
