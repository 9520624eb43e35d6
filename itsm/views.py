"""The self-service portal and the knowledge base; change setup (CABs, standard-change templates), standard
changes from a template, and the vote on a change's page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_POST

from tracker import access, selectors
from tracker import services as core
from tracker.access import staff_only
from tracker.choices import Kind
from tracker.errors import DomainError
from tracker.forms import CommentForm
from tracker.views import move_forms, posted_version, ticket_or_404, workspace_response

from . import selectors as q
from . import services, ui
from .choices import CabRule
from .forms import CabForm, PortalTicketForm, StandardChangeForm, TemplateForm, VoteForm
from .models import Cab, ChangeTemplate, KnowledgeArticle

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
                ticket = core.ticket_create(
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
        core.ticket_transition(
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


# --- change setup: CABs and standard-change templates (the change manager writes, staff read) -------------


def _manager_only(request) -> None:
    if not services.may_manage_changes(request.user):
        raise PermissionDenied("Only the change manager (or an administrator) sets up CABs and templates.")


def _refuse(form, exc: DomainError) -> None:
    """A refusal's message above the form, its per-field messages next to the fields; what was typed stays."""
    form.add_error(None, exc.message)
    for name, errors in exc.fields.items():
        if name in form.fields:
            for err in errors:
                form.add_error(name, err)


@staff_only
@require_GET
def cabs(request):
    return render(request, "itsm/cabs.html", {"nav": "change-setup", "tab": "cabs", "cabs": q.cab_list(),
                                              "can_manage": services.may_manage_changes(request.user)})


@staff_only
def cab_form(request, pk=None):
    """New CAB (no pk) or an existing one: name, scope, rule, approvers."""
    _manager_only(request)
    cab = get_object_or_404(Cab.objects.prefetch_related("members"), pk=pk) if pk else None
    if request.method == "POST":
        form = CabForm(request.POST)
        if form.is_valid():
            try:
                saved = services.cab_save(actor=request.user, cab=cab, **form.cleaned_data)
            except DomainError as exc:
                _refuse(form, exc)
                return _cab_page(request, form, cab, status=exc.status)
            messages.success(request, f"Saved the CAB “{saved.name}”.")
            return redirect("itsm:cabs")
        return _cab_page(request, form, cab, status=400)
    initial = {"rule": CabRule.MAJORITY, "quorum": 1, "active": True}
    if cab is not None:
        initial = {"name": cab.name, "service": cab.service_id, "emergency": cab.emergency, "rule": cab.rule,
                   "quorum": cab.quorum, "members": [m.pk for m in cab.members.all()], "active": cab.active}
    elif request.GET.get("emergency") == "1":
        initial.update(emergency=True, rule=CabRule.ANY, name="Emergency CAB")
    return _cab_page(request, CabForm(initial=initial), cab)


def _cab_page(request, form, cab, status=200):
    return render(request, "itsm/cab_form.html", {"nav": "change-setup", "tab": "cabs", "form": form, "cab": cab},
                  status=status)


@staff_only
@require_GET
def change_templates(request):
    retired = request.GET.get("retired") == "1"
    return render(request, "itsm/change_templates.html", {
        "nav": "change-setup", "tab": "templates", "retired": retired, "templates": q.template_list(retired=retired),
        "can_manage": services.may_manage_changes(request.user)})


@staff_only
def change_template_form(request, pk=None):
    """New template (no pk) or a new version of one; the page lists its versions."""
    _manager_only(request)
    template = get_object_or_404(ChangeTemplate, pk=pk) if pk else None
    if request.method == "POST":
        form = TemplateForm(request.POST)
        if form.is_valid():
            try:
                if template is None:
                    template = services.template_create(actor=request.user, **form.values())
                    messages.success(request, f"Template “{template.title}” is live (version 1).")
                else:
                    services.template_update(actor=request.user, template=template, changes=form.values(),
                                             note=form.cleaned_data["note"])
                    messages.success(request, f"Saved “{template.title}” as version {template.version}.")
                return redirect("itsm:change-templates")
            except DomainError as exc:
                _refuse(form, exc)
                return _template_page(request, form, template, status=exc.status)
        return _template_page(request, form, template, status=400)
    initial = {"risk": "low"}
    if template is not None:
        initial = {name: getattr(template, name) for name in services.TEMPLATE_FIELDS}
        initial["service"] = template.service_id
    return _template_page(request, TemplateForm(initial=initial), template)


def _template_page(request, form, template, status=200):
    ctx = {"nav": "change-setup", "tab": "templates", "form": form, "template": template,
           "versions": q.template_versions(template) if template is not None else []}
    return render(request, "itsm/change_template_form.html", ctx, status=status)


@staff_only
@require_POST
def change_template_retire(request, pk):
    template = get_object_or_404(ChangeTemplate, pk=pk)
    try:
        services.template_retire(actor=request.user, template=template)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Retired “{template.title}”: it makes no new change.")
    return redirect("itsm:change-templates")


@staff_only
def standard_change_new(request, pk):
    """Raise a standard change from a live template: pre-approved, its plan as the template says."""
    template = get_object_or_404(ChangeTemplate.objects.select_related("service"), pk=pk)
    if request.method == "POST":
        form = StandardChangeForm(request.POST)
        if form.is_valid():
            try:
                ticket = services.standard_change_create(template=template, actor=request.user, **form.cleaned_data)
            except DomainError as exc:
                _refuse(form, exc)
                status = exc.status
            else:
                messages.success(request, f"{ticket.key} raised from “{template.title}” (version {template.version}).")
                return redirect("tracker:ticket", key=ticket.key)
        else:
            status = 400
    else:
        form = StandardChangeForm(initial={"title": template.title, "description": template.description})
        status = 200
    return render(request, "itsm/standard_change_new.html",
                  {"nav": "change-setup", "tab": "templates", "form": form, "template": template}, status=status)


@staff_only
@require_GET
def my_approvals(request):
    """The top bar's approvals chip, loaded after the page (so no page pays its query): how many changes wait
    for my vote, linked to "My approvals"; nothing when none do."""
    return render(request, "itsm/approvals_chip.html#chip", {"count": q.pending_approval_count(request.user)})


# --- the vote on a change's page -------------------------------------------------------------------------


@staff_only
@require_POST
def change_vote(request, key):
    """Cast a vote from the ticket page; a refusal shows in the vote form, with what was typed."""
    ticket = ticket_or_404(request.user, key)
    form = VoteForm(request.POST)
    if form.is_valid():
        try:
            services.approval_vote(ticket=ticket, actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            _refuse(form, exc)
            status = exc.status
        else:
            said = dict(form.fields["decision"].choices)[form.cleaned_data["decision"]].lower()
            response = workspace_response(request, ticket, notice=f"Your vote on {ticket.key}: {said}.")
            if request.htmx:  # the top bar's count of my approvals follows
                response.content += render_to_string("itsm/approvals_chip.html#chip", {
                    "count": q.pending_approval_count(request.user), "oob": True}, request=request).encode()
            return response
    else:
        status = 400
    vote = {**ui.vote_state(ticket, request.user), "form": form}
    if request.htmx:
        return render(request, "itsm/action_vote.html#vote-form", {"ticket": ticket, "vote": vote}, status=status)
    return workspace_response(request, ticket, status=status, vote_refused=vote)
