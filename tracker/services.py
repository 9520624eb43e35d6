"""Domain functions of the core: every write to a ticket, its history and its links goes through here.

Each function is keyword-only, takes `actor` (None for the system), owns its transaction, writes the
history rows in it, and raises a `tracker.errors.DomainError` with a message that says what to fix.
"""
import copy
import mimetypes
import re
from contextlib import suppress
from datetime import datetime
from pathlib import PurePath
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from . import access, config_cache, hooks, inserts, selectors
from .choices import (
    DEFAULT_PRIORITY_MATRIX,
    KEY_PREFIX,
    PROCESS_MANAGER,
    RESOLVED_STATUSES,
    ChangeType,
    EventKind,
    ImplementationResult,
    Kind,
    Level,
    LinkType,
    Ownership,
    Risk,
    Role,
    Severity,
    Status,
    Tier,
)
from .errors import (
    AccessDenied,
    AlreadyClaimed,
    Conflict,
    DomainError,
    NotFound,
    StaleVersion,
    TooLarge,
    TransitionRefused,
    ValidationFailed,
    field_label,
    field_phrase,
    with_article,
)
from .models import (
    AssignmentGroup,
    Attachment,
    Comment,
    Contributor,
    KeyCounter,
    Link,
    Macro,
    PriorityRule,
    QueueView,
    Ticket,
    TicketEvent,
    User,
    WorkLog,
)
from .workflows import (
    ALL_KIND_FIELDS,
    KIND_FIELDS,
    WORKFLOWS,
    check_stage,
    creatable_fields,
    editable_fields,
    field_lock,
    needs_reapproval,
)

_CHOICE_FIELDS = {
    "change_type": ChangeType, "risk": Risk, "implementation_result": ImplementationResult, "severity": Severity,
}


# --- priority ---------------------------------------------------------------------------------------

def priority_for(*, impact: int, urgency: int) -> int:
    """Priority from the admin-editable matrix; the built-in ITIL matrix fills any cell not defined."""
    return _matrix.get()[(impact, urgency)]


# The configuration a create reads, kept per process until a row of these tables changes (in any process).
config_cache.watch(PriorityRule, AssignmentGroup, AssignmentGroup.services.through)


# --- helpers ----------------------------------------------------------------------------------------

def _display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def event_record(*, ticket: Ticket, actor, kind: str, now: datetime, field: str = "", old: Any = None,
                 new: Any = None, note: str = "", internal: bool = False, comment: Comment | None = None
                 ) -> TicketEvent:
    """Append one timeline row. Call inside the transaction that made the change it records. While the ticket
    is being created the row waits (`rows_defer`) and is written with the create's other rows."""
    event = TicketEvent(
        ticket=ticket, actor=actor, kind=kind, field=field, old=_display(old), new=_display(new), note=note,
        internal=internal, comment=comment, created_at=now,
    )
    if not rows_defer(ticket, [event]):
        event.save(force_insert=True)
    return event


def rows_defer(ticket: Ticket, rows: list, *, ignore_conflicts: bool = False) -> bool:
    """Hold new rows of one model about a ticket being created (its timeline, clocks, webhook deliveries), to be
    written when its create is done, inside its transaction, in as few statements as `inserts.insert_together`
    makes: each model's rows in the order held, their ids given then. False when the ticket is not being created
    (the caller writes them). `ignore_conflicts`: a row whose unique key exists is skipped, as `inserts.insert`
    does."""
    pending = getattr(ticket, "_rows_pending", None)
    if pending is None:
        return False
    if rows:
        pending.setdefault((type(rows[0]), ignore_conflicts), []).extend(rows)
    return True


def _one_newline(values: dict[str, Any]) -> dict[str, Any]:
    """Text with one kind of line break: a plain form posts CRLF and htmx posts LF, so the same plan sent back
    unchanged would otherwise read as an edit (a history row; for a change in review, a new approval round)."""
    return {k: v.replace("\r\n", "\n").replace("\r", "\n") if isinstance(v, str) else v for k, v in values.items()}


