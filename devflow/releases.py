"""Release pages: the list per service, planning a release, and one release's page (plan, what it ships, notes
with a live preview, review, UAT sign-off, publish, ship, and what happened on the service since it shipped).

Each POST calls one domain function of `devflow.services.releases`. With HTMX a success re-renders the page's
main part; a refusal re-renders only the part whose form was refused (its message in place, what was typed
kept), so the notes being written elsewhere on the page are untouched.
"""

from datetime import date

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_htmx.http import reswap, retarget

from tracker.access import staff_only
from tracker.errors import DomainError, ValidationFailed
from tracker.models import Service
from tracker.views import ticket_or_404

from . import selectors as q
from .services import releases as rel

PAGE = "devflow/release.html"


def _date(value: str, field: str) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed("Write the planned date as YYYY-MM-DD.", fields={field: ["Not a date."]}) from None


def _release_or_404(pk: int):
    release = q.release_get(pk)
    if release is None:
        raise Http404("No such release.")
    return release


@staff_only
def release_list(request):
    chosen = request.GET.get("service", "")
    service_id = int(chosen) if chosen.isdigit() else None
    planned, shipped = q.release_list(service_id=service_id)
    ctx = {"nav": "releases", "planned": planned, "shipped": shipped, "service": chosen,
           "services": Service.objects.order_by("name"), "may_create": rel.may_manage(request.user)}
    if request.htmx and request.htmx.target == "release-results":
        return render(request, "devflow/releases.html#results", ctx)
    return render(request, "devflow/releases.html", ctx)


@staff_only
def release_new(request):
    ctx = {"nav": "releases", "services": Service.objects.order_by("name"), "typed": {}, "error": None,
           "fields": {}}
    if request.method == "POST":
        typed = {k: request.POST.get(k, "") for k in ("service", "version", "name", "planned_for")}
        ctx["typed"] = typed
        try:
            service = Service.objects.filter(pk=typed["service"]).first() if typed["service"].isdigit() else None
            release = rel.release_create(actor=request.user, service=service, version=typed["version"],
                                         name=typed["name"], planned_for=_date(typed["planned_for"], "planned_for"))
        except DomainError as exc:
            ctx.update(error=exc.message, fields=exc.fields)
            return render(request, "devflow/release_new.html", ctx, status=exc.status)
        messages.success(request, f"{rel.label(release)} planned.")
        return redirect("devflow:release", pk=release.pk)
    if not rel.may_manage(request.user):
        ctx["error"] = "Only 2nd-line agents, 3rd-line engineers, the change manager and managers plan releases."
    return render(request, "devflow/release_new.html", ctx)


def _context(request, release, **extra) -> dict:
    user = request.user
    ctx = {
        "nav": "releases",
        "now": timezone.now(),
        "release": release,
        "label": rel.label(release),
        "tickets": q.release_tickets(release),
        "since": q.incidents_since(release),
        "may_edit": rel.may_edit(user, release),
        "may_review": rel.may_review(user, release),
        "may_sign_uat": rel.may_sign_uat(user, release),
        "may_publish": rel.may_publish(user, release),
        "may_ship": rel.may_ship(user, release),
        "typed": {},
        "errors": {},
        **extra,
    }
    ctx["notes"] = ctx["typed"].get("notes", release.notes) if "editor" in ctx["errors"] else release.notes
    return ctx


@staff_only
def release_page(request, pk):
    release = _release_or_404(pk)
    return render(request, PAGE, _context(request, release))


def _done(request, release, flash: str):
    """After a success: the main part again (HTMX), or the whole page."""
    if request.htmx:
        return render(request, f"{PAGE}#main", _context(request, release, flash=flash))
    messages.success(request, flash)
    return redirect("devflow:release", pk=release.pk)


def _refused(request, release, part: str, exc: DomainError, typed: dict):
    """A refusal: the refused part with its message and what was typed; without HTMX the whole page."""
    ctx = _context(request, release, errors={part: exc.message}, typed=typed)
    if request.htmx:
        response = render(request, f"{PAGE}#{part}", ctx, status=exc.status)
        retarget(response, f"#release-{part}")
        reswap(response, "outerHTML")
        return response
    return render(request, PAGE, ctx, status=exc.status)


