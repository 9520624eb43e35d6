"""Inbound mail: one raw message filed as a new ticket, or as a reply on the ticket it answers, exactly once.

`mail_receive(raw, mailbox=...)` is the one entry point: the IMAP poll, the Maildir / .eml import
(`mail_import`) and a retry from the quarantine list all file through it. Its `InboundMail` row is inserted
first, in the same transaction as the ticket or comment it files, under a unique key (the normalised
Message-ID, or a digest of the raw bytes when there is none): a message read twice, or again after a crash
half-way, is filed once, and the second reader gets the first one's row back.

What becomes of a mail (`InboundOutcome`):
- IGNORED, and nobody is answered: an auto-reply (`Auto-Submitted` other than `no`, `X-Autoreply`,
  `X-Autorespond`, `Precedence: bulk|junk|list`, a list mail with a `Precedence`), a bounce (a delivery
  status report, a `MAILER-DAEMON` / `postmaster` sender, an empty `Return-Path`), a loop (a Message-ID we
  sent, a From that is one of our own addresses, an `X-Crossline-Ticket` header on mail from our own domain),
  or a sender past `CROSSLINE_MAIL_RATE_PER_HOUR` mails in the last hour.
- QUARANTINED, raw kept: larger than `CROSSLINE_MAIL_MAX_BYTES`, without a sender address, or unreadable.
- HELD, raw kept: a reply from someone who is not on its ticket (an internal timeline row on the ticket says
  so); mail from a staff address whose receiving server did not verify it (the topmost
  `Authentication-Results`: `dmarc=pass`, `dkim=pass` for the From domain, or `spf=pass` for it); a new
  mail from a deactivated account.
- REPLIED: a reply (by `In-Reply-To` / `References` naming a Message-ID we sent or received on a ticket, then
  by the key in the subject, `[INC-42]`) lands as its sender's public comment, trimmed to what they wrote.
- CREATED: anything else raises a ticket of the mailbox's kind from its sender (a new requester account for
  an unknown address), with its whole body.
Files of the mail are stored on the new ticket or on the reply's comment; one the limits refuse is named
in the text ("big.iso was not attached: ...") and the mail is filed without it.

Mail never runs commands: no status, field, assignment or people change is made by mail, whatever its
subject or body says. The only change beyond the comment itself is what `ticket_comment` does for a
requester's own reply in the portal (a ticket waiting on them goes back to work).

The review of held and quarantined mail (`may_review_mail`, `mail_retry`, `mail_file_as_new`, `mail_drop`)
is for administrators and managers; each locks the row, so two reviewers cannot both act on it.
"""

import hashlib
import logging
import re
from datetime import datetime, timedelta
from email.message import EmailMessage

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from tracker import access
from tracker.choices import EventKind, Kind, LinkType, Role
from tracker.errors import AccessDenied, Conflict, DomainError
from tracker.models import Comment, Ticket, User
from tracker.services import attachment_add, attachment_check, event_record, ticket_comment, ticket_create, ticket_link

from ..choices import InboundOutcome
from ..models import InboundMail, Mailbox, OutboxMessage
from . import mail_parse
from .mail_parse import MailContent, MailFile, address_of, domain_of, header, headers

logger = logging.getLogger(__name__)

KEY_IN_SUBJECT = re.compile(r"\[([A-Z]{2,6}-\d{1,12})\]")
_ANGLE_IDS = re.compile(r"<([^<>\s]+)>")
AUTO_PRECEDENCE = {"bulk", "junk", "list"}
BOUNCE_SENDERS = {"mailer-daemon", "postmaster"}
REVIEWERS = frozenset({Role.ADMIN, Role.MANAGER})
OPEN_REVIEW = (InboundOutcome.HELD, InboundOutcome.QUARANTINED)


class Unfiled(Exception):
    """A mail that is not filed: `outcome` and `reason` say what became of it instead."""

    def __init__(self, outcome: str, reason: str):
        super().__init__(reason)
        self.outcome, self.reason = outcome, reason


def normalise_message_id(value: str) -> str:
    """`<Abc@Host>` -> `abc@host`: how Message-IDs are compared and stored as keys."""
    value = (value or "").strip()
    found = _ANGLE_IDS.search(value)
    return (found.group(1) if found else value.strip("<> ")).lower()[:250]