def _validate_values(kind: str, values: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    allowed = set(editable_fields(kind))
    for name, value in values.items():
        if name in ALL_KIND_FIELDS and name not in allowed:
            owners = [str(Kind(k).label).lower() for k, fields in KIND_FIELDS.items() if name in fields]
            errors[name] = [f"Only {with_article(' or '.join(owners))} has a {field_label(name)}, "
                            f"not {with_article(str(Kind(kind).label).lower())}."]
        elif name not in allowed:
            errors[name] = [f"The {field_label(name)} cannot be set here (status moves through transitions)."]
        elif name in ("impact", "urgency") and value not in Level.values:
            errors[name] = [f"Use 1 (high), 2 (medium) or 3 (low), not {value!r}."]
        elif name in _CHOICE_FIELDS and value and value not in _CHOICE_FIELDS[name].values:
            errors[name] = [f"Use one of: {', '.join(_CHOICE_FIELDS[name].values)}."]
        elif name == "title" and not (value or "").strip():
            errors[name] = ["A title is required."]
    start = values.get("window_start")
    end = values.get("window_end")
    if start and end and end < start:
        errors["window_end"] = ["The change window must end after it starts."]
    if errors:
        first = next(iter(errors))
        raise ValidationFailed(f"Check the {', '.join(field_label(n) for n in errors)}: {errors[first][0]}",
                               fields=errors)


def _bump_counter(kind: str) -> int | None:
    """Add one to the kind's counter and return the new value (None if it has no row yet); locks the row."""
    if connection.features.can_return_columns_from_insert:  # UPDATE ... RETURNING: one round trip, not two
        table = connection.ops.quote_name(KeyCounter._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET next_number = next_number + 1 WHERE kind = %s RETURNING next_number",
                           [kind])
            row = cursor.fetchone()
        return row[0] if row else None
    if not KeyCounter.objects.filter(kind=kind).update(next_number=F("next_number") + 1):
        return None
    return KeyCounter.objects.filter(kind=kind).values_list("next_number", flat=True).get()


def _insert_numbered(ticket: Ticket, number: int | None = None) -> None:
    """Write a new ticket with the next number of its kind (`_next_number`), or with `number` when it was taken
    already (`_number_ahead`): on PostgreSQL the counter's bump and the insert are one statement (the counter's
    row stays locked to commit); elsewhere, or before the kind's first ticket, two."""
    prefix = KEY_PREFIX[ticket.kind]
    if number is not None:
        ticket.number, ticket.key = number, f"{prefix}-{number}"
        inserts.insert([ticket])
        return
    if not inserts.insert_from(ticket, source=_NUMBERED, params=[ticket.kind, f"{prefix}-"],
                               attnames=("number", "key")):
        ticket.number = _next_number(ticket.kind)
        ticket.key = f"{prefix}-{ticket.number}"
        inserts.insert([ticket])  # the ORM's row, with SQL made once


_NUMBERED = (f'UPDATE "{KeyCounter._meta.db_table}" SET next_number = next_number + 1 WHERE kind = %s '
             "RETURNING next_number - 1 AS number, %s::text || (next_number - 1) AS key")


def _number_ahead(kind: str) -> int | None:
    """The kind's next number, taken in a transaction of its own before the create's, so that the counter's row
    is locked for that one statement and not until the create commits: creates of one kind queued on that lock
    for their whole write (their history rows, clocks, webhook deliveries and commit), one at a time. None, and
    the number is taken in the create's own transaction as before, when a caller's transaction is open (its
    rollback must take the number back too), on a database without row locks (SQLite: one writer at a time
    anyway), or before the kind's first ticket."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return None
    bumped = _bump_counter(kind)
    return None if bumped is None else bumped - 1


def _give_back(kind: str, number: int, ticket: Ticket) -> None:
    """After a create that took `number` ahead failed: hand the number back unless a later create has taken one
    since (the counter then keeps a gap, as after any rolled-back create), or the ticket was written after all
    (an error after its commit). When the database cannot be reached the number stays taken: a gap, never an
    error hiding the create's own."""
    with suppress(DatabaseError):
        if ticket.pk is not None and Ticket.objects.filter(pk=ticket.pk).exists():
            return
        KeyCounter.objects.filter(kind=kind, next_number=number + 1).update(next_number=number)


def _next_number(kind: str) -> int:
    """Bump the kind's counter under its row lock (held to commit): never a duplicate, gaps only on rollback."""
    bumped = _bump_counter(kind)
    if bumped is None:
        try:
            with transaction.atomic():
                KeyCounter.objects.create(kind=kind, next_number=2)
            return 1
        except IntegrityError:  # another transaction created it first
            bumped = _bump_counter(kind)
    return bumped - 1


def _cas_update(ticket: Ticket, *, version: int, now: datetime, **fields) -> None:
    """Write `fields` only if nobody saved since `version` was read (the optimistic lock behind If-Match)."""
    won = Ticket.objects.filter(pk=ticket.pk, version=version).update(
        **fields, version=F("version") + 1, updated_at=now
    )
    if not won:
        current = Ticket.objects.filter(pk=ticket.pk).values_list("version", flat=True).first()
        raise StaleVersion(ticket.key, current)
    for name, value in fields.items():
        setattr(ticket, name, value)
    ticket.version = version + 1
    ticket.updated_at = now


def _field_events(ticket, actor, changes: dict[str, tuple], now, kind=EventKind.FIELD) -> None:
    TicketEvent.objects.bulk_create([
        TicketEvent(ticket=ticket, actor=actor, kind=kind, field=name, old=_display(old), new=_display(new),
                    created_at=now)
        for name, (old, new) in changes.items()
    ])


def _is_first_response(ticket: Ticket, actor) -> bool:
    return (ticket.first_response_at is None and actor is not None and access.is_staff_member(actor)
            and ticket.requester_id != actor.pk)


# --- create and edit --------------------------------------------------------------------------------

@config_cache.scope()  # one read of the configuration's stamp for the matrix, groups, policies and webhooks
def ticket_create(*, actor, kind: str, title: str, requester=None, now: datetime | None = None,
                  route_to: AssignmentGroup | None = None, files=(), **values: Any) -> Ticket:
    """Create a ticket of any kind with its key, priority and 'created' history row; atomic. `route_to`: the
    team an app's own rule sends it to (a catalogue item's fulfilment team), whoever raises it; otherwise the
    group given, or the default for the kind and service. `files`: uploads attached in the same transaction
    (a file the limits refuse refuses the ticket, and nothing is written)."""
    now = now or timezone.now()
    if kind not in Kind.values:
        raise ValidationFailed(f"Unknown kind {kind!r}; use one of: {', '.join(Kind.values)}.",
                               fields={"kind": ["Unknown kind."]})
    access.require_create(actor, kind)
    if requester is None or access.role_of(actor) == Role.REQUESTER:
        requester = actor
    # An empty value of another kind's field (a blank form input, an unchecked box) is the column's default,
    # not an attempt to set it: only a real value of a field this kind does not own is refused.
    own = set(KIND_FIELDS[kind]) if kind in KIND_FIELDS else set()
    values = {k: v for k, v in _one_newline(values).items()
              if v is not None and not (k in ALL_KIND_FIELDS and k not in own and v in ("", False))}
    access.writable_fields(actor, set(values))
    if route_to is not None:
        values["group"] = route_to
    owner = values.pop("owner", None)
    _validate_values(kind, {"title": title, **values})
    _require_creatable(kind, values)
    _require_live_service(values.get("service"))
    impact = values.pop("impact", Level.MEDIUM)
    urgency = values.pop("urgency", Level.MEDIUM)
    if owner is not None:
        _require_owner_staff(owner)
    if values.get("assignee") is not None:
        _require_assignable(values["assignee"])
    if owner or values.get("assignee"):  # touch and hold: the first person on the ticket owns it
        values["owner"] = owner or values["assignee"]
    group = values.get("group")
    if group is None and access.role_of(actor) in (Role.REQUESTER, Role.AGENT_L1):
        values["group"] = _default_group(kind, values.get("service"))
    priority = priority_for(impact=impact, urgency=urgency)
    ticket = Ticket(
        kind=kind, title=title.strip(), requester=requester, impact=impact, urgency=urgency,
        priority=priority, status=WORKFLOWS[kind].initial, created_at=now, updated_at=now, **values,
    )
    number = _number_ahead(kind)
    if number is None:
        return _ticket_write(ticket, actor, now, values, files, None)
    try:
        return _ticket_write(ticket, actor, now, values, files, number)
    except BaseException:
        _give_back(kind, number, ticket)
        raise


def _ticket_write(ticket: Ticket, actor, now: datetime, values: dict[str, Any], files, number: int | None) -> Ticket:
    """`ticket_create`'s writes, in one transaction: the ticket (numbered here unless `number` was taken ahead),
    its history rows, what the apps add (clocks, webhook deliveries) and its files."""
    requester = ticket.requester
    # Without a number taken ahead, creates of one kind queue on the counter's row lock until commit: bump it
    # as late as possible.
    with transaction.atomic():
        _insert_numbered(ticket, number)
        ticket._rows_pending = {}  # the create's other rows, written in one batch below
        hooks.ticket_changing(hooks.TicketChange(ticket, actor, now, "created",
                                                 {name: (None, getattr(ticket, name)) for name in values}))
        event_record(ticket=ticket, actor=actor, kind=EventKind.CREATED, now=now, new=ticket.key,
                     note=f"{Kind(ticket.kind).label} raised by {requester.display_name}")
        if ticket.assignee_id:
            event_record(ticket=ticket, actor=actor, kind=EventKind.ASSIGNMENT, now=now, field="assignee",
                         new=ticket.assignee)
        if ticket.owner_id:
            _owner_event(ticket, actor, now, None, ticket.owner)
        if files:
            attachments_add(ticket=ticket, actor=actor, files=files, now=now)
        hooks.ticket_changed(hooks.TicketChange(ticket, actor, now, "created"))
        pending, ticket._rows_pending = ticket._rows_pending, None
        inserts.insert_together([(rows, ignore) for (_, ignore), rows in pending.items()])
    return ticket


def _require_creatable(kind: str, values: dict[str, Any]) -> None:
    """A new ticket carries no value of a field its first state has not reached (a change's decision note,
    implementation result or review): those are written later, in their stage (`workflows.STAGE_LOCKS`)."""
    allowed = set(creatable_fields(kind))
    later = [n for n, v in values.items() if n in ALL_KIND_FIELDS and n not in allowed and v not in ("", None, False)]
    if later:
        kind_label = str(Kind(kind).label).lower()
        raise ValidationFailed(
            f"A new {kind_label} cannot have {field_phrase(later)} yet: {field_lock(kind, later[0]).reason}.",
            fields={n: [f"Set later, in its stage: {field_lock(kind, n).reason}."] for n in later})


def _default_group(kind: str, service) -> AssignmentGroup | None:
    """New incidents and requests land at the service's intake team when it is supported directly (any tier),
    else at the service desk (L1) that covers the service, or any L1 group."""
    if kind not in (Kind.INCIDENT, Kind.REQUEST):
        return None
    by_id, covering = _groups.get()
    if service is not None and service.intake_group_id:
        group = by_id.get(service.intake_group_id)
    else:
        group = covering.get(service.pk if service is not None else None) or covering.get(None)
    return copy.copy(group) if group is not None else None  # the caller's own instance, not the cache's


def _groups_load() -> tuple[dict[int, AssignmentGroup], dict[int | None, AssignmentGroup]]:
    """Every group by id; for each service the first L1 group (by id) that covers it, under None the first."""
    groups = list(AssignmentGroup.objects.order_by("id").prefetch_related("services"))
    covering: dict[int | None, AssignmentGroup] = {}
    for group in groups:
        if group.tier == Tier.L1:
            covering.setdefault(None, group)
            for service in group.services.all():
                covering.setdefault(service.pk, group)
    for group in groups:
        group.__dict__.pop("_prefetched_objects_cache", None)  # handed out as plain rows
    return {group.pk: group for group in groups}, covering


_groups = config_cache.Cached(_groups_load)


def ticket_update(*, ticket: Ticket, actor, version: int, changes: dict[str, Any],
                  now: datetime | None = None) -> Ticket:
    """Change fields under the optimistic lock; one history row per field that really changed.

    Raises StaleVersion when `version` is not the ticket's current one (HTTP 412).
    """
    now = now or timezone.now()
    changes = _one_newline(changes)
    if "owner" in changes:  # the owner follows the rules of ticket_set_owner, all or nothing with the rest
        changes = dict(changes)
        owner = changes.pop("owner")
        with transaction.atomic():
            if changes:
                ticket_update(ticket=ticket, actor=actor, version=version, changes=changes, now=now)
                version = ticket.version
            return ticket_set_owner(ticket=ticket, actor=actor, owner=owner, version=version, now=now)
    if not access.may_see(actor, ticket):
        raise AccessDenied(f"You may not edit {ticket.key}.")
    if access.role_of(actor) == Role.REQUESTER:
        access.writable_fields(actor, set(changes))
    else:
        access.require(actor, "edit", ticket)
    _validate_values(ticket.kind, changes)
    if "assignee" in changes and changes["assignee"] is not None:
        _require_assignable(changes["assignee"])
    if "assignee" in changes and changes["assignee"] != ticket.assignee and not _dispatches(actor, ticket):
        # an edit of the assignee field follows the rules of ticket_assign (no silent take-over)
        _require_not_held(ticket, actor)
        _require_group_member(ticket, changes["assignee"])
    if changes.get("service") is not None and changes["service"].pk != ticket.service_id:
        _require_live_service(changes["service"])
    diff = {name: (getattr(ticket, name), value) for name, value in changes.items() if getattr(ticket, name) != value}
    if "change_type" in diff:
        _require_change_type_open(ticket)
    reapprove = check_stage(ticket, list(diff))  # a frozen field is refused here, for every front end
    back_to = field_lock(ticket.kind, reapprove[0]).back_to if reapprove else ""
    if back_to and back_to != ticket.status:
        _require_back_move(ticket, actor, back_to, reapprove)
    if "impact" in diff or "urgency" in diff:
        priority = priority_for(impact=changes.get("impact", ticket.impact),
                                urgency=changes.get("urgency", ticket.urgency))
        if priority != ticket.priority:
            diff["priority"] = (ticket.priority, priority)
    if diff.get("assignee", (None, None))[1] is not None and ticket.owner_id is None:
        diff["owner"] = (None, diff["assignee"][1])  # touch and hold: the first person on the ticket owns it
    if not diff:
        if ticket.version != version:
            raise StaleVersion(ticket.key, ticket.version)
        return ticket
    with transaction.atomic():
        hooks.ticket_changing(hooks.TicketChange(ticket, actor, now, "updated", diff))
        _cas_update(ticket, version=version, now=now, **{k: new for k, (_, new) in diff.items()})
        _field_events(ticket, actor, {k: v for k, v in diff.items() if k != "owner"}, now)
        if "owner" in diff:
            _owner_event(ticket, actor, now, None, ticket.owner)
        hooks.ticket_changed(hooks.TicketChange(ticket, actor, now, "updated", diff))
        if back_to and back_to != ticket.status:
            what = ", ".join(field_label(n) for n in reapprove)
            ticket_transition(ticket=ticket, to=back_to, actor=actor, now=now,
                              note=f"the {what} changed after approval, so the change needs a new approval")
    return ticket


def _require_back_move(ticket: Ticket, actor, back_to: str, fields: list[str]) -> None:
    """An edit that needs a new approval takes the ticket back (an approved change to the CAB): refused as a
    whole, before anything is written, when that move is not open to this ticket or this actor."""
    move = next((m for m in WORKFLOWS[ticket.kind].moves_from(ticket.status) if m.target == back_to), None)
    if move is None or (move.when is not None and not move.when(ticket)):
        reason = move.when_text if move is not None else "it cannot go back for a new approval from here"
        names = ", ".join(field_label(n) for n in fields)
        raise Conflict(f"{ticket.key} is '{Status(ticket.status).label}', so its {names} can no longer change: "
                       f"{reason}.", fields={n: ["Frozen once approved."] for n in fields})
    access.require_move(actor, move, ticket)


def _require_change_type_open(ticket: Ticket) -> None:
    """The change type decides who approves (a standard change skips the CAB), so it is fixed once the change
    has left its initial state: re-typing a submitted or rejected change as 'standard' would let anyone
    approve it themselves. Checked against the history too, since a rejected change comes back to 'new'."""
    initial = WORKFLOWS[ticket.kind].initial
    if ticket.status == initial and not TicketEvent.objects.filter(
            ticket=ticket, kind=EventKind.STATUS, field="status").exists():
        return
    current = ChangeType(ticket.change_type).label if ticket.change_type else "not set"
    raise Conflict(
        f"{ticket.key} has already been submitted, so its change type ({current}) can no longer change; "
        "withdraw it and raise a new change of the other type.",
        fields={"change_type": ["Fixed once the change has been submitted."]})


def _require_live_service(service) -> None:
    """A retired service takes no new tickets; the forms hide it. One not yet operational is accepted (and
    flagged to the desk by its operations gate)."""
    if service is not None and not service.takes_tickets:
        raise ValidationFailed(
            f"{service.name} is retired and takes no new tickets; choose a live service or leave it empty.",
            fields={"service": [f"{service.name} is retired."]})


def _require_assignable(user) -> None:
    if access.role_of(user) in (None, Role.REQUESTER):
        raise ValidationFailed(f"{user} is not an agent and cannot be assigned work.",
                               fields={"assignee": ["Choose an agent or engineer."]})


# --- workflow ---------------------------------------------------------------------------------------

def ticket_transition(*, ticket: Ticket, to: str, actor, version: int | None = None,
                      values: dict[str, Any] | None = None, now: datetime | None = None, note: str = "",
                      quiet: bool = False, by_rule: bool = False) -> Ticket:
    """Apply one workflow move with its required fields; atomic, optimistic-locked, recorded (with `note`, or
    the move's label, on the timeline).

    Raises TransitionRefused (409), AccessDenied (403), MissingField (400), Conflict (409, a field the
    state has frozen) or StaleVersion (412); an app's guard may refuse it too. `quiet`: a step of a larger
    change that tells people itself, so the move sends no notification of its own. `by_rule`: an app's own
    rule takes the move on `actor`'s decision, or with `actor=None` on its own (an approver who is no agent
    approving a request, a fulfilment handler finishing one); the app has checked who may decide, so the
    workflow's roles are not asked. The guards still run.
    """
    now = now or timezone.now()
    values = {k: v for k, v in _one_newline(values or {}).items() if v not in (None, "")}
    if not by_rule and not access.may_see(actor, ticket):
        raise AccessDenied(f"You may not change {ticket.key}.")
    if to not in Status.values:
        raise ValidationFailed(f"Unknown status {to!r}; use one of: {', '.join(Status.values)}.",
                               fields={"to": ["Unknown status."]})
    move = WORKFLOWS[ticket.kind].move(ticket, to)
    if not by_rule:
        access.require_move(actor, move, ticket)
    _validate_values(ticket.kind, values)
    move.check_required(ticket, values)
    version = ticket.version if version is None else version
    old_status = ticket.status
    fields: dict[str, Any] = {k: v for k, v in values.items() if getattr(ticket, k) != v}
    if "change_type" in fields:
        _require_change_type_open(ticket)
    _require_move_values(ticket, move, fields)
    fields["status"] = to
    if to in (Status.RESOLVED, Status.FIXED):
        fields["resolved_at"] = now
    elif to == Status.CLOSED:
        fields["closed_at"] = now
        if ticket.resolved_at is None:
            fields["resolved_at"] = now
    elif to == Status.CANCELLED:
        fields["closed_at"] = now
    if old_status in RESOLVED_STATUSES and to not in RESOLVED_STATUSES:
        fields["resolved_at"] = None  # reopened: a new resolution cycle begins
    if ticket.kind == Kind.PROBLEM and to == Status.KNOWN_ERROR:
        fields["known_error"] = True
    if _is_first_response(ticket, actor) and to != Status.NEW:
        fields["first_response_at"] = now
    with transaction.atomic():
        diff = {name: (getattr(ticket, name), value) for name, value in fields.items()
                if name != "status" and name not in ("resolved_at", "closed_at", "first_response_at")}
        change = hooks.TicketChange(ticket, actor, now, "transition", {"status": (old_status, to), **diff},
                                    quiet=quiet)
        hooks.ticket_changing(change)
        _cas_update(ticket, version=version, now=now, **fields)
        event_record(ticket=ticket, actor=actor, kind=EventKind.STATUS, now=now, field="status",
                     old=old_status, new=to, note=f"{move.label}: {note}" if note else move.label)
        _field_events(ticket, actor, diff, now)
        hooks.ticket_changed(change)
    return ticket


def _require_move_values(ticket: Ticket, move, fields: dict[str, Any]) -> None:
    """A move sets what it requires (and its optional fields) in its own stage; anything else it carries must
    be editable in the state it leaves, without a new approval: a plan changed in the same move as the
    CAB's decision or an emergency start would skip the CAB."""
    extra = [n for n in fields if n in ALL_KIND_FIELDS and n not in move.requires and n not in move.offers]
    check_stage(ticket, extra)
    again = needs_reapproval(ticket.kind, ticket.status, extra)
    if again:
        names = ", ".join(field_label(n) for n in again)
        raise Conflict(f"Save the {names} of {ticket.key} on its own first (it needs a new approval), then move it.",
                       fields={n: ["Change it on its own first."] for n in again})


def available_moves(*, ticket: Ticket, actor) -> list:
    """The moves this actor may take now (the UI's buttons, the API's `transitions`); the moves an app takes
    itself (`offered=False`, such as the CAB's decision) are never offered."""
    return [m for m in WORKFLOWS[ticket.kind].moves_from(ticket.status)
            if m.offered and access.may_take(actor, m, ticket) and (m.when is None or m.when(ticket))]


# --- ownership: assign, escalate, pick, watch -------------------------------------------------------

def ticket_assign(*, ticket: Ticket, actor, assignee, version: int | None = None, take_over: bool = False,
                  now: datetime | None = None) -> Ticket:
    """Assign (or unassign with None) under the optimistic lock; recorded.

    Someone else's ticket is not taken silently: without `take_over=True` a ticket held by another person
    (AlreadyClaimed, 409) or an assignee outside the ticket's group (ValidationFailed, 400) is refused.
    Managers, admins and the group's own manager dispatch work, so they need no `take_over`.
    """
    now = now or timezone.now()
    access.require(actor, "assign", ticket)
    if assignee is not None:
        _require_assignable(assignee)
    if ticket.assignee_id == (assignee.pk if assignee else None):
        return ticket
    if not take_over and not _dispatches(actor, ticket):
        _require_not_held(ticket, actor)
        _require_group_member(ticket, assignee)
    old = ticket.assignee
    first_owner = assignee is not None and ticket.owner_id is None  # touch and hold: the first person owns it
    with transaction.atomic():
        _cas_update(ticket, version=ticket.version if version is None else version, now=now, assignee=assignee,
                    **({"owner": assignee} if first_owner else {}))
        event_record(ticket=ticket, actor=actor, kind=EventKind.ASSIGNMENT, now=now, field="assignee",
                     old=old, new=assignee, note="taken over" if take_over and old is not None else "")
        changes = {"assignee": (old, assignee)}
        if first_owner:
            _owner_event(ticket, actor, now, None, assignee)
            changes["owner"] = (None, assignee)
        hooks.ticket_changed(hooks.TicketChange(ticket, actor, now, "assigned", changes))
    return ticket


def _dispatches(actor, ticket: Ticket) -> bool:
    """Managers and admins hand out work across people and groups; so does the manager of the ticket's group."""
    if access.role_of(actor) in (Role.MANAGER, Role.ADMIN):
        return True
    return ticket.group is not None and ticket.group.manager_id == actor.pk


def _require_not_held(ticket: Ticket, actor) -> None:
    holder = ticket.assignee
    if holder is not None and holder.pk != actor.pk:
        raise AlreadyClaimed(
            f"{ticket.key} is held by {holder.display_name} ({holder.username}); ask them to hand it on, or take "
            "it over explicitly (take_over).",
            fields={"assignee": [f"Held by {holder.username}."]})


def _require_group_member(ticket: Ticket, assignee) -> None:
    group = ticket.group
    if assignee is None or group is None or group.members.filter(pk=assignee.pk).exists():
        return
    raise ValidationFailed(
        f"{assignee.display_name} is not a member of {group.name}, the group {ticket.key} is with; escalate it to "
        "their group, or assign across groups explicitly (take_over).",
        fields={"assignee": [f"Not a member of {group.name}."]})


def escalation_target(ticket: Ticket) -> AssignmentGroup | None:
    """The next tier's group: the group's own `escalates_to`, else the first (by id) of the next tier covering the
    ticket's service, else the first of the next tier. The groups of a tier come from the configuration cache."""
    current = ticket.group
    if current is not None and current.escalates_to_id:
        return current.escalates_to
    tier = (current.tier if current else Tier.L1) + 1
    if tier > Tier.L3:
        return None
    by_tier, covers = _tiers.get()
    candidates = by_tier.get(tier, ())
    if ticket.service_id:
        for group in candidates:
            if ticket.service_id in covers.get(group.pk, ()):
                return group
    return candidates[0] if candidates else None


@config_cache.cached
def _tiers() -> tuple[dict[int, list[AssignmentGroup]], dict[int, set[int]]]:
    """Every group by tier in id order, and the services each group covers (shared, read-only objects)."""
    by_tier: dict[int, list[AssignmentGroup]] = {}
    for group in AssignmentGroup.objects.order_by("id"):
        by_tier.setdefault(group.tier, []).append(group)
    covers: dict[int, set[int]] = {}
    for group_id, service_id in AssignmentGroup.services.through.objects.values_list("assignmentgroup_id",
                                                                                     "service_id"):
        covers.setdefault(group_id, set()).add(service_id)
    return by_tier, covers


def _escalation(ticket: Ticket, *, actor, now: datetime, to_group: AssignmentGroup | None = None, note: str = "",
                automatic: bool = False) -> tuple[dict[str, Any], list, list[dict[str, str]], dict[str, tuple]]:
    """What one functional escalation writes, without writing it: refuses (a DomainError) a ticket that is not
    open, at the last tier or already with the group; else (ticket fields, people to add as watchers, timeline
    rows as the values of their `_ESCALATION_EVENT_FIELDS` (each row is the ticket's, by `actor`, at `now`), the
    change's fields as (old, new)). The one rule behind `ticket_escalate` and `tickets_escalate`."""
    if not ticket.is_open:
        raise TransitionRefused(f"{ticket.key} is {ticket.get_status_display().lower()}; reopen it to escalate.")
    target = to_group or escalation_target(ticket)
    if target is None:
        raise TransitionRefused(f"{ticket.key} is already at the last tier; choose a group to hand it to.")
    if target.pk == ticket.group_id:
        raise ValidationFailed(f"{ticket.key} is already with {target.name}.", fields={"group": ["Same group."]})
    old_group, old_assignee, old_owner = ticket.group, ticket.assignee, ticket.owner
    hand_over = old_group is not None and old_group.ownership == Ownership.HAND_OVER
    owner = None if hand_over else (old_owner or old_assignee)
    fields: dict[str, Any] = {"group": target, "assignee": None, "picked_at": None}
    if owner != old_owner:
        fields["owner"] = owner
    watchers = list({p for p in (old_assignee, old_owner) if p is not None})  # whoever held or owned it stays informed
    kind_text = "automatic (SLA)" if automatic else "functional"
    if hand_over:
        ownership = f"ownership handed over to {target.name}"
    elif owner is not None:
        ownership = f"{owner.display_name} keeps ownership (touch and hold)"
    else:
        ownership = ""
    said = " — ".join(x for x in (f"{kind_text} escalation to L{target.tier}", ownership, note) if x)
    events = [{"kind": EventKind.ESCALATION, "field": "group", "old": _display(old_group.name if old_group else ""),
               "new": _display(target.name), "note": said}]
    changes = {"group": (old_group, target), "assignee": (old_assignee, None)}
    if "owner" in fields:
        events.append({"kind": EventKind.ASSIGNMENT, "field": "owner", "old": _display(old_owner),
                       "new": _display(owner),
                       "note": f"handed over with the ticket to {target.name}" if hand_over else "touch and hold"})
        changes["owner"] = (old_owner, owner)
    return fields, watchers, events, changes


def ticket_escalate(*, ticket: Ticket, actor, to_group: AssignmentGroup | None = None, note: str = "",
                    version: int | None = None, now: datetime | None = None, automatic: bool = False) -> Ticket:
    """Functional escalation to the next tier (or a chosen group); recorded on the timeline.

    Responsibility always moves: the assignee is cleared for the new group to pick, and stays on as a watcher.
    Ownership follows the rule of the group the ticket leaves (`AssignmentGroup.ownership`): touch and hold
    keeps the owner (the person who held it becomes owner if it had none); hand over clears it, and the next
    person to take the ticket owns it. `actor=None` with `automatic=True` is the SLA worker.
    """
    now = now or timezone.now()
    if not automatic:
        access.require(actor, "escalate", ticket)
    fields, watchers, events, changes = _escalation(ticket, actor=actor, now=now, to_group=to_group, note=note,
                                                    automatic=automatic)
    with transaction.atomic():
        _cas_update(ticket, version=ticket.version if version is None else version, now=now, **fields)
        for person in watchers:
            ticket.watchers.add(person)
        for values in events:
            event = TicketEvent(ticket=ticket, actor=actor, created_at=now, **values)
            if not rows_defer(ticket, [event]):
                event.save(force_insert=True)
        hooks.ticket_changed(hooks.TicketChange(ticket, actor, now, "escalated", changes))
    return ticket


@config_cache.scope()  # one read of the configuration's stamp for the batch's policies and webhooks
def tickets_escalate(*, tickets: list[Ticket], actor, now: datetime, notes: dict[int, str] | None = None,
                     automatic: bool = False, quiet: bool = False) -> dict[int, DomainError]:
    """Escalate each of many tickets one tier, as `ticket_escalate` does for one, in a number of statements
    that does not grow with the batch: one conditional update of every ticket still at the version it was read
    at, the watchers and timeline rows in one insert each, and one batch notification of the observers
    (`hooks.tickets_changed`). `notes`: the timeline note by ticket id. Returns the refusals by ticket id: a
    ticket `ticket_escalate` would refuse, or one someone else changed since it was read, is left as it is.
    Each ticket at most once per call (escalate twice: call twice)."""
    notes = notes or {}
    _escalation_load(tickets)
    refused: dict[int, DomainError] = {}
    planned: list[tuple[Ticket, dict[str, Any], list, list[dict[str, str]], dict[str, tuple]]] = []
    for ticket in tickets:
        try:
            if not automatic:
                access.require(actor, "escalate", ticket)
            planned.append((ticket, *_escalation(ticket, actor=actor, now=now, note=notes.get(ticket.pk, ""),
                                                 automatic=automatic)))
        except DomainError as exc:
            refused[ticket.pk] = exc
    if not planned:
        return refused
    with transaction.atomic():
        won = _escalation_write([(t, fields) for t, fields, *_ in planned], now)
        lost = [t for t, *_ in planned if t.pk not in won]
        if lost:
            current = dict(Ticket.objects.filter(pk__in=[t.pk for t in lost]).values_list("pk", "version"))
            for t in lost:
                refused[t.pk] = StaleVersion(t.key, current.get(t.pk))
        planned = [p for p in planned if p[0].pk in won]
        for ticket, fields, *_ in planned:
            for name, value in fields.items():
                setattr(ticket, name, value)
            ticket.version += 1
            ticket.updated_at = now
        _escalation_watchers([(t.pk, p.pk) for t, _, people, *_ in planned for p in people])
        actor_id = actor.pk if actor is not None else None
        inserts.copy_rows(TicketEvent, _ESCALATION_EVENT_COLUMNS,
                         [(t.pk, actor_id, *(e[name] for name in _ESCALATION_EVENT_FIELDS), False, now)
                          for t, _, _, evs, _ in planned for e in evs])
        hooks.tickets_changed([hooks.TicketChange(t, actor, now, "escalated", changes, quiet=quiet)
                               for t, _, _, _, changes in planned])
    return refused


def _escalation_load(tickets: list[Ticket]) -> None:
    """Read what the escalation rule reads of these tickets (group, the group it escalates to, assignee, owner)
    in one query per relation, for those not read already; tickets sharing a group share its instance."""
    groups: dict[int, AssignmentGroup] = {}
    for t in tickets:
        if t.group_id and Ticket.group.is_cached(t):
            shared = groups.setdefault(t.group_id, t.group)
            if shared is not t.group:
                t.group = shared
    missing = {t.group_id for t in tickets if t.group_id and t.group_id not in groups}
    groups.update(AssignmentGroup.objects.in_bulk(missing) if missing else {})
    for t in tickets:
        if t.group_id and not Ticket.group.is_cached(t):
            t.group = groups[t.group_id]
    nexts = {g.escalates_to_id for g in groups.values()
             if g.escalates_to_id and not AssignmentGroup.escalates_to.is_cached(g)}
    found = {g.escalates_to_id: g.escalates_to for g in groups.values()
             if g.escalates_to_id and AssignmentGroup.escalates_to.is_cached(g)}
    found.update(AssignmentGroup.objects.in_bulk(nexts - found.keys()) if nexts - found.keys() else {})
    for g in groups.values():
        if g.escalates_to_id:
            g.escalates_to = found[g.escalates_to_id]
    for relation in (Ticket.assignee, Ticket.owner):
        attname, cache = relation.field.attname, relation.field.set_cached_value
        ids = {getattr(t, attname) for t in tickets if not relation.is_cached(t)} - {None}
        people = User.objects.in_bulk(ids) if ids else {}
        for t in tickets:
            if not relation.is_cached(t):  # cached as select_related caches it: the id is already this row's
                cache(t, people.get(getattr(t, attname)))


_ESCALATION_COLUMNS = {"group", "owner", "assignee", "picked_at"}  # what `_escalation` may change


def _escalation_write(rows: list[tuple[Ticket, dict[str, Any]]], now: datetime) -> set[int]:
    """One conditional update: each ticket gets its new group and owner and loses its assignee, only if it is
    still at the version it was read at. Returns the ids of the tickets written."""
    table = Ticket._meta.db_table
    col = {name: Ticket._meta.get_field(name).column for name in ("group", "owner", "assignee", "picked_at")}
    values: list[list[Any]] = [[], [], [], []]  # id, version read, new group, owner: a column each
    for t, fields in rows:
        if fields.keys() - _ESCALATION_COLUMNS:  # the rule writes a field this statement does not: say so loudly
            raise RuntimeError(f"_escalation_write cannot write {sorted(fields.keys() - _ESCALATION_COLUMNS)}")
        owner = fields["owner"] if "owner" in fields else t.owner
        for column, value in zip(values, (t.pk, t.version, fields["group"].pk,
                                          owner.pk if owner is not None else None), strict=True):
            column.append(value)
    params: list[Any] = [connection.ops.adapt_datetimefield_value(now)]
    if connection.vendor == "postgresql":  # four arrays, not four parameters per ticket to send and parse
        source = ("unnest(%s::bigint[], %s::integer[], %s::bigint[], %s::bigint[]) "
                  "AS v(column1, column2, column3, column4)")
        params += values
    else:
        source = f"(VALUES {', '.join(['(%s, %s, %s, %s)'] * len(rows))}) AS v"
        params += [value for row in zip(*values, strict=True) for value in row]
    sql = (f"UPDATE {table} SET {col['group']} = CAST(v.column3 AS bigint), "
           f"{col['owner']} = CAST(v.column4 AS bigint), {col['assignee']} = NULL, {col['picked_at']} = NULL, "
           f"version = version + 1, updated_at = %s FROM {source} "
           f"WHERE {table}.id = CAST(v.column1 AS bigint) AND {table}.version = CAST(v.column2 AS integer) "
           "RETURNING id")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0] for row in cursor.fetchall()}


