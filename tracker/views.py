"""The pages every kind shares: the agent queue, the ticket page, the new-ticket form, and the home page
that sends each role to its work.

Every view parses input, calls one domain function of `tracker.services`, and renders a named partial of
the page it belongs to; a `DomainError` becomes a message in that partial, next to what caused it, with
the error's HTTP status (never a 500). Writes carry the version the page was loaded with, so a stale page
is refused exactly as the API refuses a stale `If-Match`. The apps above add side panels, actions, badges,
timeline rows and queue views through `tracker.extensions`; this module never names them.
"""

from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.db.models import DateTimeField, Q
from django.forms import modelform_factory
from django.http import FileResponse, Http404, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import reswap, retarget

from . import access, extensions, selectors, services
from .access import staff_only
from .choices import Kind, Role, Status
from .errors import DomainError, NotFound, StaleVersion, ValidationFailed
from .filtersets import TicketFilterSet
from .form_html import FAST
from .forms import (
    TEXT_FIELDS,
    BulkForm,
    CommentForm,
    HelpForm,
    InviteForm,
    LinkForm,
    TicketCreateForm,
    WorkLogForm,
    field_form_class,
    humanize_blanks,
)
from .markdown import render_markdown
from .middleware import request_user
from .models import AssignmentGroup, Contributor, Link, QueueView, Ticket
from .templatetags.crossline import duration
from .templatetags.icons import icon
from .templatetags.ticket_page import choice_display, share_blank
from .workflows import WORKFLOWS, editable_fields, field_lock, needs_reapproval, primary_move, stage_allows

QUEUE = "tracker/queue.html"
WORKSPACE = "tracker/ticket.html"

def home(request):
    return redirect(extensions.home_url(request.user))


@require_POST
def markdown_preview(request):
    html = render_markdown(request.POST.get("body", ""))
    return HttpResponse(html or '<p class="muted">Nothing to preview.</p>')


def ticket_or_404(user, key) -> Ticket:
    """The ticket by key as this user may see it, or a 404 (also when it exists but is not visible)."""
    try:
        return selectors.ticket_for_user(user, key)
    except NotFound:
        raise Http404(f"No ticket {key} that you can see.") from None


def _page_ticket(user, key) -> Ticket:
    try:
        return selectors.ticket_for_user(user, key, page=True)
    except NotFound:
        raise Http404(f"No ticket {key} that you can see.") from None


def posted_version(request) -> int | None:
    """The version the page was loaded with (hidden field `version`), for the stale-write check."""
    raw = request.POST.get("version", "")
    return int(raw) if raw.isdigit() else None


# --- the queue ----------------------------------------------------------------------------------------


def _queue_context(request, *, flash=None, flash_tone="ok"):
    now = timezone.now()
    view = selectors.saved_view(request.GET.get("view"))
    my_views = selectors.queue_views_for(request.user)
    saved = selectors.saved_in_use(my_views, request.GET.get("saved"))
    columns = selectors.columns_for(request.user, saved)
    related = selectors.columns_related(columns)
    base = selectors.queue(user=request.user, now=now, view=view, related=related)
    filterset = TicketFilterSet(request.GET, queryset=base, request=request)
    valid = filterset.is_valid()
    qs = filterset.qs if valid else filterset.queryset.none()
    sort, desc = selectors.parse_sort(request.GET.get("sort"), view.sort)
    after = request.GET.get("after")
    # The usual requests (a core view, choice filters) are read by SQL compiled once per process.
    shape = selectors.queue_shape(user=request.user, view=view, params=request.GET, related=related) if valid else None
    page = selectors.paginate(qs, sort=sort, desc=desc, after=after, shape=shape, user=request.user)
    return {
        "nav": "queue",
        "now": now,
        "views": selectors.saved_views(),
        "my_views": my_views,
        "view": view,
        "saved": saved,
        "current_ref": selectors.view_ref(saved or view),
        "pinned": set(selectors.pinned_refs(request.user, my_views)),
        "columns": columns,
        "column_choices": selectors.column_choices(columns),
        "split": request.user.queue_split,
        "pins_by_queue": True,  # the views' counts request brings the top bar's pinned views along
        "filterset": filterset,
        "page": page,
        "total": selectors.page_total(qs, page, first=not after, shape=shape, user=request.user),
        "sort": sort.slug,
        "desc": desc,
        "bulk_form": _bulk_form(tuple(selectors.staff_names()), _bulk_action_items()),
        "groups": selectors.groups_of(request.user),  # the save-view form's teams
        "bulk_actions": extensions.registry.bulk_actions,
        "flash": flash,
        "flash_tone": flash_tone,
    }


def _bulk_action_items() -> tuple:
    return tuple((b.slug, b.label) for b in extensions.registry.bulk_actions)


@lru_cache(maxsize=8)
def _bulk_form(people: tuple, actions: tuple) -> BulkForm:
    """The bulk bar's form, its people read as values (no model per person), labelled as the form labels them.
    An unbound form is only rendered, and what it shows is the people and the apps' actions (the arguments,
    read on every request): one form per process and set of them, not a copy of every field per page."""
    form = BulkForm()
    field = form.fields["assignee"]
    field.choices = [("", field.empty_label), *((pk, f"{first} {last}".strip() or username)
                                              for pk, first, last, username in people)]
    return form


# Events a response sends the queue page (htmx `HX-Trigger`): its list reloads itself on LIST_CHANGED, and
# the views' counts (and the top bar's) reload on COUNTS_CHANGED, which every reload of the list sends.
LIST_CHANGED, COUNTS_CHANGED = "refresh", "queue-refreshed"


def _tell(response, event: str):
    response["HX-Trigger"] = event
    return response


