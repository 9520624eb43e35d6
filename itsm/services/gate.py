"""Services through their life and the operations gate that makes one operational.

A service moves planned -> in transition (its gate opens) -> operational (only by the service manager's
acceptance of a gate whose every item is signed off) -> retired (for good). Each item of the gate has an
appointed approver who alone signs it off, with what they checked; the service manager may reopen a signed item
with a reason. The gate's rows are the record of the transition (who opened it, who signed what and when, who
accepted); every step, and every edit of a service's people, is also written to the service's history (Django's
admin log, shown on the service's page), in the same transaction.

Every function owns its transaction and raises a `DomainError` whose message says what to fix.
"""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from sla.choices import NotificationKind
from sla.models import Policy
from sla.services import notification_send
from tracker import access
from tracker.choices import Role, ServiceLifecycle, Tier
from tracker.errors import AccessDenied, Conflict, TransitionRefused, ValidationFailed
from tracker.models import AssignmentGroup, Service, User

from ..choices import ArticleAudience, GateItemCode, GateItemState
from ..models import GateItem, KnowledgeArticle, OperationsGate
from ..search import LIVE

# The standard checklist every gate opens with, in this order (a gate may add items of its own, as OTHER).
STANDARD_ITEMS = [code for code in GateItemCode.values if code != GateItemCode.OTHER]
# The lifecycle's moves by hand; `operational` is reached only by `gate_accept`, and nothing leaves `retired`.
MOVES = {
    ServiceLifecycle.PLANNED: {ServiceLifecycle.IN_TRANSITION},
    ServiceLifecycle.IN_TRANSITION: set(),
    ServiceLifecycle.OPERATIONAL: {ServiceLifecycle.RETIRED},
    ServiceLifecycle.RETIRED: set(),
}
SERVICE_FIELDS = ("service_manager", "owners", "project_group", "description")
# A gate opens on a service not yet operational (a planned one moves to in transition with it).
OPENABLE = frozenset({ServiceLifecycle.PLANNED, ServiceLifecycle.IN_TRANSITION})


# --- who may do what ----------------------------------------------------------------------------------------

def is_admin(user) -> bool:
    return access.role_of(user) == Role.ADMIN


def is_service_manager(user, service: Service) -> bool:
    return user is not None and service.service_manager_id is not None and service.service_manager_id == user.pk


def may_manage_service(user, service: Service) -> bool:
    """Admins and the service's manager edit it, move it through its life and run its gate."""
    return is_admin(user) or is_service_manager(user, service)


def _require_manager(actor, service: Service, what: str) -> None:
    if not may_manage_service(actor, service):
        who = service.service_manager.display_name if service.service_manager_id else "an administrator"
        raise AccessDenied(f"Only the service manager of {service.name} or an administrator may {what}; "
                           f"ask {who}.")


def _log(actor, service: Service, message: str, now: datetime, flag: int = CHANGE) -> None:
    """One row of the service's history (the admin log), in the caller's transaction."""
    LogEntry.objects.create(user=actor, content_type=ContentType.objects.get_for_model(Service),
                            object_id=str(service.pk), object_repr=service.name[:200], action_flag=flag,
                            change_message=message[:2000], action_time=now)


def service_history(service: Service, limit: int = 20) -> list[LogEntry]:
    """The service's recorded steps, newest first (one query)."""
    return list(LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(Service),
                                        object_id=str(service.pk)).select_related("user")
                .order_by("-action_time", "-id")[:limit])


# --- the service's people and life ------------------------------------------------------------------------