# What an escalation's timeline rows carry: the ticket, the actor, what `_escalation` says of each row, not internal,
# the time. The table's other columns keep their defaults.
_ESCALATION_EVENT_FIELDS = ("kind", "field", "old", "new", "note")
_ESCALATION_EVENT_COLUMNS = ["ticket_id", "actor_id", *_ESCALATION_EVENT_FIELDS, "internal", "created_at"]


def _escalation_watchers(pairs: list[tuple[int, int]]) -> None:
    """Add (ticket id, user id) watchers in one statement, skipping those already watching."""
    if not pairs:
        return
    through = Ticket.watchers.through
    if connection.vendor != "postgresql":
        through.objects.bulk_create([through(ticket_id=t, user_id=u) for t, u in pairs], ignore_conflicts=True)
        return
    ticket, user = (through._meta.get_field(name).column for name in ("ticket", "user"))
    with connection.cursor() as cursor:  # two arrays, not two parameters per row
        cursor.execute(f"INSERT INTO {through._meta.db_table} ({ticket}, {user}) "
                       "SELECT * FROM unnest(%s::bigint[], %s::bigint[]) ON CONFLICT DO NOTHING",
                       [[t for t, _ in pairs], [u for _, u in pairs]])


def ticket_claim(*, ticket: Ticket, actor, now: datetime | None = None) -> Ticket:
    """Atomic 'Pick': one conditional UPDATE, so of two engineers picking at once exactly one wins.

    Raises AlreadyClaimed (409) naming who holds it when someone else was first.
    """
    now = now or timezone.now()
    access.require(actor, "pick", ticket)
    if not ticket.is_open:
        raise TransitionRefused(f"{ticket.key} is {ticket.get_status_display().lower()}; nothing to pick.")
    if access.role_of(actor) == Role.ENGINEER_L3 and ticket.group_id and not actor.assignment_groups.filter(
            pk=ticket.group_id).exists():
        raise AccessDenied(f"{ticket.key} is with {ticket.group.name}, which is not one of your teams.")
    with transaction.atomic():
        # Touch and hold: whoever picks a ticket nobody owns yet (after a hand-over) becomes its owner.
        won = Ticket.objects.filter(pk=ticket.pk, assignee__isnull=True).update(
            assignee=actor, picked_at=now, version=F("version") + 1, updated_at=now,
            owner=Coalesce(F("owner"), Value(actor.pk)))
        if not won:
            holder = Ticket.objects.filter(pk=ticket.pk).values_list(
                "assignee__username", "assignee_id", "picked_at").get()
            if holder[1] == actor.pk:
                ticket.refresh_from_db()
                return ticket
            raise AlreadyClaimed(f"{ticket.key} was already picked by {holder[0]}; choose another ticket.")
        old_owner_id = ticket.owner_id
        ticket.refresh_from_db()
        event_record(ticket=ticket, actor=actor, kind=EventKind.ASSIGNMENT, now=now, field="assignee",
                     new=actor, note="picked from the 3rd-line queue")
        changes = {"assignee": (None, actor)}
        if old_owner_id is None and ticket.owner_id == actor.pk:
            _owner_event(ticket, actor, now, None, actor)
            changes["owner"] = (None, actor)
        hooks.ticket_changed(hooks.TicketChange(ticket, actor, now, "claimed", changes))
    return ticket


