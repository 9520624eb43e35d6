"""Notifications: who follows a ticket, queueing in-app rows and email outbox rows, read marks, preferences.

Mail is written for its reader: a requester hears of their request in their own words ("we have your
request", "waiting on you", "resolved"), in their language (`User.language`) and time zone. Every mail about a
ticket carries a stable Message-ID and threading headers (`thread_headers`), computed per batch.

`_queue` writes nothing itself: callers collect rows in an `_Outgoing` and flush them in their own
transaction, so a notification exists if and only if the change that caused it committed. Keys make a
repeat (a redone sweep, a retried task) a no-op.
"""

import re
import zoneinfo
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parseaddr
from types import SimpleNamespace

from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.utils import formats, timezone, translation
from django.utils.html import escape

from tracker import access
from tracker.choices import Language, Role, Status
from tracker.errors import ValidationFailed
from tracker.inserts import copy_rows, insert_rows
from tracker.models import Ticket, TicketEvent, User
from tracker.services import rows_defer

from ..choices import MAIL_ONLY_KINDS, InboundOutcome, NotificationKind
from ..models import InboundMail, Mailbox, Notification, NotificationPreference, OutboxMessage
from ..notifications import _FOLDER, DEFAULT_LANGUAGE, render_html, render_notification, written_in


def _contributors(ticket: Ticket) -> list:
    """Staff on the ticket's swarm now: active contributors and the members of active contributing groups."""
    active = Q(contributions__ticket=ticket, contributions__left_at__isnull=True) | Q(
        assignment_groups__contributions__ticket=ticket, assignment_groups__contributions__left_at__isnull=True)
    return list(User.objects.filter(active, is_active=True).exclude(role=Role.REQUESTER).distinct().order_by("pk"))


def _followers(ticket: Ticket, *, actor, staff_only: bool = False) -> list:
    """Who hears about a ticket's replies and moves: its requester, owner, assignee, watchers and contributors
    (staff brought onto its swarm), not the actor.

    Internal notes (`staff_only`) never reach the requester."""
    people = [ticket.owner, ticket.assignee, *ticket.watchers.all(), *_contributors(ticket)]
    if not staff_only:
        people.insert(0, ticket.requester)
    actor_pk = getattr(actor, "pk", None)
    return [p for p in people if p is not None and p.pk != actor_pk
            and (not staff_only or access.is_staff_member(p))]


def _preferences(user_ids) -> dict[tuple[int, str], NotificationPreference]:
    return {(p.user_id, p.kind): p for p in NotificationPreference.objects.filter(user_id__in=set(user_ids))}


# --- mail: Message-IDs and threading ------------------------------------------------------------------


def mail_domain() -> str:
    """The right-hand side of our Message-IDs: `CROSSLINE_MAIL_DOMAIN`, else the domain of the sender address."""
    configured = getattr(settings, "CROSSLINE_MAIL_DOMAIN", "")
    if configured:
        return configured
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"


def message_id_for(outbox_key: str) -> str:
    """The stable Message-ID of an outbox row, from its key: a resend carries the same one. Lower case, as intake
    compares Message-IDs (`mail_intake.normalise_message_id`), so a reply quoting it finds the row."""
    return f"<{outbox_key.replace(':', '.')}@{mail_domain()}>".lower()


def acknowledgement_key(ticket) -> str:
    return f"received:{ticket.pk}"


def acknowledgement_message_id(ticket) -> str:
    """The Message-ID of the ticket's acknowledgement: known from the ticket alone, so threading needs no query.
    The root of the ticket's thread when it did not come by mail (a staff requester gets no acknowledgement; mail
    naming its Message-ID still threads, by the reference all of them share)."""
    return message_id_for(acknowledgement_key(ticket))


def _angled(message_id: str) -> str:
    message_id = message_id.strip()
    return message_id if message_id.startswith("<") else f"<{message_id}>"


def thread_headers(rows: list[OutboxMessage]) -> None:
    """Fill `in_reply_to`, `references` and `reply_to` of outbox rows about tickets, in two queries for any number.

    The thread's root is the requester's own first mail when the ticket came by mail, else the ticket's
    acknowledgement; `References` names the root and the last mail received on the ticket (the one answered),
    `In-Reply-To` the nearest of them. Replies go to the mailbox the ticket came in through while it is active,
    else to the active mailbox for the ticket's kind, else nowhere in particular (the sender)."""
    rows = [r for r in rows if r.ticket is not None]
    if not rows:
        return
    headers = _threading({r.ticket.pk for r in rows})
    for row in rows:
        row.references, row.in_reply_to, row.reply_to = headers(row.ticket, row.message_id)


def _threading(ticket_ids: set[int]):
    """`headers(ticket, message_id) -> (references, in_reply_to, reply_to)` for mail about these tickets, read in
    two queries (`thread_headers` says how a thread is made)."""
    thread = _threads(ticket_ids)

    def headers(ticket, message_id: str) -> tuple[str, str, str]:
        root, answered, reply_to = thread(ticket)
        chain = [m for m in dict.fromkeys([root, answered]) if m and m != message_id]
        return " ".join(chain), chain[-1] if chain else "", reply_to

    return headers