def _thread_ids(msg: EmailMessage) -> list[str]:
    """The Message-IDs a reply names, nearest first: In-Reply-To, then References from the newest."""
    ids = _ANGLE_IDS.findall(header(msg, "In-Reply-To"))
    ids += reversed(_ANGLE_IDS.findall(header(msg, "References")))
    seen, out = set(), []
    for value in ids:
        key = value.lower()
        if key not in seen:
            seen.add(key)
            out.append(key)
    return out


def _message_key(msg: EmailMessage | None, raw: bytes) -> str:
    message_id = normalise_message_id(header(msg, "Message-ID")) if msg is not None else ""
    return message_id or f"sha256:{hashlib.sha256(raw).hexdigest()}"


def thread_ticket(msg: EmailMessage) -> Ticket | None:
    """The ticket a mail answers: by the Message-IDs it names (ours or ones we received), then by `[KEY]`."""
    ids = _thread_ids(msg)[:50]
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
    found = KEY_IN_SUBJECT.search(header(msg, "Subject"))
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
    user = _user_for(address)
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


def _user_for(address: str) -> User | None:
    return User.objects.filter(email__iexact=address).order_by("pk").first()


# --- what is never filed ----------------------------------------------------------------------------

def _our_addresses() -> set[str]:
    ours = {address.lower() for address in Mailbox.objects.values_list("address", flat=True)}
    ours.add(address_of(settings.DEFAULT_FROM_EMAIL))
    ours.discard("")
    return ours


def _auto_reply(msg: EmailMessage) -> str:
    auto = header(msg, "Auto-Submitted").lower()
    if auto and auto.split(";")[0].strip() != "no":
        return f"an automatic message (Auto-Submitted: {auto})"
    for name in ("X-Autoreply", "X-Autorespond"):
        if header(msg, name):
            return f"an automatic reply ({name})"
    precedence = header(msg, "Precedence").lower()
    if precedence in AUTO_PRECEDENCE:
        return f"bulk or list mail (Precedence: {precedence})"
    if precedence and header(msg, "List-Id"):
        return "a mailing-list message (List-Id)"
    return ""


def _bounce(msg: EmailMessage, address: str) -> str:
    ctype = msg.get_content_type()
    if ctype == "multipart/report" and str(msg.get_param("report-type", "")).lower() == "delivery-status":
        return "a delivery status report (bounce)"
    if address.partition("@")[0] in BOUNCE_SENDERS:
        return f"a bounce from {address}"
    return_path = headers(msg, "Return-Path")
    if return_path and return_path[0].replace(" ", "") == "<>":
        return "a bounce (empty Return-Path)"
    return ""


def _loop(msg: EmailMessage, address: str, key: str) -> str:
    message_id = header(msg, "Message-ID")
    if message_id and OutboxMessage.objects.filter(message_id__in={message_id, f"<{key}>"}).exists():
        return "one of our own messages came back (its Message-ID is one we sent)"
    ours = _our_addresses()
    if address and address in ours:
        return f"mail from our own address {address} (a loop)"
    if header(msg, "X-Crossline-Ticket") and domain_of(address) in {domain_of(a) for a in ours}:
        return "mail from our own domain about one of our tickets (a loop)"
    return ""


def _over_rate(address: str, now: datetime, row: InboundMail) -> str:
    limit = settings.CROSSLINE_MAIL_RATE_PER_HOUR
    recent = (InboundMail.objects.filter(from_address=address, received_at__gt=now - timedelta(hours=1))
              .exclude(pk=row.pk).count())
    if recent >= limit:
        return f"{address} sent more than {limit} mails in an hour (a loop or a flood)"
    return ""


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0")


