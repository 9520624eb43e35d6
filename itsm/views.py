"""The agent queue, the ticket workspace, the new-ticket form and the self-service portal.

Every view parses input, calls one domain function of `tracker.services` (or `devflow.services`), and
renders a named partial of the page it belongs to; a `DomainError` becomes a message in that partial,
with the error's HTTP status (never a 500). Writes carry the version the page was loaded with, so a
stale page is refused exactly as the API refuses a stale `If-Match`.
"""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.db.models import Q
from django.forms import modelform_factory
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from devflow.selectors import service_releases
from tracker import access, selectors, services
from tracker.choices import Kind, Status
from tracker.errors import DomainError, NotFound, StaleVersion, ValidationFailed
from tracker.filtersets import TicketFilterSet
from tracker.models import AssignmentGroup, Link, Ticket
from tracker.workflows import WORKFLOWS, editable_fields

from . import selectors as q
from .forms import (
    TEXT_FIELDS,
    BulkForm,
    CommentForm,
    LinkForm,
    PortalTicketForm,
    TicketCreateForm,
    field_form_class,
)
from .models import KnowledgeArticle

QUEUE = "itsm/queue.html"
WORKSPACE = "itsm/ticket.html"


def staff_only(view):
    """Agent pages: a requester is sent to the portal instead."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not access.is_staff_member(request.user):
            return redirect("itsm:portal")
        return view(request, *args, **kwargs)

    return wrapper


def _ticket(user, key) -> Ticket:
    try:
        return selectors.ticket_for_user(user, key)
    except NotFound:
        raise Http404(f"No ticket {key} that you can see.") from None


def _version(request) -> int | None:
    raw = request.POST.get("version", "")
    return int(raw) if raw.isdigit() else None


# --- the queue ----------------------------------------------------------------------------------------


def _queue_context(request, *, flash=None, flash_tone="ok"):
    now = timezone.now()
    view = q.VIEWS_BY_SLUG.get(request.GET.get("view", "open"), q.VIEWS_BY_SLUG["open"])
    filterset = TicketFilterSet(
        request.GET, queryset=q.queue(user=request.user, now=now, view=view.slug), request=request
    )
    qs = filterset.qs if filterset.is_valid() else filterset.queryset.none()
    sort, desc = q.parse_sort(request.GET.get("sort"), view.sort)
    after = request.GET.get("after")
    page = q.paginate(qs, sort=sort, desc=desc, after=after)
    columns = [
        ("key", "Key", None),
        ("title", "Title", None),
        ("status", "Status", None),
        ("priority", "Priority", "priority"),
        ("sla", "SLA", "due" if q.sla_enabled() else None),
        ("group", "Group", None),
        ("assignee", "Assignee", None),
        ("created", "Created", "created"),
        ("updated", "Updated", "updated"),
    ]
    return {
        "nav": "queue",
        "now": now,
        "views": q.SAVED_VIEWS,
        "view": view,
        "filterset": filterset,
        "page": page,
        "total": q.page_total(qs, page, first=not after),
        "columns": columns,
        "sort": sort,
        "desc": desc,
        "bulk_form": BulkForm(),
        "flash": flash,
        "flash_tone": flash_tone,
        "sla_enabled": q.sla_enabled(),
    }


@staff_only
@require_GET
def queue(request):
    ctx = _queue_context(request)
    if request.htmx and request.htmx.target == "results":
        return render(request, f"{QUEUE}#results", ctx)
    return render(request, QUEUE, ctx)


@staff_only
@require_POST
def queue_bulk(request):
    """Apply one action to the checked tickets, each through its domain function; report each refusal."""
    form = BulkForm(request.POST)
    done, refused = [], []
    if form.is_valid() and form.keys:
        action = form.cleaned_data["action"]
        for ticket in selectors.ticket_list(user=request.user).filter(key__in=form.keys):
            try:
                if action == "assign_me":
                    services.ticket_assign(ticket=ticket, actor=request.user, assignee=request.user)
                elif action == "assign":
                    if form.cleaned_data["assignee"] is None:
                        raise ValidationFailed("Choose whom to assign to.")
                    services.ticket_assign(
                        ticket=ticket, actor=request.user, assignee=form.cleaned_data["assignee"]
                    )
                elif action == "escalate":
                    services.ticket_escalate(ticket=ticket, actor=request.user)
                elif action == "status":
                    note = form.cleaned_data["resolution_note"]
                    services.ticket_transition(
                        ticket=ticket,
                        to=form.cleaned_data["to"],
                        actor=request.user,
                        values={"resolution_note": note} if note else None,
                    )
                done.append(ticket.key)
            except DomainError as exc:
                refused.append(exc.message)
    else:
        refused.append("Tick at least one ticket, then choose an action.")
    flash = (f"Done: {', '.join(done)}. " if done else "") + " ".join(refused)
    ctx = _queue_context(request, flash=flash, flash_tone="warn" if refused else "ok")
    return render(request, f"{QUEUE}#results", ctx, status=200 if done or not refused else 400)


def _row_response(request, ticket, error=None):
    row = q.queue_row(user=request.user, pk=ticket.pk)
    return render(
        request,
        f"{QUEUE}#row",
        {"t": row, "now": timezone.now(), "row_error": error},
        status=error.status if error else 200,
    )


# --- the ticket workspace -----------------------------------------------------------------------------


def _display_fields(ticket, user):
    can_edit = access.may(user, "edit", ticket)
    names = [
        "kind",
        "status",
        "priority",
        "impact",
        "urgency",
        "group",
        "assignee",
        "service",
        "category",
        *[
            n
            for n in editable_fields(ticket.kind)
            if n
            not in ("title", "description", "impact", "urgency", "group", "assignee", "service", "category")
        ],
    ]
    rows = []
    for name in names:
        field = Ticket._meta.get_field(name)
        value = getattr(ticket, f"get_{name}_display")() if field.choices else getattr(ticket, name)
        rows.append(
            {
                "name": name,
                "label": field.verbose_name.capitalize(),
                "value": value,
                "editable": can_edit and name in editable_fields(ticket.kind),
                "long": name in TEXT_FIELDS,
            }
        )
    return rows


def _move_forms(ticket, user):
    out = []
    for move in services.available_moves(ticket=ticket, actor=user):
        form = None
        if move.requires:
            form_class = modelform_factory(Ticket, fields=list(move.requires))
            form = form_class(
                initial={f: getattr(ticket, f) for f in move.requires}, auto_id=f"id_{move.target}_%s"
            )
        out.append({"move": move, "form": form})
    return out


def workspace_context(request, ticket, **extra):
    user, now = request.user, timezone.now()
    ctx = {
        "nav": "queue",
        "ticket": ticket,
        "now": now,
        "timeline": list(selectors.ticket_timeline(ticket=ticket, user=user)),
        "moves": _move_forms(ticket, user),
        "fields": _display_fields(ticket, user),
        "links": selectors.ticket_links(ticket=ticket, user=user),
        "clocks": q.ticket_clocks(ticket),
        "sla_enabled": q.sla_enabled(),
        "recent_changes": q.service_recent_changes(user=user, service_id=ticket.service_id, now=now),
        "releases": service_releases(service_id=ticket.service_id, now=now),
        "requester_open": q.requester_open_count(ticket, user),
        "comment_form": CommentForm(),
        "link_form": LinkForm(),
        "can": {
            a: access.may(user, a, ticket)
            for a in ("edit", "link", "assign", "escalate", "internal_note", "pick")
        },
        "escalation_groups": AssignmentGroup.objects.exclude(pk=ticket.group_id),
        "escalation_target": services.escalation_target(ticket) if ticket.is_open else None,
        "is_defect_source": ticket.kind in (Kind.INCIDENT, Kind.PROBLEM),
        "poll_seconds": settings.CROSSLINE_CHANGES_POLL_SECONDS,
    }
    ctx.update(extra)
    return ctx


def _workspace(request, ticket, *, status=200, error=None, notice=None, **extra):
    """Re-read the ticket and render the workspace fragment (or the full page on a plain request)."""
    ticket = _ticket(request.user, ticket.key)
    stale = isinstance(error, StaleVersion)
    ctx = workspace_context(
        request,
        ticket,
        error=None if stale else error,
        stale=error if stale else None,
        notice=notice,
        **extra,
    )
    if error is not None:
        status = error.status
    template = f"{WORKSPACE}#workspace" if request.htmx else WORKSPACE
    return render(request, template, ctx, status=status)


@staff_only
@require_GET
def ticket_detail(request, key):
    ticket = _ticket(request.user, key)
    template = f"{WORKSPACE}#workspace" if request.htmx and request.htmx.target == "workspace" else WORKSPACE
    return render(request, template, workspace_context(request, ticket))


@staff_only
@require_POST
def ticket_transition(request, key):
    ticket = _ticket(request.user, key)
    to = request.POST.get("to", "")
    move = next((m for m in WORKFLOWS[ticket.kind].moves_from(ticket.status) if m.target == to), None)
    values = {}
    if move and move.requires:
        form = modelform_factory(Ticket, fields=list(move.requires))(request.POST)
        form.is_valid()
        values = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
    try:
        services.ticket_transition(
            ticket=ticket, to=to, actor=request.user, version=_version(request), values=values
        )
    except DomainError as exc:
        return _workspace(request, ticket, error=exc)
    return _workspace(request, ticket, notice=f"{ticket.key} is now {Status(to).label.lower()}.")


@staff_only
def ticket_field(request, key, name):
    """Inline edit of one field: GET gives its form, POST saves it under the version check."""
    ticket = _ticket(request.user, key)
    if name not in editable_fields(ticket.kind):
        raise Http404("Not an editable field of this kind.")
    form_class = field_form_class(name)
    if request.method == "GET":
        form = form_class(initial={name: getattr(ticket, name)}, auto_id="id_edit_%s")
        return render(request, f"{WORKSPACE}#field-form", {"ticket": ticket, "form": form, "name": name})
    form = form_class(request.POST, auto_id="id_edit_%s")
    if not form.is_valid():
        return render(
            request, f"{WORKSPACE}#field-form", {"ticket": ticket, "form": form, "name": name}, status=400
        )
    value = form.cleaned_data[name]
    try:
        if name == "assignee":
            services.ticket_assign(
                ticket=ticket, actor=request.user, assignee=value, version=_version(request)
            )
        else:
            services.ticket_update(
                ticket=ticket, actor=request.user, version=_version(request) or 0, changes={name: value}
            )
    except StaleVersion as exc:
        # The refused value stays on screen, so nothing typed is lost when someone else saved first.
        unsaved = {"label": form[name].label, "value": _shown(form.fields[name], value)}
        return _workspace(request, ticket, error=exc, unsaved=unsaved)
    except DomainError as exc:
        return _workspace(request, ticket, error=exc)
    return _workspace(request, ticket)


def _shown(field, value) -> str:
    """A field's value as the user chose it: the label of a choice, the name of a related row."""
    if value in (None, ""):
        return "—"
    choices = dict(getattr(field, "choices", None) or []) if not hasattr(field, "queryset") else {}
    return str(choices.get(value, value))