@staff_only
@require_GET
def queue(request):
    ctx = _queue_context(request)
    status = 200 if ctx["filterset"].is_valid() else 400  # the page shows what to fix in the filters
    if request.htmx and request.htmx.target == "results":
        return _tell(render(request, f"{QUEUE}#results", ctx, status=status), COUNTS_CHANGED)
    return render(request, QUEUE, ctx, status=status)


@staff_only
@require_POST
def queue_bulk(request):
    """Apply one action to the checked tickets, each through its domain function; report each refusal."""
    form = BulkForm(request.POST)
    done, refused = [], []
    app_actions = {b.slug: b for b in extensions.registry.bulk_actions}
    if form.is_valid() and form.keys and form.cleaned_data["action"] in app_actions:
        # An app's action works on the ticked tickets as one set, in the order they were ticked.
        found = {t.key: t for t in selectors.ticket_list(user=request.user).filter(key__in=form.keys)}
        try:
            done.append(app_actions[form.cleaned_data["action"]].run(
                request=request, tickets=[found[k] for k in form.keys if k in found], data=request.POST))
        except DomainError as exc:
            refused.append(exc.message)
    elif form.is_valid() and form.keys:
        action = form.cleaned_data["action"]
        for ticket in selectors.ticket_list(user=request.user).filter(key__in=form.keys):
            try:
                take_over = form.cleaned_data["take_over"]
                if action == "assign_me":
                    services.ticket_assign(
                        ticket=ticket, actor=request.user, assignee=request.user, take_over=take_over
                    )
                elif action == "assign":
                    if form.cleaned_data["assignee"] is None:
                        raise ValidationFailed("Choose whom to assign to.")
                    services.ticket_assign(
                        ticket=ticket, actor=request.user, assignee=form.cleaned_data["assignee"], take_over=take_over
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
    return _tell(render(request, f"{QUEUE}#results", ctx, status=200 if done or not refused else 400), COUNTS_CHANGED)


def _page_query(request) -> QueryDict:
    """The query of the queue page a request came from (htmx names the page's URL)."""
    current = request.htmx.current_url if request.htmx else None
    return QueryDict(urlsplit(current).query if current else "")


def _row_response(request, ticket, error=None, notice=None, take_over=False):
    saved = selectors.saved_in_use(selectors.queue_views_for(request.user), _page_query(request).get("saved"))
    columns = selectors.columns_for(request.user, saved)
    row = selectors.queue_row(user=request.user, pk=ticket.pk, related=selectors.columns_related(columns))
    response = render(
        request,
        f"{QUEUE}#row",
        {"t": row, "now": timezone.now(), "row_error": error, "row_notice": notice, "row_take_over": take_over,
         "columns": columns},
        status=error.status if error else 200,
    )
    return response if error else _tell(response, COUNTS_CHANGED)


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
        "owner",
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
        value = choice_display(ticket, name) if field.choices else getattr(ticket, name)
        rows.append(
            {
                "name": name,
                "label": field.verbose_name.capitalize(),
                "value": value,
                "editable": can_edit and (name == "owner" or name in editable_fields(ticket.kind)
                                          and stage_allows(ticket.kind, ticket.status, name)),
                "long": name in TEXT_FIELDS,
                "moment": isinstance(field, DateTimeField),
            }
        )
    return rows


@lru_cache(maxsize=64)
def _move_form_class(names: tuple[str, ...]):
    """A move's form class, built once per set of fields (building a ModelForm class costs more than using it)."""
    return modelform_factory(Ticket, fields=list(names))


def _move_form(move, ticket, data=None):
    names = [*move.requires, *move.offers]
    form_class = _move_form_class(tuple(names))
    initial = {f: getattr(ticket, f) for f in names}
    form = form_class(data, initial=initial, auto_id=f"id_{move.target}_%s", renderer=FAST)
    humanize_blanks(form.fields)
    return form


def move_forms(ticket, user, refused: dict | None = None):
    """The moves this user may take, each with its form when the move needs fields; a refused move keeps
    what was typed and its message (`refused`: target, form, error)."""
    out = []
    for move in services.available_moves(ticket=ticket, actor=user):
        if refused and refused["target"] == move.target:
            out.append({"move": move, "form": refused["form"], "error": refused["error"], "open": True})
            continue
        out.append({"move": move, "form": _move_form(move, ticket) if move.requires or move.offers else None})
    main = primary_move(ticket.kind, [m["move"] for m in out])
    for m in out:
        m["primary"] = m["move"] == main
    return out


@lru_cache(maxsize=1)
def _blank_forms() -> tuple[CommentForm, LinkForm]:
    """The ticket page's empty comment and link forms. An unbound form is only rendered, and these show the same
    on every page (the link types' labels are translated as they are written): one pair per process, not a copy
    of every field per page. A refused form comes in the view's own context instead."""
    return CommentForm(), share_blank(LinkForm())


def _by_column(panels: list[dict]) -> dict[str, list[dict]]:
    """The panels grouped by the column they show in (top, main, side), each group in the registered order: the
    page lists each column's own, instead of testing every panel three times."""
    columns: dict[str, list[dict]] = {"top": [], "main": [], "side": []}
    for panel in panels:
        columns.get(panel["column"], []).append(panel)  # any other column is not on the page
    return columns


def _extras(items, request, ticket, now) -> list[dict]:
    """The registered panels or actions that apply to this ticket, each with its own context."""
    out = []
    for item in items:
        ctx = item.context(request=request, ticket=ticket, now=now)
        if ctx is not None:
            out.append({"template": item.template, "slug": item.slug, "ctx": ctx,
                        "column": getattr(item, "column", "side")})
    return out


def workspace_context(request, ticket, **extra):
    user, now = request.user, timezone.now()
    files = selectors.ticket_attachments(ticket=ticket, user=user)  # the panel and the comments' files, one read
    ctx = {
        "nav": "queue",
        "ticket": ticket,
        "now": now,
        "timeline": selectors.with_comment_files(selectors.ticket_timeline_rows(ticket=ticket, user=user), files),
        "attachments": files,
        "moves": move_forms(ticket, user, extra.pop("refused_move", None)),
        "fields": _display_fields(ticket, user),
        "links": selectors.ticket_links(ticket=ticket, user=user),
        "requester_open": selectors.requester_open_count(ticket, user),
        "comment_form": _blank_forms()[0],
        "link_form": _blank_forms()[1],
        "can": {
            a: access.may(user, a, ticket)
            for a in ("edit", "link", "assign", "escalate", "internal_note", "pick")
        },
        # From the configuration cache, called by the template where it lists them (the escalate and invite
        # forms), so a page without them reads not even the cache's stamp.
        "escalation_groups": lambda: selectors.escalation_groups(ticket),
        "escalation_target": services.escalation_target(ticket) if ticket.is_open else None,
        "poll_seconds": settings.CROSSLINE_CHANGES_POLL_SECONDS,
        "macros": selectors.macros_for(user),
        "panels": _by_column(_extras(extensions.registry.panels, request, ticket, now)),
        "actions": _extras(extensions.registry.actions, request, ticket, now),
    }
    ctx.update(extra)
    return ctx


def _workspace(request, ticket, *, status=200, error=None, notice=None, **extra):
    """Re-read the ticket and render the workspace fragment (or the full page on a plain request)."""
    ticket = _page_ticket(request.user, ticket.key)
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
    response = render(request, template, ctx, status=status)
    if request.htmx:  # a form that targets itself succeeded: the whole workspace is what changed
        retarget(response, "#workspace")
        reswap(response, "outerHTML")
    return response


def workspace_response(request, ticket, *, status: int = 200, notice=None, error=None, **extra):
    """The ticket page after an app's action on it: the workspace fragment for htmx (swapped in whole), else
    the page; `extra` reaches the apps' panels (e.g. a refused form to show again with what was typed)."""
    return _workspace(request, ticket, status=status, notice=notice, error=error, **extra)


def _refused(request, ticket, partial: str, status: int, **ctx):
    """A refused form: with htmx just that form again (message, typed values); without, the whole page."""
    if request.htmx:
        return render(request, f"{WORKSPACE}#{partial}", {"ticket": ticket, **ctx}, status=status)
    ctx.pop("preview", None)
    response = _workspace(request, ticket, **ctx)
    response.status_code = status
    return response


def form_errors(form, exc: DomainError) -> None:
    """A refusal's message goes above the form; its per-field messages next to the fields it names."""
    form.add_error(None, exc.message)
    for name, errors in exc.fields.items():
        if name in form.fields:
            for err in errors:
                form.add_error(name, err)


@require_GET
def ticket_detail(request, key):
    request.user = request_user(request)  # the person, not its lazy stand-in: the page asks ~100 times who it is
    if not access.is_staff_member(request.user):  # a requester's link to their own ticket: their page of it
        return redirect(extensions.ticket_url(request.user, ticket_or_404(request.user, key).key))
    ticket = _page_ticket(request.user, key)
    template = f"{WORKSPACE}#workspace" if request.htmx and request.htmx.target == "workspace" else WORKSPACE
    return render(request, template, workspace_context(request, ticket))


@staff_only
@require_POST
def ticket_transition(request, key):
    ticket = ticket_or_404(request.user, key)
    to = request.POST.get("to", "")
    move = next((m for m in WORKFLOWS[ticket.kind].moves_from(ticket.status) if m.target == to), None)
    values, form = {}, None
    if move and (move.requires or move.offers):
        form = _move_form(move, ticket, request.POST)
        form.is_valid()
        values = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
    try:
        services.ticket_transition(
            ticket=ticket, to=to, actor=request.user, version=posted_version(request), values=values
        )
    except DomainError as exc:
        in_preview = _from_preview(request)
        if form is None:  # a plain button: nothing typed to keep; the message shows above the page (or preview)
            return _preview(request, ticket.key, error=exc) if in_preview else _workspace(request, ticket, error=exc)
        refused = {"target": move.target, "form": form, "error": exc.message}
        m = {"move": move, **refused, "open": True}
        return _refused(request, ticket, "move-form", exc.status, m=m, refused_move=refused, preview=in_preview)
    notice = f"{ticket.key} is now “{Status(to).label}”."
    if _from_preview(request):
        return _tell(_preview(request, ticket.key, notice=notice), LIST_CHANGED)
    return _workspace(request, ticket, notice=notice)


@staff_only
def ticket_field(request, key, name):
    """Inline edit of one field: GET gives its form, POST saves it under the version check."""
    ticket = ticket_or_404(request.user, key)
    if name not in editable_fields(ticket.kind) and name != "owner":  # the owner: `services.ticket_set_owner`
        raise Http404("Not an editable field of this kind.")
    form_class = field_form_class(name)
    editor = {"ticket": ticket, "name": name, "multiline": name in TEXT_FIELDS,
              "reapproval": _reapproval_text(ticket, name)}
    if request.method == "GET":
        form = form_class(initial={name: getattr(ticket, name)}, auto_id="id_edit_%s")
        return render(request, f"{WORKSPACE}#field-form", {**editor, "form": form})
    form = form_class(request.POST, auto_id="id_edit_%s")
    if not form.is_valid():
        response = render(
            request, f"{WORKSPACE}#field-form", {**editor, "form": form}, status=400
        )
        if request.htmx:
            retarget(response, f"#f-{name}")
            reswap(response, "innerHTML")
        return response
    value = form.cleaned_data[name]
    try:
        if name == "assignee":
            services.ticket_assign(
                ticket=ticket,
                actor=request.user,
                assignee=value,
                version=posted_version(request),
                take_over=request.POST.get("take_over") == "1",
            )
        elif name == "owner":
            services.ticket_set_owner(ticket=ticket, actor=request.user, owner=value, version=posted_version(request))
        else:
            services.ticket_update(
                ticket=ticket, actor=request.user, version=posted_version(request) or 0, changes={name: value}
            )
    except StaleVersion as exc:
        # The refused value stays on screen, so nothing typed is lost when someone else saved first.
        unsaved = {"label": form[name].label, "value": _shown(form.fields[name], value)}
        return _workspace(request, ticket, error=exc, unsaved=unsaved)
    except DomainError as exc:
        form.add_error(None, exc.message)
        response = render(
            request, f"{WORKSPACE}#field-form", {**editor, "form": form}, status=exc.status
        )
        if request.htmx:
            retarget(response, f"#f-{name}")
            reswap(response, "innerHTML")
        return response
    return _workspace(request, ticket, notice=f"{form[name].label} saved.")


def _reapproval_text(ticket, name) -> str:
    """What saving this field costs in the ticket's state: a new approval (said before the agent saves)."""
    if not needs_reapproval(ticket.kind, ticket.status, [name]):
        return ""
    back_to = field_lock(ticket.kind, name).back_to
    if back_to == ticket.status:
        return "Saving starts a new approval round: the votes so far no longer count."
    return f"Saving sends {ticket.key} back to “{Status(back_to).label}” for a new approval."


def _shown(field, value) -> str:
    """A field's value as the user chose it: the label of a choice, the name of a related row."""
    if value in (None, ""):
        return "—"
    choices = dict(getattr(field, "choices", None) or []) if not hasattr(field, "queryset") else {}
    return str(choices.get(value, value))


@require_POST
def ticket_comment(request, key):
    ticket = ticket_or_404(request.user, key)
    form = CommentForm(request.POST)
    staff = access.is_staff_member(request.user)
    if form.is_valid():
        try:
            macro = _macro(request.user, form.cleaned_data["macro"]) if staff else None
            if macro is not None:
                services.ticket_reply_with_macro(
                    ticket=ticket, actor=request.user, macro=macro, body=form.cleaned_data["body"]
                )
            else:
                services.ticket_comment(
                    ticket=ticket,
                    actor=request.user,
                    body=form.cleaned_data["body"],
                    internal=form.cleaned_data["internal"],
                    files=request.FILES.getlist("files"),
                )
        except DomainError as exc:
            form_errors(form, exc)
            if not staff:
                messages.error(request, exc.message)
                return redirect(extensions.ticket_url(request.user, ticket.key))
            return _refused(request, ticket, "comment-form", exc.status, comment_form=form,
                            macro=_macro(request.user, form.cleaned_data["macro"]))
        else:
            if not staff:
                messages.success(request, "Your comment was added.")
                return redirect(extensions.ticket_url(request.user, ticket.key))
            return _workspace(request, ticket, notice="Comment added.")
    if not staff:
        messages.error(request, "Write something before sending.")
        return redirect(extensions.ticket_url(request.user, ticket.key))
    return _refused(request, ticket, "comment-form", 400, comment_form=form)


@staff_only
@require_POST
def ticket_link(request, key):
    ticket = ticket_or_404(request.user, key)
    form = LinkForm(request.POST)
    if not form.is_valid():
        return _refused(request, ticket, "link-form", 400, link_form=form)
    try:
        target = selectors.ticket_for_user(request.user, form.cleaned_data["key"])
        link = services.ticket_link(
            source=ticket, target=target, type=form.cleaned_data["type"], actor=request.user
        )
    except DomainError as exc:
        form_errors(form, exc)
        return _refused(request, ticket, "link-form", exc.status, link_form=form)
    return _workspace(request, ticket, notice=f"Linked: {ticket.key} {link.get_type_display().lower()} {target.key}.")


@staff_only
@require_POST
def ticket_unlink(request, key, link_id):
    ticket = ticket_or_404(request.user, key)
    link = get_object_or_404(
        Link.objects.select_related("source", "target"), Q(source=ticket) | Q(target=ticket), pk=link_id
    )
    try:
        services.ticket_unlink(link=link, actor=request.user)
    except DomainError as exc:
        return _workspace(request, ticket, error=exc)
    return _workspace(request, ticket, notice="Link removed.")


def _row_or_workspace(request, ticket, action, done: str, offer_take_over: bool = False):
    """A row action of the queue re-renders its row; on the ticket page, the workspace. `done` may name
    the ticket as the action left it ({group}, {assignee}). When taking a ticket is refused because
    someone else holds it or it is with another group, the answer offers to take it over, explicitly."""
    in_row = bool(request.htmx and (request.htmx.target or "").startswith("row-"))
    try:
        result = action()
    except DomainError as exc:
        take_over = offer_take_over and "assignee" in exc.fields
        if in_row:
            return _row_response(request, ticket, exc, take_over=take_over)
        return _workspace(request, ticket, error=exc, offer_take_over=take_over)
    notice = done.format(key=ticket.key, group=result.group or "no group", assignee=result.assignee or "nobody")
    return _row_response(request, ticket, notice=notice) if in_row else _workspace(request, ticket, notice=notice)


@staff_only
@require_POST
def ticket_assign_me(request, key):
    ticket = ticket_or_404(request.user, key)
    return _row_or_workspace(
        request,
        ticket,
        lambda: services.ticket_assign(
            ticket=ticket,
            actor=request.user,
            assignee=request.user,
            version=posted_version(request),
            take_over=request.POST.get("take_over") == "1",
        ),
        "{key} is now assigned to you.",
        offer_take_over=True,
    )


@staff_only
@require_POST
def ticket_escalate(request, key):
    ticket = ticket_or_404(request.user, key)
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
            version=posted_version(request),
        ),
        "Escalated {key} to {group}.",
    )