def _screen(msg: EmailMessage, raw: bytes, row: InboundMail, now: datetime, *, rate: bool) -> None:
    """Raise `Unfiled` for a mail that must not be filed: too big, automatic, a bounce, a loop, over the rate,
    or without a sender."""
    limit = settings.CROSSLINE_MAIL_MAX_BYTES
    if len(raw) > limit:
        raise Unfiled(InboundOutcome.QUARANTINED,
                      f"The message is {_mb(len(raw))} MB; mails may be at most {_mb(limit)} MB.")
    address = row.from_address
    for check in (lambda: _bounce(msg, address), lambda: _auto_reply(msg), lambda: _loop(msg, address,
                                                                                          row.message_key)):
        reason = check()
        if reason:
            raise Unfiled(InboundOutcome.IGNORED, f"Ignored: {reason}.")
    if not address:
        raise Unfiled(InboundOutcome.QUARANTINED, "The message has no sender address to answer.")
    if rate:
        reason = _over_rate(address, now, row)
        if reason:
            raise Unfiled(InboundOutcome.IGNORED, f"Ignored: {reason}.")


# --- who it is from ---------------------------------------------------------------------------------

_RESULT = re.compile(r"\b(dmarc|dkim|spf)\s*=\s*(\w+)([^;]*)", re.I)
_PROP = re.compile(r"\b(header\.from|header\.d|header\.i|smtp\.mailfrom|smtp\.from)\s*=\s*\"?([^\s;\"]+)", re.I)


def sender_verified(msg: EmailMessage, address: str) -> bool:
    """Whether our receiving server vouched for the From domain in the topmost `Authentication-Results`
    (the one it added; lower ones may be forged by the sender): DMARC pass, or DKIM / SPF pass for that domain."""
    found = headers(msg, "Authentication-Results")
    if not found:
        return False
    domain = domain_of(address)
    for method, result, rest in _RESULT.findall(found[0]):
        if result.lower() != "pass":
            continue
        method = method.lower()
        props = {name.lower(): domain_of(value) if "@" in value else value.lower().lstrip("@")
                 for name, value in _PROP.findall(rest)}
        if method == "dmarc":
            return True
        signed = [props.get(name) for name in ("header.d", "header.i", "smtp.mailfrom", "smtp.from") if name in props]
        if any(value == domain or domain.endswith("." + value) for value in signed if value):
            return True
        if method == "spf" and not signed:
            return True
    return False


# --- filing -----------------------------------------------------------------------------------------

def _refused_files(content: MailContent) -> tuple[list[MailFile], list[str]]:
    """The files the limits accept, and a line for each one they refuse."""
    kept, notes = [], []
    for file in content.files:
        try:
            attachment_check(name=file.name, size=len(file.data), content_type=file.content_type)
        except DomainError as exc:
            notes.append(f"{file.name} was not attached: {exc.message}")
        else:
            kept.append(file)
    return kept, notes


def _with_notes(text: str, notes: list[str]) -> str:
    return "\n\n".join(part for part in (text, "\n".join(f"- {note}" for note in notes)) if part)


def _store_files(files: list[MailFile], *, ticket: Ticket, actor: User, comment: Comment | None,
                 now: datetime, row: InboundMail) -> None:
    for file in files:
        try:
            attachment_add(ticket=ticket, actor=actor, name=file.name, data=file.data, content_type=file.content_type,
                           comment=comment, content_id=file.content_id, now=now, quiet=True)
        except DomainError as exc:  # passed the check above; refused for another reason: say so on the row
            row.reason = f"{row.reason}\n{file.name} was not attached: {exc.message}".strip()


def _hold(row: InboundMail, ticket: Ticket | None, reason: str, now: datetime, *, record: bool) -> None:
    row.outcome, row.ticket, row.reason = InboundOutcome.HELD, ticket, reason
    if ticket is not None and record:
        event_record(ticket=ticket, actor=None, kind=EventKind.MAIL, now=now, internal=True,
                     note=f"A reply from {row.from_address} was held for review: {reason}")


def _create(row: InboundMail, msg: EmailMessage, content: MailContent, mailbox: Mailbox | None, now: datetime,
            requester: User) -> Ticket:
    files, notes = _refused_files(content)
    ticket = ticket_create(
        actor=requester, kind=mailbox.kind if mailbox else Kind.INCIDENT,
        title=(header(msg, "Subject") or "(no subject)")[:200],
        description=_with_notes(mail_parse.strip_signature(content.text), notes), now=now,
        service=mailbox.service if mailbox else None,
        route_to=mailbox.group if mailbox else None,
    )
    _store_files(files, ticket=ticket, actor=requester, comment=None, now=now, row=row)
    row.outcome, row.ticket = InboundOutcome.CREATED, ticket
    return ticket


