"""Domain functions of change enablement: CABs, standard-change templates and the standard changes made from
them, and the approval rounds in which a CAB decides a change (votes, the outcome and the move it causes).

The CAB's rules hold for every front end through `tracker.hooks` (registered by `register()`):
`change_guard` refuses a ticket write that would skip them (a standard change not made from a template, a
move to "approved" that the votes have not decided), and `change_observer` opens a new round whenever a
change goes to review or its plan changes while in review. Every function owns its transaction, writes the
timeline rows in it and raises `tracker.errors` refusals that say what to fix.
"""

from contextvars import ContextVar
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from sla import services as sla_services
from sla.choices import NotificationKind
from tracker import access, hooks
from tracker import services as core
from tracker.choices import ChangeType, EventKind, Kind, Risk, Role, Status
from tracker.errors import AccessDenied, Conflict, TransitionRefused, ValidationFailed
from tracker.models import Ticket
from tracker.workflows import CHANGE_PLAN, needs_reapproval

from ..choices import CAST_VOTES, CabRule, RoundStatus, Vote
from ..models import Approval, ApprovalRound, Cab, ChangeTemplate, ChangeTemplateVersion, StandardChange

CHANGE_MANAGERS = frozenset({Role.CHANGE_MANAGER, Role.ADMIN})
TEMPLATE_FIELDS = ("title", "description", "service", "implementation_plan", "backout_plan", "risk")
# What a standard change takes from its template and keeps: the pre-approval covers exactly that.
TEMPLATE_BOUND = ("implementation_plan", "backout_plan", "risk")
# How a decided round moves a change that is still in review.
OUTCOME_STATUS = {RoundStatus.APPROVED: Status.APPROVED, RoundStatus.REJECTED: Status.REJECTED,
                  RoundStatus.CHANGES_REQUESTED: Status.NEW}


def may_manage_changes(user) -> bool:
    """The change manager (and administrators) set up CABs and standard-change templates."""
    return access.role_of(user) in CHANGE_MANAGERS


def _require_change_manager(actor, what: str) -> None:
    if not may_manage_changes(actor):
        raise AccessDenied(f"Only the change manager (or an administrator) may {what}.")


def required_approvals(rule: str, quorum: int, approvers: int) -> int:
    """How many approvals decide a round of `approvers` under the rule."""
    if rule == CabRule.ALL:
        return approvers
    if rule == CabRule.MAJORITY:
        return approvers // 2 + 1
    return quorum


def rule_text(rule: str, required: int, approvers: int) -> str:
    """ "all 3 approvers", "a majority: 2 of 3", "any 1 of 2"."""
    if rule == CabRule.ALL:
        return f"all {approvers} approver{'s' if approvers != 1 else ''}"
    if rule == CabRule.MAJORITY:
        return f"a majority: {required} of {approvers}"
    return f"any {required} of {approvers}"


# --- CABs ---------------------------------------------------------------------------------------------