def service_update(*, service: Service, actor, changes: dict, now: datetime | None = None) -> Service:
    """Edit a service's manager, owners, project group and description (only the fields in `changes`); atomic,
    recorded in the service's history. Admins and the service manager only; a service keeps a service manager
    once it has left `planned` (someone must accept or own it)."""
    now = now or timezone.now()
    _require_manager(actor, service, "edit it")
    unknown = sorted(set(changes) - set(SERVICE_FIELDS))
    if unknown:
        raise ValidationFailed(f"These cannot be edited here: {', '.join(unknown)}.",
                               fields={name: ["Not editable here."] for name in unknown})
    if "service_manager" in changes:
        manager = changes["service_manager"]
        if manager is None and service.lifecycle != ServiceLifecycle.PLANNED:
            raise ValidationFailed(f"{service.name} is {service.get_lifecycle_display().lower()}: it keeps a "
                                   "service manager. Name the new one instead.",
                                   fields={"service_manager": ["Required once the service has left planning."]})
        if manager is not None and (not manager.is_active or not access.is_staff_member(manager)):
            raise ValidationFailed(f"{manager.display_name} cannot manage a service: choose an active staff member.",
                                   fields={"service_manager": ["An active staff member."]})
    if "project_group" in changes and changes["project_group"] is not None:
        if not isinstance(changes["project_group"], AssignmentGroup):
            raise ValidationFailed("Choose an assignment group.", fields={"project_group": ["Unknown group."]})
    if "description" in changes:
        changes["description"] = (changes["description"] or "").strip()
        if len(changes["description"]) > 4000:
            raise ValidationFailed("Keep the description to 4000 characters.",
                                   fields={"description": ["Too long."]})
    said = []
    with transaction.atomic():
        for name in ("service_manager", "project_group", "description"):
            if name in changes and getattr(service, name) != changes[name]:
                old = getattr(service, name)
                setattr(service, name, changes[name])
                said.append(f"{name.replace('_', ' ')}: {old or '—'} → {changes[name] or '—'}"
                            if name != "description" else "description edited")
        service.save(update_fields=["service_manager", "project_group", "description"])
        if "owners" in changes:
            before = set(service.owners.values_list("pk", flat=True))
            after = {u.pk for u in changes["owners"]}
            if before != after:
                service.owners.set(changes["owners"])
                said.append("owners: " + (", ".join(sorted(u.display_name for u in changes["owners"])) or "none"))
        if said:
            _log(actor, service, "Edited: " + "; ".join(said) + ".", now)
    return service


def service_retire(*, service: Service, actor, reason: str, now: datetime | None = None) -> Service:
    """Retire an operational service (for good: it takes no new tickets, and never returns); atomic, recorded."""
    now = now or timezone.now()
    _require_manager(actor, service, "retire it")
    _require_move(service, ServiceLifecycle.RETIRED)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Say why the service is retired (what replaces it, from when).",
                               fields={"reason": ["A reason is required."]})
    with transaction.atomic():
        won = Service.objects.filter(pk=service.pk, lifecycle=service.lifecycle).update(
            lifecycle=ServiceLifecycle.RETIRED)
        if not won:
            raise Conflict(f"{service.name} was moved by someone else meanwhile; reload its page.")
        service.lifecycle = ServiceLifecycle.RETIRED
        _log(actor, service, f"Retired: {reason}", now)
    return service


def _require_move(service: Service, to: str) -> None:
    if to in MOVES[service.lifecycle]:
        return
    label = ServiceLifecycle(to).label.lower()
    if service.lifecycle == ServiceLifecycle.RETIRED:
        raise TransitionRefused(f"{service.name} is retired and cannot become {label} again; create a new "
                                "service instead.")
    if to == ServiceLifecycle.OPERATIONAL:
        raise TransitionRefused(f"{service.name} becomes operational only when its service manager accepts it at "
                                "its operations gate.")
    if to == ServiceLifecycle.RETIRED:
        raise TransitionRefused(f"{service.name} is {service.get_lifecycle_display().lower()}; only an operational "
                                "service is retired.")
    raise TransitionRefused(f"{service.name} is {service.get_lifecycle_display().lower()}; it cannot move to "
                            f"{label}.")


# --- the operations gate ----------------------------------------------------------------------------------

def gate_of(service: Service) -> OperationsGate | None:
    try:
        return service.gate
    except OperationsGate.DoesNotExist:
        return None


def _approver(user, what: str) -> User:
    if user is None or not isinstance(user, User):
        raise ValidationFailed(f"Appoint someone to sign off “{what}”.", fields={"approver": ["Required."]})
    if not user.is_active or not access.is_staff_member(user):
        raise ValidationFailed(f"{user.display_name} cannot sign off “{what}”: appoint an active staff member.",
                               fields={"approver": ["An active staff member."]})
    return user


