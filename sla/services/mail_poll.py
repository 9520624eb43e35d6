"""Intake mailboxes over IMAP: polling them, their configuration (the page and `CROSSLINE_MAILBOXES`), checks.

A poll leases its mailbox row first (a compare-and-set on `poll_lease_until`, as the outbox relay leases a
message), so two workers never read one mailbox at once; no database transaction is held open during the IMAP
conversation. Each unseen message is handed to `mail_receive`, and flagged `\\Seen` only after it returned: a
crash in between reads the message again next time, and `mail_receive` files it once. A failure (login refused,
host down) is kept in `last_error` and logged, never raised out of the periodic task.
"""

import logging
import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qs, unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from imap_tools import MailBox, MailBoxUnencrypted, MailMessage, MailMessageFlags

from tracker import access
from tracker.choices import Kind, Role
from tracker.errors import AccessDenied, Conflict, ValidationFailed
from tracker.models import AssignmentGroup, Service

from ..choices import InboundOutcome
from ..models import InboundMail, Mailbox
from .mail_intake import mail_receive
from .sweep import heartbeat_record

log = logging.getLogger(__name__)
MAIL_HEARTBEAT = "mail"
POLL_BATCH = 200  # messages read in one poll; the rest wait for the next one
IMAP_TIMEOUT_S = 30  # per socket operation: a hung server ends the poll long before its lease does
# A leased mailbox is left alone this long by other workers: it must outlast one poll of POLL_BATCH messages.
POLL_LEASE = timedelta(minutes=10)
KIND_ALIASES = {"service_request": Kind.REQUEST, "request": Kind.REQUEST}


# --- polling ----------------------------------------------------------------------------------------------


class _RawMessage(MailMessage):
    """A fetched message that keeps its bytes as the server sent them (imap-tools keeps only the parse)."""

    def __init__(self, fetch_data: list) -> None:
        super().__init__(fetch_data)
        self.raw = self._get_message_data_parts(fetch_data)[0]


def _connect(mailbox: Mailbox):
    """A logged-in imap-tools client on the mailbox's folder; raises what the server or the network raised."""
    client_class = MailBox if mailbox.imap_ssl else MailBoxUnencrypted
    client = client_class(mailbox.imap_host, mailbox.imap_port, timeout=IMAP_TIMEOUT_S)
    client.email_message_class = _RawMessage
    return client.login(mailbox.imap_user, mailbox.imap_password, initial_folder=mailbox.imap_folder or "INBOX")


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


def _lease(mailbox: Mailbox, now: datetime) -> datetime | None:
    """Take the mailbox for one poll; the lease's end, or None when another worker holds it."""
    until = now + POLL_LEASE
    won = Mailbox.objects.filter(pk=mailbox.pk).filter(
        Q(poll_lease_until__isnull=True) | Q(poll_lease_until__lte=now)).update(poll_lease_until=until)
    return until if won else None


def mailbox_poll(*, mailbox: Mailbox, now: datetime | None = None, batch: int = POLL_BATCH) -> int:
    """File up to `batch` unseen messages of the mailbox; returns how many were handed to `mail_receive`.

    Returns 0 without reading when another worker holds the mailbox. Never raises for IMAP trouble: the error
    is kept in `last_error` (cleared by the next good poll) and logged."""
    now = now or timezone.now()
    until = _lease(mailbox, now)
    if until is None:
        return 0
    filed, error = 0, ""
    try:
        with _connect(mailbox) as client:
            uids = client.uids("UNSEEN")[:batch]
            # One UID FETCH per message rather than imap-tools' bulk fetch: the bulk reader pairs the response
            # lines two by two, and an unsolicited FETCH (a flag change, which RFC 3501 allows at any time)
            # shifts every message after it.
            for message in client.fetch(uid_list=uids, mark_seen=False, bulk=False) if uids else ():
                if not message.uid:
                    continue
                try:
                    mail_receive(message.raw, mailbox=mailbox)
                except Exception as exc:  # noqa: BLE001 - one message that cannot be filed must not stop the rest
                    log.exception("Mailbox %s: message %s could not be filed", mailbox.address, message.uid)
                    error = f"Message {message.uid}: {_describe(exc)}"
                    continue
                client.flag(message.uid, MailMessageFlags.SEEN, True)  # only now: a crash before re-reads it
                filed += 1
    except Exception as exc:  # login refused, host down, folder missing, timeout: kept on the row, not raised
        log.warning("Mailbox %s could not be polled: %s", mailbox.address, exc)
        error = _describe(exc)
    Mailbox.objects.filter(pk=mailbox.pk, poll_lease_until=until).update(
        poll_lease_until=None, last_polled_at=timezone.now(), last_error=error)
    mailbox.refresh_from_db(fields=["poll_lease_until", "last_polled_at", "last_error"])
    return filed


