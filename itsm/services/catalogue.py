"""The request catalogue as people order from it: which items a person may order, the server's check of an
item's form (`answers_clean`), and ordering an item (`request_order`): one transaction makes the service request,
its catalogue record, its SLA policy pin and its first step (fulfilment, or the approver told). The reads the
catalogue's pages and API share live here too (the items for a viewer, a request's answers as people read them).

Refusals raise a `DomainError` whose message says what to fix; a form's refusal names every bad answer in
`fields`, by the question's name."""

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Prefetch, Q, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from sla.choices import NotificationKind
from sla.services import clocks_sync, notification_send, register_policy_chooser
from tracker import access
from tracker import services as core
from tracker.choices import EventKind, Kind, ServiceLifecycle
from tracker.errors import AccessDenied, NotFound, ValidationFailed
from tracker.models import Ticket, User
from tracker.precompiled import Precompiled

from ..choices import ApprovalMode, ApprovalState, AutomationState, CatalogAudience, FieldType, TaskState
from ..models import CatalogField, CatalogItem, CatalogRequest
from .fulfilment import approver_for, fulfilment_begin

TEXT_MAX = 200  # a text answer without its own limit
LONG_TEXT_MAX = 5000
YES = {"true", "on", "yes", "1"}
NO = {"false", "off", "no", "0", ""}
# The approval page the approver's link opens (`itsm:request-approval`, built with the approvals).
APPROVAL_PATH = "/approvals/requests/{key}/"


def approval_url(key: str) -> str:
    try:
        return reverse("itsm:request-approval", args=[key])
    except NoReverseMatch:
        return APPROVAL_PATH.format(key=key)


# --- reads --------------------------------------------------------------------------------------------------

def may_order(user, item: CatalogItem) -> bool:
    """Staff-only items are for the desk; everyone else orders the items for everyone."""
    return item.audience == CatalogAudience.EVERYONE or access.is_staff_member(user)


def catalogue_items(*, user, text: str = "") -> QuerySet:
    """The active items `user` may order, of operational services, with their service and form fields (two
    queries however many items); `text` matches name, summary, description and service name."""
    qs = (CatalogItem.objects.filter(active=True, service__lifecycle=ServiceLifecycle.OPERATIONAL)
          .select_related("service", "fulfilment_group", "approver")
          .prefetch_related(Prefetch("fields", queryset=CatalogField.objects.order_by("order", "id")))
          .order_by("service__name", "order", "name"))
    if not access.is_staff_member(user):
        qs = qs.filter(audience=CatalogAudience.EVERYONE)
    for word in (text or "").split()[:8]:
        qs = qs.filter(Q(name__icontains=word) | Q(summary__icontains=word) | Q(description__icontains=word)
                       | Q(service__name__icontains=word))
    return qs


