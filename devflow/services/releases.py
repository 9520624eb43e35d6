"""Releases: what a version of a service ships, its notes for the desk, and getting it out.

The life of a release: planned (`release_create`) -> tickets added (`release_add_ticket`) -> notes written or
assembled from what it ships (`release_update`, `release_notes_assemble`) -> notes reviewed by someone who did
not last edit them (`release_notes_review`; editing afterwards clears the review) -> UAT signed off by 2nd line
(`release_uat_sign`, which verifies its fixed defects) -> published to the desk (`release_publish`: an internal
knowledge article on the service) -> shipped (`release_ship`: closes its defects, tells the people waiting).

Who plans and ships releases: 2nd-line agents (they coordinate UAT), 3rd-line engineers (they build them), the
change manager (releases go live through changes), managers and administrators (`RELEASE_MANAGERS`). Only a
2nd-line agent or an administrator signs UAT off (`UAT_SIGNERS`). Every function owns its transaction and
raises a DomainError whose message says what to fix; the plan and the notes are edited under the optimistic
lock `revision` (StaleVersion, 412, when someone saved since).
"""

from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from sla.choices import NotificationKind
from sla.services import notification_send, webhook_event
from tracker import access, hooks, services
from tracker.choices import EventKind, Kind, LinkType, Role, Status
from tracker.errors import AccessDenied, Conflict, NotFound, StaleVersion, TransitionRefused, ValidationFailed
from tracker.models import Link, Service, Ticket

from ..models import Release

RELEASE_MANAGERS = frozenset({Role.AGENT_L2, Role.ENGINEER_L3, Role.CHANGE_MANAGER, Role.MANAGER, Role.ADMIN})
UAT_SIGNERS = frozenset({Role.AGENT_L2, Role.ADMIN})
RELEASE_KINDS = (Kind.DEFECT, Kind.CHANGE)
VERSION_MAX, NAME_MAX, NOTES_MAX = 40, 120, 50_000


def label(release: Release) -> str:
    """How people name a release: "Payroll 2.5.0"."""
    return f"{release.service.name} {release.version}"


# --- who may do what (asked by the pages, enforced below) ----------------------------------------------------

def may_manage(user) -> bool:
    return access.role_of(user) in RELEASE_MANAGERS


def may_edit(user, release: Release) -> bool:
    return may_manage(user) and release.shipped_at is None


def may_add_ticket(user, ticket: Ticket) -> bool:
    """Whether "Add to release" is offered on this ticket: a defect or change not done with, to a manager."""
    return (ticket.kind in RELEASE_KINDS and ticket.status not in (Status.CLOSED, Status.CANCELLED)
            and may_manage(user))


def may_review(user, release: Release) -> bool:
    """The review is offered to every release manager while the notes wait for one; the notes' last editor who
    tries is refused with the reason (a second person reviews), which says more than a missing button."""
    return may_edit(user, release) and bool(release.notes.strip()) and release.notes_reviewed_at is None


def may_sign_uat(user, release: Release) -> bool:
    return access.role_of(user) in UAT_SIGNERS and release.shipped_at is None and release.uat_signed_at is None


def may_publish(user, release: Release) -> bool:
    return (may_edit(user, release) and release.notes_reviewed_at is not None and release.uat_signed_at is not None
            and (release.published_at is None or release.published_at < release.notes_reviewed_at))


def may_ship(user, release: Release) -> bool:
    return may_edit(user, release) and release.published_at is not None


def _require_manager(actor, what: str) -> None:
    if not may_manage(actor):
        raise AccessDenied(f"Only 2nd-line agents, 3rd-line engineers, the change manager and managers {what}.")


def _require_open(release: Release) -> None:
    if release.shipped_at is not None:
        raise TransitionRefused(f"{label(release)} shipped on {release.shipped_at:%Y-%m-%d}; plan a new release.")


# --- plan and notes -------------------------------------------------------------------------------------------