def _file(row: InboundMail, msg: EmailMessage, mailbox: Mailbox | None, now: datetime, *, vouched: bool,
          record: bool) -> None:
    """File a screened message: a reply onto its ticket, or a new ticket; sets the row's outcome.

    `vouched`: a reviewer retries it, so an unverified staff sender is taken as them."""
    name, address = mail_parse.sender(msg)
    author = _user_for(address)
    staff = author is not None and access.is_staff_member(author)
    unverified = staff and not vouched and not sender_verified(msg, address)
    ticket = thread_ticket(msg)
    if ticket is not None:
        if unverified:
            return _hold(row, ticket, "sender not verified (no passing DMARC, DKIM or SPF result).", now,
                         record=record)
        if not is_participant(author, ticket):
            return _hold(row, ticket, f"{address} is not on {ticket.key}.", now, record=record)
        content = mail_parse.read_content(msg)
        files, notes = _refused_files(content)
        body = mail_parse.trim_reply(content.text)
        if not body and files:
            body = "Attached: " + ", ".join(file.name for file in files)
        comment = ticket_comment(ticket=ticket, actor=author, body=_with_notes(body, notes) or "(empty message)",
                                 now=now)
        _store_files(files, ticket=ticket, actor=author, comment=comment, now=now, row=row)
        row.outcome, row.ticket, row.comment = InboundOutcome.REPLIED, ticket, comment
        return None
    if unverified:
        return _hold(row, None, "sender not verified (no passing DMARC, DKIM or SPF result).", now, record=record)
    if author is not None and not author.is_active:
        return _hold(row, None, f"{address} belongs to a deactivated account.", now, record=record)
    _create(row, msg, mail_parse.read_content(msg), mailbox, now, author or requester_for(address, name))
    return None


def _process(row: InboundMail, raw: bytes, mailbox: Mailbox | None, now: datetime, *, retry: bool = False) -> None:
    """Screen and file `raw` onto `row` (inside the caller's transaction); anything unreadable is quarantined."""
    row.reason = ""
    try:
        with transaction.atomic():
            msg = mail_parse.parse(raw)
            _screen(msg, raw, row, now, rate=not retry)
            _file(row, msg, mailbox, now, vouched=retry, record=not retry)
    except Unfiled as exc:
        _unfiled(row, exc.outcome, exc.reason)
    except DomainError as exc:
        _unfiled(row, InboundOutcome.QUARANTINED, f"Could not be filed: {exc.message}")
    except DatabaseError:
        raise  # the database, not the mail: the poll tries again
    except Exception as exc:  # a message our parser chokes on must not stop the mailbox: keep it for a person
        logger.exception("inbound mail %s could not be read", row.message_key)
        _unfiled(row, InboundOutcome.QUARANTINED,
                 f"The message could not be read ({exc.__class__.__name__}: {exc}).")
    if row.outcome in OPEN_REVIEW:
        row.raw = raw
    else:
        row.raw = b""


def _unfiled(row: InboundMail, outcome: str, reason: str) -> None:
    """What the rolled-back filing wrote is gone: the row points at nothing it made."""
    row.outcome, row.reason, row.ticket, row.comment = outcome, reason[:2000], None, None


def _headers_or_none(raw: bytes) -> EmailMessage | None:
    try:
        return mail_parse.parse_headers(raw)
    except Exception:  # not even headers: keyed by its digest, quarantined below
        return None