@require_POST
def ticket_comment(request, key):
    ticket = _ticket(request.user, key)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.ticket_comment(
                ticket=ticket,
                actor=request.user,
                body=form.cleaned_data["body"],
                internal=form.cleaned_data["internal"],
            )
        except DomainError as exc:
            return _workspace(request, ticket, error=exc, comment_form=form)
        if not access.is_staff_member(request.user):
            messages.success(request, "Your comment was added.")
            return redirect("itsm:portal-ticket", key=ticket.key)
        return _workspace(request, ticket, notice="Comment added.")
    if not access.is_staff_member(request.user):
        messages.error(request, "Write something before sending.")
        return redirect("itsm:portal-ticket", key=ticket.key)
    return _workspace(request, ticket, status=400, comment_form=form)


@staff_only
@require_POST
def ticket_link(request, key):
    ticket = _ticket(request.user, key)
    form = LinkForm(request.POST)
    if not form.is_valid():
        return _workspace(request, ticket, status=400, link_form=form)
    try:
        target = selectors.ticket_for_user(request.user, form.cleaned_data["key"])
        services.ticket_link(source=ticket, target=target, type=form.cleaned_data["type"], actor=request.user)
    except DomainError as exc:
        return _workspace(request, ticket, error=exc, link_form=form)
    return _workspace(request, ticket, notice=f"Linked to {target.key}.")