@require_GET
def ticket_changes(request, key):
    """Polled by an open page: a banner when someone else changed the ticket since it was loaded."""
    ticket = ticket_or_404(request.user, key)
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
    url = extensions.ticket_url(request.user, ticket.key)
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
                    actor=request.user, kind=form.kind, title=form.cleaned_data["title"],
                    files=request.FILES.getlist("files"), **form.values()
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
                for name, errors in exc.fields.items():
                    if name in form.fields:
                        for err in errors:
                            form.add_error(name, err)
            else:
                messages.success(request, f"{ticket.key} created.")
                return redirect("tracker:ticket", key=ticket.key)
        status = 400
    else:
        form = TicketCreateForm(kind=kind, initial={"kind": kind})
        status = 200
    shortcuts = [s for s in extensions.registry.create_shortcuts if s.kind == form.kind]
    ctx = {"nav": "new", "form": form, "priority": _priority_text(form), "shortcuts": shortcuts}
    if request.htmx and request.htmx.target == "kind-fields":
        return render(request, "tracker/ticket_new.html#kind-fields", ctx)
    return render(request, "tracker/ticket_new.html", ctx, status=status)


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
    return render(request, "tracker/ticket_new.html#priority", {"priority": _priority_text(form)})


@staff_only
@require_GET
def requester_suggestions(request):
    """Suggestions under the new-ticket form's requester box while the agent types."""
    text = request.GET.get("requester", "").strip()
    people = selectors.requester_search(user=request.user, text=text) if len(text) >= 2 else []
    return render(request, "tracker/ticket_new.html#requester-suggestions", {"people": people, "query": text})