def _clean_plan(*, version: str | None = None, name: str | None = None, notes: str | None = None) -> dict:
    errors, clean = {}, {}
    if version is not None:
        version = version.strip()
        if not version:
            errors["version"] = ["A version is required (2.5.0)."]
        elif len(version) > VERSION_MAX or any(c.isspace() for c in version):
            errors["version"] = [f"Write the version without spaces, at most {VERSION_MAX} characters."]
        clean["version"] = version
    if name is not None:
        name = name.strip()
        if len(name) > NAME_MAX:
            errors["name"] = [f"Keep the name to {NAME_MAX} characters."]
        clean["name"] = name
    if notes is not None:
        notes = notes.replace("\r\n", "\n").strip()
        if len(notes) > NOTES_MAX:
            errors["notes"] = [f"Keep the notes to {NOTES_MAX} characters."]
        clean["notes"] = notes
    if errors:
        raise ValidationFailed("Check the release: " + " ".join(m[0] for m in errors.values()), fields=errors)
    return clean


def release_create(*, actor, service: Service | None, version: str, name: str = "",
                   planned_for: date | None = None, now: datetime | None = None) -> Release:
    """Plan a release of a service (atomic). Raises AccessDenied, ValidationFailed or Conflict (the service
    has this version already)."""
    _require_manager(actor, "plan releases")
    clean = _clean_plan(version=version, name=name)
    if service is None:
        raise ValidationFailed("Choose the service the release ships to.", fields={"service": ["Required."]})
    if not service.takes_tickets:
        raise ValidationFailed(f"{service.name} is retired; choose a live service.",
                               fields={"service": ["Retired."]})
    try:
        with transaction.atomic():
            release = Release.objects.create(service=service, planned_for=planned_for, created_by=actor, **clean)
    except IntegrityError:
        raise Conflict(f"{service.name} already has a release {clean['version']}; choose another version.",
                       fields={"version": ["Taken."]}) from None
    return release


def _cas(release: Release, revision: int, **fields) -> None:
    """Write `fields` if nobody saved since `revision`; bump the revision. Raises StaleVersion."""
    won = Release.objects.filter(pk=release.pk, revision=revision, shipped_at__isnull=True).update(
        revision=F("revision") + 1, **fields)
    if not won:
        release.refresh_from_db()
        _require_open(release)
        raise StaleVersion(label(release), release.revision)
    release.refresh_from_db()


def release_update(*, release: Release, actor, revision: int, name: str | None = None,
                   planned_for: date | None = None, clear_planned_for: bool = False, notes: str | None = None,
                   now: datetime | None = None) -> Release:
    """Change the plan and/or the notes under the optimistic lock (atomic). New notes record their editor and
    clear an earlier review (the new text needs its own). Raises AccessDenied, TransitionRefused (shipped),
    ValidationFailed or StaleVersion (someone saved since `revision`)."""
    _require_manager(actor, "edit releases")
    _require_open(release)
    clean = _clean_plan(name=name, notes=notes)
    fields: dict = {}
    if "name" in clean and clean["name"] != release.name:
        fields["name"] = clean["name"]
    if clear_planned_for or (planned_for is not None and planned_for != release.planned_for):
        fields["planned_for"] = None if clear_planned_for else planned_for
    if "notes" in clean and clean["notes"] != release.notes:
        fields.update(notes=clean["notes"], notes_edited_by=actor, notes_reviewed_by=None, notes_reviewed_at=None)
    if not fields:
        if revision != release.revision:
            raise StaleVersion(label(release), release.revision)
        return release
    with transaction.atomic():
        _cas(release, revision, **fields)
    return release


def _ticket_line(t: Ticket) -> str:
    return f"- **{t.key}** {t.title}"


