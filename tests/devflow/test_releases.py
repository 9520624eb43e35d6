"""Releases: plan, tickets, notes, review, UAT, publish to the desk, ship."""
from datetime import date, timedelta

import pytest
from django.utils import timezone

from devflow.models import Release
from devflow.services import defect_from_incident
from devflow.services import releases as rel
from itsm.choices import ArticleAudience, ArticleState
from itsm.models import KnowledgeArticle
from sla.choices import NotificationKind
from sla.models import Notification, WebhookDelivery, WebhookSubscription
from tracker import hooks, services
from tracker.choices import EventKind, Kind, Status
from tracker.errors import AccessDenied, Conflict, NotFound, StaleVersion, TransitionRefused, ValidationFailed


def _release(cast, **kw):
    return rel.release_create(actor=cast.engineer, service=cast.services["payroll"], version=kw.pop("version", "2.5.0"),
                              name=kw.pop("name", "Spring"), planned_for=date(2026, 12, 20), **kw)


def _fixed_defect(cast, title="Tax code import ignores Z codes", incident=None):
    if incident is None:
        defect = services.ticket_create(actor=cast.engineer, kind=Kind.DEFECT, title=title,
                                        service=cast.services["payroll"], group=cast.l3)
    else:
        defect = defect_from_incident(incident=incident, actor=cast.engineer, title=title)
    services.ticket_transition(ticket=defect, to=Status.TRIAGED, actor=cast.engineer, values={"severity": "s2"})
    services.ticket_transition(ticket=defect, to=Status.IN_PROGRESS, actor=cast.engineer)
    services.ticket_transition(ticket=defect, to=Status.FIXED, actor=cast.engineer,
                               values={"resolution_note": "Z codes imported"})
    return defect


def _ready(cast, release, defect):
    """Added, assembled by devon, reviewed by dana, UAT signed by liam, published by devon."""
    rel.release_add_ticket(release=release, actor=cast.engineer, ticket=defect)
    rel.release_notes_assemble(release=release, actor=cast.engineer, revision=release.revision)
    rel.release_notes_review(release=release, actor=cast.engineer2, revision=release.revision)
    rel.release_uat_sign(release=release, actor=cast.agent2, note="Finance tested Z codes")
    rel.release_publish(release=release, actor=cast.engineer)
    return release


def test_engineers_plan_releases_and_the_desk_does_not(cast):
    release = _release(cast)
    assert release.created_by == cast.engineer and release.revision == 1
    with pytest.raises(AccessDenied):
        rel.release_create(actor=cast.agent1, service=cast.services["payroll"], version="9.9")
    with pytest.raises(Conflict, match="already has a release 2.5.0"):
        _release(cast)
    with pytest.raises(ValidationFailed) as exc:
        rel.release_create(actor=cast.engineer, service=cast.services["payroll"], version=" ")
    assert "version" in exc.value.fields
    with pytest.raises(ValidationFailed):
        rel.release_create(actor=cast.engineer, service=None, version="1.0")


def test_editing_with_an_old_revision_is_refused_and_keeps_the_newer_text(cast):
    release = _release(cast)
    rel.release_update(release=release, actor=cast.engineer, revision=1, notes="First words")
    assert release.revision == 2 and release.notes_edited_by == cast.engineer
    stale = Release.objects.get(pk=release.pk)
    rel.release_update(release=release, actor=cast.engineer2, revision=2, notes="Dana's words")
    with pytest.raises(StaleVersion) as exc:
        rel.release_update(release=stale, actor=cast.engineer, revision=2, notes="Devon again")
    assert exc.value.status == 412
    assert Release.objects.get(pk=release.pk).notes == "Dana's words"


def test_adding_a_defect_sets_its_fixed_in_version_and_other_services_or_kinds_are_refused(cast):
    release = _release(cast)
    defect = _fixed_defect(cast)
    rel.release_add_ticket(release=release, actor=cast.engineer, key=defect.key.lower())
    defect.refresh_from_db()
    assert defect.fix_version == "2.5.0" and release.tickets.filter(pk=defect.pk).exists()
    assert defect.events.filter(kind=EventKind.RELEASE, note__contains="planned in Payroll 2.5.0").exists()
    with pytest.raises(Conflict):
        rel.release_add_ticket(release=release, actor=cast.engineer, ticket=defect)
    incident = services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="x",
                                      service=cast.services["payroll"])
    with pytest.raises(ValidationFailed, match="releases ship defects and changes"):
        rel.release_add_ticket(release=release, actor=cast.engineer, ticket=incident)
    mail = services.ticket_create(actor=cast.engineer, kind=Kind.DEFECT, title="y", service=cast.services["mail"])
    with pytest.raises(ValidationFailed, match="ships only Payroll"):
        rel.release_add_ticket(release=release, actor=cast.engineer, ticket=mail)
    with pytest.raises(NotFound):
        rel.release_add_ticket(release=release, actor=cast.engineer, key="DEF-999")
    with pytest.raises(AccessDenied):
        rel.release_add_ticket(release=release, actor=cast.agent1, ticket=defect)
    rel.release_remove_ticket(release=release, actor=cast.engineer, ticket=defect)
    defect.refresh_from_db()
    assert defect.fix_version == "" and not release.tickets.exists()