def ticket_watch(*, ticket: Ticket, actor, user, watch: bool = True, now: datetime | None = None) -> None:
    now = now or timezone.now()
    if user != actor:
        access.require(actor, "watch", ticket)
    elif not access.may_see(actor, ticket):
        raise AccessDenied(f"You may not watch {ticket.key}.")
    with transaction.atomic():
        (ticket.watchers.add if watch else ticket.watchers.remove)(user)
        event_record(ticket=ticket, actor=actor, kind=EventKind.WATCHER, now=now, field="watchers",
                     new=user if watch else "", old="" if watch else user, internal=True)


# --- touch and hold: the owner, accountable to the requester through every hand-off ------------------

def _owner_event(ticket: Ticket, actor, now: datetime, old, new, note: str = "") -> TicketEvent:
    return event_record(ticket=ticket, actor=actor, kind=EventKind.ASSIGNMENT, now=now, field="owner",
                        old=old, new=new, note=note)


def _require_owner_staff(owner) -> None:
    if access.role_of(owner) in (None, Role.REQUESTER) or not owner.is_active:
        raise ValidationFailed(
            f"{owner} is not an active member of staff and cannot own a ticket; choose an agent, engineer or manager.",
            fields={"owner": ["Choose a member of staff."]})


def may_set_owner(actor, ticket: Ticket) -> bool:
    """Who may name a ticket's owner: managers and admins, the process manager of its kind, the manager and
    members of its group, and its owner (handing ownership on)."""
    role = access.role_of(actor)
    if role in (Role.MANAGER, Role.ADMIN) or role == PROCESS_MANAGER.get(ticket.kind):
        return True
    if not access.is_staff_member(actor):
        return False
    if actor.pk in (ticket.owner_id, ticket.group.manager_id if ticket.group_id else None):
        return True
    return ticket.group_id is not None and ticket.group.members.filter(pk=actor.pk).exists()