def cab_save(*, actor, name: str, members, service=None, emergency: bool = False, rule: str = "",
             quorum: int = 1, active: bool = True, cab: Cab | None = None, now: datetime | None = None) -> Cab:
    """Create a CAB (`cab=None`) or change one; atomic. Approvers are active staff; a rule must be one its
    members can meet; one live board per service (or one global board) of each kind. Rounds already open keep
    the approvers and rule they started with. Raises AccessDenied, ValidationFailed or Conflict."""
    now = now or timezone.now()
    _require_change_manager(actor, "set up CABs")
    name = (name or "").strip()
    members = list(dict.fromkeys(members))
    rule = rule or (CabRule.ANY if emergency else CabRule.MAJORITY)
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = ["Give the CAB a name."]
    elif len(name) > 120:
        errors["name"] = ["Keep the name to 120 characters."]
    outsiders = [m for m in members if not m.is_active or not access.is_staff_member(m)]
    if not members:
        errors["members"] = ["Name at least one approver."]
    elif outsiders:
        errors["members"] = [f"{', '.join(m.display_name for m in outsiders)} cannot approve changes: approvers are "
                             "active staff (agents, engineers, managers)."]
    if rule not in CabRule.values:
        errors["rule"] = [f"Use one of: {', '.join(CabRule.values)}."]
    elif rule == CabRule.ANY and members and not 1 <= quorum <= len(members):
        errors["quorum"] = [f"Any {quorum} of {len(members)} approvers cannot be met: choose 1 to {len(members)}."]
    if service is not None and not service.takes_tickets:
        errors["service"] = [f"{service.name} is retired."]
    if errors:
        first = next(iter(errors.values()))[0]
        raise ValidationFailed(f"Check the CAB: {first}", fields=errors)
    if active:
        clash = Cab.objects.filter(active=True, emergency=emergency)
        clash = clash.filter(service=service) if service is not None else clash.filter(service__isnull=True)
        if cab is not None:
            clash = clash.exclude(pk=cab.pk)
        other = clash.first()
        if other is not None:
            scope = service.name if service is not None else "every service without a CAB of its own"
            kind = "emergency changes" if emergency else "changes"
            raise Conflict(f"{other.name} already decides the {kind} of {scope}: edit it, or deactivate it first.",
                           fields={"service": [f"{other.name} covers it."]})
    try:
        with transaction.atomic():
            if cab is None:
                cab = Cab(created_at=now)
            cab.name, cab.service, cab.emergency, cab.rule = name, service, emergency, rule
            cab.quorum = quorum if rule == CabRule.ANY else 1
            cab.active, cab.updated_at = active, now
            cab.save()
            cab.members.set(members)
    except IntegrityError:  # the name, or a board saved at the same moment for the same scope
        raise Conflict(f"A CAB called “{name}”, or another live board for the same scope, already exists.",
                       fields={"name": ["Already used."]}) from None
    return cab


def cab_for_change(ticket: Ticket, *, change_type: str | None = None) -> Cab | None:
    """The board that decides this change: the live CAB of its service, else the global one; emergency
    changes (or `change_type`, the type it is being given) go to the emergency CAB the same way."""
    emergency = (change_type or ticket.change_type) == ChangeType.EMERGENCY
    boards = Cab.objects.filter(active=True, emergency=emergency)
    if ticket.service_id:
        own = boards.filter(service_id=ticket.service_id).first()
        if own is not None:
            return own
    return boards.filter(service__isnull=True).first()


def _board_for(ticket: Ticket, *, change_type: str | None = None) -> tuple[Cab, list, int]:
    """The CAB, the approvers who may vote on this change (never its requester) and the approvals needed;
    refuses a submission no CAB can decide."""
    cab = cab_for_change(ticket, change_type=change_type)
    if cab is None:
        board = "emergency CAB" if (change_type or ticket.change_type) == ChangeType.EMERGENCY else "CAB"
        where = f"{ticket.service.name} or " if ticket.service_id else ""
        raise ValidationFailed(
            f"No {board} decides {ticket.key}: there is none for {where}every service. Ask the change manager to "
            f"set one up (Change setup → CABs).", fields={"service": [f"No {board} covers it."]})
    members = [m for m in cab.members.filter(is_active=True).order_by("username") if access.is_staff_member(m)]
    approvers = [m for m in members if m.pk != ticket.requester_id]
    required = required_approvals(cab.rule, cab.quorum, len(approvers))
    if not approvers or required > len(approvers):
        left_out = " (its requester may not approve their own change)" if len(approvers) < len(members) else ""
        raise ValidationFailed(
            f"{cab.name} cannot decide {ticket.key}: it needs {required or 1} approval(s) but only {len(approvers)} "
            f"of its members may vote on it{left_out}. Ask the change manager to add an approver.",
            fields={"service": [f"{cab.name} has too few approvers for this change."]})
    return cab, approvers, required


# --- standard-change templates --------------------------------------------------------------------------


