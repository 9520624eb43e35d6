"""Major incidents: declaring a P1 incident major (the incident managers and the service's owners are told at
once), linking the incidents it causes as its children (`major parent_of child`), and resolving it together
with the children chosen, one note to all their requesters.

Every function owns its transaction, writes a `major` event on the timeline (internal: who was told is staff
business; the requesters hear through the replies and moves) and raises a `DomainError` whose
message says what to fix.
"""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from sla.choices import NotificationKind
from sla.services import notification_send
from tracker import access
from tracker.choices import EventKind, Kind, LinkType, Priority, Role
from tracker.errors import AccessDenied, Conflict, TransitionRefused, ValidationFailed
from tracker.models import Link, Ticket, User
from tracker.services import event_record, ticket_link
from tracker.workflows import AGENTS

from ..models import MajorIncident
from .incidents import resolve_with_note

# Who may declare a major incident, link its children and resolve it: the desk and engineers (AGENTS, which
# takes in the incident manager, managers and admins).
MAJOR_DECLARERS = AGENTS


def _require_declarer(actor, what: str) -> None:
    if access.role_of(actor) not in MAJOR_DECLARERS:
        raise AccessDenied(f"Your role may not {what}; ask an agent or the incident manager.")


def major_of(ticket: Ticket) -> MajorIncident | None:
    """The ticket's major incident record (open or ended), or None; reads the prefetch when there is one."""
    try:
        return ticket.major
    except MajorIncident.DoesNotExist:
        return None


def _open_major(ticket: Ticket) -> MajorIncident:
    major = major_of(ticket)
    if major is None:
        raise TransitionRefused(f"{ticket.key} is not a major incident; declare it major first.")
    if major.ended_at is not None:
        raise TransitionRefused(f"The major incident {ticket.key} has ended; its children can no longer change.")
    return major


def major_told(ticket: Ticket) -> list:
    """Who is told when `ticket` is declared major: every active incident manager and the service's owners."""
    managers = User.objects.filter(role=Role.INCIDENT_MANAGER, is_active=True).order_by("username")
    owners = ticket.service.owners.filter(is_active=True).order_by("username") if ticket.service_id else []
    seen, out = set(), []
    for user in [*managers, *owners]:
        if user.pk not in seen:
            seen.add(user.pk)
            out.append(user)
    return out


def major_declare(*, ticket: Ticket, actor, reason: str, now: datetime | None = None) -> MajorIncident:
    """Declare an open P1 incident major, with its reason; atomic: the record, the timeline row and the
    notifications to the incident managers and the service's owners are written together, or not at all.
    Raises AccessDenied, ValidationFailed (not an incident, not P1, no reason) or Conflict (already major)."""
    now = now or timezone.now()
    _require_declarer(actor, "declare a major incident")
    reason = (reason or "").strip()
    if ticket.kind != Kind.INCIDENT:
        raise ValidationFailed(f"{ticket.key} is not an incident; only an incident can be declared major.")
    if not ticket.is_open:
        raise TransitionRefused(f"{ticket.key} is {ticket.get_status_display().lower()}; reopen it to declare it "
                                "major.")
    if ticket.priority != Priority.P1:
        raise ValidationFailed(
            f"{ticket.key} is {Priority(ticket.priority).label}; a major incident must be P1. Raise its impact and "
            "urgency to high first, then declare it.", fields={"priority": ["Must be P1."]})
    if not reason:
        raise ValidationFailed("Say why this incident is major (who is hit, what is down).",
                               fields={"reason": ["A reason is required."]})
    if len(reason) > 2000:
        raise ValidationFailed("Keep the reason to 2000 characters.", fields={"reason": ["Too long."]})
    if MajorIncident.objects.filter(ticket=ticket).exists():
        raise Conflict(f"{ticket.key} has already been declared a major incident.")
    told = major_told(ticket)
    names = ", ".join(u.display_name for u in told) or "nobody (no incident manager or service owner)"
    try:
        with transaction.atomic():
            major = MajorIncident.objects.create(ticket=ticket, reason=reason, declared_by=actor, declared_at=now)
            event_record(ticket=ticket, actor=actor, kind=EventKind.MAJOR, now=now, field="declared", new=reason,
                         note=f"Declared a major incident: {reason}. Told: {names}.", internal=True)
            notification_send(ticket=ticket, users=told, kind=NotificationKind.MAJOR, now=now,
                              key=f"major:{ticket.pk}", context={"actor": actor, "reason": reason})
    except IntegrityError:  # declared by someone else at the same moment
        raise Conflict(f"{ticket.key} has already been declared a major incident.") from None
    ticket.major = major
    return major


def major_parent_of(tickets) -> dict[int, Ticket]:
    """For each ticket id, the major incident it is a child of (one query), for those under one."""
    links = Link.objects.filter(type=LinkType.PARENT_OF, target__in=[t.pk for t in tickets],
                                source__major__isnull=False).select_related("source")
    return {link.target_id: link.source for link in links}