def mailboxes_poll(*, now: datetime | None = None, address: str | None = None) -> int:
    """Poll every active mailbox with an IMAP host (or the one at `address`), after bringing the mailboxes of
    `CROSSLINE_MAILBOXES` up to date; records the "mail" heartbeat. Returns the messages filed."""
    started = time.monotonic()
    mailboxes_sync_environment()
    boxes = Mailbox.objects.filter(active=True).exclude(imap_host="")
    if address:
        boxes = boxes.filter(address__iexact=address)
    filed = sum(mailbox_poll(mailbox=box, now=now) for box in boxes.order_by("pk"))
    heartbeat_record(name=MAIL_HEARTBEAT, processed=filed, duration_s=time.monotonic() - started)
    return filed


# --- mailboxes from the environment -----------------------------------------------------------------------


@dataclass
class MailboxSpec:
    """One entry of `CROSSLINE_MAILBOXES`, parsed."""

    kind: str
    address: str
    name: str
    imap_host: str
    imap_port: int
    imap_ssl: bool
    imap_user: str
    imap_password: str
    imap_folder: str
    service: str = ""
    group: str = ""


def _masked(entry: str) -> str:
    """An entry as shown in an error: its password replaced, so logs and pages never carry it."""
    kind, sep, url = entry.strip().partition("=")
    try:
        parts = urlsplit(url.strip())
        if parts.password is not None:
            url = url.replace(f":{parts.password}@", ":***@", 1)
    except ValueError:
        url = re.sub(r":[^:@/]*@", ":***@", url)
    return f"{kind}{sep}{url}"


def parse_mailbox_entry(entry: str) -> MailboxSpec:
    """`kind=imaps://user:pass@host:993/FOLDER?address=a@b&name=N[&service=S&group=G]` -> a spec; raises
    ValidationFailed naming the entry (its password masked) and what to fix."""
    def refuse(why: str):
        return ValidationFailed(f"CROSSLINE_MAILBOXES entry “{_masked(entry)}”: {why}")

    kind, sep, url = entry.strip().partition("=")
    kind = kind.strip().lower()
    if not sep or not url.strip():
        raise refuse("write it as kind=imaps://user:password@host:port/FOLDER?address=…")
    kind = KIND_ALIASES.get(kind, kind)
    if kind not in Kind.values:
        raise refuse(f"the kind must be one of {', '.join(Kind.values)}.")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise refuse(f"the address cannot be read ({exc}).") from exc
    if parts.scheme not in ("imap", "imaps"):
        raise refuse("the scheme must be imaps:// (TLS) or imap:// (plain).")
    if not parts.hostname:
        raise refuse("it names no IMAP host.")
    if not parts.username or parts.password is None:
        raise refuse("it needs the user and password, as user:password@host (percent-encode @ : / , in them).")
    query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    address = query.get("address", "").strip()
    try:
        validate_email(address)
    except ValidationError as exc:
        raise refuse("add ?address=the intake address (where people write to), e.g. desk@example.com.") from exc
    ssl = parts.scheme == "imaps"
    return MailboxSpec(
        kind=kind, address=address.lower(), name=(query.get("name") or address).strip()[:120],
        imap_host=parts.hostname, imap_port=port or (993 if ssl else 143), imap_ssl=ssl,
        imap_user=unquote(parts.username), imap_password=unquote(parts.password),
        imap_folder=unquote(parts.path.lstrip("/")) or "INBOX",
        service=query.get("service", "").strip(), group=query.get("group", "").strip())