@require_GET
def similar_tickets(request):
    service = request.GET.get("service", "")
    rows = selectors.similar_open(
        user=request.user,
        title=request.GET.get("title", ""),
        service_id=int(service) if service.isdigit() else None,
    )
    return render(request, "tracker/ticket_new.html#similar", {"similar": rows})




# --- global search ------------------------------------------------------------------------------------


@require_GET
def search(request):
    """One box for tickets, people, services and knowledge articles (the palette on Ctrl-K, or this page
    without JavaScript); a ticket key that matches opens that ticket."""
    text = request.GET.get("q", "")
    hits = selectors.global_search(user=request.user, text=text)
    if request.htmx:
        return render(request, "tracker/search.html#results", {"hits": hits, "q": text})
    if hits and hits[0].score >= 100 and request.GET.get("jump", "1") == "1":
        return redirect(hits[0].url)  # jump to the key
    return render(request, "tracker/search.html", {"hits": hits, "q": text, "nav": "search"})


# --- macros ---------------------------------------------------------------------------------------------


def _macro(user, macro_id):
    if not macro_id:
        return None
    return next((m for m in selectors.macros_for(user) if m.pk == macro_id), None)


@staff_only
@require_GET
def ticket_macro(request, key):
    """The comment box filled from a macro (its variables filled in), ready to edit and send."""
    ticket = ticket_or_404(request.user, key)
    raw = request.GET.get("macro", "")
    macro = _macro(request.user, int(raw)) if raw.isdigit() else None
    initial = {"body": request.GET.get("body", "")}  # back to no macro: what was typed stays
    if macro is not None:
        initial = {"body": services.macro_render(macro=macro, ticket=ticket, actor=request.user), "macro": macro.pk,
                   "internal": macro.internal}
    form = CommentForm(initial=initial)
    ctx = {"ticket": ticket, "comment_form": form, "macro": macro, "macros": selectors.macros_for(request.user),
           "can": {"internal_note": access.may(request.user, "internal_note", ticket)}}
    return render(request, f"{WORKSPACE}#comment-form", ctx)


