"""Setting up a service's request catalogue in the app: its items (what is asked, who approves, who fulfils
and how), each item's form fields and its fulfilment task templates.

Admins, the service's owners and its service manager set it up. Every function owns its transaction and
refuses a bad definition with every wrong value named in `fields` (a choice field without options, a minimum
above the maximum, a pattern that does not compile), so the requester never meets a form that cannot be filled.
"""

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify

from sla.models import Policy
from tracker.errors import AccessDenied, ValidationFailed
from tracker.models import AssignmentGroup, Service, User
from tracker.templatetags.icons import sprite_ids

from .. import handlers
from ..choices import ApprovalMode, CatalogAudience, FieldType
from ..models import CatalogField, CatalogItem, CatalogTaskTemplate
from .gate import is_admin, is_service_manager

ITEM_FIELDS = ("name", "summary", "description", "icon", "audience", "fulfilment_group", "sla_policy", "approval",
               "approver", "handler", "handler_config", "active", "order")
FIELD_FIELDS = ("name", "label", "type", "required", "help_text", "choices", "min_value", "max_value", "max_length",
                "pattern", "pattern_message")
SLUG = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
LIMITS = {"name": 120, "summary": 200, "description": 8000, "label": 120, "help_text": 200, "pattern": 200,
          "pattern_message": 200}


def may_setup_catalogue(user, service: Service) -> bool:
    """Admins, the service's manager and its owners define its catalogue items."""
    if user is None or not user.is_authenticated:
        return False
    return (is_admin(user) or is_service_manager(user, service)
            or service.owners.filter(pk=user.pk).exists())


def _require(actor, service: Service) -> None:
    if not may_setup_catalogue(actor, service):
        raise AccessDenied(f"Only the owners and the service manager of {service.name} or an administrator "
                                  "may set up its catalogue.")


def known_handlers() -> set[str]:
    """The slugs of the fulfilment handlers the workers can run (`itsm.handlers`)."""
    return {slug for slug, _label in handlers.choices()}


def _text(values: dict, name: str, errors: dict, *, required: bool = False) -> None:
    if name not in values:
        return
    value = (values[name] or "").strip() if isinstance(values[name], str) or values[name] is None else values[name]
    if not isinstance(value, str):
        errors[name] = ["Text expected."]
        return
    values[name] = value
    if required and not value:
        errors[name] = ["Required."]
    elif len(value) > LIMITS[name]:
        errors[name] = [f"At most {LIMITS[name]} characters."]


def _refuse(errors: dict, what: str) -> None:
    if errors:
        said = "; ".join(f"{name.replace('_', ' ')}: {' '.join(msgs)}" for name, msgs in errors.items())
        raise ValidationFailed(f"Check the {what}: {said}", fields=errors)


# --- items ---------------------------------------------------------------------------------------------------

def _clean_item(service: Service, values: dict, item: CatalogItem | None) -> dict:
    unknown = sorted(set(values) - set(ITEM_FIELDS))
    if unknown:
        raise ValidationFailed(f"Unknown item settings: {', '.join(unknown)}.",
                                      fields={n: ["Unknown."] for n in unknown})
    errors: dict[str, list[str]] = {}
    _text(values, "name", errors, required=item is None or "name" in values)
    if item is None and "name" not in values:
        errors["name"] = ["Required."]
    for name in ("summary", "description"):
        _text(values, name, errors)
    if "icon" in values:
        values["icon"] = (values["icon"] or "").strip() or "package"
        if values["icon"] not in sprite_ids():
            errors["icon"] = [f"“{values['icon']}” is not an icon of the design system."]
    if "audience" in values and values["audience"] not in CatalogAudience.values:
        errors["audience"] = [f"One of: {', '.join(CatalogAudience.values)}."]
    if "fulfilment_group" in values and values["fulfilment_group"] is not None \
            and not isinstance(values["fulfilment_group"], AssignmentGroup):
        errors["fulfilment_group"] = ["Unknown group."]
    if "sla_policy" in values and values["sla_policy"] is not None:
        policy = values["sla_policy"]
        if not isinstance(policy, Policy):
            errors["sla_policy"] = ["Unknown policy."]
        elif not policy.active:
            errors["sla_policy"] = [f"{policy.name} is not active."]
    approval = values.get("approval", item.approval if item else ApprovalMode.NONE)
    approver = values.get("approver", item.approver if item else None)
    if approval not in ApprovalMode.values:
        errors["approval"] = [f"One of: {', '.join(ApprovalMode.values)}."]
    elif approval == ApprovalMode.NAMED:
        if approver is None:
            errors["approver"] = ["Name the approver of a named approval."]
        elif not isinstance(approver, User) or not approver.is_active:
            errors["approver"] = ["An active person."]
    elif "approver" in values and approver is not None:
        values["approver"] = None  # only a named approval keeps a named approver
    if approval in ApprovalMode.values and approval != ApprovalMode.NAMED:
        values["approver"] = None
    if "handler" in values:
        handler = (values["handler"] or "").strip()
        values["handler"] = handler
        known = known_handlers()
        if handler and not SLUG.match(handler):
            errors["handler"] = ["A slug: lower-case letters, digits, - and _."]
        elif handler and len(handler) > 40:
            errors["handler"] = ["At most 40 characters."]
        elif handler and handler not in known:
            errors["handler"] = [f"No handler “{handler}”; known: {', '.join(sorted(known)) or 'none'}."]
    if "handler_config" in values:
        config = values["handler_config"]
        if config in (None, ""):
            values["handler_config"] = {}
        elif not isinstance(config, dict):
            errors["handler_config"] = ["A JSON object, e.g. {\"group\": \"VPN users\"}."]
    if "active" in values and not isinstance(values["active"], bool):
        errors["active"] = ["true or false."]
    if "order" in values:
        order = values["order"]
        if not isinstance(order, int) or isinstance(order, bool) or not 0 <= order <= 32767:
            errors["order"] = ["A whole number from 0 to 32767."]
    name = values.get("name")
    if name and "name" not in errors:
        clash = CatalogItem.objects.filter(service=service, name__iexact=name)
        if item is not None:
            clash = clash.exclude(pk=item.pk)
        if clash.exists():
            errors["name"] = [f"{service.name} already has an item “{name}”."]
    _refuse(errors, "item")
    return values


