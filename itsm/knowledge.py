"""The knowledge base's pages: search (public articles for everyone, also signed out; both audiences for staff),
an article (with "This solved it" / "Still need help" for readers, its state, actions and the tickets it helped
for staff), the editor with its live preview, the history of versions and the diff of any two; the portal's
suggestions as a requester types a new ticket and the deflection it records; and what the ticket page gets:
"Create article from this ticket", the "Suggested articles" panel (loaded after the page), "Insert as reply"
and "Link as answer"."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import BadRequest, PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from tracker import access
from tracker import selectors as core_selectors
from tracker.access import staff_only
from tracker.errors import DomainError
from tracker.forms import CommentForm
from tracker.models import Service
from tracker.views import WORKSPACE, form_errors, ticket_or_404

from . import search
from . import selectors as q
from .choices import ArticleAudience, ArticleState, ArticleUseKind
from .forms import ArticleForm
from .models import KnowledgeArticle
from .services import knowledge as kb

T = "itsm/knowledge/"


def _article(user, pk) -> KnowledgeArticle:
    article = get_object_or_404(KnowledgeArticle.objects.select_related(
        "author", "updated_by", "submitted_by", "reviewed_by", "source_ticket").prefetch_related("services"), pk=pk)
    if not kb.may_read(user, article):
        raise Http404("No such article.")  # an internal, unpublished or retired one is not there for them
    return article


def _writer(request) -> None:
    if not kb.may_write(request.user):
        raise PermissionDenied("Only agents write knowledge articles.")


# --- reading ----------------------------------------------------------------------------------------------


@login_not_required
@require_GET
def kb_home(request):
    """Search; staff also list the articles by state (drafts, in review, published, retired)."""
    text = request.GET.get("q", "").strip()[:200]
    state = request.GET.get("state", "")
    staff = access.is_staff_member(request.user)
    counts = q.article_state_counts() if staff else {}
    if text:
        articles = q.article_search(text=text, user=request.user, limit=30)
    elif staff and state:
        articles = q.article_list(user=request.user, state=state)
    else:
        articles = q.article_search(user=request.user, limit=30)
    ctx = {"nav": "kb", "q": text, "state": state, "articles": articles, "staff": staff,
           "can_write": kb.may_write(request.user),
           "states": [(v, label, counts[v]) for v, label in ArticleState.choices] if staff else []}
    if request.htmx and request.htmx.target == "kb-results":
        return render(request, f"{T}search.html#results", ctx)
    return render(request, f"{T}search.html", ctx)


@login_not_required
@require_GET
def kb_article(request, pk):
    article = _article(request.user, pk)
    staff = access.is_staff_member(request.user)
    if kb.is_live(article) and not staff:
        kb.article_viewed(article=article)
    service = request.GET.get("service", "")
    ctx = {"nav": "kb", "article": article, "staff": staff, "live": kb.is_live(article),
           "q": request.GET.get("q", "")[:200], "service": service if service.isdigit() else "",
           "solved": request.GET.get("solved") == "1"}
    if staff:
        ctx.update(_staff_context(request, article))
    return render(request, f"{T}article.html", ctx)


def _staff_context(request, article) -> dict:
    pending = kb.pending_version(article)
    user = request.user
    return {"pending": pending, "uses": q.article_uses(article=article, user=user),
            "can_write": kb.may_write(user), "is_author": user.pk in kb.text_authors(article),
            "latest": kb.latest_version(article)}


# --- writing ----------------------------------------------------------------------------------------------


@staff_only
def kb_new(request):
    _writer(request)
    form = ArticleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            article = kb.article_create(actor=request.user, title=data["title"], body=data["body"],
                                        audience=data["audience"], services=data["services"], faq=data["faq"],
                                        note=data["note"])
        except DomainError as exc:
            form_errors(form, exc)
            return _editor(request, form, None, status=exc.status)
        messages.success(request, f"Saved “{article.title}” as a draft (version 1). Send it for review when ready.")
        return redirect("itsm:kb-article", pk=article.pk)
    return _editor(request, form, None, status=400 if form.is_bound else 200)


@staff_only
def kb_edit(request, pk):
    """The editor: the newest text (a pending edit of a published article, or the working text)."""
    _writer(request)
    article = _article(request.user, pk)
    latest = kb.latest_version(article)
    if request.method == "POST":
        form = ArticleForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                saved = kb.article_update(
                    article=article, actor=request.user, version=data["version"] or 0, title=data["title"],
                    body=data["body"], audience=data["audience"], services=data["services"], faq=data["faq"],
                    note=data["note"])
            except DomainError as exc:
                form_errors(form, exc)
                return _editor(request, form, article, status=exc.status)
            live = " The published text stays live until this one is reviewed." if kb.is_live(article) else ""
            messages.success(request, f"Saved version {saved.number} of “{saved.title}” as a draft.{live}")
            return redirect("itsm:kb-article", pk=article.pk)
        return _editor(request, form, article, status=400)
    text = latest or article
    form = ArticleForm(initial={"title": text.title, "body": text.body, "audience": text.audience,
                                "services": list(article.services.all()), "faq": article.faq,
                                "version": latest.number if latest else 0})
    return _editor(request, form, article)


def _editor(request, form, article, status=200):
    return render(request, f"{T}edit.html", {"nav": "kb", "form": form, "article": article,
                                              "live": article is not None and kb.is_live(article)}, status=status)


_MOVES = {"submit": kb.article_submit, "publish": kb.article_publish, "retire": kb.article_retire}
_DONE = {"submit": "Sent “{}” for review: another agent reviews and publishes it.",
         "publish": "Published “{}”: readers now see this text.", "retire": "Retired “{}”: it is hidden from search."}


@staff_only
@require_POST
def kb_move(request, pk, move):
    """Submit, publish or retire; a refusal is shown in place, on the article's actions."""
    article = _article(request.user, pk)
    if move not in _MOVES:
        raise Http404("No such step.")
    try:
        article = _MOVES[move](article=article, actor=request.user)
    except DomainError as exc:
        if request.htmx:
            ctx = {"article": article, "staff": True, "error": exc.message, "live": kb.is_live(article),
                   **_staff_context(request, article)}
            return render(request, f"{T}article.html#actions", ctx, status=exc.status)
        messages.error(request, exc.message)
        return redirect("itsm:kb-article", pk=article.pk)
    messages.success(request, _DONE[move].format(article.title))
    url = reverse("itsm:kb-article", args=[article.pk])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@staff_only