# --- saved queue views ------------------------------------------------------------------------------------


def _views_nav(request, status=200, **extra):
    """The queue's views with their counts, and the top bar's pinned views with theirs (out of band)."""
    my_views = selectors.queue_views_for(request.user)
    counts = selectors.view_counts(user=request.user, now=timezone.now(), saved=my_views)
    pins = selectors.pinned_views(request.user, my_views)
    view = selectors.saved_view(request.GET.get("view"))
    saved = selectors.saved_in_use(my_views, request.GET.get("saved"))
    ctx = {"views": selectors.saved_views(), "my_views": my_views, "counts": counts, "pins": pins,
           "pinned": {p["ref"] for p in pins}, "view": view, "saved": saved,
           "current_ref": selectors.view_ref(saved or view), "pins_by_queue": True, **extra}
    return render(request, f"{QUEUE}#views-nav", ctx, status=status)


@staff_only
@require_GET
def queue_counts(request):
    """The views' pills with their counts (loaded after the page, so the queue itself stays fast)."""
    return _views_nav(request)


@staff_only
def queue_pins(request):
    """GET: the top bar's pinned views with their counts (loaded after any page, then polled).
    POST: pin the view named by `ref` (or unpin it with `pinned=0`); the queue's views answer."""
    if request.method == "POST":
        ref, pinned = request.POST.get("ref", ""), request.POST.get("pinned", "1") == "1"
        try:
            services.queue_pin(actor=request.user, ref=ref, pinned=pinned)
        except DomainError as exc:
            if not request.htmx:
                messages.error(request, exc.message)
                return _back_to_queue(request)
            return _views_nav(request, status=exc.status, pin_error=exc.message)
        notice = "Pinned to the top bar." if pinned else "Unpinned from the top bar."
        if not request.htmx:
            messages.success(request, notice)
            return _back_to_queue(request)
        return _views_nav(request, notice=notice)
    my_views = selectors.queue_views_for(request.user)
    pins = selectors.pinned_views(request.user, my_views)
    counts = selectors.view_counts(user=request.user, now=timezone.now(), saved=my_views,
                                   only={p["ref"] for p in pins})
    return render(request, f"{QUEUE}#pins", {"pins": pins, "counts": counts})