def item_create(*, service: Service, actor, now: datetime | None = None, **values) -> CatalogItem:
    """A new catalogue item of the service (inactive until it has what it needs is the caller's choice)."""
    now = now or timezone.now()
    _require(actor, service)
    values = _clean_item(service, dict(values), None)
    try:
        with transaction.atomic():
            return CatalogItem.objects.create(service=service, created_by=actor, created_at=now, updated_at=now,
                                              **values)
    except IntegrityError:
        raise ValidationFailed(f"{service.name} already has an item “{values['name']}”.",
                                      fields={"name": ["Already taken."]}) from None


def item_update(*, item: CatalogItem, actor, changes: dict, now: datetime | None = None) -> CatalogItem:
    """Change an item's settings (only those in `changes`); requests already ordered keep their answers."""
    now = now or timezone.now()
    _require(actor, item.service)
    values = _clean_item(item.service, dict(changes), item)
    for name, value in values.items():
        setattr(item, name, value)
    item.updated_at = now
    try:
        with transaction.atomic():
            item.save()
    except IntegrityError:
        raise ValidationFailed(f"{item.service.name} already has an item “{item.name}”.",
                                      fields={"name": ["Already taken."]}) from None
    return item


# --- form fields ---------------------------------------------------------------------------------------------

def _decimal(values: dict, name: str, errors: dict):
    value = values.get(name)
    if value in (None, ""):
        values[name] = None
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors[name] = ["A number."]
        return None
    if not number.is_finite() or abs(number) >= Decimal("1e12"):
        errors[name] = ["A number below a trillion."]
        return None
    values[name] = number.quantize(Decimal("0.01"))
    return values[name]


def choices_from_text(text) -> list[str]:
    """One option a line (blank lines dropped, repeats kept once)."""
    if isinstance(text, list):
        lines = text
    else:
        lines = (text or "").splitlines()
    return list(dict.fromkeys(str(line).strip() for line in lines if str(line).strip()))


def _clean_field(item: CatalogItem, values: dict, current: CatalogField | None) -> dict:
    unknown = sorted(set(values) - set(FIELD_FIELDS))
    if unknown:
        raise ValidationFailed(f"Unknown field settings: {', '.join(unknown)}.",
                                      fields={n: ["Unknown."] for n in unknown})
    merged = {n: getattr(current, n) for n in FIELD_FIELDS} if current else {
        "name": "", "label": "", "type": FieldType.TEXT, "required": False, "help_text": "", "choices": [],
        "min_value": None, "max_value": None, "max_length": None, "pattern": "", "pattern_message": ""}
    merged.update(values)
    errors: dict[str, list[str]] = {}
    for name in ("label", "help_text", "pattern_message"):
        _text(merged, name, errors, required=name == "label")
    merged["pattern"] = merged.get("pattern") or ""
    _text(merged, "pattern", errors)
    name = merged.get("name")
    name = (name or "").strip().lower() if isinstance(name, str) else ""
    if not name and merged.get("label") and current is None:
        name = slugify(merged["label"]).replace("-", "_")[:40]
    merged["name"] = name
    if not name:
        errors["name"] = ["Required: the answer's key, e.g. laptop_model."]
    elif len(name) > 40 or not SLUG.match(name):
        errors["name"] = ["A slug of up to 40 characters: lower-case letters, digits, - and _."]
    else:
        clash = CatalogField.objects.filter(item=item, name=name)
        if current is not None:
            clash = clash.exclude(pk=current.pk)
        if clash.exists():
            errors["name"] = [f"The form already has a field “{name}”."]
    kind = merged.get("type")
    if kind not in FieldType.values:
        errors["type"] = [f"One of: {', '.join(FieldType.values)}."]
    if not isinstance(merged.get("required"), bool):
        errors["required"] = ["true or false."]
    choices = merged.get("choices")
    if not isinstance(choices, (list, str)) and choices is not None:
        errors["choices"] = ["A list of options (one a line)."]
        choices = []
    choices = choices_from_text(choices)
    if any(len(c) > 200 for c in choices):
        errors["choices"] = ["Each option at most 200 characters."]
    merged["choices"] = choices if kind == FieldType.CHOICE else []
    if kind == FieldType.CHOICE and not choices:
        errors["choices"] = ["A choice needs at least one option (one a line)."]
    low, high = _decimal(merged, "min_value", errors), _decimal(merged, "max_value", errors)
    if kind != FieldType.NUMBER:
        merged["min_value"] = merged["max_value"] = None
    elif low is not None and high is not None and low > high:
        errors["max_value"] = [f"The maximum ({high}) is below the minimum ({low})."]
    length = merged.get("max_length")
    if length in ("", None):
        merged["max_length"] = None
    elif not isinstance(length, int) or isinstance(length, bool) or not 1 <= length <= 100000:
        errors["max_length"] = ["A whole number from 1 to 100000."]
    if kind not in (FieldType.TEXT, FieldType.LONG_TEXT):
        merged["max_length"] = None
        merged["pattern"] = merged["pattern_message"] = ""
    elif merged["pattern"]:
        try:
            re.compile(merged["pattern"])
        except re.error as exc:
            errors["pattern"] = [f"Not a valid regular expression: {exc}."]
    _refuse(errors, "field")
    return merged