@require_GET
def kb_history(request, pk):
    article = _article(request.user, pk)
    versions = list(article.versions.select_related("created_by").order_by("-number"))
    numbers = [v.number for v in versions]
    a, b = _pair(request, numbers)
    by_number = {v.number: v for v in versions}
    ctx = {"nav": "kb", "article": article, "versions": versions, "a": a, "b": b,
           "diff": q.article_diff(by_number[a], by_number[b]) if a and b else [],
           "old": by_number.get(a), "new": by_number.get(b)}
    if request.htmx and request.htmx.target == "diff":
        return render(request, f"{T}history.html#diff", ctx)
    return render(request, f"{T}history.html", ctx)


def _pair(request, numbers) -> tuple[int | None, int | None]:
    """The two versions compared: as asked, else the newest against the one before it."""
    def pick(name, default):
        raw = request.GET.get(name, "")
        return int(raw) if raw.isdigit() and int(raw) in numbers else default

    if not numbers:
        return None, None
    newest = numbers[0]
    before = numbers[1] if len(numbers) > 1 else newest
    return pick("a", before), pick("b", newest)


@staff_only
@require_POST
def kb_preview(request):
    """The editor's live preview: the sanitised Markdown as readers will see it."""
    return render(request, f"{T}edit.html#preview", {"body": request.POST.get("body", "")})


# --- the portal: suggestions while typing, and "This solved it" -----------------------------------------------


@login_not_required
@require_GET
def kb_suggest(request):
    """The top three public articles for what the requester has typed (title and details), with snippets."""
    text = " ".join(request.GET.get(k, "") for k in ("title", "description", "q")).strip()[:1000]
    service = request.GET.get("service", "")
    hits = search.search(text=text, user=None, limit=3) if text else []
    query = request.GET.get("title", "") or request.GET.get("q", "")
    return render(request, f"{T}suggestions.html", {"hits": hits, "text": text, "query": query[:200],
                                                     "service": service if service.isdigit() else ""})