def _threads(ticket_ids: set[int]):
    """`thread(ticket) -> (root, answered or None, reply_to)` for mail about these tickets, read in two queries:
    what `_threading` makes each mail's headers of."""
    mails: dict[int, list[tuple[str, int | None]]] = {}
    for ticket_id, message_id, mailbox_id in (
        InboundMail.objects.filter(ids_in("ticket_id", ticket_ids),
                                   outcome__in=(InboundOutcome.CREATED, InboundOutcome.REPLIED))
        .exclude(message_id="").order_by("received_at", "pk").values_list("ticket_id", "message_id", "mailbox_id")
    ):
        mails.setdefault(ticket_id, []).append((_angled(message_id), mailbox_id))
    active = list(Mailbox.objects.filter(active=True).order_by("pk").values_list("pk", "kind", "address"))
    address_of = {pk: address for pk, _, address in active}
    for_kind: dict[str, str] = {}
    for _, kind, address in active:
        for_kind.setdefault(kind, address)

    def thread(ticket) -> tuple[str, str | None, str]:
        received = mails.get(ticket.pk, [])
        root = received[0][0] if received else acknowledgement_message_id(ticket)
        answered = received[-1][0] if received else None
        came_through = next((mailbox for _, mailbox in received if mailbox), None)
        return root, answered, address_of.get(came_through) or for_kind.get(ticket.kind, "")

    return thread


# --- queueing -----------------------------------------------------------------------------------------


# The columns of the rows a batch (`_Outgoing(ids=False)`) collects as tuples.
EVENT_COLUMNS = ["ticket_id", "actor_id", "kind", "field", "new", "note", "internal", "created_at"]
NOTIFICATION_COLUMNS = ["recipient_id", "ticket_id", "kind", "key", "title", "body", "url", "created_at"]
OUTBOX_COLUMNS = ["key", "kind", "recipient_id", "ticket_id", "to_address", "subject", "body", "html_body",
                  "created_at", "available_at", "message_id", "references", "in_reply_to", "reply_to"]


@dataclass
class _Outgoing:
    notifications: list[Notification] = field(default_factory=list)
    outbox: list[OutboxMessage] = field(default_factory=list)
    events: list[TicketEvent] = field(default_factory=list)
    ids: bool = True  # False: the rows' ids are not read back, so a batch is written as plain rows (`insert_rows`)
    # With ids=False, rows may also come as tuples of values (`EVENT_COLUMNS`, `NOTIFICATION_COLUMNS`) and, for
    # mail, as (ticket, the `OUTBOX_COLUMNS` values but the three threading headers): no instance per row.
    event_rows: list[tuple] = field(default_factory=list)
    notification_rows: list[tuple] = field(default_factory=list)
    outbox_rows: list[tuple] = field(default_factory=list)
    # With ids=False on PostgreSQL, a sweep's batch may have the database fill in its clock texts: the in-app and
    # mail rows a `ClockTexts` can fill are then written by one INSERT ... SELECT (`ClockTexts.write`).
    filled: "ClockTexts | None" = None

    def flush(self) -> None:
        if not self.ids:
            insert_rows(self.events)
            copy_rows(TicketEvent, EVENT_COLUMNS, self.event_rows)
            insert_rows(self.notifications, ignore_conflicts=True)
            copy_rows(Notification, NOTIFICATION_COLUMNS, self.notification_rows, ignore_conflicts=True)
            thread_headers([m for m in self.outbox if m.kind != NotificationKind.RECEIVED])
            insert_rows(self.outbox, ignore_conflicts=True)
            if self.outbox_rows:
                headers = _threading({ticket.pk for ticket, _ in self.outbox_rows})
                copy_rows(OutboxMessage, OUTBOX_COLUMNS, [(*row, *headers(ticket, row[10]))
                                                           for ticket, row in self.outbox_rows],
                          ignore_conflicts=True)
            if self.filled is not None:
                self.filled.write()
            return
        if self.events:
            TicketEvent.objects.bulk_create(self.events)
        if self.notifications:
            Notification.objects.bulk_create(self.notifications, ignore_conflicts=True)
        if self.outbox:
            # An acknowledgement is written while the mail that raised its ticket is still being filed: its
            # thread is settled when it is sent (`outbox_deliver`), which also keeps a create's query count.
            thread_headers([m for m in self.outbox if m.kind != NotificationKind.RECEIVED])
            OutboxMessage.objects.bulk_create(self.outbox, ignore_conflicts=True)


