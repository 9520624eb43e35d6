"""Release notes reach the desk: when development publishes a release's notes (`release.published`, announced
through `tracker.hooks`), the knowledge base keeps them as an internal article on the service.

The notes were reviewed by a second person in development before they could be published, so the article is
published by rule: it does not go through the knowledge base's own review again. A release published twice
(its notes edited, reviewed and published again) updates the same article, as its next version.
"""

from datetime import datetime

from django.db import transaction
from django.db.models import Max
from django.urls import Resolver404, resolve, reverse

from tracker import hooks

from .choices import ArticleAudience, ArticleState
from .models import ArticleVersion, KnowledgeArticle
from .search import vector_update


def _existing(url: str) -> KnowledgeArticle | None:
    if not url:
        return None
    try:
        match = resolve(url)
    except Resolver404:
        return None
    if match.view_name != "itsm:kb-article":
        return None
    return KnowledgeArticle.objects.filter(pk=match.kwargs["pk"]).first()


def release_notes_publish(*, service, title: str, body: str, actor, reviewer, now: datetime,
                          article_url: str = "", **_ignored) -> str:
    """Create or update the internal, published article of a release's notes, linked to its service; returns
    the article's URL. Atomic (runs in the caller's transaction)."""
    with transaction.atomic():
        article = _existing(article_url)
        if article is None:
            article = KnowledgeArticle.objects.create(
                title=title[:200], body=body, audience=ArticleAudience.INTERNAL, state=ArticleState.PUBLISHED,
                version=1, author=actor, updated_by=actor, reviewed_by=reviewer, published_at=now)
            number = 1
        else:
            number = (article.versions.aggregate(n=Max("number"))["n"] or 0) + 1
            KnowledgeArticle.objects.filter(pk=article.pk).update(
                title=title[:200], body=body, audience=ArticleAudience.INTERNAL, state=ArticleState.PUBLISHED,
                version=number, updated_by=actor, reviewed_by=reviewer, published_at=now, retired_at=None,
                updated_at=now)
        article.services.add(service)
        ArticleVersion.objects.create(article=article, number=number, title=title[:200], body=body,
                                      audience=ArticleAudience.INTERNAL, created_by=actor, created_at=now,
                                      note="Release notes published" if number == 1 else "Release notes updated")
        vector_update([article.pk])
    return reverse("itsm:kb-article", args=[article.pk])


def register() -> None:
    hooks.listen("release.published", release_notes_publish)
