"""Knowledge management: articles written, reviewed and published in the app, each saved text kept as a version;
the articles' uses on tickets (drafted from one, sent as a reply, linked as the answer) and the deflections of
the portal ("This solved it": no ticket raised).

The life of an article: draft -> in review (submit) -> published (by a reviewer: an agent who wrote none of the
submitted text) -> retired (hidden from search and the portal, kept). Editing a published article keeps the
published text live: the row keeps serving it (and `version` names it) while the new text is kept as the newest
`ArticleVersion` and the article goes back to draft, then review; publishing copies the reviewed text into the
row. `published_at` set and `retired_at` empty is what "live" means (see `itsm.search.LIVE`).

Every function owns its transaction and raises a `DomainError` whose message says what to fix. An edit is
optimistic: the editor sends the number of the newest version it loaded; if someone saved since, a StaleVersion
(412) and nothing is written (the unique (article, number) of the versions closes the race).
"""

import re
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone

from tracker import access
from tracker.choices import Kind, Status
from tracker.errors import AccessDenied, StaleVersion, TransitionRefused, ValidationFailed
from tracker.models import Service, Ticket
from tracker.workflows import AGENTS

from ..choices import ArticleAudience, ArticleState, ArticleUseKind
from ..models import ArticleUse, ArticleVersion, Deflection, KnowledgeArticle
from ..search import live_articles, vector_update

# Who writes and reviews articles: every agent (the desk, specialists, engineers, process managers, managers,
# administrators). A reviewer is an agent who wrote none of the text under review.
KNOWLEDGE_WRITERS = AGENTS
TITLE_MAX, BODY_MAX, NOTE_MAX = 200, 50_000, 200


def may_write(user) -> bool:
    return access.role_of(user) in KNOWLEDGE_WRITERS


def _require_writer(actor, what: str) -> None:
    if not may_write(actor):
        raise AccessDenied(f"Only agents {what}.")


def is_live(article: KnowledgeArticle) -> bool:
    """Readers find it: published, or published with a newer text being drafted or reviewed."""
    return article.state == ArticleState.PUBLISHED or (
        article.state in (ArticleState.DRAFT, ArticleState.REVIEW) and article.published_at is not None)


def may_read(user, article: KnowledgeArticle) -> bool:
    """Staff read every article in every state; anyone else a live public one."""
    if access.is_staff_member(user):
        return True
    return is_live(article) and article.audience == ArticleAudience.PUBLIC


def latest_version(article: KnowledgeArticle) -> ArticleVersion | None:
    return article.versions.order_by("-number").first()


def pending_version(article: KnowledgeArticle) -> ArticleVersion | None:
    """The newer text of a live article, waiting to be published (None when the row holds the newest text)."""
    latest = latest_version(article)
    return latest if latest is not None and latest.number > article.version else None


def _clean(*, title: str, body: str, audience: str, note: str) -> tuple[str, str, str, str]:
    title, body, note = (title or "").strip(), (body or "").replace("\r\n", "\n").strip(), (note or "").strip()
    errors = {}
    if not title:
        errors["title"] = ["A title is required."]
    elif len(title) > TITLE_MAX:
        errors["title"] = [f"Keep the title to {TITLE_MAX} characters."]
    if not body:
        errors["body"] = ["Write the article's text."]
    elif len(body) > BODY_MAX:
        errors["body"] = [f"Keep the text to {BODY_MAX} characters."]
    if audience not in ArticleAudience.values:
        errors["audience"] = ["Choose public or internal."]
    if len(note) > NOTE_MAX:
        errors["note"] = [f"Keep the note to {NOTE_MAX} characters."]
    if errors:
        raise ValidationFailed("Check the article: " + " ".join(m[0] for m in errors.values()), fields=errors)
    return title, body, audience, note


def article_create(*, actor, title: str, body: str, audience: str = ArticleAudience.PUBLIC, services=(),
                   note: str = "", faq: bool = False, source_ticket: Ticket | None = None,
                   now: datetime | None = None) -> KnowledgeArticle:
    """A new draft with its first version (atomic). Raises AccessDenied (not an agent) or ValidationFailed."""
    now = now or timezone.now()
    _require_writer(actor, "write knowledge articles")
    title, body, audience, note = _clean(title=title, body=body, audience=audience, note=note)
    with transaction.atomic():
        article = KnowledgeArticle.objects.create(
            title=title, body=body, audience=audience, faq=faq, state=ArticleState.DRAFT, version=1, author=actor,
            updated_by=actor, source_ticket=source_ticket)
        article.services.set(list(services))
        ArticleVersion.objects.create(article=article, number=1, title=title, body=body, audience=audience,
                                      note=note or "First version", created_by=actor, created_at=now)
        vector_update([article.pk])
    return article