# The requester's own wording of a ticket's moves; other kinds and other readers get the kind's template.
_REQUESTER_WORDING = {Status.PENDING: "pending", Status.RESOLVED: "resolved"}
# Status names in the languages mail is written in besides English (the app's own labels are English).
STATUS_LABELS = {
    "de": {
        Status.NEW: "neu", Status.IN_PROGRESS: "in Bearbeitung", Status.PENDING: "wartet auf Ihre Antwort",
        Status.REVIEW: "in der CAB-Prüfung", Status.APPROVED: "genehmigt", Status.REJECTED: "abgelehnt",
        Status.KNOWN_ERROR: "bekannter Fehler", Status.TRIAGED: "eingeordnet", Status.IN_REVIEW: "im Review",
        Status.FIXED: "behoben", Status.VERIFIED: "verifiziert", Status.RESOLVED: "gelöst",
        Status.CLOSED: "geschlossen", Status.CANCELLED: "storniert",
    },
}


def _wording(kind: str, context: dict, ticket, user) -> str:
    """The template a recipient reads: the requester hears "waiting on you", "resolved" and "late" in their own
    words."""
    if (kind == NotificationKind.UPDATE and ticket is not None and user.pk == ticket.requester_id
            and not context.get("comment") and not context.get("swarm") and not access.is_staff_member(user)):
        return _REQUESTER_WORDING.get(context.get("status"), kind)
    if (kind == NotificationKind.BREACH and ticket is not None and user.pk == ticket.requester_id
            and not access.is_staff_member(user)):
        return "late"  # a policy that tells the requester: an apology and what happens next, not the staff notice
    return kind


_LANGUAGES = frozenset(Language.values)


def _language(user) -> str:
    language = getattr(user, "language", "") or settings.LANGUAGE_CODE.split("-")[0]
    return language if language in _LANGUAGES else DEFAULT_LANGUAGE


def _subject(title: str, ticket) -> str:
    """The key in the subject exactly once, as `[INC-42] …`, so a reply finds its ticket by subject too."""
    if ticket is None or f"[{ticket.key}]" in title:
        return title[:250]
    return f"[{ticket.key}] {title}"[:250]


def _queue(out: _Outgoing, *, ticket, users, kind: str, now: datetime, key: str, context: dict, prefs: dict,
           url: str | None = None, email_key: str | None = None, texts: "ClockTexts | None" = None) -> None:
    """In-app rows and email outbox rows for each user, honouring preferences; keys make repeats no-ops.
    `url`: where the notification leads, when not to the ticket's page. `MAIL_ONLY_KINDS` get no in-app row.
    `email_key`: the outbox key when it is not derived from `key` and the recipient (one mail per ticket).
    Texts are rendered once per wording, language and time zone, not per recipient; a sweep passes `texts` to
    render them once per batch instead (`ClockTexts`)."""
    if texts is not None and (fast := texts.for_clock(kind, ticket, context, now)) is not None:
        _queue_rendered(out, ticket=ticket, users=users, kind=kind, now=now, key=key, context=context, prefs=prefs,
                        fill=fast)
        return
    rendered: dict[tuple[str, str, str], tuple[str, str]] = {}
    html: dict[tuple[str, str, str], str] = {}
    link = url if url is not None else f"/tickets/{ticket.key}/" if ticket is not None else ""
    for user, variant in _readers(users, kind, context, ticket):
        if variant not in rendered:
            rendered[variant] = _render_in_zone(kind, {"ticket": ticket, "now": now, **context}, variant)
        title, body = rendered[variant]
        pref = prefs.get((user.pk, kind))
        if kind not in MAIL_ONLY_KINDS and (pref is None or pref.in_app):
            out.notifications.append(
                Notification(
                    recipient=user,
                    ticket=ticket,
                    kind=kind,
                    key=key,
                    title=title,
                    body=body,
                    url=link,
                    created_at=now,
                )
            )
        if (pref is None or pref.email) and user.email:
            if variant not in html:
                html[variant] = render_html(title=title, body=body, link=f"{settings.CROSSLINE_BASE_URL}{link}",
                                            ticket_key=ticket.key if ticket is not None else "",
                                            language=variant[1])
            mkey = email_key or f"{key}:{user.pk}:email"
            out.outbox.append(
                OutboxMessage(
                    key=mkey,
                    kind=kind,
                    recipient=user,
                    ticket=ticket,
                    to_address=user.email,
                    subject=_subject(title, ticket),
                    body=f"{body}\n\n{settings.CROSSLINE_BASE_URL}{link}\n",
                    html_body=html[variant],
                    created_at=now,
                    available_at=now,
                    message_id=message_id_for(mkey),
                )
            )


def _readers(users, kind: str, context: dict, ticket):
    """Each active user once, with the variant of the text they read: (wording, language, time zone)."""
    seen = set()
    for user in users:
        if user is None or user.id in seen or not user.is_active:
            continue
        seen.add(user.id)
        wording = _wording(kind, context, ticket, user)
        yield user, (wording, written_in(wording, _language(user)), user.time_zone or "UTC")