def ticket_set_owner(*, ticket: Ticket, actor, owner, version: int | None = None,
                     now: datetime | None = None) -> Ticket:
    """Name the ticket's owner (accountable to the requester) under the optimistic lock; recorded, and the
    new owner is told. Raises AccessDenied (403) for someone outside the ticket's group, ValidationFailed (400)
    for an owner who is not staff or for no owner at all once it has one, StaleVersion (412)."""
    now = now or timezone.now()
    if not access.may_see(actor, ticket):
        raise AccessDenied(f"You may not change {ticket.key}.")
    if not may_set_owner(actor, ticket):
        where = f"members of {ticket.group.name}, " if ticket.group_id else ""
        raise AccessDenied(f"Only its owner, {where}its group's manager and the {Kind(ticket.kind).label.lower()} "
                           f"process managers may change who owns {ticket.key}.")
    if owner is None and ticket.owner_id is not None:
        raise ValidationFailed(
            f"{ticket.key} keeps an owner once it has one, so that someone stays accountable to its requester; "
            "choose who takes ownership over.", fields={"owner": ["Choose the new owner."]})
    if owner is not None:
        _require_owner_staff(owner)
    version = ticket.version if version is None else version
    if ticket.owner_id == (owner.pk if owner else None):
        if version != ticket.version:
            raise StaleVersion(ticket.key, ticket.version)
        return ticket
    old = ticket.owner
    with transaction.atomic():
        _cas_update(ticket, version=version, now=now, owner=owner)
        _owner_event(ticket, actor, now, old, owner)
        hooks.ticket_changed(hooks.TicketChange(ticket, actor, now, "owner", {"owner": (old, owner)}))
    return ticket


# --- conversation -----------------------------------------------------------------------------------

def ticket_comment(*, ticket: Ticket, actor, body: str, internal: bool = False,
                   now: datetime | None = None, quiet: bool = False, files=()) -> Comment:
    """Add a public comment or an internal note, with its `files` (uploaded files). Append-only, so no
    version check.

    A staff member's first public reply stamps the first response; a requester's reply to a ticket
    waiting on them moves it back to work. `quiet`: the reply is part of a larger change that tells its
    followers once itself (see `ticket_transition`). All or nothing: a file the limits refuse refuses the
    comment with that file's message, and nothing is written or kept in storage.
    """
    now = now or timezone.now()
    body = (body or "").strip()
    if not body:
        raise ValidationFailed("Write something before sending.", fields={"body": ["A comment cannot be empty."]})
    if not access.may_see(actor, ticket):
        raise AccessDenied(f"You may not comment on {ticket.key}.")
    if internal:
        access.require(actor, "internal_note", ticket)
    files = [f for f in files or () if f is not None]
    for upload in files:  # refuse before writing anything: the first file over the limits names itself
        attachment_check(name=_attachment_name(upload.name), size=upload.size,
                         content_type=getattr(upload, "content_type", "") or "")
    added: list[Attachment] = []
    try:
        with transaction.atomic():
            comment = Comment.objects.create(ticket=ticket, author=actor, body=body, internal=internal,
                                             created_at=now)
            event_record(ticket=ticket, actor=actor, kind=EventKind.COMMENT, now=now, internal=internal,
                         comment=comment)
            for upload in files:  # before the followers hear of it; the comment's row shows them (no row each)
                added.append(attachment_add(ticket=ticket, actor=actor, name=upload.name, data=upload,
                                            content_type=getattr(upload, "content_type", "") or "",
                                            comment=comment, now=now, quiet=True))
            fields: dict[str, Any] = {"updated_at": now}
            if not internal and _is_first_response(ticket, actor):
                fields["first_response_at"] = now
            Ticket.objects.filter(pk=ticket.pk).update(**fields)
            for name, value in fields.items():
                setattr(ticket, name, value)
            changes: dict[str, tuple] = {"comment": (None, comment)}
            if "first_response_at" in fields:
                changes["first_response_at"] = (None, now)
            hooks.ticket_changed(hooks.TicketChange(ticket, actor, now, "comment", changes, quiet=quiet))
            if ticket.status == Status.PENDING and ticket.requester_id == actor.pk and not internal:
                ticket_transition(ticket=ticket, to=Status.IN_PROGRESS, actor=actor, now=now)
    except BaseException:
        for attachment in added:  # stored before the rollback: no file is kept without its row
            attachment.file.storage.delete(attachment.file.name)
        raise
    return comment


# --- attachments ------------------------------------------------------------------------------------

def _attachment_name(name: str) -> str:
    """The file's own name, as people see it: no folders, no control characters, at most 255 characters."""
    base = PurePath((name or "").replace("\\", "/")).name
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '<>:"|?*').strip(" .")
    if len(base) > 255:
        stem, dot, ext = base.rpartition(".")
        base = f"{stem[:250 - len(ext)]}.{ext}" if dot and len(ext) <= 10 else base[:255]
    return base or "file"


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0")


def attachment_check(*, name: str, size: int, content_type: str = "") -> None:
    """Refuse a file the limits do not allow: empty, over `CROSSLINE_ATTACHMENT_MAX_BYTES`, or of a blocked
    type (programs and scripts, `CROSSLINE_ATTACHMENT_BLOCKED`). The message says what to do instead."""
    limit = settings.CROSSLINE_ATTACHMENT_MAX_BYTES
    if size <= 0:
        raise ValidationFailed(f"{name} is empty; choose the file again.", fields={"file": ["The file is empty."]})
    if size > limit:
        raise TooLarge(
            f"{name} is {_mb(size)} MB; files may be at most {_mb(limit)} MB. Share a link to it instead.",
            fields={"file": [f"At most {_mb(limit)} MB."]})
    ext = PurePath(name).suffix.lower().lstrip(".")
    if ext in settings.CROSSLINE_ATTACHMENT_BLOCKED or content_type in _BLOCKED_TYPES:
        raise ValidationFailed(
            f"{name}: .{ext or content_type} files (programs and scripts) are not accepted; put it in a zip file.",
            fields={"file": ["This type of file is not accepted."]})