def release_notes_draft(release: Release) -> str:
    """Draft notes from what the release ships, in words the desk can use: fixes, then changes."""
    tickets = list(release.tickets.order_by("kind", "number", "id"))
    fixes = [t for t in tickets if t.kind == Kind.DEFECT]
    changes = [t for t in tickets if t.kind == Kind.CHANGE]
    parts = [f"{label(release)}" + (f" ({release.name})" if release.name and release.name != label(release)
                                    else "") + " ships what follows. Tell callers which fix or change they meet."]
    if fixes:
        parts.append("### Fixes\nThese problems no longer happen after the release:\n\n"
                     + "\n".join(_ticket_line(t) for t in fixes))
    if changes:
        parts.append("### Changes\nThese work differently after the release; callers may notice them:\n\n"
                     + "\n".join(_ticket_line(t) for t in changes))
    if not tickets:
        parts.append("It carries no defects or changes yet: add them before assembling the notes.")
    return "\n\n".join(parts)


def release_notes_assemble(*, release: Release, actor, revision: int, now: datetime | None = None) -> Release:
    """Write the notes drafted from the release's tickets (`release_notes_draft`) as its notes; like
    `release_update`, it records the editor and clears an earlier review."""
    if not release.tickets.exists():
        raise ValidationFailed(f"{label(release)} ships no tickets yet: add its defects and changes first.")
    return release_update(release=release, actor=actor, revision=revision, notes=release_notes_draft(release),
                          now=now)


def release_notes_review(*, release: Release, actor, revision: int, now: datetime | None = None) -> Release:
    """Record that someone other than the notes' last editor read and approved them (atomic). Raises
    AccessDenied (not a release manager, or the editor), TransitionRefused, ValidationFailed or StaleVersion
    (the notes changed since `revision`: read them again)."""
    now = now or timezone.now()
    _require_manager(actor, "review release notes")
    _require_open(release)
    if not release.notes.strip():
        raise ValidationFailed(f"{label(release)} has no notes to review yet: write or assemble them first.")
    if release.notes_edited_by_id == actor.pk:
        raise AccessDenied("You edited these notes last, so you cannot review them: ask a colleague to review.")
    if release.notes_reviewed_at is not None:
        raise TransitionRefused(f"The notes of {label(release)} were already reviewed.")
    with transaction.atomic():
        _cas(release, revision, notes_reviewed_by=actor, notes_reviewed_at=now)
    return release


def _carried(release: Release, kind: str | None = None):
    qs = release.tickets.all()
    return qs.filter(kind=kind) if kind else qs


def release_uat_sign(*, release: Release, actor, note: str, now: datetime | None = None) -> Release:
    """2nd line signs the user acceptance test off (atomic): the release's fixed defects become verified, by
    rule. Raises AccessDenied (not an L2 agent or admin), ValidationFailed (no note), TransitionRefused."""
    now = now or timezone.now()
    if access.role_of(actor) not in UAT_SIGNERS:
        raise AccessDenied("Only a 2nd-line agent (or an administrator) signs off user acceptance tests.")
    _require_open(release)
    note = (note or "").strip()
    if not note:
        raise ValidationFailed("Say what was tested and by whom in the UAT note.",
                               fields={"uat_note": ["Required."]})
    with transaction.atomic():
        won = Release.objects.filter(pk=release.pk, uat_signed_at__isnull=True, shipped_at__isnull=True).update(
            uat_signed_by=actor, uat_signed_at=now, uat_note=note)
        if not won:
            raise TransitionRefused(f"UAT of {label(release)} was already signed off.")
        for defect in _carried(release, Kind.DEFECT).filter(status=Status.FIXED).order_by("id"):
            services.ticket_transition(ticket=defect, to=Status.VERIFIED, actor=actor, now=now, by_rule=True,
                                       note=f"UAT of {label(release)} signed off")
    release.refresh_from_db()
    return release