def major_link_children(*, major_ticket: Ticket, children: list[Ticket], actor,
                        now: datetime | None = None) -> list[Ticket]:
    """Link open incidents as children of an open major incident (`major parent_of child`), all or none.
    Refuses the major itself, other kinds, closed tickets, other major incidents and incidents already
    under another major (one message naming each)."""
    now = now or timezone.now()
    _require_declarer(actor, "link incidents to a major incident")
    _open_major(major_ticket)
    children = list({c.pk: c for c in children}.values())
    if not children:
        raise ValidationFailed("Name at least one incident to link, by its key (INC-12).",
                               fields={"children": ["Required."]})
    parents = major_parent_of(children)
    majors = set(MajorIncident.objects.filter(ticket__in=children).values_list("ticket_id", flat=True))
    problems = []
    for child in children:
        if child.pk == major_ticket.pk:
            problems.append(f"{child.key} is the major incident itself")
        elif child.kind != Kind.INCIDENT:
            problems.append(f"{child.key} is not an incident")
        elif not child.is_open:
            problems.append(f"{child.key} is {child.get_status_display().lower()}")
        elif child.pk in majors:
            problems.append(f"{child.key} is a major incident itself")
        elif child.pk in parents:
            parent = parents[child.pk]
            problems.append(f"{child.key} is already a child of "
                            f"{'this major incident' if parent.pk == major_ticket.pk else parent.key}")
    if problems:
        raise ValidationFailed(f"Cannot link: {'; '.join(problems)}. Link only open incidents that are under no "
                               "other major incident.", fields={"children": problems})
    with transaction.atomic():
        for child in children:
            ticket_link(source=major_ticket, target=child, type=LinkType.PARENT_OF, actor=actor, now=now)
        keys = ", ".join(c.key for c in children)
        event_record(ticket=major_ticket, actor=actor, kind=EventKind.MAJOR, now=now, field="children", new=keys,
                     note=f"Linked {keys} as {'child' if len(children) == 1 else 'children'} of the major incident.",
                     internal=True)
    return children


def major_children(major_ticket: Ticket) -> list[Ticket]:
    """The major incident's children, oldest first, with what their rows show (one query)."""
    return list(Ticket.objects.filter(links_in__source=major_ticket, links_in__type=LinkType.PARENT_OF)
                .select_related("requester", "assignee", "group").order_by("created_at", "id"))


def major_resolve(*, major_ticket: Ticket, actor, note: str, children: list[Ticket] | None = None,
                  now: datetime | None = None) -> list[Ticket]:
    """Resolve the major incident and exactly the chosen open children with one note, all in one transaction:
    the note is each child's resolution note and a public reply, and each child's requester gets one update
    (the resolution, with the note). Ends the major incident. Children not chosen stay open. Returns the
    children resolved."""
    now = now or timezone.now()
    _require_declarer(actor, "resolve a major incident")
    major = _open_major(major_ticket)
    note = (note or "").strip()
    if not note:
        raise ValidationFailed("Write the resolution note: it goes to the requesters of every child resolved.",
                               fields={"note": ["A note is required."]})
    chosen = list({c.pk: c for c in children or []}.values())
    own = {c.pk: c for c in major_children(major_ticket)}
    stray = [c.key for c in chosen if c.pk not in own]
    if stray:
        raise ValidationFailed(f"{', '.join(stray)} {'is' if len(stray) == 1 else 'are'} not a child of "
                               f"{major_ticket.key}; choose among its children.", fields={"children": stray})
    done = [c.key for c in chosen if not own[c.pk].is_open]
    if done:
        raise ValidationFailed(f"{', '.join(done)} {'is' if len(done) == 1 else 'are'} no longer open; untick "
                               f"{'it' if len(done) == 1 else 'them'}.", fields={"children": done})
    chosen = [own[c.pk] for c in chosen]
    with transaction.atomic():
        because = f"resolved with the major incident {major_ticket.key}"
        if major_ticket.is_open:
            resolve_with_note(major_ticket, actor=actor, note=note, because="resolving the major incident", now=now)
        for child in chosen:
            resolve_with_note(child, actor=actor, note=note, because=because, now=now, reply=note)
        MajorIncident.objects.filter(pk=major.pk).update(ended_at=now)
        major.ended_at = now
        keys = ", ".join(c.key for c in chosen)
        event_record(ticket=major_ticket, actor=actor, kind=EventKind.MAJOR, now=now, field="resolved", new=keys,
                     note=f"Major incident resolved with {keys or 'none of its children'}.", internal=True)
    return chosen


def major_children_by_keys(*, user, keys) -> list[Ticket]:
    """The tickets named by keys (a string of keys, or a list), as this user may see them; a key that names
    nothing visible is refused by name."""
    if isinstance(keys, str):
        keys = keys.replace(",", " ").split()
    keys = [k.strip().upper() for k in keys if k and k.strip()]
    if not keys:
        raise ValidationFailed("Name at least one incident by its key (INC-12).", fields={"children": ["Required."]})
    found = {t.key: t for t in access.visible(user, Ticket.objects.filter(key__in=keys))}
    missing = [k for k in keys if k not in found]
    if missing:
        raise ValidationFailed(f"No ticket {', '.join(missing[:5])} that you can see; check the keys.",
                               fields={"children": [f"Unknown: {', '.join(missing[:5])}"]})
    return [found[k] for k in dict.fromkeys(keys)]