def gate_open(*, service: Service, actor, approvers: dict | None = None, extras=(),
              now: datetime | None = None) -> OperationsGate:
    """Open the service's operations gate: the standard checklist (each item appointed to `approvers[code]`,
    else to the service manager) plus `extras` ((label, approver) pairs), and move a planned service to
    in transition; atomic, the appointed approvers told after commit. Refused without a service manager, for
    an operational or retired service, and when the gate is already open."""
    now = now or timezone.now()
    _require_manager(actor, service, "open its operations gate")
    if service.lifecycle not in OPENABLE:
        raise TransitionRefused(f"{service.name} is {service.get_lifecycle_display().lower()}; only a planned "
                                "service goes through an operations gate.")
    if service.service_manager_id is None:
        raise ValidationFailed(f"Name the service manager of {service.name} first: they accept the service at the "
                               "end of the gate.", fields={"service_manager": ["Required to open the gate."]})
    if gate_of(service) is not None:
        raise Conflict(f"The operations gate of {service.name} is already open.")
    approvers = approvers or {}
    unknown = sorted(set(approvers) - set(STANDARD_ITEMS))
    if unknown:
        raise ValidationFailed(f"Unknown checklist items: {', '.join(unknown)}.",
                               fields={"approvers": [f"Unknown: {', '.join(unknown)}"]})
    rows = []
    for order, code in enumerate(STANDARD_ITEMS, start=1):
        label = str(GateItemCode(code).label)
        rows.append((code, label, _approver(approvers.get(code) or service.service_manager, label), order * 10))
    labels = {r[1].lower() for r in rows}
    for n, (label, approver) in enumerate(extras, start=len(rows) + 1):
        label = (label or "").strip()
        if not label or len(label) > 200:
            raise ValidationFailed("Give each extra item a label of up to 200 characters.",
                                   fields={"label": ["Required, at most 200 characters."]})
        if label.lower() in labels:
            raise ValidationFailed(f"The checklist already has “{label}”.", fields={"label": ["Already there."]})
        labels.add(label.lower())
        rows.append((GateItemCode.OTHER, label, _approver(approver, label), n * 10))
    with transaction.atomic():
        moved = Service.objects.filter(pk=service.pk, lifecycle=service.lifecycle).update(
            lifecycle=ServiceLifecycle.IN_TRANSITION)
        if not moved:
            raise Conflict(f"{service.name} was moved by someone else meanwhile; reload its page.")
        gate = OperationsGate.objects.create(service=service, opened_by=actor, opened_at=now)
        GateItem.objects.bulk_create([GateItem(gate=gate, code=code, label=label, approver=approver, order=order)
                                      for code, label, approver, order in rows])
        old = service.get_lifecycle_display().lower()
        service.lifecycle = ServiceLifecycle.IN_TRANSITION
        service.gate = gate
        appointed = {}
        for _, label, approver, _ in rows:
            appointed.setdefault(approver, []).append(label)
        _log(actor, service, f"Operations gate opened ({old} → in transition); appointed: "
             + "; ".join(f"{u.display_name} ({', '.join(items)})" for u, items in appointed.items()) + ".",
             now, flag=ADDITION)
        for user, items in appointed.items():
            if user.pk != actor.pk:
                _tell(service, [user], now, key=f"gate:{gate.pk}:appointed:{user.pk}",
                      context={"step": "appointed", "actor": actor, "items": items})
    return gate


def _tell(service: Service, users, now: datetime, *, key: str, context: dict) -> None:
    notification_send(ticket=None, users=users, kind=NotificationKind.SERVICE, now=now, key=key,
                      context={"service": service, **context}, url=reverse("itsm:service", args=[service.pk]))


def _open_gate(service: Service) -> OperationsGate:
    gate = gate_of(service)
    if gate is None:
        raise TransitionRefused(f"{service.name} has no operations gate yet; its service manager opens it.")
    if gate.accepted_at is not None:
        raise TransitionRefused(f"The operations gate of {service.name} was accepted on "
                                f"{timezone.localtime(gate.accepted_at):%d %b %Y}; its checklist is closed.")
    return gate