_BLOCKED_TYPES = {"application/x-msdownload", "application/x-msdos-program", "application/x-sh",
                  "application/x-bat", "application/hta", "application/x-ms-shortcut"}


def attachment_add(*, ticket: Ticket, actor, name: str, data: bytes | File, content_type: str = "",
                   comment: Comment | None = None, content_id: str = "", internal: bool = False,
                   now: datetime | None = None, quiet: bool = False) -> Attachment:
    """Attach a file to a ticket (or to one of its comments), within the limits, with a timeline row; atomic.

    A file on an internal note is internal itself: never shown to the requester. `quiet`: no timeline row
    of its own (the mail or comment it came with is the row). A file whose row cannot be written is deleted
    again; one stored by a caller's transaction that later rolls back stays in storage without a row."""
    now = now or timezone.now()
    if not access.may_see(actor, ticket):
        raise AccessDenied(f"You may not add files to {ticket.key}.")
    if comment is not None and comment.ticket_id != ticket.pk:
        raise ValidationFailed("That comment is on another ticket.", fields={"comment": ["Not on this ticket."]})
    internal = internal or (comment is not None and comment.internal)
    if internal:
        access.require(actor, "internal_note", ticket)
    name = _attachment_name(name)
    content = ContentFile(data) if isinstance(data, bytes) else data
    size = content.size
    content_type = (content_type or "").split(";")[0].strip().lower()
    content_type = content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
    attachment_check(name=name, size=size, content_type=content_type)
    attachment = Attachment(ticket=ticket, comment=comment, name=name, content_type=content_type[:120], size=size,
                            content_id=content_id[:250], internal=internal, uploaded_by=actor, created_at=now)
    attachment.file.save(name, content, save=False)
    stored = attachment.file.name
    try:
        with transaction.atomic():
            attachment.save()
            if not quiet:
                event_record(ticket=ticket, actor=actor, kind=EventKind.ATTACHMENT, now=now, new=name,
                             internal=internal)
            Ticket.objects.filter(pk=ticket.pk).update(updated_at=now)
    except BaseException:
        attachment.file.storage.delete(stored)
        raise
    return attachment


def attachments_add(*, ticket: Ticket, actor, files, internal: bool = False, comment: Comment | None = None,
                    now: datetime | None = None) -> list[Attachment]:
    """Attach several uploaded files at once, all or nothing: the first file the limits refuse refuses them
    all with its message, and nothing is written or kept in storage. A timeline row per file."""
    now = now or timezone.now()
    files = [f for f in files or () if f is not None]
    if not files:
        raise ValidationFailed("Choose a file to attach.", fields={"file": ["No file was sent."]})
    if not access.may_see(actor, ticket):
        raise AccessDenied(f"You may not add files to {ticket.key}.")
    for upload in files:
        attachment_check(name=_attachment_name(upload.name), size=upload.size,
                         content_type=getattr(upload, "content_type", "") or "")
    added: list[Attachment] = []
    try:
        with transaction.atomic():
            for upload in files:
                added.append(attachment_add(ticket=ticket, actor=actor, name=upload.name, data=upload,
                                            content_type=getattr(upload, "content_type", "") or "",
                                            comment=comment, internal=internal, now=now))
    except BaseException:
        for attachment in added:
            attachment.file.storage.delete(attachment.file.name)
        raise
    return added


def may_see_attachment(user, attachment: Attachment) -> bool:
    """Who may download a file: whoever may see its ticket; an internal file, only staff."""
    return access.may_see(user, attachment.ticket) and (not attachment.internal or access.is_staff_member(user))


def may_remove_attachment(user, attachment: Attachment) -> bool:
    """Who may remove a file: staff who may see it; whoever uploaded it, while the ticket is open."""
    if not may_see_attachment(user, attachment):
        return False
    if access.is_staff_member(user):
        return True
    return attachment.uploaded_by_id is not None and attachment.uploaded_by_id == user.pk and attachment.ticket.is_open


def attachment_remove(*, attachment: Attachment, actor, now: datetime | None = None) -> None:
    """Remove a file from its ticket, with a timeline row; atomic. The stored file is deleted after commit.

    NotFound for a file the actor may not see (it does not leak), AccessDenied for one they may not remove."""
    now = now or timezone.now()
    if not may_see_attachment(actor, attachment):
        raise NotFound(f"No file {attachment.pk} that you can see.")
    if not may_remove_attachment(actor, attachment):
        raise AccessDenied(f"Only the person who added {attachment.name}, while {attachment.ticket.key} is open, "
                           "or the service desk may remove it.")
    storage, stored = attachment.file.storage, attachment.file.name
    with transaction.atomic():
        attachment.delete()
        event_record(ticket=attachment.ticket, actor=actor, kind=EventKind.ATTACHMENT, now=now,
                     old=attachment.name, internal=attachment.internal)
        Ticket.objects.filter(pk=attachment.ticket_id).update(updated_at=now)
        transaction.on_commit(lambda: storage.delete(stored))


# --- links ------------------------------------------------------------------------------------------

def ticket_link(*, source: Ticket, target: Ticket, type: str, actor, now: datetime | None = None) -> Link:
    """Link two tickets with a typed edge, recorded on both timelines; a duplicate is a 409."""
    now = now or timezone.now()
    access.require(actor, "link", source)
    if type not in LinkType.values:
        raise ValidationFailed(f"Unknown link type {type!r}; use one of: {', '.join(LinkType.values)}.",
                               fields={"type": ["Unknown link type."]})
    if source.pk == target.pk:
        raise ValidationFailed(f"{source.key} cannot be linked to itself.", fields={"target": ["Same ticket."]})
    try:
        with transaction.atomic():
            if type == LinkType.PARENT_OF:
                _refuse_parent_cycle(parent=source, child=target)
            link = Link.objects.create(source=source, target=target, type=type, created_by=actor, created_at=now)
            label = LinkType(type).label
            event_record(ticket=source, actor=actor, kind=EventKind.LINK, now=now, field=type, new=target.key,
                         note=f"{source.key} {label} {target.key}")
            event_record(ticket=target, actor=actor, kind=EventKind.LINK, now=now, field=type, new=source.key,
                         note=f"{source.key} {label} {target.key}")
    except IntegrityError:
        raise Conflict(f"{source.key} is already linked as '{LinkType(type).label}' to {target.key}.") from None
    return link


def _refuse_parent_cycle(*, parent: Ticket, child: Ticket) -> None:
    """Refuse `parent parent_of child` when `child` is already above `parent` (at any depth).

    Walks down from `child` one level per query. Both rows are locked first (on PostgreSQL) so that two
    opposite links between the same tickets, sent at once, cannot both pass the check."""
    list(Ticket.objects.select_for_update().filter(pk__in=(parent.pk, child.pk)).order_by("pk").values_list("pk"))
    above: dict[int, int | None] = {child.pk: None}  # ticket id -> the parent it was reached from
    frontier = {child.pk}
    while frontier and parent.pk not in above:
        edges = Link.objects.filter(type=LinkType.PARENT_OF, source__in=frontier).values_list("source", "target")
        frontier = set()
        for up, down in edges:
            if down not in above:
                above[down] = up
                frontier.add(down)
    if parent.pk not in above:
        return
    chain, pk = [], parent.pk
    while pk is not None:
        chain.append(pk)
        pk = above[pk]
    keys = dict(Ticket.objects.filter(pk__in=chain).values_list("pk", "key"))
    path = " → ".join(keys[pk] for pk in reversed(chain))
    raise ValidationFailed(
        f"{child.key} cannot become a sub-task of {parent.key}: it is already above it ({path}), and a ticket "
        "cannot be its own parent at any depth. Remove one of those links first.",
        fields={"target": [f"{child.key} is already a parent of {parent.key} (through {path})."]})


def ticket_unlink(*, link: Link, actor, now: datetime | None = None) -> None:
    now = now or timezone.now()
    access.require(actor, "link", link.source)
    with transaction.atomic():
        label = LinkType(link.type).label
        for ticket, other in ((link.source, link.target), (link.target, link.source)):
            event_record(ticket=ticket, actor=actor, kind=EventKind.LINK, now=now, field=link.type, old=other.key,
                         note=f"removed: {link.source.key} {label} {link.target.key}")
        link.delete()


# --- macros: a canned reply that may also move the ticket on --------------------------------------------

# Fields a move may need that a reply can fill: resolving with a macro's reply makes it the resolution note.
NOTE_FIELDS = frozenset({"resolution_note", "decision_note", "review_notes", "workaround"})


_VARIABLE = re.compile(r"\{(\w+)\}")


def macro_render(*, macro: Macro, ticket: Ticket, actor) -> str:
    """The macro's text with its variables filled in for this ticket and agent."""
    values = dict(
        requester=ticket.requester.display_name if ticket.requester_id else "",
        requester_first_name=(ticket.requester.first_name or ticket.requester.display_name) if ticket.requester_id
        else "",
        key=ticket.key, title=ticket.title, agent=actor.display_name if actor else "Crossline",
        group=ticket.group.name if ticket.group_id else "",
    )
    # Only known names are filled; anything else in braces (a typo, "{0}", a lone "{") stays as written.
    return _VARIABLE.sub(lambda m: str(values.get(m.group(1), m.group(0))), macro.body)


def _require_macro_use(macro: Macro, actor) -> None:
    if Macro.objects.filter(access.own_or_team(actor), pk=macro.pk).exists():
        return
    raise AccessDenied(f"The macro “{macro.name}” is not one of yours or your team's.")


def ticket_reply_with_macro(*, ticket: Ticket, actor, macro: Macro, body: str, now: datetime | None = None) -> Comment:
    """Post the (possibly edited) reply of a macro and apply what the macro also does, all or nothing:
    hand the ticket to the macro's group, move it to the macro's status (a note the move needs is the reply),
    and record the macro's use on the timeline. Raises what the comment, escalation or move would."""
    now = now or timezone.now()
    _require_macro_use(macro, actor)
    with transaction.atomic():
        comment = ticket_comment(ticket=ticket, actor=actor, body=body, internal=macro.internal, now=now)
        done = []
        if macro.to_group_id and macro.to_group_id != ticket.group_id:
            ticket_escalate(ticket=ticket, actor=actor, to_group=macro.to_group, now=now,
                            note=f"macro “{macro.name}”")
            done.append(f"handed to {macro.to_group.name}")
        if macro.to_status and macro.to_status != ticket.status:
            move = WORKFLOWS[ticket.kind].move(ticket, macro.to_status)
            values = {name: comment.body for name in move.requires if name in NOTE_FIELDS}
            ticket_transition(ticket=ticket, to=macro.to_status, actor=actor, values=values, now=now)
            done.append(f"moved to {Status(macro.to_status).label}")
        event_record(ticket=ticket, actor=actor, kind=EventKind.MACRO, now=now, field="macro", new=macro.name,
                     note=f"Used the macro “{macro.name}”" + (f": {', '.join(done)}" if done else ""), internal=True)
    return comment


