"""The demo's mail: two intake mailboxes and mail filed through the intake, once, whatever the seed replays."""
from types import SimpleNamespace

import pytest

from sla.choices import InboundOutcome
from sla.demo import demo_mail
from sla.models import InboundMail, Mailbox
from tracker.choices import EventKind, Kind, Tier
from tracker.models import AssignmentGroup, Comment, TicketEvent, User

DEMO_HISTORY = 10


@pytest.fixture
def demo(seeded_demo, db):
    return seeded_demo


def test_the_demo_shows_mail_filed_held_quarantined_and_ignored(demo):
    boxes = dict(Mailbox.objects.values_list("address", "kind"))
    assert boxes == {"servicedesk@crossline.example": Kind.INCIDENT, "requests@crossline.example": Kind.REQUEST}
    assert not Mailbox.objects.exclude(imap_host="").exists()
    outcomes = sorted(InboundMail.objects.values_list("outcome", flat=True))
    assert outcomes == sorted([InboundOutcome.CREATED] * 3 + [InboundOutcome.REPLIED, InboundOutcome.HELD,
                                                              InboundOutcome.QUARANTINED, InboundOutcome.IGNORED])
    nora = User.objects.get(email="nora.field@northwind-logistics.example")
    assert nora.first_name == "Nora" and not nora.has_usable_password()
    request = InboundMail.objects.get(mailbox__address="requests@crossline.example").ticket
    assert request.kind == Kind.REQUEST
    reply = InboundMail.objects.get(outcome=InboundOutcome.REPLIED)
    assert Comment.objects.get(pk=reply.comment_id).body.startswith("Update: it works with the HDMI cable")
    held = InboundMail.objects.get(outcome=InboundOutcome.HELD)
    assert held.ticket == reply.ticket and bytes(held.raw)
    assert TicketEvent.objects.filter(ticket=held.ticket, kind=EventKind.MAIL, internal=True).exists()


def test_the_demo_mail_is_filed_once_when_played_again(demo):
    before = InboundMail.objects.count()
    ctx = SimpleNamespace(now=demo, users={u.username: u for u in User.objects.filter(username__in=["alice", "bob"])},
                          l1=AssignmentGroup.objects.filter(tier=Tier.L1).first())
    demo_mail(ctx)
    assert InboundMail.objects.count() == before and Mailbox.objects.count() == 2