def parse_mailboxes(value: str) -> tuple[list[MailboxSpec], list[str]]:
    """Every entry of a `CROSSLINE_MAILBOXES` value: the good ones, and a message for each bad one."""
    specs, errors = [], []
    for entry in (e for e in (value or "").split(",") if e.strip()):
        try:
            specs.append(parse_mailbox_entry(entry))
        except ValidationFailed as exc:
            errors.append(exc.message)
    return specs, errors


def mailboxes_sync_environment(value: str | None = None) -> list[str]:
    """Upsert the mailboxes of `CROSSLINE_MAILBOXES` by address (marked as from the environment); one that left
    the setting is deactivated. A bad entry is logged and returned as a message, never raised."""
    value = settings.CROSSLINE_MAILBOXES if value is None else value
    specs, errors = parse_mailboxes(value)
    for spec in specs:
        try:
            _upsert(spec)
        except ValidationFailed as exc:
            errors.append(exc.message)
        except IntegrityError:
            errors.append(f"CROSSLINE_MAILBOXES entry for {spec.address}: another mailbox is already named "
                          f"“{spec.name}”; give it another ?name=.")
    if not errors:  # an entry that cannot be read may be one of them: leave them as they were
        Mailbox.objects.filter(from_environment=True, active=True).exclude(
            address__in=[s.address for s in specs]).update(active=False)
    for message in errors:
        log.error("%s", message)
    return errors


def _upsert(spec: MailboxSpec) -> None:
    service = group = None
    if spec.service:
        service = Service.objects.filter(name__iexact=spec.service).first()
        if service is None:
            raise ValidationFailed(f"CROSSLINE_MAILBOXES entry for {spec.address}: no service is named "
                                   f"“{spec.service}”.")
    if spec.group:
        group = AssignmentGroup.objects.filter(name__iexact=spec.group).first()
        if group is None:
            raise ValidationFailed(f"CROSSLINE_MAILBOXES entry for {spec.address}: no group is named "
                                   f"“{spec.group}”.")
    values = {"name": spec.name, "kind": spec.kind, "imap_host": spec.imap_host, "imap_port": spec.imap_port,
              "imap_ssl": spec.imap_ssl, "imap_user": spec.imap_user, "imap_password": spec.imap_password,
              "imap_folder": spec.imap_folder, "service": service, "group": group, "active": True,
              "from_environment": True}
    with transaction.atomic():
        box = Mailbox.objects.filter(address__iexact=spec.address).first()
        if box is None:
            Mailbox.objects.create(address=spec.address, **values)
            return
        changed = [f for f, v in values.items() if getattr(box, f) != v]
        if changed:  # polled every minute: write only what the setting changed
            for f in changed:
                setattr(box, f, values[f])
            box.save(update_fields=changed)


# --- the mailboxes page and the held-mail list -----------------------------------------------------------


def may_manage_mailboxes(user) -> bool:
    """Intake mailboxes are set up, checked and polled by administrators."""
    return access.role_of(user) == Role.ADMIN


def _require(actor) -> None:
    if not may_manage_mailboxes(actor):
        raise AccessDenied("Only administrators manage intake mailboxes.")


MAILBOX_FIELDS = ("name", "address", "kind", "service", "group", "active", "imap_host", "imap_port", "imap_ssl",
                  "imap_user", "imap_password", "imap_folder")