def release_publish(*, release: Release, actor, now: datetime | None = None) -> Release:
    """Publish the reviewed notes to the desk before go-live (atomic): an internal knowledge article on the
    service, written by whoever listens to `release.published` (the knowledge base); its URL is kept. Raises
    AccessDenied or TransitionRefused naming what is missing (review, UAT) or that it shipped."""
    now = now or timezone.now()
    _require_manager(actor, "publish release notes")
    _require_open(release)
    missing = []
    if release.notes_reviewed_at is None:
        missing.append("its notes reviewed by a second person")
    if release.uat_signed_at is None:
        missing.append("UAT signed off by 2nd line")
    if missing:
        raise TransitionRefused(f"{label(release)} needs {' and '.join(missing)} before it is published to the desk.")
    if release.published_at is not None and release.published_at >= release.notes_reviewed_at:
        raise TransitionRefused(f"These notes of {label(release)} are already published.")
    with transaction.atomic():
        answers = hooks.announce("release.published", release=release, service=release.service,
                                 title=f"Release notes: {label(release)}" + (f" ({release.name})" if release.name
                                                                             and release.name != label(release)
                                                                             else ""),
                                 body=release.notes, actor=actor, reviewer=release.notes_reviewed_by, now=now,
                                 article_url=release.desk_article_url)
        url = next((a for a in answers if isinstance(a, str)), release.desk_article_url)
        won = Release.objects.filter(pk=release.pk, revision=release.revision, shipped_at__isnull=True).update(
            published_by=actor, published_at=now, desk_article_url=url)
        if not won:
            raise StaleVersion(label(release))
    release.refresh_from_db()
    return release


# --- what it ships ----------------------------------------------------------------------------------------------

def _ticket_by_key(key: str) -> Ticket:
    ticket = Ticket.objects.filter(key=(key or "").strip().upper()).first()
    if ticket is None:
        raise NotFound(f"No ticket {key.strip() or '(empty)'}: type a key such as DEF-12.",
                       fields={"key": ["Unknown key."]})
    return ticket


def release_add_ticket(*, release: Release, actor, ticket: Ticket | None = None, key: str = "",
                       now: datetime | None = None) -> Ticket:
    """Carry a defect or change of the release's service (atomic); a defect's fixed-in version becomes the
    release's version. Raises AccessDenied, NotFound, ValidationFailed (other kind or service, already closed),
    TransitionRefused (shipped) or Conflict (already carried here)."""
    now = now or timezone.now()
    _require_manager(actor, "change what a release ships")
    _require_open(release)
    ticket = ticket or _ticket_by_key(key)
    if ticket.kind not in RELEASE_KINDS:
        raise ValidationFailed(f"{ticket.key} is {ticket.get_kind_display().lower()}; releases ship defects and "
                               "changes.", fields={"key": ["Not a defect or change."]})
    if ticket.service_id != release.service_id:
        raise ValidationFailed(f"{ticket.key} is on {ticket.service.name if ticket.service else 'no service'}; "
                               f"{label(release)} ships only {release.service.name}'s tickets.",
                               fields={"key": ["Another service."]})
    if ticket.status in (Status.CLOSED, Status.CANCELLED):
        raise ValidationFailed(f"{ticket.key} is {ticket.get_status_display().lower()}; it ships in no release now.",
                               fields={"key": ["Closed."]})
    if release.tickets.filter(pk=ticket.pk).exists():
        raise Conflict(f"{ticket.key} is already in {label(release)}.", fields={"key": ["Already carried."]})
    with transaction.atomic():
        release.tickets.add(ticket)
        if ticket.kind == Kind.DEFECT and ticket.fix_version != release.version:
            services.ticket_update(ticket=ticket, actor=actor, version=ticket.version, now=now,
                                   changes={"fix_version": release.version})
        services.event_record(ticket=ticket, actor=actor, kind=EventKind.RELEASE, now=now, field="release",
                              new=release.version, note=f"planned in {label(release)}")
    return ticket


