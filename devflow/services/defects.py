"""Defects: turning an incident (or a problem) into a defect its development team fixes."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from tracker import access, services
from tracker.choices import Kind, LinkType, Severity, Status, Tier
from tracker.errors import TransitionRefused, ValidationFailed
from tracker.models import AssignmentGroup, Ticket

# Incident priority -> defect severity, when the engineer does not choose one.
_SEVERITY_FOR_PRIORITY = {1: Severity.S1, 2: Severity.S2, 3: Severity.S3, 4: Severity.S4, 5: Severity.S4}
# Severity -> (impact, urgency) of the defect: a fix runs on the team's clock, one step below the outage
# that showed it (the incident keeps its own P1 targets; the defect gets P2 for S1, down to P5 for S4).
_LEVELS_FOR_SEVERITY = {Severity.S1: (1, 2), Severity.S2: (2, 2), Severity.S3: (2, 3), Severity.S4: (3, 3)}


def _development_team(incident: Ticket) -> AssignmentGroup | None:
    """The L3 team that fixes it: the incident's own group when it is at L3, else the next L3 group up its
    escalation chain, else an L3 group covering its service."""
    group = incident.group
    seen = set()
    while group is not None and group.pk not in seen:
        if group.tier == Tier.L3:
            return group
        seen.add(group.pk)
        group = group.escalates_to
    l3 = AssignmentGroup.objects.filter(tier=Tier.L3).order_by("id")
    return (l3.filter(services=incident.service_id).first() if incident.service_id else None) or None


def may_raise_defect(user, incident: Ticket) -> bool:
    """Whether "Create defect" is offered: an open incident or problem, to someone who may link it."""
    return incident.kind in (Kind.INCIDENT, Kind.PROBLEM) and incident.is_open and access.may(user, "link", incident)


def defect_from_incident(
    *,
    incident: Ticket,
    actor,
    title: str = "",
    severity: str = "",
    component: str = "",
    affected_version: str = "",
    now: datetime | None = None,
) -> Ticket:
    """Raise a defect for an incident (or problem) and link `incident fixed_by defect`, in one transaction.

    The defect is set up for the team that fixes it: its development team (L3) and service, assigned to
    the engineer who raised it when they are in that team, priority from its severity (not the incident's
    P1, so it runs on a defect's SLA policy), component and affected version when given, and the engineer
    as requester: a defect is never an end user's ticket; the person waiting hears through the incident,
    which stays linked to it. When the engineer chooses the severity and the team is known, raising it is
    the triage: it starts TRIAGED (a severity guessed from the incident's priority leaves it NEW, for the
    team to triage). Raises AccessDenied / ValidationFailed like `ticket_create` and `ticket_link`.
    """
    now = now or timezone.now()
    if incident.kind not in (Kind.INCIDENT, Kind.PROBLEM):
        raise ValidationFailed(
            f"{incident.key} is a {incident.get_kind_display().lower()}; "
            "raise defects from incidents and problems."
        )
    access.require(actor, "link", incident)
    if not incident.is_open:
        raise TransitionRefused(
            f"{incident.key} is {incident.get_status_display().lower()}; reopen it first."
        )
    if severity and severity not in Severity.values:
        raise ValidationFailed(
            f"Use one of: {', '.join(Severity.values)}.", fields={"severity": ["Unknown."]}
        )
    component, affected_version = (component or "").strip(), (affected_version or "").strip()
    if len(component) > 80:
        raise ValidationFailed("Name the component in at most 80 characters.", fields={"component": ["Too long."]})
    if len(affected_version) > 40:
        raise ValidationFailed("Give the affected version in at most 40 characters.",
                               fields={"affected_version": ["Too long."]})
    if len((title or "").strip()) > 200:
        raise ValidationFailed("Keep the title to 200 characters.", fields={"title": ["Too long."]})
    chosen = bool(severity)
    severity = severity or _SEVERITY_FOR_PRIORITY[incident.priority]
    impact, urgency = _LEVELS_FOR_SEVERITY[Severity(severity)]
    team = _development_team(incident)
    assignee = actor if team is not None and team.members.filter(pk=actor.pk).exists() else None
    with transaction.atomic():
        defect = services.ticket_create(
            actor=actor,
            kind=Kind.DEFECT,
            title=(title or incident.title).strip(),
            requester=actor,
            now=now,
            description=f"Raised from {incident.key}.\n\n{incident.description}".strip(),
            impact=impact,
            urgency=urgency,
            service=incident.service,
            group=team or incident.group,
            assignee=assignee,
            severity=severity,
            component=component,
            affected_version=affected_version,
        )
        services.ticket_link(source=incident, target=defect, type=LinkType.FIXED_BY, actor=actor, now=now)
        if chosen and team is not None:  # the engineer triaged it by raising it
            services.ticket_transition(ticket=defect, to=Status.TRIAGED, actor=actor, now=now, by_rule=True,
                                       note=f"Triaged as raised: {Severity(severity).label}, {team.name}.")
    return defect