def _template_values(values: dict[str, Any]) -> dict[str, Any]:
    unknown = set(values) - set(TEMPLATE_FIELDS)
    if unknown:
        raise ValidationFailed(f"A template has no {', '.join(sorted(unknown))}.",
                               fields={n: ["Unknown field."] for n in unknown})
    clean = {k: (v.strip() if isinstance(v, str) and k != "service" else v) for k, v in values.items()}
    errors: dict[str, list[str]] = {}
    for name, label in (("title", "a title"), ("implementation_plan", "an implementation plan"),
                        ("backout_plan", "a backout plan")):
        if name in clean and not clean[name]:
            errors[name] = [f"A standard change needs {label}."]
    if "title" in clean and len(clean["title"]) > 200:
        errors["title"] = ["Keep the title to 200 characters."]
    if "risk" in clean and clean["risk"] not in Risk.values:
        errors["risk"] = [f"Use one of: {', '.join(Risk.values)}."]
    service = clean.get("service")
    if service is not None and not service.takes_tickets:
        errors["service"] = [f"{service.name} is retired."]
    if errors:
        first = next(iter(errors.values()))[0]
        raise ValidationFailed(f"Check the template: {first}", fields=errors)
    return clean


def _snapshot(template: ChangeTemplate, *, actor, now: datetime, note: str) -> ChangeTemplateVersion:
    return ChangeTemplateVersion.objects.create(
        template=template, number=template.version, note=note, created_by=actor, created_at=now,
        **{name: getattr(template, name) for name in TEMPLATE_FIELDS})


def template_create(*, actor, title: str, implementation_plan: str, backout_plan: str, risk: str = Risk.LOW,
                    description: str = "", service=None, now: datetime | None = None) -> ChangeTemplate:
    """A new standard-change template at version 1, pre-approved by the change manager who writes it; atomic."""
    now = now or timezone.now()
    _require_change_manager(actor, "write standard-change templates")
    values = _template_values(dict(title=title, implementation_plan=implementation_plan, backout_plan=backout_plan,
                                   risk=risk, description=description, service=service))
    try:
        with transaction.atomic():
            template = ChangeTemplate.objects.create(created_at=now, updated_at=now, version=1, **values)
            _snapshot(template, actor=actor, now=now, note="First version.")
    except IntegrityError:
        raise Conflict(f"A template called “{values['title']}” already exists; edit it instead.",
                       fields={"title": ["Already used."]}) from None
    return template


def template_update(*, actor, template: ChangeTemplate, changes: dict[str, Any], note: str = "",
                    now: datetime | None = None) -> ChangeTemplate:
    """Edit a template: a new version with the changed values (none when nothing changed); the changes already
    made keep the version they came from. A retired template is not edited. Atomic."""
    now = now or timezone.now()
    _require_change_manager(actor, "edit standard-change templates")
    values = _template_values(changes)
    try:
        with transaction.atomic():
            current = ChangeTemplate.objects.select_for_update().get(pk=template.pk)
            if current.retired:
                raise Conflict(f"“{current.title}” is retired; write a new template instead.")
            diff = {k: v for k, v in values.items() if getattr(current, k) != v}
            if not diff:
                return current
            for name, value in diff.items():
                setattr(current, name, value)
            current.version += 1
            current.updated_at = now
            current.save()
            changed = ", ".join(name.replace("_", " ") for name in diff)
            _snapshot(current, actor=actor, now=now, note=(note or "").strip() or f"Changed the {changed}.")
    except IntegrityError:
        raise Conflict(f"A template called “{values.get('title')}” already exists.",
                       fields={"title": ["Already used."]}) from None
    for name in TEMPLATE_FIELDS + ("version", "updated_at"):
        setattr(template, name, getattr(current, name))
    return template


def template_retire(*, actor, template: ChangeTemplate, now: datetime | None = None) -> ChangeTemplate:
    """Retire a template: no new change is made from it; the changes made from it keep their version."""
    now = now or timezone.now()
    _require_change_manager(actor, "retire standard-change templates")
    with transaction.atomic():
        if not ChangeTemplate.objects.filter(pk=template.pk, retired_at__isnull=True).update(
                retired_at=now, retired_by=actor, updated_at=now):
            raise Conflict(f"“{template.title}” is already retired.")
    template.retired_at, template.retired_by = now, actor
    return template