@login_not_required
@require_POST
def kb_solved(request, pk):
    """"This solved it": a deflection (the article, the service chosen on the form, who, what they typed); no
    ticket is raised. Back to the portal (or the knowledge base, signed out) with a thank-you."""
    article = _article(request.user, pk)
    raw = request.POST.get("service", "")
    service = Service.objects.filter(pk=int(raw)).first() if raw.isdigit() and len(raw) < 10 else None
    try:
        kb.deflection_record(article=article, user=request.user, service=service, query=request.POST.get("q", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("itsm:kb-article", pk=article.pk)
    messages.success(request, "Glad it helped! No ticket was raised. Thank you for letting us know.")
    return redirect("itsm:portal" if request.user.is_authenticated else "itsm:kb")


# --- the ticket page --------------------------------------------------------------------------------------


@staff_only
@require_POST
def kb_from_ticket(request, key):
    """"Create article from this ticket": a draft from a resolved ticket, then its editor."""
    ticket = ticket_or_404(request.user, key)
    audience = request.POST.get("audience", ArticleAudience.INTERNAL)
    try:
        article = kb.article_from_ticket(ticket=ticket, actor=request.user, audience=audience
                                         if audience in ArticleAudience.values else ArticleAudience.INTERNAL)
    except DomainError as exc:
        if request.htmx:
            return render(request, f"{T}action_from_ticket.html#form",
                          {"ticket": ticket, "error": exc.message, "panel": {}}, status=exc.status)
        messages.error(request, exc.message)
        return redirect("tracker:ticket", key=ticket.key)
    messages.success(request, f"Drafted “{article.title}” from {ticket.key}: edit it, then send it for review.")
    url = reverse("itsm:kb-edit", args=[article.pk])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@staff_only
@require_GET
def kb_ticket_suggestions(request, key):
    """The Suggested articles panel's list, loaded after the ticket page (so the page costs no query)."""
    ticket = ticket_or_404(request.user, key)
    return _suggestions_panel(request, ticket)


def _suggestions_panel(request, ticket, *, note="", error="", status=200):
    text = " ".join([ticket.title, ticket.description or "", ticket.service.name if ticket.service_id else ""])
    hits = search.search(text=text, user=request.user, limit=3)
    linked = set(ticket.article_uses.filter(how=ArticleUseKind.LINKED).values_list("article_id", flat=True))
    return render(request, f"{T}panel_suggestions.html#list",
                  {"ticket": ticket, "hits": hits, "linked": linked, "note": note, "error": error}, status=status)


@staff_only
@require_POST
def kb_link(request, key, pk):
    """"Link as answer": records that the article answered the ticket."""
    ticket = ticket_or_404(request.user, key)
    article = _article(request.user, pk)
    try:
        kb.article_use(article=article, ticket=ticket, actor=request.user, how=ArticleUseKind.LINKED)
    except DomainError as exc:
        return _suggestions_panel(request, ticket, error=exc.message, status=exc.status)
    return _suggestions_panel(request, ticket, note=f"Linked “{article.title}” as the answer to {ticket.key}.")


@staff_only
@require_GET
def kb_insert(request, key, pk):
    """"Insert as reply": the comment box with the article's text and link added to what was typed; sending it
    records the use (see services.knowledge.reply_observer)."""
    ticket = ticket_or_404(request.user, key)
    article = _article(request.user, pk)
    if article.audience != ArticleAudience.PUBLIC or not kb.is_live(article):
        raise BadRequest("Only a published public article goes into a reply; link an internal one as the answer.")
    link = request.build_absolute_uri(reverse("itsm:kb-article", args=[article.pk]))
    typed = request.GET.get("body", "").rstrip()
    body = f"{typed}\n\n" if typed else ""
    body += f"{article.body.strip()}\n\nFrom our knowledge base: [{article.title}]({link})"
    ctx = {"ticket": ticket, "comment_form": CommentForm(initial={"body": body}), "macro": None,
           "macros": core_selectors.macros_for(request.user),
           "can": {"internal_note": access.may(request.user, "internal_note", ticket)}}
    return render(request, f"{WORKSPACE}#comment-form", ctx)