def release_remove_ticket(*, release: Release, actor, ticket: Ticket, now: datetime | None = None) -> None:
    """Take a ticket out of an unshipped release (atomic); a defect's fixed-in version set by it is cleared."""
    now = now or timezone.now()
    _require_manager(actor, "change what a release ships")
    _require_open(release)
    if not release.tickets.filter(pk=ticket.pk).exists():
        raise NotFound(f"{ticket.key} is not in {label(release)}.")
    with transaction.atomic():
        release.tickets.remove(ticket)
        if ticket.kind == Kind.DEFECT and ticket.fix_version == release.version:
            services.ticket_update(ticket=ticket, actor=actor, version=ticket.version, now=now,
                                   changes={"fix_version": ""})
        services.event_record(ticket=ticket, actor=actor, kind=EventKind.RELEASE, now=now, field="release",
                              old=release.version, note=f"taken out of {label(release)}")


# --- shipping -------------------------------------------------------------------------------------------------

def _waiting_incidents(defect_ids: list[int]) -> list[Ticket]:
    """Incidents linked `incident fixed_by defect` to the carried defects."""
    ids = Link.objects.filter(type=LinkType.FIXED_BY, target_id__in=defect_ids,
                              source__kind=Kind.INCIDENT).values("source_id")
    return list(Ticket.objects.filter(pk__in=ids).select_related("requester").order_by("id"))


def release_ship(*, release: Release, actor, now: datetime | None = None) -> Release:
    """Ship a published release (atomic, once only): its verified defects close by rule, every carried ticket and
    every incident fixed by a carried defect gets a release row, each such incident's requester is told in plain
    words, and `release.shipped` goes to the webhooks. Raises AccessDenied or TransitionRefused (shipped, not
    published, or a carried defect not verified yet, named)."""
    now = now or timezone.now()
    _require_manager(actor, "ship releases")
    _require_open(release)
    if release.published_at is None:
        raise TransitionRefused(f"Publish the notes of {label(release)} to the desk before shipping it.")
    defects = list(_carried(release, Kind.DEFECT).order_by("id"))
    unverified = [d for d in defects if d.status not in (Status.VERIFIED, Status.CLOSED)]
    if unverified:
        names = ", ".join(f"{d.key} ({d.get_status_display().lower()})" for d in unverified)
        raise TransitionRefused(f"{label(release)} carries defects not verified yet: {names}. Verify them in UAT "
                                "or take them out of the release.")
    tickets = list(release.tickets.order_by("id"))
    incidents = _waiting_incidents([d.pk for d in defects])
    what = label(release) + (f" ({release.name})" if release.name and release.name != label(release) else "")
    with transaction.atomic():
        won = Release.objects.filter(pk=release.pk, shipped_at__isnull=True).update(shipped_at=now, shipped_by=actor)
        if not won:
            raise TransitionRefused(f"{label(release)} was already shipped.")
        release.shipped_at, release.shipped_by = now, actor
        for defect in defects:
            if defect.status == Status.VERIFIED:
                services.ticket_transition(ticket=defect, to=Status.CLOSED, actor=actor, now=now, by_rule=True,
                                           note=f"shipped in {label(release)}")
        for ticket in tickets:
            services.event_record(ticket=ticket, actor=actor, kind=EventKind.RELEASE, now=now, field="release",
                                  new=release.version, note=f"shipped in {what}")
        for incident in incidents:
            services.event_record(ticket=incident, actor=actor, kind=EventKind.RELEASE, now=now, field="release",
                                  new=release.version, note=f"its fix shipped in {what}")
            if incident.requester is not None:
                notification_send(ticket=incident, users=[incident.requester], kind=NotificationKind.RELEASE,
                                  now=now, key=f"release:{release.pk}:{incident.pk}",
                                  context={"release": release, "release_label": label(release)})
        webhook_event(event="release.shipped", now=now, event_id=f"release-{release.pk}-shipped", payload={
            "release": release.pk, "service": release.service.name, "version": release.version,
            "name": release.name, "shipped_at": now.isoformat(), "tickets": [t.key for t in tickets],
            "url": reverse("devflow:release", args=[release.pk]),
        })
    return release