# The template version a standard change is being made from, while `standard_change_create` runs: the guard
# refuses every other way of raising a standard change.
_making_from: ContextVar[ChangeTemplateVersion | None] = ContextVar("itsm_standard_change_from", default=None)


def standard_change_create(*, template: ChangeTemplate, actor, title: str = "", description: str | None = None,
                           window_start: datetime | None = None, window_end: datetime | None = None,
                           requester=None, assignee=None, group=None, now: datetime | None = None) -> Ticket:
    """Raise a standard change from the current version of a live template: its plan, backout plan, risk and
    service, recorded with the version it came from. Atomic; raises what `ticket_create` raises, and
    Conflict for a retired template."""
    now = now or timezone.now()
    with transaction.atomic():
        current = ChangeTemplate.objects.select_for_update().get(pk=template.pk)  # not retired meanwhile
        if current.retired:
            raise Conflict(f"“{current.title}” was retired on {current.retired_at:%Y-%m-%d}: it makes no new change. "
                           "Choose a live template, or raise a normal change.", fields={"template": ["Retired."]})
        version = current.versions.get(number=current.version)
        token = _making_from.set(version)
        try:
            ticket = core.ticket_create(
                actor=actor, kind=Kind.CHANGE, title=(title or "").strip() or version.title, requester=requester,
                now=now, change_type=ChangeType.STANDARD, service=version.service,
                description=version.description if description is None else description,
                implementation_plan=version.implementation_plan, backout_plan=version.backout_plan, risk=version.risk,
                window_start=window_start, window_end=window_end, assignee=assignee, group=group)
        finally:
            _making_from.reset(token)
        StandardChange.objects.create(ticket=ticket, template_version=version)
        core.event_record(ticket=ticket, actor=actor, kind=EventKind.APPROVAL, now=now, field="template",
                          new=f"{version.title} v{version.number}",
                          note=f"Standard change from the template “{version.title}” (version {version.number}), "
                               "pre-approved by the change manager")
    return ticket


# --- approval rounds ------------------------------------------------------------------------------------


def _open_round(*, ticket: Ticket, actor, now: datetime, reason: str) -> ApprovalRound:
    """Close the change's open round (superseded) and open the next one with its CAB's approvers, each asked
    (and notified) to vote. Runs inside the ticket write that caused it."""
    cab, approvers, required = _board_for(ticket)
    previous = ApprovalRound.objects.select_for_update().filter(ticket=ticket, status=RoundStatus.OPEN).first()
    if previous is not None:
        _close_round(previous, RoundStatus.SUPERSEDED, now)
        core.event_record(ticket=ticket, actor=actor, kind=EventKind.APPROVAL, now=now, field="outcome",
                          new=RoundStatus.SUPERSEDED,
                          note=f"Round {previous.number} superseded: {reason}; its votes no longer count")
    number = (ApprovalRound.objects.filter(ticket=ticket).aggregate(n=Max("number"))["n"] or 0) + 1
    approval_round = ApprovalRound.objects.create(ticket=ticket, number=number, cab=cab, rule=cab.rule,
                                                  required=required, reason=reason, opened_by=actor, opened_at=now)
    Approval.objects.bulk_create([Approval(round=approval_round, approver=user) for user in approvers])
    rule = rule_text(cab.rule, required, len(approvers))
    names = ", ".join(user.display_name for user in approvers)
    core.event_record(ticket=ticket, actor=actor, kind=EventKind.APPROVAL, now=now, field="round", new=str(number),
                      note=f"Round {number} opened with {cab.name} ({reason}): {names}; decided by {rule}")
    sla_services.notification_send(
        ticket=ticket, users=approvers, kind=NotificationKind.APPROVAL, now=now, key=f"approval:{approval_round.pk}",
        context={"cab": cab.name, "round": number, "rule": rule, "reason": reason if number > 1 else "",
                 "change_type": ticket.get_change_type_display() or "change", "risk": ticket.get_risk_display()})
    return approval_round