def gate_item_add(*, service: Service, actor, label: str, approver, now: datetime | None = None) -> GateItem:
    """Add an item of the gate's own (OTHER) to an open gate, appointed to `approver`."""
    now = now or timezone.now()
    _require_manager(actor, service, "change its operations gate")
    gate = _open_gate(service)
    label = (label or "").strip()
    if not label or len(label) > 200:
        raise ValidationFailed("Say what is to be delivered, in up to 200 characters.",
                               fields={"label": ["Required, at most 200 characters."]})
    if gate.items.filter(label__iexact=label).exists():
        raise ValidationFailed(f"The checklist already has “{label}”.", fields={"label": ["Already there."]})
    approver = _approver(approver, label)
    last = max(gate.items.values_list("order", flat=True), default=0)
    with transaction.atomic():
        item = GateItem.objects.create(gate=gate, code=GateItemCode.OTHER, label=label, approver=approver,
                                       order=last + 10)
        _log(actor, service, f"Gate item added: “{label}”, appointed {approver.display_name}.", now)
        if approver.pk != actor.pk:
            _tell(service, [approver], now, key=f"gate:{gate.pk}:item:{item.pk}:appointed:{approver.pk}",
                  context={"step": "appointed", "actor": actor, "items": [label]})
    return item


def gate_item_appoint(*, item: GateItem, actor, approver, now: datetime | None = None) -> GateItem:
    """Appoint another approver to an item not yet signed off."""
    now = now or timezone.now()
    service = item.gate.service
    _require_manager(actor, service, "change its operations gate")
    _open_gate(service)
    if item.state == GateItemState.SIGNED_OFF:
        raise Conflict(f"“{item.label}” is signed off; reopen it before appointing someone else.")
    approver = _approver(approver, item.label)
    if approver.pk == item.approver_id:
        return item
    old = item.approver
    with transaction.atomic():
        won = GateItem.objects.filter(pk=item.pk, state=GateItemState.OPEN).update(approver=approver)
        if not won:
            raise Conflict(f"“{item.label}” was signed off meanwhile; reload the page.")
        item.approver = approver
        _log(actor, service, f"Gate item “{item.label}”: appointed {approver.display_name} instead of "
             f"{old.display_name}.", now)
        if approver.pk != actor.pk:
            _tell(service, [approver], now, key=f"gate:{item.gate_id}:item:{item.pk}:appointed:{approver.pk}",
                  context={"step": "appointed", "actor": actor, "items": [item.label]})
    return item


def gate_item_of(service: Service, item_id) -> GateItem | None:
    """The item `item_id` of the service's gate (with what its row shows), or None."""
    return (GateItem.objects.select_related("gate__service", "approver", "signed_by")
            .filter(pk=item_id, gate__service=service).first())


# What each person may do now, as the domain functions below decide it (the pages offer only these).

def may_open_gate(user, service: Service, gate: OperationsGate | None) -> bool:
    return gate is None and service.lifecycle in OPENABLE and may_manage_service(user, service)


def may_retire(user, service: Service) -> bool:
    return ServiceLifecycle.RETIRED in MOVES[service.lifecycle] and may_manage_service(user, service)


def may_sign(user, item: GateItem) -> bool:
    return user is not None and item.approver_id == user.pk and item.state == GateItemState.OPEN


def may_reopen(user, item: GateItem, service: Service) -> bool:
    return item.state == GateItemState.SIGNED_OFF and is_service_manager(user, service)


def may_accept(user, service: Service, gate: OperationsGate | None) -> bool:
    return gate is not None and gate.accepted_at is None and is_service_manager(user, service)