@staff_only
@require_POST
def ticket_unlink(request, key, link_id):
    ticket = _ticket(request.user, key)
    link = get_object_or_404(
        Link.objects.select_related("source", "target"), Q(source=ticket) | Q(target=ticket), pk=link_id
    )
    try:
        services.ticket_unlink(link=link, actor=request.user)
    except DomainError as exc:
        return _workspace(request, ticket, error=exc)
    return _workspace(request, ticket, notice="Link removed.")


def _row_or_workspace(request, ticket, action):
    in_row = bool(request.htmx and (request.htmx.target or "").startswith("row-"))
    try:
        action()
    except DomainError as exc:
        return _row_response(request, ticket, exc) if in_row else _workspace(request, ticket, error=exc)
    return _row_response(request, ticket) if in_row else _workspace(request, ticket)


@staff_only
@require_POST
def ticket_assign_me(request, key):
    ticket = _ticket(request.user, key)
    return _row_or_workspace(
        request,
        ticket,
        lambda: services.ticket_assign(
            ticket=ticket, actor=request.user, assignee=request.user, version=_version(request)
        ),
    )


@staff_only
@require_POST
def ticket_escalate(request, key):
    ticket = _ticket(request.user, key)
    group_id = request.POST.get("group", "")
    group = AssignmentGroup.objects.filter(pk=group_id).first() if group_id.isdigit() else None
    return _row_or_workspace(
        request,
        ticket,
        lambda: services.ticket_escalate(
            ticket=ticket,
            actor=request.user,
            to_group=group,
            note=request.POST.get("note", "").strip(),
            version=_version(request),
        ),
    )


