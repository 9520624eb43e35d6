"""The demo's releases took the real path: reviewed by another person, UAT signed by liam, published to the desk,
shipped; the P1 story's requester heard her fix shipped; the next Payroll release waits in UAT."""
import pytest

from devflow.models import Release
from itsm.models import KnowledgeArticle
from sla.models import Notification
from tracker.choices import Kind, Status

DEMO_HISTORY = 40


@pytest.fixture
def demo(seeded_demo, db):
    return seeded_demo


def test_every_shipped_demo_release_was_reviewed_signed_and_published_first(demo):
    shipped = list(Release.objects.filter(shipped_at__isnull=False).select_related(
        "notes_edited_by", "notes_reviewed_by", "uat_signed_by"))
    assert shipped
    for release in shipped:
        assert release.notes_reviewed_by is not None and release.notes_reviewed_by != release.notes_edited_by
        assert release.uat_signed_by.username == "liam" and release.published_at <= release.shipped_at
        assert release.desk_article_url.startswith("/kb/")
    assert KnowledgeArticle.objects.filter(audience="internal", title__startswith="Release notes:").count() \
        == len(shipped)
    carried = [t for r in shipped for t in r.tickets.all() if t.kind == Kind.DEFECT]
    assert carried and all(t.status == Status.CLOSED for t in carried)


def test_the_p1_requester_heard_the_fix_shipped_and_payroll_waits_in_uat(demo):
    told = Notification.objects.filter(recipient__username="alice", kind="release")
    assert told.filter(body__contains="shipped in Payroll").exists()
    planned = Release.objects.get(service__name="Payroll", shipped_at__isnull=True)
    assert planned.notes_reviewed_at is not None and planned.uat_signed_at is None