def mail_receive(raw: bytes, *, mailbox: Mailbox | None = None, now: datetime | None = None) -> InboundMail:
    """File one raw message; returns its `InboundMail` row (the first reader's, when it was filed already).
    Never raises for what the mail contains: that ends as an outcome and a reason on the row."""
    now = now or timezone.now()
    msg = _headers_or_none(raw)
    key = _message_key(msg, raw)
    done = InboundMail.objects.filter(message_key=key).first()
    if done is not None:
        return done
    _, address = mail_parse.sender(msg) if msg is not None else ("", "")
    row = InboundMail(message_key=key, message_id=header(msg, "Message-ID")[:250] if msg else "",
                      mailbox=mailbox, from_address=address[:254], subject=header(msg, "Subject")[:250] if msg else "",
                      size=len(raw), received_at=now, outcome=InboundOutcome.QUARANTINED)
    with transaction.atomic():
        try:
            with transaction.atomic():
                row.save()  # the claim: a second reader of the same message waits here, then finds it taken
        except IntegrityError:
            return InboundMail.objects.get(message_key=key)
        _process(row, raw, mailbox, now)
        row.save()
    return row


# --- review of held and quarantined mail ------------------------------------------------------------

def may_review_mail(actor) -> bool:
    """Held and quarantined mail is retried, filed as new or dropped by administrators and managers."""
    return access.role_of(actor) in REVIEWERS


def _claim(mail: InboundMail, actor, what: str) -> InboundMail:
    """The row, locked for this review; refused for a non-reviewer and for a row nobody needs to review."""
    if not may_review_mail(actor):
        raise AccessDenied("Only administrators and managers review held and quarantined mail.")
    row = (InboundMail.objects.select_for_update(of=("self",)).select_related("mailbox")
           .filter(pk=mail.pk).first())
    if row is None:
        raise Conflict("That mail is no longer in the list; reload it.")
    if row.outcome not in OPEN_REVIEW:
        raise Conflict(f"This mail cannot be {what}: it is no longer held or quarantined "
                       f"({row.get_outcome_display().lower()}); reload the list.")
    return row


def _resolved(row: InboundMail, actor, now: datetime) -> InboundMail:
    row.resolved_at, row.resolved_by = now, actor
    row.save()
    return row


def mail_retry(*, mail: InboundMail, actor, now: datetime | None = None) -> InboundMail:
    """File a held or quarantined mail again from its raw bytes (the same row), e.g. once its sender was added
    to the ticket or a limit was raised; atomic. The reviewer vouches for the sender (no verification hold), the
    hourly rate does not apply. Still not fileable: the row stays held or quarantined with the new reason."""
    now = now or timezone.now()
    with transaction.atomic():
        row = _claim(mail, actor, "retried")
        _process(row, bytes(row.raw), row.mailbox, now, retry=True)
        if row.outcome in OPEN_REVIEW:
            row.save()
            return row
        return _resolved(row, actor, now)


def may_file_as_new(actor, mail: InboundMail) -> bool:
    """Whether `actor` may file `mail` as a new ticket: a reviewer, and only a held reply (a quarantined mail is
    retried instead)."""
    return may_review_mail(actor) and mail.outcome == InboundOutcome.HELD and mail.ticket_id is not None


def mail_file_as_new(*, mail: InboundMail, actor, now: datetime | None = None) -> InboundMail:
    """A held reply becomes a new ticket from its sender (their whole message, files included), linked
    "relates to" the ticket it tried to reach; atomic."""
    now = now or timezone.now()
    with transaction.atomic():
        row = _claim(mail, actor, "filed as a new ticket")
        if row.outcome != InboundOutcome.HELD or row.ticket_id is None:
            raise Conflict("Only a held reply can be filed as a new ticket; retry a quarantined mail instead.")
        target = row.ticket
        msg = mail_parse.parse(bytes(row.raw))
        name, address = mail_parse.sender(msg)
        if not address:
            raise Conflict("This mail has no sender address to raise a ticket for.")
        row.reason = ""
        ticket = _create(row, msg, mail_parse.read_content(msg), row.mailbox, now, requester_for(address, name))
        ticket_link(source=ticket, target=target, type=LinkType.RELATES_TO, actor=actor, now=now)
        row.raw = b""
        return _resolved(row, actor, now)


def mail_drop(*, mail: InboundMail, actor, now: datetime | None = None) -> InboundMail:
    """Drop a held or quarantined mail: outcome DROPPED, its raw bytes gone; atomic."""
    now = now or timezone.now()
    with transaction.atomic():
        row = _claim(mail, actor, "dropped")
        row.outcome, row.raw = InboundOutcome.DROPPED, b""
        return _resolved(row, actor, now)
