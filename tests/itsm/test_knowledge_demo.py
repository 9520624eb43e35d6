"""The demo shows knowledge management with believable data: articles in every state and both audiences, with
versions, one drafted from a resolved ticket, uses on tickets, and deflections that give the dashboard rates."""

import pytest
from django.utils import timezone

from itsm import selectors as q
from itsm.choices import ArticleAudience, ArticleState, ArticleUseKind
from itsm.models import ArticleUse, KnowledgeArticle
from itsm.search import search
from itsm.services import knowledge as kb
from tracker.models import User

DEMO_HISTORY = 40
pytestmark = pytest.mark.usefixtures("seeded_demo")


def test_the_demo_has_articles_in_every_state_and_both_audiences(db):
    states = set(KnowledgeArticle.objects.values_list("state", flat=True))
    assert states == set(ArticleState.values)
    assert set(KnowledgeArticle.objects.values_list("audience", flat=True)) == set(ArticleAudience.values)
    assert KnowledgeArticle.objects.count() >= 20
    assert all(a.versions.exists() for a in KnowledgeArticle.objects.all())
    pending = KnowledgeArticle.objects.get(title="Payroll run: what the desk tells callers on the 25th")
    assert pending.state == ArticleState.REVIEW and kb.is_live(pending) and kb.pending_version(pending)


def test_the_demo_search_finds_the_vpn_article_for_a_requester(db):
    alice = User.objects.get(username="alice")
    titles = [h.article.title for h in search(text="vpn keeps disconnecting", user=alice, limit=3)]
    assert "VPN disconnects every few minutes" in titles
    assert "VPN gateway failover runbook" not in [h.article.title for h in search(text="vpn gateway", user=alice)]


def test_the_demo_has_uses_a_drafted_article_and_deflection_rates(db, seeded_demo):
    assert ArticleUse.objects.filter(how=ArticleUseKind.DRAFTED).count() == 1
    assert ArticleUse.objects.filter(how__in=[ArticleUseKind.LINKED, ArticleUseKind.REPLIED]).exists()
    now = timezone.now()
    rates = q.deflection_rates(start=now - timezone.timedelta(days=30), end=now + timezone.timedelta(hours=1))
    assert rates.total > 10 and rates.by_article and any(r["rate"] != "—" for r in rates.by_service)