def _back_to_queue(request):
    """Without JavaScript, a queue form goes back to the page it was sent from (`next`, on this site only)."""
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        target = reverse("tracker:queue")
    return redirect(target)


@staff_only
@require_POST
def queue_columns(request):
    """Keep the columns the picker sends (`columns`, in the order of `order`) for me, or with `target=view`
    for the saved view `view` and everyone who opens it; `reset` goes back to the defaults. Without
    JavaScript, `move=<column>:up|down` moves one column and saves."""
    my_views = selectors.queue_views_for(request.user)
    saved = selectors.saved_in_use(my_views, request.POST.get("view"))
    for_view = saved if request.POST.get("target") == "view" else None
    order = request.POST.getlist("order")
    chosen = set(request.POST.getlist("columns"))
    move = request.POST.get("move", "")
    if ":" in move:  # the picker's up/down buttons, without JavaScript
        name, way = move.rsplit(":", 1)
        if name in order:
            i = order.index(name)
            j = i - 1 if way == "up" else i + 1
            if 0 <= j < len(order):
                order[i], order[j] = order[j], order[i]
    columns = [n for n in order if n in chosen] + [n for n in request.POST.getlist("columns") if n not in order]
    try:
        kept = services.queue_columns_save(actor=request.user, view=for_view,
                                           columns=None if request.POST.get("reset") else columns)
    except DomainError as exc:
        if not request.htmx:
            messages.error(request, exc.message)
            return _back_to_queue(request)
        known = {c.slug: c for c in selectors.queue_columns()}
        shown = [known[n] for n in columns if n in known]  # what was ticked stays ticked, in its order
        return _picker(request, saved, shown, status=exc.status, picker_error=exc.message)
    if for_view is not None:
        notice = (f"The view “{saved.name}” shows these columns to everyone who opens it." if kept else
                  f"The view “{saved.name}” shows each person their own columns.")
    else:
        notice = "Your columns are saved." if kept else "Your columns are back to the defaults."
    if not request.htmx:
        messages.success(request, notice)
        return _back_to_queue(request)
    shown = selectors.columns_for(request.user, saved)
    return _tell(_picker(request, saved, shown, notice=notice), LIST_CHANGED)


def _picker(request, saved, shown, status=200, **extra):
    ctx = {"saved": saved, "columns": shown, "column_choices": selectors.column_choices(shown),
           "next": request.POST.get("next", ""), **extra}
    return render(request, f"{QUEUE}#column-picker", ctx, status=status)


@staff_only
@require_POST
def queue_layout(request):
    """Switch the split view (list and ticket preview side by side) on or off, remembered for the person."""
    try:
        services.queue_layout_save(actor=request.user, split=request.POST.get("split") == "1")
    except DomainError as exc:
        messages.error(request, exc.message)
        return _back_to_queue(request)
    if not request.htmx:
        return _back_to_queue(request)
    return render(request, f"{QUEUE}#split-toggle", {"split": request.user.queue_split,
                                                      "next": request.POST.get("next", "")})


def _from_preview(request) -> bool:
    return request.POST.get("preview") == "1"


def _preview(request, key: str, *, status=200, **extra):
    """The split view's preview of a ticket: header, properties, description, the latest timeline entries and
    the workflow's next step; read (as it is now) in a constant number of queries."""
    ticket = _page_ticket(request.user, key)
    user = request.user
    moves = move_forms(ticket, user)
    ctx = {"ticket": ticket, "now": timezone.now(), "preview": True,
           "latest": selectors.ticket_latest_events(ticket=ticket, user=user),
           "primary": next((m for m in moves if m["primary"]), None), "more_moves": len(moves) > 1, **extra}
    error = extra.get("error")
    response = render(request, f"{QUEUE}#preview", ctx, status=error.status if error else status)
    # a move's form targets itself; what changed is the whole preview
    return _swapped(response, "#preview", "innerHTML") if request.htmx else response


def _swapped(response, target: str, swap: str = "outerHTML"):
    """Send an htmx answer somewhere else than where its form asked (`target`, swapped by `swap`)."""
    retarget(response, target)
    reswap(response, swap)
    return response


@staff_only
@require_GET
def ticket_preview(request, key):
    if not request.htmx:  # the preview lives in the queue's split view; on its own, the ticket page is better
        return redirect("tracker:ticket", key=ticket_or_404(request.user, key).key)
    return _preview(request, key)