def field_add(*, item: CatalogItem, actor, **values) -> CatalogField:
    """Add a question at the end of the item's form."""
    _require(actor, item.service)
    values = _clean_field(item, dict(values), None)
    with transaction.atomic():
        last = CatalogField.objects.filter(item=item).aggregate(m=Max("order"))["m"]
        try:
            with transaction.atomic():
                return CatalogField.objects.create(item=item, order=(last or 0) + 10, **values)
        except IntegrityError:
            raise ValidationFailed(f"The form already has a field “{values['name']}”.",
                                          fields={"name": ["Already taken."]}) from None


def field_update(*, field: CatalogField, actor, changes: dict) -> CatalogField:
    """Change a question (only the settings in `changes`); requests already ordered keep their answers under
    the key they were given."""
    _require(actor, field.item.service)
    values = _clean_field(field.item, dict(changes), field)
    for name, value in values.items():
        setattr(field, name, value)
    try:
        with transaction.atomic():
            field.save()
    except IntegrityError:
        raise ValidationFailed(f"The form already has a field “{field.name}”.",
                                      fields={"name": ["Already taken."]}) from None
    return field


def field_move(*, field: CatalogField, actor, up: bool) -> list[CatalogField]:
    """Move a question one place up or down the form; the orders are renumbered 10, 20, ... ."""
    _require(actor, field.item.service)
    with transaction.atomic():
        rows = list(CatalogField.objects.select_for_update().filter(item_id=field.item_id).order_by("order", "id"))
        at = next(i for i, f in enumerate(rows) if f.pk == field.pk)
        to = at - 1 if up else at + 1
        if 0 <= to < len(rows):
            rows[at], rows[to] = rows[to], rows[at]
        for n, row in enumerate(rows, start=1):
            row.order = n * 10
        CatalogField.objects.bulk_update(rows, ["order"])
    return rows


def field_remove(*, field: CatalogField, actor) -> None:
    """Remove a question; requests already ordered keep their answers to it."""
    _require(actor, field.item.service)
    field.delete()


# --- fulfilment task templates ------------------------------------------------------------------------------

def _clean_template(values: dict) -> dict:
    errors: dict[str, list[str]] = {}
    title = values.get("title")
    title = title.strip() if isinstance(title, str) else ""
    if not title:
        errors["title"] = ["Say what the task is, e.g. “Set up the laptop”."]
    elif len(title) > 200:
        errors["title"] = ["At most 200 characters."]
    group = values.get("group")
    if group is not None and not isinstance(group, AssignmentGroup):
        errors["group"] = ["Unknown group."]
    _refuse(errors, "task")
    return {"title": title, "group": group}


def task_template_add(*, item: CatalogItem, actor, title: str, group=None) -> CatalogTaskTemplate:
    """A fulfilment task every approved request of the item gets, for `group` (empty: the item's team)."""
    _require(actor, item.service)
    values = _clean_template({"title": title, "group": group})
    last = CatalogTaskTemplate.objects.filter(item=item).aggregate(m=Max("order"))["m"]
    return CatalogTaskTemplate.objects.create(item=item, order=(last or 0) + 10, **values)


def task_template_update(*, template: CatalogTaskTemplate, actor, title: str, group=None) -> CatalogTaskTemplate:
    _require(actor, template.item.service)
    values = _clean_template({"title": title, "group": group})
    template.title, template.group = values["title"], values["group"]
    template.save(update_fields=["title", "group"])
    return template


def task_template_remove(*, template: CatalogTaskTemplate, actor) -> None:
    """Remove a task template; requests already approved keep their tasks."""
    _require(actor, template.item.service)
    template.delete()
