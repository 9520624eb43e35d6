"""The request catalogue's pages: the portal's "Request something" (items of operational services grouped by
service, with a search), an item's form (ordered through `itsm.services.catalogue.request_order`; a refused order
shows each answer's message in place with everything typed kept), the desk's catalogue (staff-only items too, and
a requester picker to order on someone's behalf), and what a request ordered from the catalogue shows on the
requester's page and on the ticket page (item, answers, approval, fulfilment so far)."""

from itertools import groupby

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render

from tracker import access
from tracker.access import staff_only
from tracker.errors import DomainError, NotFound, ValidationFailed
from tracker.models import User
from tracker.templatetags.icons import sprite_ids

from .choices import ApprovalState, FieldType
from .models import CatalogItem
from .services import catalogue as cat

ANSWER = "a-"  # form inputs of answers are named a-<question>, apart from the page's own inputs


def _icon(item: CatalogItem) -> CatalogItem:
    """The item's icon, or the package icon for a name the design system lacks (never a broken page)."""
    item.icon_name = item.icon if item.icon in sprite_ids() else "package"
    return item


def _groups(items) -> list[dict]:
    return [{"service": service, "items": list(rows)} for service, rows in groupby(items, key=lambda i: i.service)]


def _listing(request, *, desk: bool):
    text = request.GET.get("q", "").strip()[:100]
    items = [_icon(i) for i in cat.catalogue_items(user=request.user, text=text)]
    ctx = {"nav": "catalogue" if desk else "portal-catalogue", "q": text, "groups": _groups(items),
           "count": len(items), "desk": desk}
    if request.htmx and request.htmx.target == "catalogue-results":
        return render(request, "itsm/catalogue/list.html#results", ctx)
    return render(request, "itsm/catalogue/list.html", ctx)


def portal_catalogue(request):
    """"Request something": what a requester may order, grouped by service, searchable."""
    if access.is_staff_member(request.user) and request.GET.get("as") != "requester":
        return redirect("itsm:catalogue")
    return _listing(request, desk=False)


@staff_only
def desk_catalogue(request):
    """The desk's catalogue: every item of operational services, staff-only ones too."""
    return _listing(request, desk=True)


def _rows(item: CatalogItem, values: dict, errors: dict) -> list[dict]:
    """Each question with what was typed and its message, for the form's template."""
    rows = []
    for f in item.fields.all():
        value = values.get(f.name, "")
        rows.append({"f": f, "id": f"q-{f.name}", "name": f"{ANSWER}{f.name}", "value": value,
                     "checked": str(value).lower() in cat.YES if f.type == FieldType.YES_NO else False,
                     "errors": errors.get(f.name, []), "options": cat.choice_values(f)
                     if f.type == FieldType.CHOICE else []})
    return rows


def _item_page(request, item, *, desk: bool, values=None, errors=None, message="", requester_value="",
               status=200):
    errors = errors or {}
    _icon(item)
    rows = _rows(item, values or {}, errors)
    ctx = {"nav": "catalogue" if desk else "portal-catalogue", "item": item, "rows": rows, "desk": desk,
           "message": message, "errors": errors, "requester_value": requester_value,
           "requester_errors": errors.get("requester", []), "approver_errors": errors.get("approver", []),
           "item_errors": errors.get("item", []),
           "steps": cat.next_steps(item, None if desk else request.user),
           "bad_labels": [r["f"].label for r in rows if r["errors"]],
           "needs_people": desk or any(r["f"].type == FieldType.USER for r in rows)}
    if ctx["needs_people"]:
        ctx["people"] = list(cat.people_choices()[:500])
    return render(request, "itsm/catalogue/item.html", ctx, status=status)


def _order(request, pk, *, desk: bool):
    try:
        item = cat.catalogue_item(user=request.user, pk=pk)
    except NotFound:
        raise Http404("No such item in the catalogue.") from None
    if request.method != "POST":
        return _item_page(request, item, desk=desk)
    values = {k[len(ANSWER):]: v for k, v in request.POST.items() if k.startswith(ANSWER)}
    requester_value = request.POST.get("requester", "").strip() if desk else ""
    try:
        requester = _requester(requester_value) if desk else None
        ticket = cat.request_order(actor=request.user, item=item, answers=values, requester=requester)
    except DomainError as exc:
        return _item_page(request, item, desk=desk, values=values, errors=exc.fields, message=exc.message,
                          requester_value=requester_value, status=400)
    state = ("It waits for approval by " + ticket.catalog_request.approver.display_name
             if ticket.catalog_request.approval == ApprovalState.PENDING else "It is on its way")
    if desk:
        messages.success(request, f"{ticket.key} ordered for {ticket.requester.display_name}. {state}.")
        return redirect("tracker:ticket", key=ticket.key)
    messages.success(request, f"Thank you. {ticket.key} is ordered. {state}; this page shows each step.")
    return redirect("itsm:portal-ticket", key=ticket.key)


def _requester(text: str):
    """The person the desk orders for, by user name (empty: the agent themselves)."""
    if not text:
        return None
    user = User.objects.filter(username__iexact=text[:150], is_active=True).first()
    if user is None:
        raise ValidationFailed(f"No active person {text[:60]!r}; pick the requester from the list.",
                               fields={"requester": ["Pick someone from the list."]})
    return user


def portal_item(request, pk):
    if access.is_staff_member(request.user) and request.GET.get("as") != "requester":
        return redirect("itsm:catalogue-item", pk=pk)
    return _order(request, pk, desk=False)


@staff_only
def desk_item(request, pk):
    return _order(request, pk, desk=True)


# --- following a request --------------------------------------------------------------------------------------

_UNREAD = object()


def follow(ticket, request=_UNREAD) -> dict | None:
    """What a request ordered from the catalogue shows its requester and the desk: the item, the answers, the
    approval and the fulfilment so far (None: not ordered from the catalogue); `request`: already read."""
    request = cat.request_of(ticket) if request is _UNREAD else request
    if request is None:
        return None
    request.ticket = ticket
    return {"request": request, "item": request.item, "answers": cat.answers_read(request),
            "approval": cat.approval_text(request), "progress": cat.progress(request)}


def request_panel(*, request, ticket, now):
    """The ticket page's "Catalogue request" panel."""
    from .ui import catalog_request_of

    return follow(ticket, catalog_request_of(ticket))