def _close_round(approval_round: ApprovalRound, status: str, now: datetime) -> None:
    approval_round.status, approval_round.decided_at = status, now
    approval_round.save(update_fields=["status", "decided_at"])


def _outcome(approval_round: ApprovalRound) -> str:
    """The round's outcome once it is certain: approved when enough approved, else rejected (or changes
    requested) when the approvals left cannot reach the rule any more; "" while it is still open."""
    votes = [a.decision for a in approval_round.approvals.all()]
    approved = votes.count(Vote.APPROVED)
    pending = votes.count(Vote.PENDING)
    if approved >= approval_round.required:
        return RoundStatus.APPROVED
    if approved + pending < approval_round.required:
        return RoundStatus.REJECTED if Vote.REJECTED in votes else RoundStatus.CHANGES_REQUESTED
    return ""


def _decision_note(approval_round: ApprovalRound, outcome: str) -> str:
    approvals = list(approval_round.approvals.select_related("approver"))
    board = approval_round.cab.name
    if outcome == RoundStatus.APPROVED:
        names = ", ".join(a.approver.display_name for a in approvals if a.decision == Vote.APPROVED)
        rule = rule_text(approval_round.rule, approval_round.required, len(approvals))
        return f"Approved by {board} in round {approval_round.number} ({rule}): {names}."
    against = Vote.REJECTED if outcome == RoundStatus.REJECTED else Vote.CHANGES_REQUESTED
    words = "Rejected" if outcome == RoundStatus.REJECTED else "Changes requested"
    reasons = " ".join(f"{a.approver.display_name}: “{a.comment}”" for a in approvals if a.decision == against)
    return f"{words} by {board} in round {approval_round.number}. {reasons}"


def approval_vote(*, ticket: Ticket, actor, decision: str, comment: str = "", now: datetime | None = None) -> Approval:
    """Cast the actor's vote in the change's open round: approve, reject (a reason is required) or ask for
    changes (say which). When the vote decides the round under its CAB's rule, a change still in review moves
    with it: approved, rejected, or back to its requester (new) to revise and resubmit. Atomic; one vote per
    approver and round. Raises AccessDenied (the requester, a non-approver), Conflict (no open round, a second
    vote) or ValidationFailed (an unknown decision, a missing reason)."""
    now = now or timezone.now()
    comment = (comment or "").strip()
    if decision not in CAST_VOTES:
        raise ValidationFailed(f"Vote {', '.join(repr(v) for v in CAST_VOTES)}, not {decision!r}.",
                               fields={"decision": ["Choose approve, reject or request changes."]})
    if ticket.kind != Kind.CHANGE:
        raise ValidationFailed(f"{ticket.key} is not a change; only changes are approved by a CAB.")
    if not access.may_see(actor, ticket):
        raise AccessDenied(f"You may not vote on {ticket.key}.")
    if ticket.requester_id == actor.pk:
        raise AccessDenied(f"You requested {ticket.key}, so you may not approve it (nor reject it): the CAB's other "
                           "members decide.")
    if decision != Vote.APPROVED and not comment:
        what = "why you reject it" if decision == Vote.REJECTED else "which changes you need"
        raise ValidationFailed(f"Say {what}: the requester revises {ticket.key} from your words.",
                               fields={"comment": [f"Say {what}."]})
    if len(comment) > 4000:
        raise ValidationFailed("Keep the comment to 4,000 characters.", fields={"comment": ["Too long."]})
    with transaction.atomic():
        approval_round = ApprovalRound.objects.select_for_update().select_related("cab").filter(
            ticket=ticket, status=RoundStatus.OPEN).first()  # votes on one round queue here
        if approval_round is None:
            raise Conflict(f"{ticket.key} is '{ticket.get_status_display()}' and waits for no vote: it has no open "
                           "approval round.")
        approval = approval_round.approvals.filter(approver=actor).first()
        if approval is None:
            names = ", ".join(a.approver.display_name for a in approval_round.approvals.select_related("approver"))
            raise AccessDenied(f"You are not an approver of {ticket.key}: round {approval_round.number} asks "
                               f"{approval_round.cab.name}'s {names}.")
        if not Approval.objects.filter(pk=approval.pk, decision=Vote.PENDING).update(
                decision=decision, comment=comment, decided_at=now):
            approval.refresh_from_db()
            raise Conflict(f"You already voted “{approval.get_decision_display().lower()}” on {ticket.key} in round "
                           f"{approval_round.number}; a vote is not changed. Comment on the change to add something.")
        approval.decision, approval.comment, approval.decided_at = decision, comment, now
        ticket.refresh_from_db()
        label = Vote(decision).label
        core.event_record(ticket=ticket, actor=actor, kind=EventKind.APPROVAL, now=now, field="vote", new=decision,
                          note=f"{label} in round {approval_round.number}" + (f": “{comment}”" if comment else ""))
        Ticket.objects.filter(pk=ticket.pk).update(updated_at=now)  # an open page sees that something happened
        outcome = _outcome(approval_round)
        if outcome:
            _decide(ticket=ticket, approval_round=approval_round, outcome=outcome, actor=actor, now=now)
    return approval