def test_assembled_notes_list_fixes_and_changes_by_key_and_title(cast):
    release = _release(cast)
    defect = _fixed_defect(cast)
    change = services.ticket_create(actor=cast.change_manager, kind=Kind.CHANGE, title="New payslip layout",
                                    service=cast.services["payroll"])
    with pytest.raises(ValidationFailed, match="ships no tickets"):
        rel.release_notes_assemble(release=release, actor=cast.engineer, revision=release.revision)
    rel.release_add_ticket(release=release, actor=cast.engineer, ticket=defect)
    rel.release_add_ticket(release=release, actor=cast.engineer, ticket=change)
    rel.release_notes_assemble(release=release, actor=cast.engineer, revision=release.revision)
    fixes, _, changes = release.notes.partition("### Changes")
    assert "### Fixes" in fixes and f"**{defect.key}** Tax code import ignores Z codes" in fixes
    assert f"**{change.key}** New payslip layout" in changes
    assert release.notes_edited_by == cast.engineer


def test_the_notes_author_may_not_review_them_and_an_edit_clears_the_review(cast):
    release = _release(cast)
    with pytest.raises(ValidationFailed, match="no notes"):
        rel.release_notes_review(release=release, actor=cast.engineer2, revision=release.revision)
    rel.release_update(release=release, actor=cast.engineer, revision=release.revision, notes="Fixes Z codes")
    assert rel.may_review(cast.engineer2, release) and not rel.may_review(cast.agent1, release)
    with pytest.raises(AccessDenied, match="edited these notes last"):
        rel.release_notes_review(release=release, actor=cast.engineer, revision=release.revision)
    with pytest.raises(StaleVersion):
        rel.release_notes_review(release=release, actor=cast.engineer2, revision=release.revision - 1)
    rel.release_notes_review(release=release, actor=cast.engineer2, revision=release.revision)
    assert release.notes_reviewed_by == cast.engineer2 and release.notes_reviewed_at is not None
    with pytest.raises(TransitionRefused, match="already reviewed"):
        rel.release_notes_review(release=release, actor=cast.manager, revision=release.revision)
    rel.release_update(release=release, actor=cast.engineer2, revision=release.revision, notes="Fixes Z codes.")
    assert release.notes_reviewed_by is None and release.notes_reviewed_at is None
    rel.release_update(release=release, actor=cast.engineer2, revision=release.revision, planned_for=date(2027, 1, 4))
    assert release.planned_for == date(2027, 1, 4) and release.notes_edited_by == cast.engineer2


def test_uat_is_signed_by_second_line_with_a_note_and_verifies_the_fixed_defects(cast):
    release = _release(cast)
    defect = _fixed_defect(cast)
    rel.release_add_ticket(release=release, actor=cast.engineer, ticket=defect)
    with pytest.raises(AccessDenied, match="2nd-line"):
        rel.release_uat_sign(release=release, actor=cast.engineer, note="ok")
    with pytest.raises(ValidationFailed) as exc:
        rel.release_uat_sign(release=release, actor=cast.agent2, note="  ")
    assert "uat_note" in exc.value.fields
    rel.release_uat_sign(release=release, actor=cast.agent2, note="Finance tested Z codes")
    defect.refresh_from_db()
    assert defect.status == Status.VERIFIED and release.uat_signed_by == cast.agent2
    with pytest.raises(TransitionRefused):
        rel.release_uat_sign(release=release, actor=cast.admin, note="again")