def catalogue_item(*, user, pk) -> CatalogItem:
    """One item `user` may order (NotFound otherwise: an item they may not order is not shown to them)."""
    try:
        return catalogue_items(user=user).get(pk=pk)
    except (CatalogItem.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such item in the catalogue.") from None


def people_choices() -> QuerySet:
    """The active people a "person" question may name, by name."""
    return User.objects.filter(is_active=True).order_by("first_name", "last_name", "username").only(
        "pk", "username", "first_name", "last_name")


@dataclass
class Answer:
    label: str
    value: str
    type: str


def answers_read(request: CatalogRequest, *, fields: list[CatalogField] | None = None) -> list[Answer]:
    """The request's answers as people read them, in the form's order: people by name (one query for all),
    dates as dates, yes/no as words. Answers to questions removed since stay, under their key."""
    fields = list(request.item.fields.all()) if fields is None else fields
    answers = request.answers or {}
    user_ids = [answers[f.name] for f in fields if f.type == FieldType.USER and isinstance(answers.get(f.name), int)]
    names = {u.pk: u.display_name for u in User.objects.filter(pk__in=user_ids)} if user_ids else {}
    out = []
    for f in fields:
        if f.name not in answers:
            continue
        out.append(Answer(f.label, _shown(f, answers[f.name], names), f.type))
    known = {f.name for f in fields}
    out += [Answer(name, str(value), FieldType.TEXT) for name, value in answers.items() if name not in known]
    return out


def _shown(field: CatalogField, value, names: dict) -> str:
    if field.type == FieldType.USER:
        return names.get(value, f"person #{value}")
    if field.type == FieldType.YES_NO:
        return "Yes" if value else "No"
    if field.type == FieldType.DATE and value:
        try:
            return date.fromisoformat(value).strftime("%a %-d %b %Y")
        except (TypeError, ValueError):
            return str(value)
    return "" if value is None else str(value)


def _request_read(shape, *, ticket_id: int) -> QuerySet:
    return (CatalogRequest.objects.select_related("item__service", "item__fulfilment_group", "approver")
            .prefetch_related(Prefetch("item__fields", queryset=CatalogField.objects.order_by("order", "id")))
            .filter(ticket_id=ticket_id).order_by("pk")[:1])


# Asked on the page of every service request, most of them not from the catalogue: compiled once per process
# (building its four joins cost the page more than the database spent answering).
_compiled_request_read = Precompiled(_request_read)


def request_of(ticket: Ticket) -> CatalogRequest | None:
    """The ticket's catalogue record with its item, approver and fields (None: not ordered from the catalogue)."""
    if ticket.kind != Kind.REQUEST:
        return None
    found = _compiled_request_read(ticket_id=ticket.pk)
    return found[0] if found else None


def approval_text(request: CatalogRequest) -> str:
    """Where the approval stands, as the requester and the desk read it."""
    who = request.approver.display_name if request.approver_id else "nobody"
    if request.approval == ApprovalState.PENDING:
        return f"Waiting for approval by {who}"
    if request.approval == ApprovalState.APPROVED:
        return f"Approved by {who}"
    if request.approval == ApprovalState.REJECTED:
        reason = request.decision_note.strip()
        return f"Not approved by {who}" + (f": {reason}" if reason else "")
    return "No approval needed"


def progress(request: CatalogRequest) -> dict:
    """Fulfilment so far: tasks done of total, and the automation's state and result (two small reads)."""
    tasks = [{**t, "label": TaskState(t["state"]).label}
             for t in request.ticket.fulfilment_tasks.order_by("number").values("number", "title", "state")]
    done = sum(t["state"] == TaskState.DONE for t in tasks)
    return {"tasks": tasks, "done": done, "total": len(tasks),
            "automation": request.automation, "automation_label": AutomationState(request.automation).label,
            "result": request.result, "attempts": request.attempts}


def next_steps(item: CatalogItem, requester=None) -> list[str]:
    """What happens after ordering, in plain words: who approves, then who fulfils and how."""
    steps = []
    if item.approval == ApprovalMode.MANAGER:
        manager = getattr(requester, "manager", None) if requester is not None else None
        steps.append(f"Your line manager{f' ({manager.display_name})' if manager else ''} approves it first.")
    elif item.approval == ApprovalMode.NAMED:
        steps.append(f"{item.approver.display_name if item.approver_id else 'A named approver'} approves it first.")
    team = item.fulfilment_group.name if item.fulfilment_group_id else "the service desk"
    if item.handler:
        steps.append("Then it is fulfilled automatically, in minutes; the result shows on your request.")
    else:
        steps.append(f"Then {team} fulfils it; you follow each step on your request.")
    return steps


# --- the form -----------------------------------------------------------------------------------------------

def answers_clean(item: CatalogItem, data) -> dict:
    """The item's answers checked against its form, JSON-safe (dates ISO, numbers as numbers or decimal strings,
    people as ids, yes/no as booleans). Raises ValidationFailed naming every bad answer, unknown keys included."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValidationFailed("Send the answers as an object of question name to answer.",
                               fields={"answers": ["An object is expected."]})
    fields = list(item.fields.all())
    known = {f.name for f in fields}
    errors: dict[str, list[str]] = {}
    for key in data:
        if key not in known:
            errors[str(key)[:60]] = [f"This form has no question {str(key)[:60]!r}."]
    clean = {}
    for f in fields:
        try:
            value = _clean_one(f, data.get(f.name))
        except ValueError as exc:
            errors[f.name] = [str(exc)]
            continue
        if value is not None:
            clean[f.name] = value
    if errors:
        labels = {f.name: f.label for f in fields}
        said = "; ".join(f"{labels.get(name, name)}: {msgs[0]}" for name, msgs in errors.items())
        raise ValidationFailed(f"Check {'this answer' if len(errors) == 1 else f'{len(errors)} answers'}: {said}",
                               fields=errors)
    return clean


def _empty(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _clean_one(f: CatalogField, raw):
    """One answer, cleaned; None for an empty optional one; ValueError with what to fix."""
    if f.type == FieldType.YES_NO:
        value = _yes_no(raw)
        if f.required and not value:
            raise ValueError("Tick this box to go on.")
        return value
    if _empty(raw):
        if f.required:
            raise ValueError("This answer is required.")
        return None
    if f.type in (FieldType.TEXT, FieldType.LONG_TEXT):
        if not isinstance(raw, str):
            raise ValueError("Type text here.")
        value = raw.replace("\r\n", "\n").strip()
        limit = f.max_length or (TEXT_MAX if f.type == FieldType.TEXT else LONG_TEXT_MAX)
        if len(value) > limit:
            raise ValueError(f"Keep it to {limit} characters (this has {len(value)}).")
        if f.type == FieldType.TEXT and "\n" in value:
            raise ValueError("Keep it to one line.")
        if f.pattern and not _matches(f.pattern, value):
            raise ValueError(f.pattern_message or "This is not in the expected format.")
        return value
    if f.type == FieldType.CHOICE:
        options = choice_values(f)
        if not isinstance(raw, str | int) or isinstance(raw, bool) or str(raw) not in options:
            shown = ", ".join(options[:10]) + ("…" if len(options) > 10 else "")
            raise ValueError(f"Choose one of: {shown}.")
        return str(raw)
    if f.type == FieldType.USER:
        return _person(raw)
    if f.type == FieldType.DATE:
        return _date(raw)
    if f.type == FieldType.NUMBER:
        return _number(f, raw)
    raise ValueError("This question cannot be answered yet (unknown type).")


def _date(raw) -> str:
    if isinstance(raw, date) and not isinstance(raw, datetime):
        return raw.isoformat()
    if isinstance(raw, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw.strip()):
        try:
            return date.fromisoformat(raw.strip()).isoformat()
        except ValueError:
            pass
    raise ValueError("Give a date as YYYY-MM-DD, e.g. 2025-05-01.")


def _matches(pattern: str, value: str) -> bool:
    try:
        return re.fullmatch(pattern, value) is not None
    except re.error:  # a broken pattern in the form's definition refuses nothing
        return True


def _yes_no(raw) -> bool:
    if isinstance(raw, bool):
        return raw
    if raw is None:
        return False
    if isinstance(raw, str) and raw.strip().lower() in YES | NO:
        return raw.strip().lower() in YES
    raise ValueError("Answer yes or no (true or false).")


def _person(raw) -> int:
    users = User.objects.filter(is_active=True)
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise ValueError("Name a person by their user name.")
    text = str(raw).strip()
    if isinstance(raw, int) or text.isdigit():
        found = users.filter(pk=int(text)).values_list("pk", flat=True).first() if int(text) < 2**31 else None
    else:
        found = users.filter(username__iexact=text[:150]).values_list("pk", flat=True).first()
    if found is None:
        raise ValueError(f"No active person {text[:60]!r}; pick someone from the list.")
    return found


def _number(f: CatalogField, raw):
    if isinstance(raw, bool) or not isinstance(raw, int | float | str | Decimal):
        raise ValueError("Give a number.")
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise ValueError("Give a number, e.g. 5.") from None
    if not value.is_finite() or abs(value) >= Decimal(10) ** 12:
        raise ValueError("Give a number, e.g. 5.")
    if f.min_value is not None and value < f.min_value:
        raise ValueError(f"At least {_plain(f.min_value)}.")
    if f.max_value is not None and value > f.max_value:
        raise ValueError(f"At most {_plain(f.max_value)}.")
    return int(value) if value == value.to_integral_value() else str(value.normalize())


def _plain(value: Decimal) -> str:
    return str(int(value)) if value == value.to_integral_value() else str(value.normalize())


def choice_values(f: CatalogField) -> list[str]:
    """The options of a choice question as strings (an option may be stored as a string or {"value", "label"})."""
    out = []
    for option in f.choices or []:
        out.append(str(option.get("value", "")) if isinstance(option, dict) else str(option))
    return out


# --- ordering -----------------------------------------------------------------------------------------------

def _title(item: CatalogItem, answers: dict) -> str:
    """The item's name, and the first short text answer as a detail ("New laptop: starter in Finance")."""
    detail = next((answers[f.name] for f in item.fields.all() if f.type == FieldType.TEXT and answers.get(f.name)),
                  "")
    if len(detail) > 60:
        detail = detail[:59].rstrip() + "…"
    return f"{item.name}: {detail}"[:200] if detail else item.name[:200]


def _description(item: CatalogItem, request: CatalogRequest) -> str:
    lines = [f"Ordered from the catalogue: **{item.name}** ({item.service.name}).", ""]
    for answer in answers_read(request, fields=list(item.fields.all())):
        if answer.type == FieldType.LONG_TEXT:
            lines += [f"**{answer.label}**:", "", *[f"> {line}" for line in answer.value.splitlines()], ""]
        else:
            lines.append(f"- **{answer.label}**: {answer.value}")
    return "\n".join(lines).strip()


def _require_orderable(item: CatalogItem, actor) -> None:
    if not item.active:
        raise ValidationFailed(f"“{item.name}” is no longer offered in the catalogue.",
                               fields={"item": ["No longer offered."]})
    if access.role_of(actor) is None:
        raise AccessDenied("Sign in to order from the catalogue.")
    if not may_order(actor, item):
        raise AccessDenied(f"“{item.name}” is ordered by the service desk for you; ask them.")
    service = item.service
    if not service.takes_tickets:
        raise ValidationFailed(f"{service.name} is retired; “{item.name}” can no longer be ordered.",
                               fields={"item": [f"{service.name} is retired."]})
    if not service.is_operational:
        raise ValidationFailed(f"{service.name} is not operational yet, so “{item.name}” cannot be ordered; "
                               "ask the service desk.", fields={"item": [f"{service.name} is not operational yet."]})


def _requester(actor, requester):
    """Who the request is for: the actor, or the requester a member of staff names."""
    if requester is None or requester == actor:
        return actor
    if not access.is_staff_member(actor):
        raise AccessDenied("Only the service desk may order on someone else's behalf.",
                           fields={"requester": ["Staff only."]})
    if not requester.is_active:
        raise ValidationFailed(f"{requester.display_name} is no longer active; order for someone else.",
                               fields={"requester": ["Not active."]})
    return requester


def request_order(*, actor, item: CatalogItem, answers, requester=None, now: datetime | None = None) -> Ticket:
    """Order `item` with the form's `answers` for `requester` (default: the actor), all or nothing: the service
    request (at the item's fulfilment team), its catalogue record, the item's SLA policy on its clocks and a
    timeline row; then its fulfilment begins, or its approver is told (with a link to decide). Raises
    AccessDenied (audience, on behalf), ValidationFailed (item not orderable, bad answers, nobody to approve)."""
    now = now or timezone.now()
    _require_orderable(item, actor)
    requester = _requester(actor, requester)
    clean = answers_clean(item, answers)
    needs_approval = item.approval != ApprovalMode.NONE
    approver = approver_for(item, requester) if needs_approval else None
    if needs_approval and (approver is None or not approver.is_active):
        if item.approval == ApprovalMode.MANAGER:
            who = ("you have no line manager set" if requester == actor
                   else f"{requester.display_name} has no line manager set")
            fix = "Ask the service desk to record the line manager first."
        else:
            who = "it has no active approver named"
            fix = "Ask the service desk to name the item's approver first."
        raise ValidationFailed(f"“{item.name}” needs approval, but {who}. {fix}",
                               fields={"approver": ["Nobody to approve this request."]})
    group = item.fulfilment_group or core._default_group(Kind.REQUEST, item.service)
    with transaction.atomic():
        # A requester may not pick a team: the catalogue routes the request to the item's fulfilment team.
        ticket = core.ticket_create(
            actor=actor, kind=Kind.REQUEST, requester=requester, now=now, title=_title(item, clean),
            description=_description(item, CatalogRequest(item=item, answers=clean)), service=item.service,
            route_to=group)
        request = CatalogRequest.objects.create(
            ticket=ticket, item=item, answers=clean, created_at=now,
            approval=ApprovalState.PENDING if needs_approval else ApprovalState.NOT_NEEDED, approver=approver,
            automation=AutomationState.WAITING if item.handler and needs_approval else AutomationState.NONE)
        if item.sla_policy_id:  # the record now exists: the item's policy is the one the clocks follow
            clocks_sync(ticket=ticket, now=now, reason=f"catalogue item “{item.name}”")
        state = approval_text(request)
        core.event_record(ticket=ticket, actor=actor, kind=EventKind.CREATED, now=now, field="catalogue",
                          new=item.name, note=f"Ordered “{item.name}” from the catalogue. {state}.")
        if needs_approval:
            url = approval_url(ticket.key)
            notification_send(ticket=ticket, users=[approver], kind=NotificationKind.APPROVAL, now=now,
                              key=f"catalogue-approval:{request.pk}", url=url,
                              context={"item": item, "requester": requester, "url": url,
                                       "answers": answers_read(request, fields=list(item.fields.all()))})
        else:
            fulfilment_begin(request=request, actor=actor, now=now)
    ticket.catalog_request = request
    return ticket


# --- the SLA policy pin ---------------------------------------------------------------------------------------

def catalogue_policy(ticket: Ticket) -> int | None:
    """The SLA policy a request ordered from the catalogue is pinned to: its item's (None: the policies'
    conditions decide). One small read per change of a service request; nothing for other kinds."""
    if ticket.kind != Kind.REQUEST or ticket.pk is None:
        return None
    return (CatalogRequest.objects.filter(ticket_id=ticket.pk).values_list("item__sla_policy_id", flat=True)
            .first())


def register() -> None:
    register_policy_chooser(catalogue_policy)

