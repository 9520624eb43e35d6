"""Inbound mail: one raw message filed as a new ticket, or as a reply on the ticket it answers, exactly once.

`mail_receive(raw, mailbox=...)` is the one entry point: the IMAP poll, the Maildir / .eml import and a
retry from the quarantine list all call it. Its `InboundMail` row is inserted first, in the same transaction
as the ticket or comment it files, under a unique key (the normalised Message-ID, or a digest of the raw
bytes when there is none): a message read twice, or again after a crash half-way, is filed once, and the
second reader gets the first one's row back.

A reply finds its ticket by `In-Reply-To` / `References` (a Message-ID we sent, or one we received on that
ticket), then by the key in the subject (`[INC-42]`). It lands as its sender's public comment only when the
sender takes part in the ticket; anyone else's is held for review. Mail never runs commands: it cannot change
a ticket's status, fields or people (beyond what the requester's own reply does in the portal).
"""

import email
import email.policy
import hashlib
import re
from datetime import datetime
from email.message import EmailMessage
from email.utils import parseaddr

from django.db import IntegrityError, transaction
from django.utils import timezone

from tracker import access
from tracker.choices import Kind, Role
from tracker.errors import DomainError
from tracker.models import Ticket, User
from tracker.services import ticket_comment, ticket_create

from ..choices import InboundOutcome
from ..models import InboundMail, Mailbox, OutboxMessage

KEY_IN_SUBJECT = re.compile(r"\[([A-Z]{2,6}-\d{1,12})\]")
_ANGLE_IDS = re.compile(r"<([^<>\s]+)>")


def normalise_message_id(value: str) -> str:
    """`<Abc@Host>` -> `abc@host`: how Message-IDs are compared and stored as keys."""
    value = (value or "").strip()
    found = _ANGLE_IDS.search(value)
    return (found.group(1) if found else value.strip("<> ")).lower()[:250]


def _thread_ids(msg: EmailMessage) -> list[str]:
    """The Message-IDs a reply names, nearest first: In-Reply-To, then References from the newest."""
    ids = _ANGLE_IDS.findall(str(msg.get("In-Reply-To", "") or ""))
    ids += reversed(_ANGLE_IDS.findall(str(msg.get("References", "") or "")))
    seen, out = set(), []
    for value in ids:
        key = value.lower()
        if key not in seen:
            seen.add(key)
            out.append(key)
    return out


def _message_key(msg: EmailMessage | None, raw: bytes) -> str:
    message_id = normalise_message_id(str(msg.get("Message-ID", "") or "")) if msg is not None else ""
    return message_id or f"sha256:{hashlib.sha256(raw).hexdigest()}"


def _sender(msg: EmailMessage) -> tuple[str, str]:
    """(display name, lower-cased address) of the From header."""
    name, address = parseaddr(str(msg.get("From", "") or ""))
    return name.strip(), address.strip().lower()


def thread_ticket(msg: EmailMessage) -> Ticket | None:
    """The ticket a mail answers: by the Message-IDs it names (ours or ones we received), then by `[KEY]`."""
    ids = _thread_ids(msg)
    if ids:
        wrapped = [f"<{value}>" for value in ids]
        sent = dict(OutboxMessage.objects.filter(message_id__in=wrapped, ticket__isnull=False)
                    .values_list("message_id", "ticket_id"))
        received = dict(InboundMail.objects.filter(message_key__in=ids, ticket__isnull=False)
                        .values_list("message_key", "ticket_id"))
        for value in ids:
            ticket_id = sent.get(f"<{value}>") or received.get(value)
            if ticket_id:
                return Ticket.objects.filter(pk=ticket_id).first()
    found = KEY_IN_SUBJECT.search(str(msg.get("Subject", "") or ""))
    if found:
        return Ticket.objects.filter(key=found.group(1)).first()
    return None