def test_publishing_needs_review_and_uat_and_writes_an_internal_article_on_the_service(cast):
    release = _release(cast)
    defect = _fixed_defect(cast)
    rel.release_add_ticket(release=release, actor=cast.engineer, ticket=defect)
    rel.release_notes_assemble(release=release, actor=cast.engineer, revision=release.revision)
    with pytest.raises(TransitionRefused, match="reviewed by a second person and UAT signed off"):
        rel.release_publish(release=release, actor=cast.engineer)
    rel.release_notes_review(release=release, actor=cast.engineer2, revision=release.revision)
    with pytest.raises(TransitionRefused, match="UAT signed off"):
        rel.release_publish(release=release, actor=cast.engineer)
    rel.release_uat_sign(release=release, actor=cast.agent2, note="tested")
    rel.release_publish(release=release, actor=cast.engineer)
    article = KnowledgeArticle.objects.get()
    assert release.desk_article_url == f"/kb/{article.pk}/"
    assert article.audience == ArticleAudience.INTERNAL and article.state == ArticleState.PUBLISHED
    assert list(article.services.all()) == [cast.services["payroll"]] and defect.key in article.body
    assert article.reviewed_by == cast.engineer2
    with pytest.raises(TransitionRefused, match="already published"):
        rel.release_publish(release=release, actor=cast.engineer)
    # edited, reviewed again, published again: the same article, its next version
    rel.release_update(release=release, actor=cast.engineer, revision=release.revision,
                       notes=release.notes + "\n\nMore.")
    assert not rel.may_publish(cast.engineer, release)
    rel.release_notes_review(release=release, actor=cast.manager, revision=release.revision)
    rel.release_publish(release=release, actor=cast.engineer)
    article.refresh_from_db()
    assert KnowledgeArticle.objects.count() == 1 and article.body.endswith("More.") and article.version == 2


def test_the_announcement_hook_collects_answers_of_its_listeners():
    hooks.listen("test.topic", lambda **d: d["x"] * 2)
    hooks.listen("test.topic", lambda **d: None)
    assert hooks.announce("test.topic", x=4) == [8]
    assert hooks.announce("nobody.listens", x=1) == []


def test_shipping_refuses_unpublished_and_unverified_releases_naming_the_defects(cast):
    release = _release(cast)
    defect = _fixed_defect(cast)
    with pytest.raises(TransitionRefused, match="Publish the notes"):
        rel.release_ship(release=release, actor=cast.engineer)
    _ready(cast, release, defect)
    late = _fixed_defect(cast, title="Late fix")
    rel.release_add_ticket(release=release, actor=cast.engineer, ticket=late)
    with pytest.raises(TransitionRefused, match=f"{late.key} \\(fixed\\)"):
        rel.release_ship(release=release, actor=cast.engineer)
    rel.release_remove_ticket(release=release, actor=cast.engineer, ticket=late)
    assert rel.may_ship(cast.engineer, release) and not rel.may_ship(cast.agent1, release)
    rel.release_ship(release=release, actor=cast.engineer)
    with pytest.raises(TransitionRefused, match="shipped"):
        rel.release_ship(release=release, actor=cast.engineer)
    with pytest.raises(TransitionRefused, match="shipped"):
        rel.release_add_ticket(release=release, actor=cast.engineer, ticket=late)


def test_shipping_closes_defects_tells_the_waiting_requester_and_emits_the_webhook(cast):
    WebhookSubscription.objects.create(name="CI", url="https://ci.example.test/hook", secret="s" * 32,
                                       events=["release.shipped"], created_at=timezone.now())
    incident = services.ticket_create(actor=cast.agent1, requester=cast.requester, kind=Kind.INCIDENT,
                                      title="Net pay is zero", service=cast.services["payroll"], group=cast.l3)
    defect = _fixed_defect(cast, incident=incident)
    release = _ready(cast, _release(cast), defect)
    now = timezone.now() + timedelta(minutes=5)
    rel.release_ship(release=release, actor=cast.engineer, now=now)
    defect.refresh_from_db()
    assert defect.status == Status.CLOSED and release.shipped_at == now
    assert defect.events.filter(kind=EventKind.RELEASE, note__startswith="shipped in Payroll 2.5.0").count() == 1
    assert incident.events.filter(kind=EventKind.RELEASE, note__contains="fix shipped in Payroll 2.5.0").exists()
    told = Notification.objects.get(recipient=cast.requester, kind=NotificationKind.RELEASE)
    assert f"The fix for your issue {incident.key} shipped in Payroll 2.5.0" in told.body
    delivery = WebhookDelivery.objects.get(event="release.shipped")
    data = delivery.payload["data"]
    assert data["version"] == "2.5.0" and data["service"] == "Payroll" and data["tickets"] == [defect.key]
    assert data["url"] == f"/dev/releases/{release.pk}/"