@staff_only
@require_POST
def queue_view_new(request):
    """Save the queue's current query as a named view, for me or one of my teams."""
    group_id = request.POST.get("share", "")
    group = AssignmentGroup.objects.filter(pk=group_id).first() if group_id.isdigit() else None
    query = QueryDict(request.POST.get("query", ""))
    columns = None
    if request.POST.get("with_columns"):  # the columns the queue shows now (its saved view's, or mine)
        in_use = selectors.saved_in_use(selectors.queue_views_for(request.user), query.get("saved"))
        columns = [c.slug for c in selectors.columns_for(request.user, in_use)]
    try:
        saved = services.queue_view_save(actor=request.user, name=request.POST.get("name", ""),
                                         query=query, group=group, columns=columns)
    except DomainError as exc:
        ctx = {"save_error": exc.message, "save_name": request.POST.get("name", ""),
               "save_query": request.POST.get("query", ""), "groups": selectors.groups_of(request.user),
               "save_with_columns": bool(request.POST.get("with_columns"))}
        return render(request, f"{QUEUE}#save-view", ctx, status=exc.status)
    if not request.htmx:
        return redirect(f"{reverse('tracker:queue')}?{saved.query}&saved={saved.pk}")
    response = _views_nav(request, notice=f"Saved the view “{saved.name}”" + (
        f", shared with {saved.group.name}." if saved.group_id else "."))
    return _swapped(response, "#views-nav")


@staff_only
@require_POST
def queue_view_remove(request, view_id):
    view = get_object_or_404(QueueView.objects.select_related("group"), pk=view_id)
    try:
        services.queue_view_delete(actor=request.user, view=view)
    except DomainError as exc:
        return _views_nav(request, notice=exc.message, status=exc.status)
    return _views_nav(request, notice=f"Deleted the view “{view.name}”.")


# --- swarming and work logs: the Swarm panel and its forms ---------------------------------------------------

SWARM_PANEL = "tracker/panel_swarm.html"


def swarm_panel(*, request, ticket, now):
    """Who contributes to the ticket (and who did) and what this viewer may do: invite (in a swarming team),
    leave, record help, log work. One query (the contributors); the time logged is summed from the page's
    timeline (`work_total`). The Invite form shows to every agent of a swarming team's ticket: the domain
    function tells a non-member why not, in place."""
    user = request.user
    rows = selectors.ticket_contributors(ticket=ticket, user=user)
    swarming = bool(ticket.group_id and ticket.group.swarming)
    dispatcher = access.role_of(user) in (Role.MANAGER, Role.ADMIN) or bool(
        ticket.group_id and ticket.group.manager_id == user.pk)
    for row in rows:
        row.can_leave = row.left_at is None and (
            row.user_id == user.pk or row.invited_by_id == user.pk or bool(row.group_id and row.mine) or dispatcher)
    active = [r for r in rows if r.left_at is None]
    helping = any(r.user_id == user.pk or (r.group_id and r.mine) for r in active)
    # an expert already on the swarm is not of the team that invites (unless they dispatch work)
    can_invite = swarming and ticket.is_open and access.may(user, "assign", ticket) and (dispatcher or not helping)
    return {
        "active": active,
        "past": [r for r in rows if r.left_at is not None],
        "swarming": swarming,
        "can_invite": can_invite,
        "helping": helping,
        # the panel shows the invite and help forms only to those who may use them: built only for them
        "invite_form": InviteForm(auto_id="id_invite_%s", renderer=FAST) if can_invite else None,
        "help_form": HelpForm(auto_id="id_help_%s", renderer=FAST) if helping else None,
        "work_form": _blank_work_form(timezone.get_current_timezone_name()),
    }


@lru_cache(maxsize=64)
def _blank_work_form(zone: str) -> WorkLogForm:
    """The Swarm panel's empty work log form, shown on every ticket page: one per process and time zone (its help
    names the viewer's zone), not a copy of every field per page. A refused form comes in its own context."""
    return share_blank(WorkLogForm(auto_id="id_work_%s", renderer=FAST))


def _panel_refused(request, ticket, partial: str, form, exc: DomainError | None, name: str):
    """A refused Swarm panel form: with htmx that form again (message above it, what was typed kept)."""
    if exc is not None:
        form_errors(form, exc)
    status = exc.status if exc is not None else 400
    if request.htmx:
        ctx = {"ticket": ticket, name: form, "panel": {name: form},
               "escalation_groups": selectors.escalation_groups(ticket)}
        return render(request, f"{SWARM_PANEL}#{partial}", ctx, status=status)
    response = _workspace(request, ticket, **{name: form})
    response.status_code = status
    return response


@staff_only
@require_POST
def ticket_invite(request, key):
    ticket = ticket_or_404(request.user, key)
    form = InviteForm(request.POST, auto_id="id_invite_%s")
    if not form.is_valid():
        return _panel_refused(request, ticket, "invite-form", form, None, "invite_form")
    data = form.cleaned_data
    try:
        contributor = services.contributor_invite(ticket=ticket, actor=request.user, user=data["person"],
                                                  group=data["group"], note=data["note"])
    except DomainError as exc:
        return _panel_refused(request, ticket, "invite-form", form, exc, "invite_form")
    return _workspace(request, ticket, notice=f"{contributor.name} now contributes to {ticket.key}.")


@staff_only
@require_POST
def ticket_leave(request, key, contributor_id):
    ticket = ticket_or_404(request.user, key)
    contributor = get_object_or_404(Contributor.objects.select_related("user", "group", "ticket__group"),
                                    pk=contributor_id, ticket=ticket)
    try:
        services.contributor_leave(contributor=contributor, actor=request.user, note=request.POST.get("note", ""))
    except DomainError as exc:
        return _workspace(request, ticket, error=exc)
    return _workspace(request, ticket, notice=f"{contributor.name} left the swarm on {ticket.key}.")


@staff_only
@require_POST
def ticket_help(request, key):
    ticket = ticket_or_404(request.user, key)
    form = HelpForm(request.POST, auto_id="id_help_%s")
    if not form.is_valid():
        return _panel_refused(request, ticket, "help-form", form, None, "help_form")
    try:
        services.contribution_record(ticket=ticket, actor=request.user, **form.cleaned_data)
    except DomainError as exc:
        return _panel_refused(request, ticket, "help-form", form, exc, "help_form")
    return _workspace(request, ticket, notice="Your help is on the timeline.")