def _queue_rendered(out: _Outgoing, *, ticket, users, kind: str, now: datetime, key: str, context: dict,
                    prefs: dict, fill) -> None:
    """`_queue` for texts a `ClockTexts` fills in: the same rows, without rendering a template per ticket."""
    link = f"/tickets/{ticket.key}/"
    url = f"{settings.CROSSLINE_BASE_URL}{link}"
    texts: dict[tuple, int | None] = {}  # variant -> its text row for the database to fill in (`out.filled`)
    for user, variant in _readers(users, kind, context, ticket):
        pref = prefs.get((user.id, kind))
        if out.filled is not None and not out.ids:
            if variant not in texts:
                texts[variant] = fill.in_db(variant, key=key, now=now)
            if texts[variant] is not None:
                in_app = kind not in MAIL_ONLY_KINDS and (pref is None or pref.in_app)
                to = user.email if (pref is None or pref.email) and user.email else None
                if in_app or to:
                    out.filled.readers.append((texts[variant], user.id, to, in_app))
                continue
        title, body, html = fill(variant)
        if kind not in MAIL_ONLY_KINDS and (pref is None or pref.in_app):
            if out.ids:
                out.notifications.append(Notification(recipient=user, ticket=ticket, kind=kind, key=key, title=title,
                                                      body=body, url=link, created_at=now))
            else:
                out.notification_rows.append((user.pk, ticket.pk, kind, key, title, body, link, now))
        if (pref is None or pref.email) and user.email:
            mkey = f"{key}:{user.pk}:email"
            subject, text = _subject(title, ticket), f"{body}\n\n{url}\n"
            if out.ids:
                out.outbox.append(OutboxMessage(
                    key=mkey, kind=kind, recipient=user, ticket=ticket, to_address=user.email, subject=subject,
                    body=text, html_body=html(), created_at=now, available_at=now, message_id=message_id_for(mkey)))
            else:
                out.outbox_rows.append((ticket, (mkey, kind, user.pk, ticket.pk, user.email, subject, text, html(),
                                                 now, now, message_id_for(mkey))))


# Stand-ins for a clock notification's per-ticket values: a text is rendered once with them and filled in per row.
_STAND_IN = re.compile("\x00([A-Z])\x00")
_STAND_IN_DUE = datetime(1901, 2, 3, 4, 5, 6, tzinfo=UTC)
# What `django.utils.html.escape` replaces, as a table for str.translate (one call per value, no lazy wrapper).
_HTML_ESCAPES = {ord(c): escape(c) for c in "<>&\"'"}
_DATES = re.compile(r'\{\{\s*([\w.]+)\|date:"([^"]*)"\s*}}')


def _due_format(name: str, language: str) -> str | None:
    """The format the template `name` shows its due time in, when `due_at` is the only date it shows."""
    folder = _FOLDER / language if language != DEFAULT_LANGUAGE else _FOLDER
    dates = _DATES.findall((folder / f"{name}.txt").read_text())
    formats_ = {fmt for var, fmt in dates if var == "due_at"}
    if len(formats_) != 1 or any(var != "due_at" for var, _ in dates):
        return None
    return formats_.pop()


