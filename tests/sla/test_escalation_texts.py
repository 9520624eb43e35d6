"""A batch of escalations renders each notice text once and fills in each ticket (`EscalationTexts`): the same
rows as a render per ticket, in every language and time zone, with and without a group left, an actor, and for the
owner who keeps the ticket or hands it over."""

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from sla.choices import NotificationKind
from sla.services.notifications import EscalationTexts, _Outgoing, _queue, _queue_rendered
from tracker.models import Ticket, User

NOW = datetime(2026, 3, 30, 9, 0, tzinfo=UTC)
KIND = NotificationKind.ESCALATION


def _rows(out: _Outgoing) -> tuple[list, list]:
    notes = [(n.recipient_id, n.kind, n.key, n.title, n.body, n.url) for n in out.notifications]
    mails = [(m.recipient_id, m.key, m.subject, m.body, m.html_body, m.message_id, m.to_address) for m in out.outbox]
    return notes, mails


def _users() -> list[User]:
    return [
        User(pk=1, username="lena", email="lena@example.test", language="en", time_zone="Europe/Berlin"),
        User(pk=2, username="max", first_name="Max", last_name="Müller", email="max@example.test", language="de",
             time_zone="America/New_York"),
        User(pk=3, username="ann", email="ann@example.test", language="", time_zone="Not/AZone"),
        User(pk=4, username="kai", email="", language="de", time_zone="Asia/Kolkata"),
    ]


def _both(texts, *, ticket, users, context) -> tuple[tuple, tuple]:
    """(rows rendered per ticket, rows filled in from the batch's texts)."""
    rendered = _Outgoing()
    _queue(rendered, ticket=ticket, users=users, kind=KIND, now=NOW, key="escalated:7:v2", context=context, prefs={})
    fill = texts.for_notice(KIND, ticket, context, NOW)
    assert fill is not None
    filled = _Outgoing()
    _queue_rendered(filled, ticket=ticket, users=users, kind=KIND, now=NOW, key="escalated:7:v2", context=context,
                    prefs={}, fill=fill)
    return _rows(rendered), _rows(filled)


@pytest.mark.parametrize("with_old_group", [True, False])
@pytest.mark.parametrize("actor", [None, "person"])
@pytest.mark.parametrize("notice", ["members", "owner keeps", "owner hands over"])
@pytest.mark.parametrize("title", ['Payroll <down> & "late" {0} %s', "x" * 260])
def test_batch_notices_are_the_texts_a_render_per_ticket_writes(with_old_group, actor, notice, title):
    users = _users()
    requester = User(pk=9, username="req", first_name="Ré", last_name="<Quester>", role="requester")
    ticket = Ticket(pk=7, key="INC-7", title=title, priority=2, requester=requester, kind="incident")
    old_group = SimpleNamespace(name="Service Desk & L1") if with_old_group else None
    group = SimpleNamespace(name="Applications <L2>")
    context = {"old_group": old_group, "group": group,
               "actor": User(pk=5, username="dana", first_name="Dana", last_name="O'Neil") if actor else None}
    if notice != "members":
        context.update(for_owner=True, handed_over=notice == "owner hands over")
    texts = EscalationTexts()
    for _ in range(2):  # the second ticket of a batch fills in the texts the first one rendered
        rendered, filled = _both(texts, ticket=ticket, users=users, context=context)
        assert filled == rendered
        assert rendered[0] and rendered[1]


def test_tickets_of_one_batch_each_get_their_own_values():
    texts = EscalationTexts()
    users = _users()
    group = SimpleNamespace(name="L2")
    for pk, old in ((7, "L1"), (8, "Hand-over desk"), (9, None)):
        ticket = Ticket(pk=pk, key=f"INC-{pk}", title=f"Title {pk}", priority=pk % 4 + 1,
                        requester=User(pk=20 + pk, username=f"r{pk}"), kind="incident")
        context = {"old_group": SimpleNamespace(name=old) if old else None, "group": group, "actor": None,
                   "for_owner": True, "handed_over": False}
        rendered, filled = _both(texts, ticket=ticket, users=users, context=context)
        assert filled == rendered
        assert f"r{pk}" in rendered[0][0][4]


def test_a_value_with_a_line_break_or_another_context_is_rendered_per_ticket():
    group = SimpleNamespace(name="L2")
    user = User(pk=1, username="lena", email="lena@example.test", time_zone="UTC")
    broken = Ticket(pk=7, key="INC-7", title="two\nlines", priority=2, requester=user, kind="incident")
    plain = Ticket(pk=8, key="INC-8", title="one line", priority=2, requester=user, kind="incident")
    texts = EscalationTexts()
    assert texts.for_notice(KIND, broken, {"old_group": None, "group": group, "actor": None}, NOW) is None
    assert texts.for_notice(KIND, plain, {"group": group, "actor": None, "comment": "x"}, NOW) is None
    assert texts.for_notice(KIND, plain, {"old_group": None, "group": None, "actor": None}, NOW) is None