@staff_only
@require_POST
def ticket_worklog(request, key):
    ticket = ticket_or_404(request.user, key)
    form = WorkLogForm(request.POST, auto_id="id_work_%s")
    if not form.is_valid():
        return _panel_refused(request, ticket, "work-form", form, None, "work_form")
    data = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
    try:
        log = services.worklog_add(ticket=ticket, actor=request.user, **data)
    except DomainError as exc:
        return _panel_refused(request, ticket, "work-form", form, exc, "work_form")
    return _workspace(request, ticket, notice=f"Logged {log.minutes} min on {ticket.key}.")


def swarm_row(event) -> str:
    """A swarm step on the timeline: someone invited, the help they recorded, their leaving."""
    steps = {"invited": ("Brought in {} to swarm", "users"), "helped": ("{} helped", "life-buoy"),
             "left": ("{} left the swarm", "log-out")}
    text, name = steps.get(event.field, ("Swarm: {}", "users"))
    head = format_html(text, format_html("<strong>{}</strong>", event.new))
    return format_html("{} {}{}", icon(name), head, format_html(" — {}", event.note) if event.note else "")


def work_row(event) -> str:
    """Time logged on the timeline: "Logged 1h 30m for Payroll Dev — what was done"."""
    minutes = int(event.new) if event.new.isdigit() else 0
    return format_html("{} Logged <strong>{}</strong>{}{}", icon("clock"), duration(minutes * 60),
                       format_html(" for {}", event.old) if event.old else "",
                       format_html(" — {}", event.note) if event.note else "")


# --- attachments: the ticket page's Attachments panel, its upload and remove, and serving the files -----------

ATTACHMENTS_PANEL = "tracker/panel_attachments.html"
# A file is never a page of the app: no script, no style, no form, no plug-in, no frame, in a sandbox of its own.
FILE_POLICY = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


def attachments_panel(*, request, ticket, now):
    """The Attachments panel: the files (read once for the page, `attachments`) and the upload form."""
    return {"can_internal": access.may(request.user, "internal_note", ticket)}


def attachment_response(attachment) -> FileResponse:
    """A stored file as a response, streamed from the default storage (the filesystem or S3 alike): images and
    PDF inline, anything else as a download under its own name; never sniffed, cached only by the browser."""
    inline = attachment.opens_inline
    response = FileResponse(attachment.file.open("rb"), as_attachment=not inline, filename=attachment.name,
                            content_type=attachment.content_type if inline else _download_type(attachment))
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_POLICY  # set here, so the page policy is not applied instead
    response["Cache-Control"] = "private"
    return response


def _download_type(attachment) -> str:
    kind = attachment.content_type or ""
    # what a browser would run if it ever opened it: sent as plain bytes
    if any(part in kind for part in ("html", "xml", "svg", "javascript", "ecmascript")):
        return "application/octet-stream"
    return kind or "application/octet-stream"


@require_GET
def attachment_download(request, pk, name):
    """A file of a ticket, to whoever may see it (anyone else: 404, so ids do not leak)."""
    try:
        attachment = selectors.attachment_for_user(request.user, pk)
    except NotFound:
        raise Http404("No such file.") from None
    if attachment.name != name:
        raise Http404("No such file.")
    return attachment_response(attachment)


@require_POST
def ticket_attach(request, key):
    """The panel's upload: several files at once, all or nothing; a refusal shows in the form, in place."""
    ticket = ticket_or_404(request.user, key)
    internal = request.POST.get("internal") == "on"
    files = request.FILES.getlist("files")
    try:
        added = services.attachments_add(ticket=ticket, actor=request.user, files=files, internal=internal)
    except DomainError as exc:
        if not access.is_staff_member(request.user):
            messages.error(request, exc.message)
            return redirect(extensions.ticket_url(request.user, ticket.key))
        if request.htmx:
            ctx = {"ticket": ticket, "attach_error": exc.message, "attach_internal": internal,
                   "panel": attachments_panel(request=request, ticket=ticket, now=timezone.now())}
            return render(request, f"{ATTACHMENTS_PANEL}#attach-form", ctx, status=exc.status)
        return _workspace(request, ticket, status=exc.status, attach_error=exc.message, attach_internal=internal)
    names = ", ".join(a.name for a in added)
    if not access.is_staff_member(request.user):
        messages.success(request, f"Attached {names}.")
        return redirect(extensions.ticket_url(request.user, ticket.key))
    return _workspace(request, ticket, notice=f"Attached {names}.")


@require_POST
def attachment_remove(request, pk):
    try:
        attachment = selectors.attachment_for_user(request.user, pk)
    except NotFound:
        raise Http404("No such file.") from None
    ticket = attachment.ticket
    staff = access.is_staff_member(request.user)
    try:
        services.attachment_remove(attachment=attachment, actor=request.user)
    except DomainError as exc:
        if not staff:
            messages.error(request, exc.message)
            return redirect(extensions.ticket_url(request.user, ticket.key))
        return _workspace(request, ticket, error=exc)
    if not staff:
        messages.success(request, f"Removed {attachment.name}.")
        return redirect(extensions.ticket_url(request.user, ticket.key))
    return _workspace(request, ticket, notice=f"Removed {attachment.name}.")


def attachment_row(event) -> str:
    """A file added to (or removed from) the ticket on the timeline: "added screen.png"."""
    if event.new:
        return format_html("{} added <strong>{}</strong>", icon("file-text"), event.new)
    return format_html("{} removed <strong>{}</strong>", icon("file-text"), event.old)