@staff_only
@require_POST
def release_edit(request, pk):
    release = _release_or_404(pk)
    typed = {k: request.POST.get(k, "") for k in ("name", "planned_for", "notes", "revision")}
    try:
        planned = _date(typed["planned_for"], "planned_for")
        revision = int(typed["revision"]) if typed["revision"].isdigit() else 0
        rel.release_update(release=release, actor=request.user, revision=revision, name=typed["name"],
                           planned_for=planned, clear_planned_for=planned is None, notes=typed["notes"])
    except DomainError as exc:
        return _refused(request, release, "editor", exc, typed)
    return _done(request, release, f"{rel.label(release)} saved.")


@staff_only
@require_POST
def release_preview(request, pk):
    _release_or_404(pk)
    return render(request, f"{PAGE}#preview", {"notes": request.POST.get("notes", "")})


@staff_only
@require_POST
def release_assemble(request, pk):
    release = _release_or_404(pk)
    revision = request.POST.get("revision", "")
    try:
        rel.release_notes_assemble(release=release, actor=request.user,
                                   revision=int(revision) if revision.isdigit() else 0)
    except DomainError as exc:
        return _refused(request, release, "tickets", exc, {})
    return _done(request, release, "Notes assembled from the tickets; read them and adjust the words.")


@staff_only
@require_POST
def release_add(request, pk):
    release = _release_or_404(pk)
    key = request.POST.get("key", "")
    try:
        ticket = rel.release_add_ticket(release=release, actor=request.user, key=key)
    except DomainError as exc:
        return _refused(request, release, "tickets", exc, {"key": key})
    return _done(request, release, f"{ticket.key} added to {rel.label(release)}.")


@staff_only
@require_POST
def release_remove(request, pk, key):
    release = _release_or_404(pk)
    ticket = ticket_or_404(request.user, key)
    try:
        rel.release_remove_ticket(release=release, actor=request.user, ticket=ticket)
    except DomainError as exc:
        return _refused(request, release, "tickets", exc, {})
    return _done(request, release, f"{ticket.key} taken out of {rel.label(release)}.")


@staff_only
@require_POST
def release_step(request, pk, step):
    """Review, UAT sign-off, publish or ship: one button (UAT with its note) each."""
    release = _release_or_404(pk)
    typed = {"uat_note": request.POST.get("uat_note", "")}
    revision = request.POST.get("revision", "")
    revision = int(revision) if revision.isdigit() else 0
    try:
        if step == "review":
            rel.release_notes_review(release=release, actor=request.user, revision=revision)
            flash = "Notes reviewed."
        elif step == "uat":
            rel.release_uat_sign(release=release, actor=request.user, note=typed["uat_note"])
            flash = "UAT signed off; its fixed defects are verified."
        elif step == "publish":
            rel.release_publish(release=release, actor=request.user)
            flash = "Notes published to the desk."
        elif step == "ship":
            rel.release_ship(release=release, actor=request.user)
            flash = f"{rel.label(release)} shipped; the people waiting were told."
        else:
            raise Http404("No such step.")
    except DomainError as exc:
        return _refused(request, release, "steps", exc, typed)
    release = _release_or_404(pk)
    return _done(request, release, flash)


@staff_only
@require_POST
def ticket_add_to_release(request, key):
    """The ticket page's "Add to release": one of the open releases of the ticket's service."""
    ticket = ticket_or_404(request.user, key)
    pk = request.POST.get("release", "")
    release = q.release_get(int(pk)) if pk.isdigit() else None
    try:
        if release is None:
            raise ValidationFailed("Choose one of the service's open releases.")
        rel.release_add_ticket(release=release, actor=request.user, ticket=ticket)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("tracker:ticket", key=ticket.key)
    messages.success(request, f"{ticket.key} added to {rel.label(release)}.")
    return redirect(reverse("tracker:ticket", kwargs={"key": ticket.key}))
