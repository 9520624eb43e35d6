"""Domain functions of problem management: a problem raised from the incidents it explains, the known error
applied to an incident (linked, and its workaround sent to the requester), and a problem resolved together with
the linked incidents chosen for it. Each call is one transaction; refusals say what to fix."""

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tracker import access, hooks
from tracker import services as core
from tracker.choices import OPEN_STATUSES, Kind, Level, LinkType, Status
from tracker.errors import Conflict, TransitionRefused, ValidationFailed
from tracker.models import Comment, Link, Ticket

from .incidents import resolve_with_note


def is_known_error(problem: Ticket) -> bool:
    """A problem whose cause and workaround are recorded and that still needs work: the known-error database."""
    return problem.kind == Kind.PROBLEM and (
        problem.status == Status.KNOWN_ERROR or (problem.known_error and problem.status in OPEN_STATUSES))


KNOWN_ERROR_Q = Q(kind=Kind.PROBLEM) & (Q(status=Status.KNOWN_ERROR)
                                        | Q(known_error=True, status__in=sorted(OPEN_STATUSES)))


def _common(incidents: list[Ticket], name: str):
    """The incidents' shared value of `name` (a related object), or None when they differ or have none."""
    values = {getattr(i, f"{name}_id") for i in incidents}
    return getattr(incidents[0], name) if len(values) == 1 else None


def open_problems_of(incidents: Iterable[Ticket]) -> dict[int, str]:
    """incident id -> key of an open problem it is already an instance of (one query)."""
    return dict(Link.objects.filter(source__in=[i.pk for i in incidents], type=LinkType.INSTANCE_OF,
                                    target__kind=Kind.PROBLEM, target__status__in=sorted(OPEN_STATUSES))
                .values_list("source_id", "target__key"))


def problem_from_incidents(*, incidents: Iterable[Ticket], actor, title: str = "", description: str = "",
                           now: datetime | None = None) -> Ticket:
    """Raise a problem for these incidents and link each `instance_of` it, all or nothing.

    The actor is the problem's requester (an incident's requester never gets it as "their" ticket); service,
    category and group come from the incidents when they all agree; the impact is the worst incident's.
    Refuses anything but incidents, and incidents already an instance of an open problem (naming them)."""
    now = now or timezone.now()
    incidents = list({i.pk: i for i in incidents}.values())
    if not incidents:
        raise ValidationFailed("Choose at least one incident to raise the problem from.",
                               fields={"incidents": ["Required."]})
    access.require_create(actor, Kind.PROBLEM)
    access.require(actor, "link", incidents[0])
    others = [i.key for i in incidents if i.kind != Kind.INCIDENT]
    if others:
        raise ValidationFailed(f"Only incidents become instances of a problem; {', '.join(others)} "
                               f"{'is' if len(others) == 1 else 'are'} not. Untick them and try again.",
                               fields={"incidents": ["Incidents only."]})
    taken = open_problems_of(incidents)
    if taken:
        said = "; ".join(f"{i.key} is already an instance of {taken[i.pk]}" for i in incidents if i.pk in taken)
        raise Conflict(f"{said}. Link the others to that problem, or leave these out.",
                       fields={"incidents": ["Already an instance of an open problem."]})
    title = (title or "").strip() or f"Problem behind {incidents[0].title}"[:200]
    keys = ", ".join(i.key for i in incidents)
    values = {"service": _common(incidents, "service"), "category": _common(incidents, "category"),
              "group": _common(incidents, "group")}
    with transaction.atomic():
        problem = core.ticket_create(
            actor=actor, kind=Kind.PROBLEM, title=title, requester=actor, now=now,
            description=(description or "").strip() or f"Raised from {keys}.",
            impact=min(i.impact for i in incidents), urgency=Level.MEDIUM,
            **{k: v for k, v in values.items() if v is not None})
        for incident in incidents:
            core.ticket_link(source=incident, target=problem, type=LinkType.INSTANCE_OF, actor=actor, now=now)
    return problem


def workaround_reply(problem: Ticket) -> str:
    """The public reply that carries a known error's workaround to an incident's requester."""
    return (f"This is a known error ({problem.key}: {problem.title}). Until it is fixed, this workaround "
            f"helps:\n\n{problem.workaround.strip()}")