def article_update(*, article: KnowledgeArticle, actor, version: int, title: str, body: str, audience: str,
                   services=None, note: str = "", faq: bool | None = None,
                   now: datetime | None = None) -> ArticleVersion:
    """Save a new text as the next version (atomic). On a draft or an article in review the row takes the text
    and the article is a draft again (its review starts over); on a live article the published text stays live
    and the new text waits for review. `version`: the newest version the editor loaded. Raises AccessDenied,
    ValidationFailed, TransitionRefused (retired) or StaleVersion (someone saved since)."""
    now = now or timezone.now()
    _require_writer(actor, "edit knowledge articles")
    title, body, audience, note = _clean(title=title, body=body, audience=audience, note=note)
    if article.state == ArticleState.RETIRED:
        raise TransitionRefused(f"“{article.title}” is retired; it can no longer be edited.")
    latest = article.versions.aggregate(n=Max("number"))["n"] or 0
    if version != latest:
        raise StaleVersion(f"“{article.title}”", latest)
    live = is_live(article)
    try:
        with transaction.atomic():
            saved = ArticleVersion.objects.create(article=article, number=latest + 1, title=title, body=body,
                                                  audience=audience, note=note, created_by=actor, created_at=now)
            fields = {"state": ArticleState.DRAFT, "updated_by": actor, "submitted_by": None, "submitted_at": None}
            if not live:  # the row holds the working text until the article is first published
                fields.update(title=title, body=body, audience=audience, version=latest + 1)
            if faq is not None:
                fields["faq"] = faq
            for name, value in fields.items():
                setattr(article, name, value)
            article.save(update_fields=[*fields, "updated_at"])
            if services is not None:
                article.services.set(list(services))
            if not live:
                vector_update([article.pk])
    except IntegrityError:  # another save took the same number first
        raise StaleVersion(f"“{article.title}”") from None
    return saved


def article_submit(*, article: KnowledgeArticle, actor, now: datetime | None = None) -> KnowledgeArticle:
    """Send the newest text for review (draft -> in review). Raises AccessDenied or TransitionRefused."""
    now = now or timezone.now()
    _require_writer(actor, "send articles for review")
    if article.state != ArticleState.DRAFT:
        raise TransitionRefused(f"“{article.title}” is {article.get_state_display().lower()}; only a draft can be "
                                "sent for review.")
    with transaction.atomic():
        won = KnowledgeArticle.objects.filter(pk=article.pk, state=ArticleState.DRAFT).update(
            state=ArticleState.REVIEW, submitted_by=actor, submitted_at=now, updated_at=now)
        if not won:
            raise StaleVersion(f"“{article.title}”")
    article.refresh_from_db()
    return article


def text_authors(article: KnowledgeArticle) -> set[int]:
    """Who wrote the text under review: every version since the published one (all of them before the first
    publication), and who sent it for review."""
    ids = set(article.versions.filter(number__gt=article.version if is_live(article) else 0)
              .values_list("created_by_id", flat=True))
    ids.add(article.submitted_by_id)
    return {i for i in ids if i is not None}


def article_publish(*, article: KnowledgeArticle, actor, now: datetime | None = None) -> KnowledgeArticle:
    """Publish the reviewed text (in review -> published): a reviewer who wrote none of it makes it the live
    text (atomic). Raises AccessDenied (not an agent, or an author of the text) or TransitionRefused (not in
    review: a draft must be sent for review first)."""
    now = now or timezone.now()
    _require_writer(actor, "review and publish articles")
    if article.state == ArticleState.DRAFT:
        raise TransitionRefused(f"“{article.title}” has not been reviewed: send it for review first; another agent "
                                "then publishes it.")
    if article.state != ArticleState.REVIEW:
        raise TransitionRefused(f"“{article.title}” is {article.get_state_display().lower()}; only an article in "
                                "review can be published.")
    if actor.pk in text_authors(article):
        raise AccessDenied("You wrote this text, so you cannot review it: another agent publishes it.")
    latest = latest_version(article)
    with transaction.atomic():
        won = KnowledgeArticle.objects.filter(pk=article.pk, state=ArticleState.REVIEW).update(
            state=ArticleState.PUBLISHED, title=latest.title, body=latest.body, audience=latest.audience,
            version=latest.number, reviewed_by=actor, published_at=now, retired_at=None, updated_at=now)
        if not won:
            raise StaleVersion(f"“{article.title}”")
        vector_update([article.pk])
    article.refresh_from_db()
    return article


def article_retire(*, article: KnowledgeArticle, actor, now: datetime | None = None) -> KnowledgeArticle:
    """Retire an article: hidden from search, the portal and suggestions; kept with its history."""
    now = now or timezone.now()
    _require_writer(actor, "retire articles")
    if article.state == ArticleState.RETIRED:
        raise TransitionRefused(f"“{article.title}” is already retired.")
    with transaction.atomic():
        KnowledgeArticle.objects.filter(pk=article.pk).update(state=ArticleState.RETIRED, retired_at=now,
                                                              updated_by=actor, updated_at=now)
    article.refresh_from_db()
    return article