class ClockTexts:
    """The warning and breach texts of one sweep batch: each distinct (wording, language, zone, policy, group or
    none) is rendered once from its template with stand-in values, and each row fills in its ticket's key, title,
    priority, target, level, group and due time (the due time formatted as the template formats it). The rows
    are exactly those a render per ticket writes; a value the stand-ins cannot carry (a line break) renders.

    A batch whose rows nobody reads back (`_Outgoing(ids=False, filled=texts)`, PostgreSQL) lets the database
    fill them in: Python keeps one text row per notification and variant (its title, subject and values) and one
    small row per reader, and `write` inserts the in-app and mail rows in one statement, their body and HTML
    filled from the batch's shapes by format(). The rows are those `fill` writes."""

    def __init__(self) -> None:
        self._shapes: dict[tuple, tuple | None] = {}
        self._dates: dict[tuple, str] = {}
        self._raw: dict[tuple, tuple | None] = {}  # the shapes as rendered, with the \x00 stand-ins
        self._db_shapes: dict[tuple, int | None] = {}  # shape -> its index in `shape_rows`, None: not in the db
        self.shape_rows: list[tuple[str, str]] = []  # (body, html) as format() strings: %1$s the key, ...
        self.text_rows: list[tuple] = []  # per notification and variant: see `write`
        self.text_tickets: list = []
        self.readers: list[tuple] = []  # (text row, recipient id, address or None, in-app row or not)

    def for_clock(self, kind: str, ticket, context: dict, now: datetime):
        """A `fill(variant) -> (title, body, html())` for this clock's notification, or None to render it.
        `fill.in_db(variant, key=, now=)`: the index of its text row for the database to fill, or None."""
        due_at, group, clock = context.get("due_at"), context.get("group"), context.get("clock")
        if due_at is None or clock is None or set(context) - {"clock", "label", "level", "group", "due_at"}:
            return None
        values = {"K": ticket.key, "T": ticket.title, "P": str(ticket.priority), "L": str(context["label"]),
                  "V": str(context["level"]), "G": group.name if group is not None else ""}
        if any("\n" in v or "\r" in v or "\x00" in v for v in values.values()):
            return None
        escalates = clock.policy.functional_escalation
        # The database trims a body as str.strip() does, which is the same only when no value starts or ends with
        # white space: such a value is filled in here.
        db_values = all(v == v.strip() for v in values.values())

        def fill(variant):
            shape = self._shape(kind, variant, escalates, group is not None)
            if shape is None:
                return _fallback(kind, ticket, context, variant, now)
            title, body, html, fmt = shape
            return _filled(ticket, variant, title, body, html, {**values, "D": self._date(variant, fmt, due_at)})

        def in_db(variant, *, key: str, now: datetime) -> int | None:
            if not db_values:
                return None
            shape = self._shape(kind, variant, escalates, group is not None)
            at = (kind, variant, escalates, group is not None)
            index = self._db_shape(at)
            if shape is None or index is None:
                return None
            date = self._date(variant, shape[3], due_at)
            if date != date.strip():
                return None
            title = shape[0].format_map({**values, "D": date}).strip()
            if len(title) > 200:  # the mail's heading shows the shortened title: rendered, by `fill`
                return None
            self.text_rows.append((index, ticket.pk, kind, key, f"/tickets/{ticket.key}/", title,
                                   _subject(title, ticket), now, *values.values(), date))
            self.text_tickets.append(ticket)
            return len(self.text_rows)  # 1-based, as WITH ORDINALITY counts

        fill.in_db = in_db
        return fill

    def _shape(self, kind: str, variant: tuple, escalates: bool, has_group: bool):
        at = (kind, variant, escalates, has_group)
        if at not in self._shapes:
            shape = _render_shape(kind, variant, escalates, has_group)
            self._raw[at] = shape
            # Filled with str.format_map: the stand-ins become {K}, {T} ..., any other brace is doubled.
            self._shapes[at] = shape and (*(_STAND_IN.sub(r"{\1}", text.replace("{", "{{").replace("}", "}}"))
                                            for text in shape[:3]), shape[3])
        return self._shapes[at]

    def _db_shape(self, at: tuple) -> int | None:
        """The 1-based index in `shape_rows` of a shape's body and HTML as strings for PostgreSQL's format(), each
        stand-in a positional argument (%1$s the key ... %7$s the due time, as `_FORMAT_ARGUMENTS`)."""
        if at not in self._db_shapes:
            raw = self._raw.get(at)
            index = None
            if raw is not None:
                self.shape_rows.append(tuple(
                    _STAND_IN.sub(lambda m: f"%{_FORMAT_ARGUMENTS.index(m[1]) + 1}$s", text.replace("%", "%%"))
                    for text in raw[1:3]))
                index = len(self.shape_rows)
            self._db_shapes[at] = index
        return self._db_shapes[at]

    def _date(self, variant: tuple, fmt: str, due_at: datetime) -> str:
        at = (variant, due_at)
        if at not in self._dates:
            _, language, zone = variant
            with timezone.override(_zone(zone)), translation.override(language):
                self._dates[at] = formats.date_format(timezone.localtime(due_at), fmt)
        return self._dates[at]

    def write(self) -> None:
        """Insert the in-app and mail rows of the readers collected, filled in by the database (PostgreSQL), in
        one statement; a row whose key exists is skipped, as `copy_rows(..., ignore_conflicts=True)` skips it."""
        if not self.readers:
            return
        thread = _threads({t.pk for t in self.text_tickets})
        columns = list(zip(*self.text_rows, strict=True))
        threads = list(zip(*(thread(t) for t in self.text_tickets), strict=True))
        bodies, htmls = zip(*self.shape_rows, strict=True)
        readers = list(zip(*self.readers, strict=True))
        n_cols, n_params = _fill_columns(Notification, ["recipient_id", "ticket_id", "kind", "key", "title", "body",
                                                        "url", "created_at"])
        o_cols, o_params = _fill_columns(OutboxMessage, OUTBOX_COLUMNS)
        params = [*map(array_literal, (bodies, htmls, *columns, *threads, *readers)),
                  *n_params, *o_params, settings.CROSSLINE_BASE_URL, f"@{mail_domain()}>".lower()]
        with connection.cursor() as cursor:
            cursor.execute(_fill_sql(n_cols, len(n_params), o_cols, len(o_params)), params)
        self.readers, self.text_rows, self.text_tickets = [], [], []


# The stand-ins in the order of format()'s arguments.
_FORMAT_ARGUMENTS = "KTPLVGD"
# What str.strip() removes (every character whose isspace() is true), for btrim: the database trims a body
# exactly as `fill` does.
_WHITE_SPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
                "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")


def _fill_columns(model, given: list[str]) -> tuple[list[str], list]:
    """The columns of `model` an insert names: `given` (attnames) and then every other one with its default."""
    rest = [f for f in model._meta.concrete_fields if not f.primary_key and f.attname not in set(given)]
    quote = connection.ops.quote_name
    return ([quote(model._meta.get_field(a).column) for a in given] + [quote(f.column) for f in rest],
            [f.get_db_prep_save(f.get_default(), connection) for f in rest])