def known_error_apply(*, incident: Ticket, problem: Ticket, actor, now: datetime | None = None) -> Comment:
    """Link an open incident `instance_of` a known error and send its workaround to the requester as a public
    reply, in one transaction. Refused (nothing written) when the problem is no longer an open known error,
    has no workaround, or the incident is closed or already linked."""
    now = now or timezone.now()
    access.require(actor, "link", incident)
    if incident.kind != Kind.INCIDENT:
        raise ValidationFailed(f"{incident.key} is not an incident; known errors are applied to incidents.")
    if problem.kind != Kind.PROBLEM:
        raise ValidationFailed(f"{problem.key} is not a problem.", fields={"problem": ["A problem key."]})
    if not incident.is_open:
        raise TransitionRefused(f"{incident.key} is {incident.get_status_display().lower()}; reopen it first.")
    with transaction.atomic():
        current = Ticket.objects.select_for_update().get(pk=problem.pk)  # resolved meanwhile? read it now
        if not is_known_error(current):
            raise Conflict(f"{current.key} is no longer an open known error (it is "
                           f"{current.get_status_display().lower()}); nothing was linked or sent.")
        if not current.workaround.strip():
            raise ValidationFailed(f"{current.key} has no workaround to send yet; record it on the problem first.")
        if Link.objects.filter(source=incident, target=current, type=LinkType.INSTANCE_OF).exists():
            raise Conflict(f"{incident.key} is already an instance of {current.key}.")
        core.ticket_link(source=incident, target=current, type=LinkType.INSTANCE_OF, actor=actor, now=now)
        return core.ticket_comment(ticket=incident, actor=actor, body=workaround_reply(current), now=now)


def linked_open_incidents(problem: Ticket) -> list[Ticket]:
    """The open incidents that are instances of this problem, oldest first (one query)."""
    return list(Ticket.objects.filter(links_out__target=problem, links_out__type=LinkType.INSTANCE_OF,
                                      kind=Kind.INCIDENT, status__in=sorted(OPEN_STATUSES))
                .select_related("requester").order_by("created_at", "id"))


def problem_resolve(*, problem: Ticket, actor, note: str, incidents: Iterable[Ticket] = (),
                    version: int | None = None, now: datetime | None = None) -> list[Ticket]:
    """Resolve the problem and exactly the chosen open incidents linked to it, all or nothing: each incident
    gets the note as its resolution note and one public reply to its requester; the others stay open.
    Returns the incidents resolved."""
    now = now or timezone.now()
    note = (note or "").strip()
    if problem.kind != Kind.PROBLEM:
        raise ValidationFailed(f"{problem.key} is not a problem.")
    if not note:
        raise ValidationFailed("Write the resolution note; the chosen incidents' requesters receive it.",
                               fields={"resolution_note": ["Required."]})
    chosen = list({i.pk: i for i in incidents}.values())
    linked = {i.pk: i for i in linked_open_incidents(problem)}
    strangers = [i.key for i in chosen if i.pk not in linked]
    if strangers:
        raise ValidationFailed(f"{', '.join(strangers)} {'is' if len(strangers) == 1 else 'are'} not an open "
                               f"incident linked to {problem.key}; choose among its linked open incidents.",
                               fields={"incidents": ["Not linked to this problem, or not open."]})
    with transaction.atomic():
        core.ticket_transition(ticket=problem, to=Status.RESOLVED, actor=actor, version=version,
                               values={"resolution_note": note}, now=now)
        done = []
        for incident in (linked[i.pk] for i in chosen):
            resolve_with_note(incident, actor=actor, note=note, because=f"resolved with {problem.key}", now=now,
                              reply=f"Resolved with {problem.key} ({problem.title}):\n\n{note}")
            done.append(incident)
    return done


def known_error_guard(change: hooks.TicketChange) -> None:
    """A problem in 'Known error' keeps its flag: clearing it by an edit would hide a known error from the desk
    while its status still says it is one ("Reinvestigate" first)."""
    ticket = change.ticket
    if ticket.kind != Kind.PROBLEM or change.reason != "updated" or ticket.status != Status.KNOWN_ERROR:
        return
    if change.changes.get("known_error", (None, True))[1] is False:
        raise Conflict(f"{ticket.key} is a recorded known error; move it back with 'Reinvestigate' before you "
                       "clear the known-error flag.", fields={"known_error": ["Reinvestigate first."]})


def register() -> None:
    hooks.register_guard(known_error_guard)