def article_viewed(*, article: KnowledgeArticle) -> None:
    """Count one opening (an UPDATE of the counter alone: no race, and the article's edit time stays)."""
    KnowledgeArticle.objects.filter(pk=article.pk).update(views=F("views") + 1)


# --- articles and tickets -----------------------------------------------------------------------------------

DRAFTABLE = (Status.RESOLVED, Status.CLOSED)


def article_from_ticket(*, ticket: Ticket, actor, audience: str = ArticleAudience.INTERNAL,
                        now: datetime | None = None) -> KnowledgeArticle:
    """Draft an article from a resolved or closed ticket: its title, description, resolution note (and a
    problem's root cause and workaround), the ticket as its source and its service; an ArticleUse "drafted"."""
    now = now or timezone.now()
    _require_writer(actor, "draft articles from tickets")
    if ticket.status not in DRAFTABLE:
        raise TransitionRefused(f"{ticket.key} is {ticket.get_status_display().lower()}; draft an article once "
                                "it is resolved.")
    sections = [ticket.description.strip()]
    if ticket.kind == Kind.PROBLEM and (ticket.root_cause or "").strip():
        sections.append(f"## Cause\n\n{ticket.root_cause.strip()}")
    if ticket.kind == Kind.PROBLEM and (ticket.workaround or "").strip():
        sections.append(f"## Workaround\n\n{ticket.workaround.strip()}")
    if (ticket.resolution_note or "").strip():
        sections.append(f"## Solution\n\n{ticket.resolution_note.strip()}")
    body = "\n\n".join(s for s in sections if s) or ticket.title
    with transaction.atomic():
        article = article_create(actor=actor, title=ticket.title[:TITLE_MAX], body=body, audience=audience,
                                 services=[ticket.service] if ticket.service_id else [],
                                 note=f"Drafted from {ticket.key}", source_ticket=ticket, now=now)
        ArticleUse.objects.get_or_create(article=article, ticket=ticket, how=ArticleUseKind.DRAFTED,
                                         defaults={"actor": actor, "created_at": now})
    return article


def article_use(*, article: KnowledgeArticle, ticket: Ticket, actor, how: str,
                now: datetime | None = None) -> ArticleUse:
    """Record that an article answered a ticket (linked as its answer, or sent as a reply); once per way."""
    now = now or timezone.now()
    _require_writer(actor, "link articles to tickets")
    if not access.may_see(actor, ticket):
        raise AccessDenied(f"You may not see {ticket.key}.")
    if how not in (ArticleUseKind.LINKED, ArticleUseKind.REPLIED):
        raise ValidationFailed("An article is linked as the answer or sent as a reply.", fields={"how": ["Unknown."]})
    if not is_live(article):
        raise TransitionRefused(f"“{article.title}” is not published; link a published article.")
    try:
        with transaction.atomic():
            use, _ = ArticleUse.objects.get_or_create(article=article, ticket=ticket, how=how,
                                                      defaults={"actor": actor, "created_at": now})
    except IntegrityError:  # recorded by someone else at the same moment
        use = ArticleUse.objects.get(article=article, ticket=ticket, how=how)
    return use


_ARTICLE_LINK = re.compile(r"/kb/(\d{1,9})/")


def reply_observer(change) -> None:
    """A staff member's public reply that carries an article's link records ArticleUse "replied" (the reply
    box's "Insert as reply" puts the link there), in the reply's own transaction."""
    if change.reason != "comment" or not may_write(change.actor):
        return
    comment = change.changes.get("comment", (None, None))[1]
    if comment is None or comment.internal:
        return
    ids = {int(n) for n in _ARTICLE_LINK.findall(comment.body)}
    if not ids:
        return
    for article in live_articles(change.actor).filter(pk__in=ids):
        ArticleUse.objects.get_or_create(article=article, ticket=change.ticket, how=ArticleUseKind.REPLIED,
                                         defaults={"actor": change.actor, "created_at": change.now})


# --- deflections --------------------------------------------------------------------------------------------


def deflection_record(*, article: KnowledgeArticle, user=None, service: Service | None = None, query: str = "",
                      now: datetime | None = None) -> Deflection:
    """"This solved it": the reader found the answer and raises no ticket. Only a live article the reader may
    read deflects (an internal one never: requesters do not see it)."""
    now = now or timezone.now()
    user = user if user is not None and user.is_authenticated else None
    if not is_live(article) or not may_read(user, article):
        raise TransitionRefused("That article is not published; it cannot have solved it.")
    if access.is_staff_member(user):
        raise AccessDenied("Deflections count requesters who found their answer; staff read articles to help.")
    return Deflection.objects.create(article=article, service=service, user=user, query=(query or "").strip()[:200],
                                     created_at=now)