def mailbox_save(*, actor, mailbox: Mailbox | None = None, values: dict) -> Mailbox:
    """Create a mailbox or change one. A blank password keeps the stored one; a mailbox from the environment
    cannot be changed here. Raises ValidationFailed naming each field to fix."""
    _require(actor)
    if mailbox is not None and mailbox.from_environment:
        raise Conflict(f"{mailbox.address} comes from CROSSLINE_MAILBOXES: change it there.")
    data = {f: values.get(f) for f in MAILBOX_FIELDS}
    errors: dict[str, list[str]] = {}
    data["name"] = (data["name"] or "").strip()
    data["address"] = (data["address"] or "").strip().lower()
    data["imap_host"] = (data["imap_host"] or "").strip()
    data["imap_user"] = (data["imap_user"] or "").strip()
    data["imap_folder"] = (data["imap_folder"] or "").strip() or "INBOX"
    data["active"], data["imap_ssl"] = bool(data["active"]), bool(data["imap_ssl"])
    if not data["name"]:
        errors["name"] = ["Give the mailbox a name, e.g. Service desk."]
    if not data["address"]:
        errors["address"] = ["Enter the address people write to, e.g. desk@example.com."]
    else:
        try:
            validate_email(data["address"])
        except ValidationError:
            errors["address"] = ["Enter a valid email address, e.g. desk@example.com."]
    if data["kind"] not in Kind.values:
        errors["kind"] = ["Choose the kind of ticket its mail raises."]
    others = Mailbox.objects.exclude(pk=mailbox.pk) if mailbox else Mailbox.objects.all()
    if data["address"] and others.filter(address__iexact=data["address"]).exists():
        errors.setdefault("address", []).append(f"Another mailbox already reads {data['address']}.")
    if data["name"] and others.filter(name__iexact=data["name"]).exists():
        errors.setdefault("name", []).append(f"Another mailbox is already named “{data['name']}”.")
    port = data["imap_port"]
    if port in (None, ""):
        data["imap_port"] = 993 if data["imap_ssl"] else 143
    elif not isinstance(port, int) or not 0 < port < 65536:
        errors["imap_port"] = ["The port is a number from 1 to 65535 (993 for IMAPS, 143 for plain IMAP)."]
    if data["imap_host"] and not data["imap_user"]:
        errors["imap_user"] = ["Enter the user name to log in with."]
    if not data["imap_password"]:
        if mailbox is not None and mailbox.imap_password:
            data["imap_password"] = mailbox.imap_password  # write-only field: blank keeps the stored one
        elif data["imap_host"]:
            errors["imap_password"] = ["Enter the password to log in with."]
        else:
            data["imap_password"] = ""
    if errors:
        raise ValidationFailed("The mailbox was not saved: fix the fields marked below.", fields=errors)
    with transaction.atomic():
        if mailbox is None:
            mailbox = Mailbox.objects.create(**data)
        else:
            for f, v in data.items():
                setattr(mailbox, f, v)
            mailbox.save(update_fields=list(data))
    return mailbox


def mailbox_check(*, actor, mailbox: Mailbox) -> int:
    """Log in and count the messages in the mailbox's folder (reads nothing, flags nothing). Raises
    ValidationFailed with the server's or the network's answer."""
    _require(actor)
    if not mailbox.imap_host:
        raise ValidationFailed(f"{mailbox.name} has no IMAP host to check: its mail is imported, not polled.")
    try:
        with _connect(mailbox) as client:
            return int(client.folder.status(mailbox.imap_folder or "INBOX").get("MESSAGES", 0))
    except Exception as exc:  # noqa: BLE001 - every failure is the answer shown to the administrator
        raise ValidationFailed(f"Could not read {mailbox.imap_host}: {_describe(exc)}") from exc


def mailbox_poll_now(*, actor, mailbox: Mailbox) -> int:
    """Poll one mailbox now for an administrator; raises Conflict when a worker is polling it right now."""
    _require(actor)
    if not mailbox.imap_host:
        raise ValidationFailed(f"{mailbox.name} has no IMAP host to poll.")
    now = timezone.now()
    if mailbox.poll_lease_until and mailbox.poll_lease_until > now:
        raise Conflict(f"{mailbox.name} is being polled right now; its new mail shows in a moment.")
    return mailbox_poll(mailbox=mailbox, now=now)


def mailbox_list():
    """Every mailbox with its service and group, and how many of its mails came to each outcome."""
    counts = {o: Count("mails", filter=Q(mails__outcome=o)) for o in InboundOutcome.values}
    return Mailbox.objects.select_related("service", "group").annotate(
        **{f"mails_{o}": c for o, c in counts.items()}).order_by("name", "pk")


def held_mail_list(*, limit: int = 200):
    """Held and quarantined mail, newest first, with its ticket and mailbox (not its raw bytes)."""
    return list(InboundMail.objects.filter(outcome__in=(InboundOutcome.HELD, InboundOutcome.QUARANTINED))
                .select_related("ticket", "mailbox").defer("raw").order_by("-received_at", "-id")[:limit])