# --- saved queue views ------------------------------------------------------------------------------------

QUEUE_QUERY_KEYS = ("view", "sort", "q", "kind", "status", "priority", "group", "tier", "assignee", "owner", "service",
                    "requester")


def queue_view_save(*, actor, name: str, query, group: AssignmentGroup | None = None,
                    columns: list[str] | None = None) -> QueueView:
    """Save the queue's current query (a QueryDict) under a name, for the actor alone or for one of their
    teams, with the columns it shows when `columns` names them. Only the queue's own parameters are kept; a
    name already used there, or an unknown column, is refused."""
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("Give the view a name.", fields={"name": ["Required."]})
    if len(name) > 60:
        raise ValidationFailed("Keep the name to 60 characters.", fields={"name": ["Too long."]})
    access.require(actor, "edit")
    if group is not None and not (group.members.filter(pk=actor.pk).exists()
                                  or access.role_of(actor) in (Role.MANAGER, Role.ADMIN)):
        raise AccessDenied(f"You can share views only with your own teams; you are not in {group.name}.")
    kept = [(key, value) for key in QUEUE_QUERY_KEYS for value in query.getlist(key) if value != ""]
    encoded = urlencode(kept)
    if len(encoded) > 1000:
        raise ValidationFailed("That view has too many filters to save; remove a few.")
    kept_columns = queue_columns_check(columns) if columns else []
    scope = {"group": group} if group is not None else {"owner": actor}
    if QueueView.objects.filter(name=name, **scope).exists():
        where = group.name if group is not None else "your views"
        raise Conflict(f"A view called “{name}” is already in {where}; choose another name.",
                       fields={"name": ["Already used."]})
    return QueueView.objects.create(name=name, query=encoded, columns=kept_columns, created_by=actor, **scope)


def _require_view_manager(actor, view: QueueView, what: str) -> None:
    """A saved view is changed by its owner, by a member of its team, or (a team's) by a manager or admin."""
    allowed = QueueView.objects.filter(access.own_or_team(actor), pk=view.pk).exists() or (
        view.group_id and access.role_of(actor) in (Role.MANAGER, Role.ADMIN))
    if not allowed:
        raise AccessDenied(f"“{view.name}” is not yours or your team's to {what}.")


def queue_view_delete(*, actor, view: QueueView) -> None:
    """Delete a saved view: one's own, or a team's by a member (or a manager or admin)."""
    _require_view_manager(actor, view, "delete")
    view.delete()


# --- how a person works the queue: columns, split view, pinned views --------------------------------------


def queue_columns_check(names) -> list[str]:
    """The queue columns named, in order, or a refusal that names what is wrong and the columns there are.
    The key column is always shown first, so naming it changes nothing."""
    known = {c.slug: c.label for c in selectors.queue_columns()}
    names = [n.strip() for n in names if n.strip() and n.strip() != selectors.KEY_COLUMN]
    unknown = [n for n in names if n not in known]
    if unknown:
        listed = ", ".join(f"“{n[:40]}”" for n in unknown[:3])
        raise ValidationFailed(f"The queue has no column {listed}; choose from {', '.join(known)}.",
                               fields={"columns": ["Unknown column."]})
    twice = [n for i, n in enumerate(names) if n in names[:i]]
    if twice:
        raise ValidationFailed(f"{known[twice[0]]} is listed twice; show each column once.",
                               fields={"columns": ["Listed twice."]})
    if not names:
        raise ValidationFailed("Show at least one column besides the key.", fields={"columns": ["Required."]})
    return names


def queue_columns_save(*, actor, columns: list[str] | None, view: QueueView | None = None) -> list[str]:
    """Keep the queue's columns (in order) for the actor, or, with `view`, for everyone who opens that saved
    view. `columns=None` goes back to the defaults (for a view: each viewer's own columns). Refuses unknown
    columns, and a view that is not the actor's or their team's."""
    access.require(actor, "edit")
    kept = queue_columns_check(columns) if columns is not None else []
    if view is not None:
        _require_view_manager(actor, view, "change")
        QueueView.objects.filter(pk=view.pk).update(columns=kept)
        view.columns = kept
    else:
        User.objects.filter(pk=actor.pk).update(queue_columns=kept)
        actor.queue_columns = kept
    return kept


def queue_layout_save(*, actor, split: bool) -> None:
    """Remember whether the actor works the queue as a list with a ticket preview beside it."""
    access.require(actor, "edit")
    User.objects.filter(pk=actor.pk).update(queue_split=split)
    actor.queue_split = split


def queue_pin(*, actor, ref: str, pinned: bool) -> list[str]:
    """Pin a view to the actor's top bar (with its count) or unpin it. `ref` is a built-in view's slug or
    "saved-<id>" of a view the actor or their team saved; at most `selectors.PIN_LIMIT` are pinned."""
    access.require(actor, "edit")
    saved = selectors.queue_views_for(actor)
    known = {v.slug: v.label for v in selectors.saved_views()} | {selectors.view_ref(q): q.name for q in saved}
    if ref not in known:
        raise ValidationFailed("There is no such view to pin; open the view, then pin it.")
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=actor.pk)
        pins = [p for p in selectors.pinned_refs(user, saved) if p in known]
        if pinned and ref not in pins:
            if len(pins) >= selectors.PIN_LIMIT:
                raise Conflict(f"{selectors.PIN_LIMIT} views are pinned already; unpin one before you pin "
                               f"“{known[ref]}”.")
            pins.append(ref)
        elif not pinned:
            pins = [p for p in pins if p != ref]
        User.objects.filter(pk=actor.pk).update(queue_pins=pins)
    actor.queue_pins = pins
    return pins


# --- swarming and work logs ---------------------------------------------------------------------------------
# A swarming team (`AssignmentGroup.swarming`) brings experts or another group onto a ticket as contributors
# instead of handing it off. Who may invite: members of the ticket's group, its manager, managers and admins.
# A contributor is told of the ticket's updates (sla `_followers`), sees it in their "Swarming" view, comments,
# records the help they gave and logs work, and leaves when done; each step is a SWARM row of the timeline.
# Work logs: any staff member may log the time they spent on a ticket they see (every staff role sees every
# ticket; the group the time counts for says whose load it was). Requesters log nothing.

MAX_WORK_MINUTES = 24 * 60


def may_invite(actor, ticket: Ticket) -> bool:
    """Whether `actor` may bring contributors onto `ticket` (and end anyone's contribution)."""
    if not access.is_staff_member(actor) or ticket.group is None or not ticket.group.swarming:
        return False
    if _dispatches(actor, ticket):
        return True
    return ticket.group.members.filter(pk=actor.pk).exists()


def _require_may_invite(actor, ticket: Ticket) -> None:
    group = ticket.group
    if group is None or not group.swarming:
        where = f"with {group.name}, which does not swarm" if group else "with no group"
        raise Conflict(f"{ticket.key} is {where}: only a swarming team brings in contributors. Escalate it "
                       "instead, or ask an admin to make the team swarm.")
    if not may_invite(actor, ticket):
        raise AccessDenied(f"Only members of {group.name}, its manager, or a manager may invite contributors "
                           f"to {ticket.key}.")


def _swarm_event(ticket: Ticket, actor, contributor: Contributor, step: str, note: str, now: datetime
                 ) -> TicketEvent:
    """One SWARM row (`field`: invited | helped | left; `new`: who) and the hook that tells the followers."""
    event = event_record(ticket=ticket, actor=actor, kind=EventKind.SWARM, now=now, field=step,
                         new=contributor.name, note=note, internal=True)
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=now)
    ticket.updated_at = now
    hooks.ticket_changed(hooks.TicketChange(ticket, actor, now, "swarm",
                                            {"contributor": (None, contributor), "event": (None, event)}))
    return event


def contributor_invite(*, ticket: Ticket, actor, user=None, group: AssignmentGroup | None = None, note: str = "",
                       now: datetime | None = None) -> Contributor:
    """Bring a person (active staff) or a group onto an open ticket of a swarming team, without handing it
    over; recorded and told to the invitees. Raises Conflict (409) when the team does not swarm or the
    invitee is already on it, AccessDenied (403), ValidationFailed (400)."""
    now = now or timezone.now()
    note = (note or "").strip()
    if (user is None) == (group is None):
        raise ValidationFailed("Invite either a person or a group.",
                               fields={"user": ["Choose a person or a group."], "group": ["Or a group."]})
    _require_may_invite(actor, ticket)
    if not ticket.is_open:
        raise TransitionRefused(f"{ticket.key} is {ticket.get_status_display().lower()}; reopen it to bring "
                                "someone in.")
    if user is not None:
        if not user.is_active or not access.is_staff_member(user):
            raise ValidationFailed(f"{user.display_name} is not an active agent or engineer; invite staff only.",
                                   fields={"user": ["Staff only."]})
        if ticket.assignee_id == user.pk:
            raise ValidationFailed(f"{user.display_name} already works {ticket.key} as its assignee.",
                                   fields={"user": ["Already the assignee."]})
    elif group.pk == ticket.group_id:
        raise ValidationFailed(f"{ticket.key} is already with {group.name}; invite another group or a person.",
                               fields={"group": ["The ticket's own group."]})
    try:
        with transaction.atomic():
            contributor = Contributor.objects.create(ticket=ticket, user=user, group=group, invited_by=actor,
                                                     note=note, joined_at=now)
            _swarm_event(ticket, actor, contributor, "invited", note, now)
    except IntegrityError:
        who = user.display_name if user is not None else group.name
        raise Conflict(f"{who} is already contributing to {ticket.key}.",
                       fields={"user" if user is not None else "group": ["Already on it."]}) from None
    return contributor