def _fill_sql(n_cols: list[str], n_rest: int, o_cols: list[str], o_rest: int) -> str:
    def filled(column: str, html: bool) -> str:  # the arguments in _FORMAT_ARGUMENTS order
        values = []
        for name in ("k", "tt", "p", "l", "v", "g", "d"):
            value = f"t.{name}"
            if html:  # as django.utils.html.escape, & first
                for c, e in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("'", "&#x27;")):
                    value = f"replace({value}, '{c.replace(chr(39), chr(39) * 2)}', '{e}')"
            values.append(value)
        return f"format({column}, {', '.join(values)})"

    rest_n = "".join(", %s" for _ in range(n_rest))
    rest_o = "".join(", %s" for _ in range(o_rest))
    return f"""
WITH s AS (SELECT * FROM unnest(%s::text[], %s::text[]) WITH ORDINALITY AS s(body, html, id)),
t AS (
    SELECT t.*, btrim({filled("s.body", False)}, {_sql_literal(_WHITE_SPACE)}) AS body, {filled("s.html", True)} AS html
    FROM unnest(%s::int[], %s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[],
                %s::timestamptz[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[],
                %s::text[], %s::text[], %s::text[], %s::text[])
        WITH ORDINALITY AS t(shape, ticket_id, kind, key, link, title, subject, now, k, tt, p, l, v, g, d,
                             root, answered, reply_to, id)
    JOIN s ON s.id = t.shape),
r AS (SELECT * FROM unnest(%s::int[], %s::bigint[], %s::text[], %s::boolean[])
          WITH ORDINALITY AS r(text_id, recipient_id, to_address, in_app, n)),
notified AS (
    INSERT INTO {connection.ops.quote_name(Notification._meta.db_table)} ({", ".join(n_cols)})
    SELECT r.recipient_id, t.ticket_id, t.kind, t.key, t.title, t.body, t.link, t.now{rest_n}
    FROM r JOIN t ON t.id = r.text_id WHERE r.in_app ORDER BY r.n
    ON CONFLICT DO NOTHING)
INSERT INTO {connection.ops.quote_name(OutboxMessage._meta.db_table)} ({", ".join(o_cols)})
SELECT m.key, m.kind, m.recipient_id, m.ticket_id, m.to_address, m.subject, m.body, m.html, m.now, m.now,
       m.message_id,
       concat_ws(' ', CASE WHEN m.root_ok THEN m.root END, CASE WHEN m.answered_ok THEN m.answered END),
       coalesce(CASE WHEN m.answered_ok THEN m.answered END, CASE WHEN m.root_ok THEN m.root END, ''),
       m.reply_to{rest_o}
FROM (
    SELECT q.*, q.root <> '' AND q.root <> q.message_id AS root_ok,
           q.answered <> '' AND q.answered <> q.root AND q.answered <> q.message_id AS answered_ok
    FROM (
        SELECT t.key || ':' || r.recipient_id || ':email' AS key, t.kind, r.recipient_id, t.ticket_id, r.to_address,
               t.subject, t.body || E'\n\n' || %s || t.link || E'\n' AS body, t.html, t.now,
               '<' || lower(replace(t.key, ':', '.')) || '.' || r.recipient_id || '.email' || %s AS message_id,
               t.root, t.answered, t.reply_to, r.n
        FROM r JOIN t ON t.id = r.text_id WHERE r.to_address IS NOT NULL
    ) q
) m
ORDER BY m.n
ON CONFLICT DO NOTHING"""


