"""The self-service portal and the knowledge base, and what service management adds to the ticket page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from tracker import access, selectors, services
from tracker.choices import Kind
from tracker.errors import DomainError
from tracker.forms import CommentForm
from tracker.views import move_forms, posted_version, ticket_or_404

from . import selectors as q
from .forms import PortalTicketForm
from .models import KnowledgeArticle

# --- the self-service portal --------------------------------------------------------------------------


def portal(request):
    if access.is_staff_member(request.user) and request.GET.get("as") != "requester":
        return redirect("tracker:queue")
    page = Paginator(q.portal_tickets(user=request.user), 25).get_page(request.GET.get("page"))
    return render(
        request,
        "itsm/portal.html",
        {"nav": "portal", "tickets": page.object_list, "page": page, "faq": q.article_search()[:8]},
    )


def portal_new(request):
    if request.method == "POST":
        form = PortalTicketForm(request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                ticket = services.ticket_create(
                    actor=request.user,
                    kind=data.pop("kind"),
                    title=data.pop("title"),
                    **{k: v for k, v in data.items() if v not in (None, "")},
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request, f"Thank you. {ticket.key} is raised; the service desk will answer here."
                )
                return redirect("itsm:portal-ticket", key=ticket.key)
    else:
        kind = request.GET.get("kind", Kind.INCIDENT)
        form = PortalTicketForm(
            initial={"kind": kind if kind in (Kind.INCIDENT, Kind.REQUEST) else Kind.INCIDENT}
        )
    return render(
        request,
        "itsm/portal_new.html",
        {"nav": "portal-new", "form": form},
        status=400 if form.is_bound else 200,
    )


def portal_ticket(request, key):
    ticket = ticket_or_404(request.user, key)
    ctx = {
        "nav": "portal",
        "ticket": ticket,
        "timeline": [
            e
            for e in selectors.ticket_timeline(ticket=ticket, user=request.user)
            if e.kind in ("created", "comment", "status", "release")
        ],
        "moves": move_forms(ticket, request.user),
        "comment_form": CommentForm(),
    }
    return render(request, "itsm/portal_ticket.html", ctx)


@require_POST
def portal_transition(request, key):
    ticket = ticket_or_404(request.user, key)
    note = request.POST.get("resolution_note", "").strip()
    try:
        services.ticket_transition(
            ticket=ticket,
            to=request.POST.get("to", ""),
            actor=request.user,
            version=posted_version(request),
            values={"resolution_note": note} if note else None,
        )
        messages.success(request, f"{ticket.key} is now {ticket.get_status_display().lower()}.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("itsm:portal-ticket", key=ticket.key)


@login_not_required
def kb(request):
    text = request.GET.get("q", "")
    ctx = {"nav": "kb", "q": text, "articles": q.article_search(text=text)}
    if request.htmx and request.htmx.target == "kb-results":
        return render(request, "itsm/kb.html#results", ctx)
    return render(request, "itsm/kb.html", ctx)


@login_not_required
def kb_article(request, pk):
    article = get_object_or_404(KnowledgeArticle.objects.select_related("service"), pk=pk, published=True)
    return render(request, "itsm/kb_article.html", {"nav": "kb", "article": article})