def _decide(*, ticket: Ticket, approval_round: ApprovalRound, outcome: str, actor, now: datetime) -> None:
    _close_round(approval_round, outcome, now)
    note = _decision_note(approval_round, outcome)
    moves = ticket.status == Status.REVIEW
    after = "" if moves else f" ({ticket.key} was already '{ticket.get_status_display()}': it stays there)"
    core.event_record(ticket=ticket, actor=actor, kind=EventKind.APPROVAL, now=now, field="outcome", new=outcome,
                      note=f"Round {approval_round.number} {RoundStatus(outcome).label.lower()}{after}. {note}")
    if moves:
        core.ticket_transition(ticket=ticket, to=OUTCOME_STATUS[outcome], actor=actor, now=now,
                               values={"decision_note": note})


# --- the CAB's rules on every ticket write (tracker.hooks) -----------------------------------------------


def _latest_round(ticket: Ticket) -> ApprovalRound | None:
    return ApprovalRound.objects.filter(ticket=ticket).select_related("cab").order_by("-number").first()


def _progress(ticket: Ticket) -> str:
    approval_round = _latest_round(ticket)
    if approval_round is None or approval_round.status != RoundStatus.OPEN:
        return f"{ticket.key} has no open approval round"
    votes = [a.decision for a in approval_round.approvals.all()]
    rule = rule_text(approval_round.rule, approval_round.required, len(votes))
    return (f"round {approval_round.number} of {approval_round.cab.name} has {votes.count(Vote.APPROVED)} of the "
            f"{approval_round.required} approvals it needs ({rule})")


def change_guard(change: hooks.TicketChange) -> None:
    """Refuse a change write that would go around the CAB, before the core writes it."""
    ticket = change.ticket
    if ticket.kind != Kind.CHANGE:
        return
    if change.reason == "created":
        if ticket.change_type == ChangeType.STANDARD and _making_from.get() is None:
            raise ValidationFailed(
                "A standard change is made from a standard-change template (pre-approved by the change manager): "
                "choose one under Change setup → Templates, or POST /api/v1/changes/templates/<id>/changes/. "
                "Otherwise raise a normal change for the CAB.",
                fields={"change_type": ["Standard changes come from a template."]})
    elif change.reason == "updated":
        _guard_update(ticket, change.changes)
    elif change.reason == "transition":
        old, new = change.changes["status"]
        change_type = change.changes.get("change_type", (None, ticket.change_type))[1]
        if old == Status.REVIEW and new in (Status.APPROVED, Status.REJECTED, Status.NEW):
            _require_outcome(ticket, new)
        elif old == Status.NEW and new == Status.APPROVED and not StandardChange.objects.filter(ticket=ticket).exists():
            raise TransitionRefused(f"{ticket.key} was not made from a standard-change template, so it is not "
                                    "pre-approved: submit it to the CAB.")
        elif new == Status.REVIEW:
            _board_for(ticket, change_type=change_type)  # some CAB can decide it, before it is submitted