def gate_item_sign(*, item: GateItem, actor, evidence: str, now: datetime | None = None) -> GateItem:
    """The appointed approver signs the item off with what they checked; once (a second sign-off, or one at the
    same moment, is refused). Nobody else may sign it, not even an administrator or the service manager."""
    now = now or timezone.now()
    service = item.gate.service
    _open_gate(service)
    if actor is None or item.approver_id != actor.pk:
        raise AccessDenied(f"Only {item.approver.display_name}, appointed to “{item.label}”, may sign it off.")
    if item.state == GateItemState.SIGNED_OFF:
        raise Conflict(f"“{item.label}” is already signed off"
                       f"{' by ' + item.signed_by.display_name if item.signed_by_id else ''}.")
    evidence = (evidence or "").strip()
    if not evidence:
        raise ValidationFailed(f"Say what you checked for “{item.label}” before signing it off.",
                               fields={"evidence": ["What you checked is required."]})
    if len(evidence) > 4000:
        raise ValidationFailed("Keep the note to 4000 characters.", fields={"evidence": ["Too long."]})
    with transaction.atomic():
        won = GateItem.objects.filter(pk=item.pk, state=GateItemState.OPEN).update(
            state=GateItemState.SIGNED_OFF, evidence=evidence, signed_by=actor, signed_at=now)
        if not won:
            raise Conflict(f"“{item.label}” is already signed off.")
        item.state, item.evidence, item.signed_by, item.signed_at = GateItemState.SIGNED_OFF, evidence, actor, now
        _log(actor, service, f"Gate item signed off: “{item.label}” — {evidence}", now)
    return item


def gate_item_reopen(*, item: GateItem, actor, reason: str, now: datetime | None = None) -> GateItem:
    """The service manager reopens a signed-off item, with a reason; its approver signs it again."""
    now = now or timezone.now()
    service = item.gate.service
    if not is_service_manager(actor, service):
        raise AccessDenied(f"Only the service manager of {service.name} may reopen a signed-off item.")
    _open_gate(service)
    if item.state != GateItemState.SIGNED_OFF:
        raise Conflict(f"“{item.label}” is not signed off; there is nothing to reopen.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Say why the item is reopened: its approver reads it.",
                               fields={"reason": ["A reason is required."]})
    note = f"Reopened by {actor.display_name}: {reason}"
    with transaction.atomic():
        won = GateItem.objects.filter(pk=item.pk, state=GateItemState.SIGNED_OFF).update(
            state=GateItemState.OPEN, evidence=note, signed_by=None, signed_at=None)
        if not won:
            raise Conflict(f"“{item.label}” was reopened meanwhile.")
        item.state, item.evidence, item.signed_by, item.signed_at = GateItemState.OPEN, note, None, None
        _log(actor, service, f"Gate item reopened: “{item.label}” — {reason}", now)
    return item


def told_on_acceptance(service: Service) -> list:
    """Who hears that the service is operational: its owners, the project team's manager and the managers of the
    service desk (L1) groups covering it."""
    people = list(service.owners.filter(is_active=True).order_by("username"))
    if service.project_group_id and service.project_group.manager_id:
        people.append(service.project_group.manager)
    people += [g.manager for g in AssignmentGroup.objects.filter(services=service, tier=Tier.L1,
                                                                 manager__isnull=False)
               .select_related("manager").order_by("name")]
    seen, out = set(), []
    for user in people:
        if user.pk not in seen and user.is_active:
            seen.add(user.pk)
            out.append(user)
    return out