def array_literal(values) -> str:
    """A PostgreSQL array literal of `values` (None, str, int, bool or datetime), for a parameter cast to an array
    type: built with string joins, many times cheaper than adapting a list parameter element by element."""
    values = list(values)
    if all(type(v) is str for v in values):  # most columns: one pass of C string methods per element
        return "{" + ",".join(['"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values]) + "}"
    if all(type(v) is int for v in values):
        return "{" + ",".join(map(str, values)) + "}"
    return "{" + ",".join(map(_element, values)) + "}"


def ids_in(field: str, ids) -> Q:
    """`field__in=ids`, on PostgreSQL as one array parameter: a sweep's batch names a thousand tickets, and the ORM
    resolves and psycopg adapts an IN list's parameters one by one."""
    ids = list(ids)
    if connection.vendor != "postgresql" or len(ids) < 20:
        return Q(**{f"{field}__in": ids})
    return Q(**{f"{field}__in": RawSQL("SELECT unnest(%s::bigint[])", [array_literal(ids)])})


def _element(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        value = value.isoformat()
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _zone(name: str):
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return UTC


def _render_shape(kind: str, variant: tuple, escalates: bool, has_group: bool) -> tuple | None:
    """(title, body, html, due format) of one shape with stand-ins in place of the per-ticket values."""
    name, language, zone = variant
    fmt = _due_format(name, language)
    if fmt is None:
        return None
    stand_in = {k: f"\x00{k}\x00" for k in "KTPLVGD"}
    ticket = SimpleNamespace(key=stand_in["K"], title=stand_in["T"], priority=stand_in["P"])
    context = {
        "clock": SimpleNamespace(policy=SimpleNamespace(functional_escalation=escalates)),
        "label": stand_in["L"], "level": stand_in["V"], "due_at": _STAND_IN_DUE,
        "group": SimpleNamespace(name=stand_in["G"]) if has_group else None,
    }
    title, body = _render_in_zone(kind, {"ticket": ticket, "now": None, **context}, variant)
    with timezone.override(_zone(zone)), translation.override(language):
        due_text = formats.date_format(timezone.localtime(_STAND_IN_DUE), fmt)
    title, body = title.replace(due_text, stand_in["D"]), body.replace(due_text, stand_in["D"])
    html = render_html(title=title, body=body, link=f"{settings.CROSSLINE_BASE_URL}/tickets/{stand_in['K']}/",
                       ticket_key=stand_in["K"], language=language)
    return title, body, html, fmt


def _filled(ticket, variant: tuple, title: str, body: str, html: str, row: dict):
    """(title, body, html()) of one notice: its shape's texts filled in with this ticket's values, the HTML's
    escaped only when it is asked for. The title is cut at 200 characters; then the mail's heading shows the
    shortened title, so its HTML is rendered again."""
    whole_title = title.format_map(row).strip()
    filled_title, filled_body = whole_title[:200], body.format_map(row).strip()

    def html_part():
        if len(whole_title) > 200:
            return render_html(title=filled_title, body=filled_body, ticket_key=ticket.key,
                               link=f"{settings.CROSSLINE_BASE_URL}/tickets/{ticket.key}/", language=variant[1])
        return html.format_map({k: v.translate(_HTML_ESCAPES) for k, v in row.items()})

    return filled_title, filled_body, html_part


def _fallback(kind: str, ticket, context: dict, variant: tuple, now: datetime):
    title, body = _render_in_zone(kind, {"ticket": ticket, "now": now, **context}, variant)
    link = f"{settings.CROSSLINE_BASE_URL}/tickets/{ticket.key}/"
    return title, body, lambda: render_html(title=title, body=body, link=link, ticket_key=ticket.key,
                                            language=variant[1])


class EscalationTexts:
    """The escalation notices of one batch (`sla.services.clocks.on_tickets_change`): each distinct (wording,
    language, zone, and which parts the text shows: a group left, an actor, the owner's notice handed over or
    kept) is rendered once from its template with stand-in values, and each notice fills in its ticket's key,
    title, priority, groups, actor and requester. The rows are exactly those a render per ticket writes; a value
    the stand-ins cannot carry (a line break) or a template that shows a time renders per ticket instead."""

    _CONTEXT = frozenset({"old_group", "group", "actor", "for_owner", "handed_over"})

    def __init__(self) -> None:
        self._shapes: dict[tuple, tuple | None] = {}

    def for_notice(self, kind: str, ticket, context: dict, now: datetime):
        """A `fill(variant) -> (title, body, html())` for this notice, or None to render it."""
        group, old_group, actor = context.get("group"), context.get("old_group"), context.get("actor")
        if group is None or set(context) - self._CONTEXT:
            return None
        values = {"K": ticket.key, "T": ticket.title, "P": str(ticket.priority), "G": group.name,
                  "O": old_group.name if old_group is not None else "", "A": str(actor) if actor else ""}
        if context.get("for_owner") and not context.get("handed_over"):
            values["R"] = str(ticket.requester)  # only the owner who keeps the ticket reads the requester's name
        if any("\n" in v or "\r" in v or "\x00" in v for v in values.values()):
            return None
        parts = (old_group is not None, bool(actor), bool(context.get("for_owner")),
                 bool(context.get("handed_over")))

        def fill(variant):
            shape = self._shape(kind, variant, parts)
            if shape is None:
                return _fallback(kind, ticket, context, variant, now)
            return _filled(ticket, variant, *shape, values)

        return fill

    def _shape(self, kind: str, variant: tuple, parts: tuple):
        at = (kind, variant, parts)
        if at not in self._shapes:
            self._shapes[at] = _render_notice_shape(kind, variant, *parts)
        return self._shapes[at]


_SHOWS_TIME = re.compile(r"\|\s*(date|time|timesince|timeuntil|naturaltime)\b|\{%\s*now\b")


def _render_notice_shape(kind: str, variant: tuple, has_old_group: bool, has_actor: bool, for_owner: bool,
                         handed_over: bool) -> tuple | None:
    """(title, body, html) of one escalation notice with `{K}`, `{T}` ... in place of the per-ticket values, for
    str.format_map; None when the template shows a time (its text would depend on the notice) or does not show
    each value as it is."""
    name, language, _ = variant
    folder = _FOLDER / language if language != DEFAULT_LANGUAGE else _FOLDER
    if _SHOWS_TIME.search((folder / f"{name}.txt").read_text()):
        return None
    stand_in = {k: f"\x00{k}\x00" for k in "KTPGOAR"}
    ticket = SimpleNamespace(key=stand_in["K"], title=stand_in["T"], priority=stand_in["P"],
                             requester=stand_in["R"])
    context = {"old_group": SimpleNamespace(name=stand_in["O"]) if has_old_group else None,
               "group": SimpleNamespace(name=stand_in["G"]), "actor": stand_in["A"] if has_actor else None,
               "for_owner": for_owner, "handed_over": handed_over}
    title, body = _render_in_zone(kind, {"ticket": ticket, "now": None, **context}, variant)
    html = render_html(title=title, body=body, link=f"{settings.CROSSLINE_BASE_URL}/tickets/{stand_in['K']}/",
                       ticket_key=stand_in["K"], language=variant[1])
    texts = [_STAND_IN.sub(r"{\1}", text.replace("{", "{{").replace("}", "}}")) for text in (title, body, html)]
    if any("\x00" in text for text in texts):  # a filter changed a stand-in: it cannot be filled in
        return None
    return tuple(texts)


def _render_in_zone(kind: str, context: dict, variant: tuple[str, str, str]) -> tuple[str, str]:
    """A notification's text in a wording and language, its times in the recipient's zone, the zone named
    ("14:05 CET"); month and day names in the recipient's language."""
    name, language, zone = variant
    try:
        tz = zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = UTC
    labels = STATUS_LABELS.get(language)
    if labels and "status" in context:
        context = {**context, "status_label": labels.get(context["status"], context.get("status_label")),
                   "old_label": labels.get(context.get("old"), context.get("old_label"))}
    with timezone.override(tz), translation.override(language):
        return render_notification(kind, context, name=name, language=language)


def _notify(*, ticket, users, kind: str, now: datetime, key: str, context: dict, url: str | None = None) -> None:
    out = _Outgoing()
    _queue(
        out,
        ticket=ticket,
        users=users,
        kind=kind,
        now=now,
        key=key,
        context=context,
        prefs=_preferences(u.pk for u in users if u),
        url=url,
    )
    out.flush()


def acknowledge(*, ticket, actor, now: datetime) -> None:
    """Tell a ticket's requester (not staff) by mail that we have their request and that a reply adds to it;
    whoever raised it and however. In the create's transaction: one read of preferences, one insert."""
    requester = ticket.requester
    if requester is None or access.is_staff_member(requester) or not requester.is_active or not requester.email:
        return
    out = _Outgoing()
    _queue(out, ticket=ticket, users=[requester], kind=NotificationKind.RECEIVED, now=now,
           key=acknowledgement_key(ticket), context={"actor": actor}, prefs=_preferences([requester.pk]),
           email_key=acknowledgement_key(ticket))
    if rows_defer(ticket, out.events):  # written with the create's other rows
        out.events = []
    out.flush()


def notification_send(*, ticket, users, kind: str, now: datetime, key: str, context: dict | None = None,
                      url: str | None = None) -> None:
    """Notify `users` about `ticket` in the app and by e-mail (each by their preferences), in the caller's
    transaction; `key` makes a repeat a no-op. For the apps above: a CAB member asked to vote, say. `url`: the
    page the notification opens when it is not the ticket's (an approver who may not see the ticket)."""
    if kind not in NotificationKind.values:
        raise ValidationFailed(f"Unknown notification kind {kind!r}.", fields={"kind": ["Unknown kind."]})
    _notify(ticket=ticket, users=list(users), kind=kind, now=now, key=key, context=context or {}, url=url)


def notification_mark_read(*, user, ids: list[int] | None = None, now: datetime | None = None) -> int:
    """Mark the user's notifications read (all unread ones when `ids` is None); returns how many changed."""
    now = now or timezone.now()
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=now)


def preference_set(*, user, kind: str, email: bool | None = None, in_app: bool | None = None) -> NotificationPreference:
    if kind not in NotificationKind.values:
        raise ValidationFailed(
            f"Unknown notification kind {kind!r}; use one of: {', '.join(NotificationKind.values)}.",
            fields={"kind": ["Unknown kind."]},
        )
    pref, _ = NotificationPreference.objects.get_or_create(user=user, kind=kind)
    if email is not None:
        pref.email = email
    if in_app is not None:
        pref.in_app = in_app
    pref.save()
    return pref


def mail_language_set(*, user, language: str) -> None:
    """The language of the mail this person receives; empty: the site's."""
    if language and language not in Language.values:
        raise ValidationFailed(
            f"Unknown language {language!r}; use one of: {', '.join(Language.values)}, or none for the site's.",
            fields={"language": ["Unknown language."]},
        )
    User.objects.filter(pk=user.pk).update(language=language)
    user.language = language