def _guard_update(ticket: Ticket, changes: dict) -> None:
    if changes.get("change_type", (None, None))[1] == ChangeType.STANDARD:
        raise ValidationFailed(
            f"{ticket.key} cannot become a standard change: standard changes are made from a template (Change setup → "
            "Templates).", fields={"change_type": ["Standard changes come from a template."]})
    bound = [n for n in TEMPLATE_BOUND if n in changes]
    if bound and ticket.change_type == ChangeType.STANDARD:
        origin = StandardChange.objects.filter(ticket=ticket).select_related("template_version").first()
        source = f"the template “{origin.template_version.title}” v{origin.template_version.number}" if origin \
            else "its template"
        names = ", ".join(n.replace("_", " ") for n in bound)
        raise Conflict(f"{ticket.key} is a standard change: its {names} come from {source}, which is what was "
                       "pre-approved. Ask the change manager to edit the template, or raise a normal change.",
                       fields={n: ["Set by the template."] for n in bound})


def _require_outcome(ticket: Ticket, new: str) -> None:
    approval_round = _latest_round(ticket)
    if approval_round is not None and OUTCOME_STATUS.get(approval_round.status) == new:
        return
    raise TransitionRefused(
        f"{ticket.key} leaves review by its CAB's votes, not by a move: {_progress(ticket)}. Approvers vote on the "
        f"change's page or with POST /api/v1/changes/{ticket.key}/approvals/vote/.",
        fields={"to": ["Decided by the CAB's votes."]})


def change_observer(change: hooks.TicketChange) -> None:
    """Keep the approval rounds in step with the change: a new round whenever it goes to review or its plan
    changes while in review; a withdrawn change closes its round."""
    ticket = change.ticket
    if ticket.kind != Kind.CHANGE:
        return
    if change.reason == "transition":
        old, new = change.changes["status"]
        if new == Status.REVIEW:
            _open_round(ticket=ticket, actor=change.actor, now=change.now, reason=_submit_reason(ticket, old))
        elif old == Status.REVIEW and new == Status.IN_PROGRESS:
            approval_round = ApprovalRound.objects.filter(ticket=ticket, status=RoundStatus.OPEN).first()
            if approval_round is not None:
                core.event_record(ticket=ticket, actor=change.actor, kind=EventKind.APPROVAL, now=change.now,
                                  field="emergency", new=str(approval_round.number),
                                  note=f"Implementation started before round {approval_round.number} was decided. "
                                       f"Justification: “{ticket.emergency_justification}” The emergency CAB's "
                                       "votes still count and are recorded.")
        elif old == Status.REVIEW and new == Status.CANCELLED:
            approval_round = ApprovalRound.objects.filter(ticket=ticket, status=RoundStatus.OPEN).first()
            if approval_round is not None:
                _close_round(approval_round, RoundStatus.WITHDRAWN, change.now)
                core.event_record(ticket=ticket, actor=change.actor, kind=EventKind.APPROVAL, now=change.now,
                                  field="outcome", new=RoundStatus.WITHDRAWN,
                                  note=f"Round {approval_round.number} withdrawn with the change")
    elif change.reason == "updated" and ticket.status == Status.REVIEW:
        fields = needs_reapproval(ticket.kind, Status.REVIEW, [n for n in change.changes if n in CHANGE_PLAN])
        if fields:
            what = ", ".join(n.replace("_", " ") for n in fields)
            _open_round(ticket=ticket, actor=change.actor, now=change.now,
                        reason=f"the {what} changed during review")


def _submit_reason(ticket: Ticket, old: str) -> str:
    if old == Status.APPROVED:
        return "its approved plan changed"
    last = _latest_round(ticket)
    if last is None:
        return "submitted"
    return f"resubmitted after round {last.number} was {RoundStatus(last.status).label.lower()}"


def register() -> None:
    hooks.register_guard(change_guard)
    hooks.register(change_observer)