def is_participant(user: User | None, ticket: Ticket) -> bool:
    """Whether mail from `user` may speak on `ticket`: its requester, or staff on it (assignee, owner, watcher,
    contributor, or a member of its group)."""
    if user is None or not user.is_active:
        return False
    if ticket.requester_id == user.pk:
        return True
    if not access.is_staff_member(user):
        return False
    if user.pk in (ticket.assignee_id, ticket.owner_id):
        return True
    if ticket.watchers.filter(pk=user.pk).exists() or ticket.contributors.filter(user=user).exists():
        return True
    return ticket.group_id is not None and user.assignment_groups.filter(pk=ticket.group_id).exists()


def requester_for(address: str, name: str = "") -> User:
    """The person a mail is from: matched by address (case-insensitive), or a new requester account that can
    sign in once a password is set (a reset mail, or an administrator)."""
    user = User.objects.filter(email__iexact=address).order_by("pk").first()
    if user is not None:
        return user
    username, n = address[:150], 1
    while User.objects.filter(username=username).exists():
        n += 1
        username = f"{address[:140]}.{n}"
    first, _, last = name.partition(" ")
    user = User(username=username, email=address, role=Role.REQUESTER, first_name=first[:150], last_name=last[:150])
    user.set_unusable_password()
    user.save()
    return user


def _text(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    return str(part.get_content() or "").strip()


def _file(row: InboundMail, msg: EmailMessage, mailbox: Mailbox | None, now: datetime) -> None:
    """File a parsed message: a reply onto its ticket, or a new ticket; sets the row's outcome."""
    name, address = _sender(msg)
    subject = str(msg.get("Subject", "") or "").strip()
    body = _text(msg)
    ticket = thread_ticket(msg)
    if ticket is not None:
        author = User.objects.filter(email__iexact=address).order_by("pk").first()
        if not is_participant(author, ticket):
            row.outcome, row.ticket = InboundOutcome.HELD, ticket
            row.reason = f"{address} is not on {ticket.key}: held for review."
            return
        comment = ticket_comment(ticket=ticket, actor=author, body=body or "(empty message)", now=now)
        row.outcome, row.ticket, row.comment = InboundOutcome.REPLIED, ticket, comment
        return
    requester = requester_for(address, name)
    ticket = ticket_create(
        actor=requester, kind=mailbox.kind if mailbox else Kind.INCIDENT, title=(subject or "(no subject)")[:200],
        description=body, now=now,
        service=mailbox.service if mailbox else None,
        route_to=mailbox.group if mailbox else None,
    )
    row.outcome, row.ticket = InboundOutcome.CREATED, ticket


def mail_receive(raw: bytes, *, mailbox: Mailbox | None = None, now: datetime | None = None) -> InboundMail:
    """File one raw message; returns its `InboundMail` row (the first reader's, when it was filed already)."""
    now = now or timezone.now()
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
    except Exception:  # a message the parser cannot read at all
        msg = None
    key = _message_key(msg, raw)
    done = InboundMail.objects.filter(message_key=key).first()
    if done is not None:
        return done
    name, address = _sender(msg) if msg is not None else ("", "")
    row = InboundMail(message_key=key, message_id=str(msg.get("Message-ID", "") or "")[:250] if msg else "",
                      mailbox=mailbox, from_address=address[:254], subject=str(msg.get("Subject", "") or "")[:250]
                      if msg else "", size=len(raw), received_at=now, outcome=InboundOutcome.QUARANTINED)
    with transaction.atomic():
        try:
            with transaction.atomic():
                row.save()  # the claim: a second reader of the same message waits here, then finds it taken
        except IntegrityError:
            return InboundMail.objects.get(message_key=key)
        try:
            with transaction.atomic():
                if msg is None or not address:
                    raise DomainError("The message has no sender address to answer.")
                _file(row, msg, mailbox, now)
        except DomainError as exc:
            row.outcome, row.reason = InboundOutcome.QUARANTINED, str(exc)
        if row.outcome in (InboundOutcome.HELD, InboundOutcome.QUARANTINED):
            row.raw = raw
        row.save()
    return row