def _is_member(user, group_id) -> bool:
    return group_id is not None and user.assignment_groups.filter(pk=group_id).exists()


def may_leave(actor, contributor: Contributor) -> bool:
    """The contributor themselves (for a group: any of its members), whoever invited them, or whoever may
    invite on the ticket."""
    if contributor.user_id:
        if contributor.user_id == actor.pk:
            return True
    elif contributor.invited_by_id == actor.pk or _is_member(actor, contributor.group_id):
        return True
    return may_invite(actor, contributor.ticket)


def contributor_leave(*, contributor: Contributor, actor, note: str = "", now: datetime | None = None
                      ) -> Contributor:
    """End a contribution (the row stays, with `left_at`, as the record of the help given); recorded.
    Raises Conflict (409) when it has ended already, AccessDenied (403)."""
    now = now or timezone.now()
    ticket = contributor.ticket
    if not may_leave(actor, contributor):
        raise AccessDenied(f"Only {contributor.name}, whoever invited them, or the ticket's team "
                           "may end this contribution.")
    with transaction.atomic():
        if not Contributor.objects.filter(pk=contributor.pk, left_at__isnull=True).update(left_at=now):
            raise Conflict(f"{contributor.name} has already left {ticket.key}.")
        contributor.left_at = now
        _swarm_event(ticket, actor, contributor, "left", (note or "").strip(), now)
    return contributor


def active_contribution(*, ticket: Ticket, user) -> Contributor | None:
    """The user's own active contribution to the ticket, else one of a group they are in."""
    rows = Contributor.objects.filter(ticket=ticket, left_at__isnull=True).filter(
        Q(user=user) | Q(group__in=user.assignment_groups.values("pk"))).select_related("user", "group")
    return min(rows, key=lambda c: (c.user_id is None, c.pk), default=None)


def contribution_record(*, ticket: Ticket, actor, note: str, minutes: int | None = None,
                        worked_at: datetime | None = None, now: datetime | None = None) -> TicketEvent:
    """A contributor records what they did ("help"); with `minutes` it is also a work log, all or nothing.
    Raises AccessDenied (403) for someone not contributing, ValidationFailed (400)."""
    now = now or timezone.now()
    note = (note or "").strip()
    contributor = active_contribution(ticket=ticket, user=actor)
    if contributor is None:
        raise AccessDenied(f"You are not contributing to {ticket.key}; log work instead, or ask to be invited.")
    if not note:
        raise ValidationFailed("Say what you did to help.", fields={"note": ["Required."]})
    with transaction.atomic():
        if minutes is not None:
            worklog_add(ticket=ticket, actor=actor, minutes=minutes, note=note, worked_at=worked_at, now=now)
        return _swarm_event(ticket, actor, contributor, "helped", note, now)


def _worklog_group(ticket: Ticket, actor) -> AssignmentGroup | None:
    """Whose load the time is: the actor's group that holds the ticket, else the group they contribute through,
    else their first group."""
    mine = list(actor.assignment_groups.order_by("id"))
    ids = {g.pk for g in mine}
    if ticket.group_id in ids:
        return next(g for g in mine if g.pk == ticket.group_id)
    through = Contributor.objects.filter(ticket=ticket, left_at__isnull=True, group__in=ids).order_by("id").first()
    if through is not None:
        return next(g for g in mine if g.pk == through.group_id)
    return mine[0] if mine else None


def worklog_add(*, ticket: Ticket, actor, minutes: int, note: str = "", worked_at: datetime | None = None,
                now: datetime | None = None) -> WorkLog:
    """Log time spent on a ticket (1 minute to 24 hours, not in the future), counted for the actor's team;
    a WORK row of the timeline. Raises ValidationFailed (400), AccessDenied (403)."""
    now = now or timezone.now()
    if not access.is_staff_member(actor) or not access.may_see(actor, ticket):
        raise AccessDenied(f"Only staff log work on {ticket.key}.")
    if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes <= 0:
        raise ValidationFailed("Log at least one minute.", fields={"minutes": ["More than 0."]})
    if minutes > MAX_WORK_MINUTES:
        raise ValidationFailed(f"Log at most 24 hours ({MAX_WORK_MINUTES} minutes) at a time; split longer work "
                               "by day.", fields={"minutes": ["At most 1440."]})
    worked_at = worked_at or now
    if worked_at > now:
        raise ValidationFailed("Work cannot be logged in the future; give when it was done.",
                               fields={"worked_at": ["In the future."]})
    note = (note or "").strip()
    with transaction.atomic():
        log = WorkLog.objects.create(ticket=ticket, user=actor, group=_worklog_group(ticket, actor), minutes=minutes,
                                     note=note, worked_at=worked_at, created_at=now)
        event_record(ticket=ticket, actor=actor, kind=EventKind.WORK, now=now, field="minutes", new=minutes,
                     old=log.group.name if log.group else "", note=note, internal=True)
    return log


# --- external references: the ticket's id in another tracker (inbound sync) -----------------------------------

_SYSTEM_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")


def _external_ref_taken(system: str, external_id: str, ticket: Ticket):
    from .models import ExternalRef

    holder = ExternalRef.objects.select_related("ticket").filter(system=system, external_id=external_id).first()
    if holder is not None and holder.ticket_id != ticket.pk:
        return Conflict(f"{system}:{external_id} already belongs to {holder.ticket.key}; a ticket of another "
                        "tracker is synced to one ticket only.",
                        fields={"external_refs": [f"Taken by {holder.ticket.key}."]})
    return holder


def external_ref_add(*, ticket: Ticket, actor, system: str, external_id: str, url: str = "",
                     now: datetime | None = None):
    """Record the ticket's id in another tracker, with a history row; atomic. Adding the same reference again
    changes nothing. Raises Conflict (409) when another ticket has that id, or this ticket already has another
    id in that system; ValidationFailed for a malformed system or id; AccessDenied for non-agents."""
    from .models import ExternalRef

    now = now or timezone.now()
    access.require(actor, "link", ticket)
    system = (system or "").strip().lower()
    external_id = (external_id or "").strip()
    errors = {}
    if not _SYSTEM_RE.match(system):
        errors["system"] = ["A short name such as jira or servicenow (letters, digits, '.', '-', '_')."]
    if not external_id or len(external_id) > 200:
        errors["id"] = ["The id in that tracker, at most 200 characters."]
    if errors:
        raise ValidationFailed("Give the other tracker's name and the ticket's id there.", fields=errors)
    taken = _external_ref_taken(system, external_id, ticket)
    if isinstance(taken, Conflict):
        raise taken
    if taken is not None:
        return taken
    other = ExternalRef.objects.filter(ticket=ticket, system=system).first()
    if other is not None:
        raise Conflict(f"{ticket.key} already has the {system} reference {other.external_id}; remove it first.",
                       fields={"external_refs": [f"Already {system}:{other.external_id}."]})
    try:
        with transaction.atomic():
            ref = ExternalRef.objects.create(ticket=ticket, system=system, external_id=external_id, url=url or "",
                                             created_at=now)
            event_record(ticket=ticket, actor=actor, kind=EventKind.FIELD, now=now, field="external_ref",
                         new=f"{system}:{external_id}")
    except IntegrityError:  # the same id added to two tickets at once: the other one won
        taken = _external_ref_taken(system, external_id, ticket)
        raise (taken if isinstance(taken, Conflict) else Conflict(
            f"{ticket.key} got a {system} reference at the same moment; read it again.")) from None
    return ref


def external_ref_remove(*, ticket: Ticket, actor, system: str, now: datetime | None = None) -> None:
    """Forget the ticket's id in `system`, with a history row; atomic. NotFound when it has none there."""
    from .errors import NotFound
    from .models import ExternalRef

    now = now or timezone.now()
    access.require(actor, "link", ticket)
    system = (system or "").strip().lower()
    with transaction.atomic():
        ref = ExternalRef.objects.select_for_update().filter(ticket=ticket, system=system).first()
        if ref is None:
            raise NotFound(f"{ticket.key} has no {system} reference.")
        ref.delete()
        event_record(ticket=ticket, actor=actor, kind=EventKind.FIELD, now=now, field="external_ref",
                     old=f"{system}:{ref.external_id}")


# --- the priority matrix ----------------------------------------------------------------------------------------

def _matrix_load() -> dict[tuple[int, int], int]:
    matrix = dict(DEFAULT_PRIORITY_MATRIX)
    matrix.update({(r.impact, r.urgency): r.priority for r in PriorityRule.objects.all()})
    return matrix


_matrix = config_cache.Cached(_matrix_load)


def priority_matrix() -> dict[tuple[int, int], int]:
    """The matrix in force: the admins' cells over the built-in ITIL defaults (a read)."""
    return dict(_matrix.get())


def priority_matrix_set(*, actor, cells: list[dict[str, int]]) -> dict[tuple[int, int], int]:
    """Replace the whole impact x urgency matrix; atomic. All nine cells must be given, each once, with a
    priority 1..5 (ValidationFailed names what is wrong); only administrators (AccessDenied). Tickets keep their
    priority until their impact or urgency next changes."""
    access.require(actor, "configure")
    errors: dict[str, list[str]] = {}
    seen: dict[tuple[int, int], int] = {}
    for i, cell in enumerate(cells):
        impact, urgency, priority = cell.get("impact"), cell.get("urgency"), cell.get("priority")
        if impact not in Level.values or urgency not in Level.values:
            errors[f"cells[{i}]"] = ["Impact and urgency are 1, 2 or 3."]
        elif priority not in range(1, 6) or isinstance(priority, bool):
            errors[f"cells[{i}]"] = ["The priority is 1 to 5."]
        elif (impact, urgency) in seen:
            errors[f"cells[{i}]"] = [f"Impact {impact} x urgency {urgency} is given twice."]
        else:
            seen[(impact, urgency)] = priority
    missing = sorted(set(DEFAULT_PRIORITY_MATRIX) - set(seen))
    if missing and not errors:
        errors["cells"] = ["Missing: " + ", ".join(f"impact {i} x urgency {u}" for i, u in missing) + "."]
    if errors:
        raise ValidationFailed("Give all nine cells of the matrix, each once, with a priority 1 to 5.",
                               fields=errors)
    with transaction.atomic():
        for (impact, urgency), priority in seen.items():
            PriorityRule.objects.update_or_create(impact=impact, urgency=urgency, defaults={"priority": priority})
    return priority_matrix()
