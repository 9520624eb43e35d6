"""The demo's code: two repositories whose commits and pull requests name the demo's defects."""
import pytest

from devflow.models import CodeLink, Repository, VcsDelivery
from tracker.choices import EventKind, Kind, Status
from tracker.models import TicketEvent

DEMO_HISTORY = 240


@pytest.fixture
def demo(seeded_demo, db):
    return seeded_demo


def test_the_demo_has_a_github_and_a_gitlab_repository_with_code_on_its_defects(demo):
    repos = {r.name: r for r in Repository.objects.all()}
    assert {r.provider for r in repos.values()} == {"github", "gitlab"}
    assert all(r.secret and r.service and r.team for r in repos.values())
    links = CodeLink.objects.select_related("ticket")
    assert {link.ticket.kind for link in links} == {Kind.DEFECT}
    merged = links.filter(kind="pull_request", state="merged")
    assert merged.exists() and all(link.ticket.resolved_at for link in merged)
    waiting = links.get(kind="pull_request", state="open")  # the payroll fix in review
    assert waiting.ticket.status == Status.IN_REVIEW and waiting.fixes
    assert links.filter(kind="commit").count() > merged.count()
    assert VcsDelivery.objects.count() == TicketEvent.objects.filter(kind=EventKind.CODE).count()
    # a merged fix of a defect already fixed by hand adds no "not moved" note
    assert not TicketEvent.objects.filter(kind=EventKind.CODE, field="fix").exists()
    for link in merged:
        assert link.ticket.status in (Status.FIXED, Status.VERIFIED, Status.CLOSED)