def gate_accept(*, service: Service, actor, note: str = "", now: datetime | None = None) -> OperationsGate:
    """The service manager accepts the service: only they (an administrator may not accept for them; they may
    name another service manager), only once every item is signed off (the refusal names the open ones). The
    service becomes operational and the acceptance is recorded in one transaction; its owners, the project
    team's manager and the desk's managers are told."""
    now = now or timezone.now()
    gate = _open_gate(service)
    if not is_service_manager(actor, service):
        who = service.service_manager.display_name if service.service_manager_id else "its service manager"
        extra = " An administrator may name another service manager, not accept for them." if is_admin(actor) else ""
        raise AccessDenied(f"Only {who}, the service manager of {service.name}, accepts it.{extra}")
    note = (note or "").strip()
    if len(note) > 4000:
        raise ValidationFailed("Keep the note to 4000 characters.", fields={"note": ["Too long."]})
    with transaction.atomic():
        # Locked: an item reopened while we accept must not let an open checklist through.
        items = list(GateItem.objects.select_for_update().filter(gate=gate).order_by("order", "id"))
        still_open = [i.label for i in items if i.state != GateItemState.SIGNED_OFF]
        if still_open:
            raise ValidationFailed(
                f"{len(still_open)} of {len(items)} items are not signed off yet: {'; '.join(still_open)}. "
                "Their approvers sign them off first.", fields={"items": still_open})
        won = OperationsGate.objects.filter(pk=gate.pk, accepted_at__isnull=True).update(
            accepted_by=actor, accepted_at=now, acceptance_note=note)
        if not won:
            raise Conflict(f"{service.name} was accepted meanwhile.")
        Service.objects.filter(pk=service.pk).update(lifecycle=ServiceLifecycle.OPERATIONAL)
        gate.accepted_by, gate.accepted_at, gate.acceptance_note = actor, now, note
        service.lifecycle = ServiceLifecycle.OPERATIONAL
        _log(actor, service, "Accepted at the operations gate: in transition → operational"
             + (f". {note}" if note else "."), now)
        told = [u for u in told_on_acceptance(service) if u.pk != actor.pk]
        _tell(service, told, now, key=f"gate:{gate.pk}:accepted",
              context={"step": "accepted", "actor": actor, "note": note})
    return gate


# --- what the app knows about each deliverable ------------------------------------------------------------

@dataclass
class Evidence:
    text: str
    ok: bool


def policies_for(services) -> dict[int, dict]:
    """service id -> {"own": policies naming it, "default": active policies with no service condition} (two
    queries for any number of services)."""
    services = list(services)
    through = Policy.services.through
    own: dict[int, list] = {s.pk: [] for s in services}
    rows = (through.objects.filter(service_id__in=[s.pk for s in services], policy__active=True)
            .select_related("policy").order_by("policy__order", "policy_id"))
    for row in rows:
        own[row.service_id].append(row.policy)
    default = list(Policy.objects.filter(active=True).filter(~Q(pk__in=through.objects.values("policy_id")))
                   .order_by("order", "id"))
    return {s.pk: {"own": own[s.pk], "default": default} for s in services}


def gate_evidence(service: Service, *, groups=None, policies=None) -> dict[str, Evidence]:
    """Live evidence, by item code, where the app can compute it: published internal articles on the service,
    the tiers its support groups cover, the SLA policies that apply, and its people."""
    published = KnowledgeArticle.objects.filter(LIVE, services=service)
    internal = published.filter(audience=ArticleAudience.INTERNAL).count()
    public = published.count() - internal
    groups = groups if groups is not None else list(service.groups.all())
    tiers = {t: [g.name for g in groups if g.tier == t] for t in Tier.values}
    missing = [f"L{t}" for t, names in tiers.items() if not names]
    policies = policies if policies is not None else policies_for([service])[service.pk]
    owners = [u.display_name for u in service.owners.all()]
    if policies["own"]:
        sla = Evidence("Policies naming the service: " + ", ".join(p.name for p in policies["own"]), True)
    elif policies["default"]:
        sla = Evidence("No policy names the service; the default applies: "
                       + ", ".join(p.name for p in policies["default"]), False)
    else:
        sla = Evidence("No SLA policy applies to its tickets.", False)
    covered = "; ".join(f"L{t}: {', '.join(n)}" for t, n in tiers.items() if n) or "No support group"
    if missing and any(tiers.values()):
        covered += f" — no {', '.join(missing)} group"
    contacts = (f"Service manager: {service.service_manager.display_name if service.service_manager_id else 'none'}; "
                f"owners: {', '.join(owners) or 'none'}; project team: "
                f"{service.project_group.name if service.project_group_id else 'none'}")
    return {
        GateItemCode.KNOWLEDGE: Evidence(f"{internal} published internal article{'s' if internal != 1 else ''} for "
                                         f"the desk ({public} public)", internal > 0),
        GateItemCode.SUPPORT_GROUPS: Evidence(covered, not missing),
        GateItemCode.SLA: sla,
        GateItemCode.CONTACTS: Evidence(contacts, bool(service.service_manager_id and owners)),
    }