@require_GET
def ticket_changes(request, key):
    """Polled by an open page: a banner when someone else changed the ticket since it was loaded."""
    ticket = _ticket(request.user, key)
    loaded = request.GET.get("t", "")
    changed = loaded and ticket.updated_at.isoformat() != loaded
    last = None
    if changed:
        last = (
            selectors.ticket_timeline(ticket=ticket, user=request.user)
            .exclude(actor=request.user)
            .order_by("-created_at", "-id")
            .select_related("actor")
            .first()
        )
        changed = last is not None and last.created_at.isoformat() >= loaded[:19]
    url = (
        reverse("itsm:ticket", args=[ticket.key])
        if access.is_staff_member(request.user)
        else reverse("itsm:portal-ticket", args=[ticket.key])
    )
    return render(
        request, f"{WORKSPACE}#changes", {"ticket": ticket, "changed": changed, "last": last, "url": url}
    )


# --- new ticket ---------------------------------------------------------------------------------------


@staff_only
def ticket_new(request):
    kind = request.POST.get("kind") or request.GET.get("kind") or Kind.INCIDENT
    if request.method == "POST":
        form = TicketCreateForm(request.POST, kind=kind)
        if form.is_valid():
            try:
                ticket = services.ticket_create(
                    actor=request.user, kind=form.kind, title=form.cleaned_data["title"], **form.values()
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
                for name, errors in exc.fields.items():
                    if name in form.fields:
                        for err in errors:
                            form.add_error(name, err)
            else:
                messages.success(request, f"{ticket.key} created.")
                return redirect("itsm:ticket", key=ticket.key)
        status = 400
    else:
        form = TicketCreateForm(kind=kind, initial={"kind": kind})
        status = 200
    ctx = {"nav": "new", "form": form, "priority": _priority_text(form)}
    if request.htmx and request.htmx.target == "kind-fields":
        return render(request, "itsm/ticket_new.html#kind-fields", ctx)
    return render(request, "itsm/ticket_new.html", ctx, status=status)


def _priority_text(form) -> str:
    try:
        impact = int(form["impact"].value() or 2)
        urgency = int(form["urgency"].value() or 2)
        return str(
            Ticket(priority=services.priority_for(impact=impact, urgency=urgency)).get_priority_display()
        )
    except (TypeError, ValueError, KeyError):
        return ""


@require_GET
def priority_preview(request):
    form = TicketCreateForm(request.GET)
    return render(request, "itsm/ticket_new.html#priority", {"priority": _priority_text(form)})


@staff_only
@require_GET
def requester_suggestions(request):
    """Suggestions under the new-ticket form's requester box while the agent types."""
    text = request.GET.get("requester", "").strip()
    people = q.requester_search(user=request.user, text=text) if len(text) >= 2 else []
    return render(request, "itsm/ticket_new.html#requester-suggestions", {"people": people, "query": text})


@require_GET
def similar_tickets(request):
    service = request.GET.get("service", "")
    rows = q.similar_open(
        user=request.user,
        title=request.GET.get("title", ""),
        service_id=int(service) if service.isdigit() else None,
    )
    return render(request, "itsm/ticket_new.html#similar", {"similar": rows})


# --- the self-service portal --------------------------------------------------------------------------


def portal(request):
    if access.is_staff_member(request.user) and request.GET.get("as") != "requester":
        return redirect("itsm:queue")
    return render(
        request,
        "itsm/portal.html",
        {"nav": "portal", "tickets": q.portal_tickets(user=request.user), "faq": q.article_search()[:8]},
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
    ticket = _ticket(request.user, key)
    ctx = {
        "nav": "portal",
        "ticket": ticket,
        "timeline": [
            e
            for e in selectors.ticket_timeline(ticket=ticket, user=request.user)
            if e.kind in ("created", "comment", "status", "release")
        ],
        "moves": _move_forms(ticket, request.user),
        "comment_form": CommentForm(),
    }
    return render(request, "itsm/portal_ticket.html", ctx)


@require_POST
def portal_transition(request, key):
    ticket = _ticket(request.user, key)
    note = request.POST.get("resolution_note", "").strip()
    try:
        services.ticket_transition(
            ticket=ticket,
            to=request.POST.get("to", ""),
            actor=request.user,
            version=_version(request),
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
