"""The service catalogue's pages (staff): every service with its people, support groups per tier, SLA policies,
open tickets and gate progress; a service's page with its operations gate (open it, sign items off, reopen,
accept), its lifecycle and people; and the editor of its request catalogue (items, their form fields with a
live preview of the form as the requester sees it, and their fulfilment task templates)."""

import json
from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import messages
from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from sla.models import Policy
from tracker.access import staff_only
from tracker.choices import OPEN_STATUSES, Kind, Role, ServiceLifecycle, Tier
from tracker.errors import DomainError
from tracker.models import AssignmentGroup, Service, Ticket, User
from tracker.templatetags.icons import sprite_ids
from tracker.views import form_errors

from .choices import ApprovalMode, CatalogAudience, FieldType, GateItemCode, GateItemState
from .models import CatalogField, CatalogItem, CatalogTaskTemplate, GateItem, KnowledgeArticle, OperationsGate
from .search import LIVE
from .services import catalogue_setup as setup
from .services import gate as gates

TONES = {ServiceLifecycle.PLANNED: "status", ServiceLifecycle.IN_TRANSITION: "warn",
         ServiceLifecycle.OPERATIONAL: "ok", ServiceLifecycle.RETIRED: "bad"}


# --- reads of the pages -------------------------------------------------------------------------------------

def service_list(*, lifecycle: str = "") -> list[Service]:
    """Every service with what its row shows, in a fixed number of queries: people, groups, open tickets and
    gate progress (counted in subqueries), and the SLA policies that apply."""
    open_tickets = (Ticket.objects.filter(service=OuterRef("pk"), status__in=sorted(OPEN_STATUSES))
                    .order_by().values("service").annotate(n=Count("pk")).values("n"))
    items = GateItem.objects.filter(gate__service=OuterRef("pk")).order_by().values("gate")
    qs = (Service.objects.select_related("service_manager", "project_group", "gate")
          .prefetch_related("owners", Prefetch("groups", queryset=AssignmentGroup.objects.order_by("tier", "name")))
          .annotate(open_count=Coalesce(Subquery(open_tickets, output_field=IntegerField()), 0),
                    gate_total=Coalesce(Subquery(items.annotate(n=Count("pk")).values("n"),
                                                 output_field=IntegerField()), 0),
                    gate_signed=Coalesce(Subquery(items.filter(state=GateItemState.SIGNED_OFF)
                                                  .annotate(n=Count("pk")).values("n"),
                                                  output_field=IntegerField()), 0))
          .order_by("name"))
    if lifecycle:
        qs = qs.filter(lifecycle=lifecycle)
    services = list(qs)
    policies = gates.policies_for(services)
    for service in services:
        _decorate(service, policies[service.pk])
    return services


def _decorate(service: Service, policies: dict) -> None:
    groups = list(service.groups.all())
    service.tiers = [(f"L{t}", [g for g in groups if g.tier == t]) for t in Tier.values]
    service.policies = policies
    service.tone = TONES[service.lifecycle]


def _service(pk) -> Service:
    qs = (Service.objects.select_related("service_manager", "project_group", "project_group__manager")
          .prefetch_related("owners", Prefetch("groups", queryset=AssignmentGroup.objects.order_by("tier", "name"))))
    return get_object_or_404(qs, pk=pk)


def _gate(service: Service):
    gate = (OperationsGate.objects.select_related("opened_by", "accepted_by")
            .prefetch_related(Prefetch("items", queryset=GateItem.objects.select_related("approver", "signed_by")
                                       .order_by("order", "id")))
            .filter(service=service).first())
    if gate is not None:
        service.gate = gate
    return gate


def _staff():
    return list(User.objects.filter(is_active=True).exclude(role=Role.REQUESTER, is_superuser=False)
                .order_by("first_name", "last_name", "username"))


# --- forms (shape only) ---------------------------------------------------------------------------------------

class ServiceForm(forms.Form):
    service_manager = forms.ModelChoiceField(queryset=User.objects.none(), required=False,
                                             label="Service manager",
                                             help_text="Owns the service through its life; accepts it at its gate.")
    owners = forms.ModelMultipleChoiceField(queryset=User.objects.none(), required=False, label="Service owners",
                                            widget=forms.CheckboxSelectMultiple)
    project_group = forms.ModelChoiceField(queryset=AssignmentGroup.objects.order_by("tier", "name"), required=False,
                                           label="Project team",
                                           help_text="The desk escalates to it until the service is operational.")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)

    def __init__(self, *args, staff=None, **kwargs):
        super().__init__(*args, **kwargs)
        ids = [u.pk for u in staff or []]
        self.fields["service_manager"].queryset = User.objects.filter(pk__in=ids)
        self.fields["owners"].queryset = User.objects.filter(pk__in=ids)


class ItemForm(forms.Form):
    name = forms.CharField(max_length=120)
    summary = forms.CharField(max_length=200, required=False, help_text="One line on the catalogue's card.")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}), max_length=8000,
                                  help_text="Markdown: what the requester gets, and when.")
    icon = forms.ChoiceField(choices=(), initial="package")
    audience = forms.ChoiceField(choices=CatalogAudience.choices, initial=CatalogAudience.EVERYONE)
    fulfilment_group = forms.ModelChoiceField(queryset=AssignmentGroup.objects.order_by("tier", "name"),
                                              required=False, help_text="Empty: the service's usual team.")
    sla_policy = forms.ModelChoiceField(queryset=Policy.objects.filter(active=True).order_by("order", "id"),
                                        required=False, label="SLA policy",
                                        help_text="Empty: the policy whose conditions match the request.")
    approval = forms.ChoiceField(choices=ApprovalMode.choices, initial=ApprovalMode.NONE, label="Approval")
    approver = forms.ModelChoiceField(queryset=User.objects.filter(is_active=True).order_by("first_name", "username"),
                                      required=False, label="Named approver",
                                      help_text="With a named approval only.")
    handler = forms.CharField(max_length=40, required=False, label="Fulfilment handler",
                              help_text="Its slug, for automated fulfilment; empty: fulfilled by hand.")
    handler_config = forms.CharField(required=False, label="Handler settings (JSON)",
                                     widget=forms.Textarea(attrs={"rows": 2}), max_length=4000,
                                     help_text='e.g. {"group": "VPN users"}')
    active = forms.BooleanField(required=False, initial=True, label="Offered (active)")
    order = forms.IntegerField(min_value=0, max_value=32767, initial=100, help_text="Lower comes first.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["icon"].choices = [(i, i) for i in sorted(sprite_ids())]

    def clean_handler_config(self):
        text = (self.cleaned_data.get("handler_config") or "").strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc.msg} (line {exc.lineno}).") from None
        if not isinstance(value, dict):
            raise forms.ValidationError('A JSON object, e.g. {"group": "VPN users"}.')
        return value


class FieldForm(forms.Form):
    label = forms.CharField(max_length=120, label="Question")
    name = forms.CharField(max_length=40, required=False, label="Key",
                           help_text="The answer's key (lower case, e.g. laptop_model); empty: made from the question.")
    type = forms.ChoiceField(choices=FieldType.choices, initial=FieldType.TEXT)
    required = forms.BooleanField(required=False)
    help_text = forms.CharField(max_length=200, required=False, label="Help text")
    choices = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=8000,
                              label="Options", help_text="For a choice: one option a line.")
    min_value = forms.CharField(required=False, max_length=20, label="Minimum", help_text="For a number.")
    max_value = forms.CharField(required=False, max_length=20, label="Maximum", help_text="For a number.")
    max_length = forms.IntegerField(required=False, label="Maximum length", help_text="For a text.")
    pattern = forms.CharField(required=False, max_length=200, label="Pattern",
                              help_text="A regular expression the text must match, e.g. ^[A-Z]{2}\\d{4}$.")
    pattern_message = forms.CharField(required=False, max_length=200, label="Said when the pattern fails")

    def values(self) -> dict:
        data = dict(self.cleaned_data)
        data["choices"] = setup.choices_from_text(data.get("choices"))
        return data


class TaskTemplateForm(forms.Form):
    title = forms.CharField(max_length=200, label="Task")
    group = forms.ModelChoiceField(queryset=AssignmentGroup.objects.order_by("tier", "name"), required=False,
                                   label="Team", help_text="Empty: the item's fulfilment team.")


# --- the catalogue of services --------------------------------------------------------------------------------

@staff_only
@require_GET
def services(request):
    lifecycle = request.GET.get("lifecycle", "")
    if lifecycle not in ServiceLifecycle.values:
        lifecycle = ""
    return render(request, "itsm/services/list.html", {
        "nav": "services", "services": service_list(lifecycle=lifecycle), "lifecycle": lifecycle,
        "lifecycles": ServiceLifecycle.choices})


def _page(request, service: Service, *, status: int = 200, partial: str = "", **extra):
    """The service's page (or one of its partials, for htmx), with `extra` (a refused form and what was typed)."""
    gate = _gate(service)
    policies = gates.policies_for([service])[service.pk]
    _decorate(service, policies)
    user = request.user
    manages = gates.may_manage_service(user, service)
    is_manager = gates.is_service_manager(user, service)
    evidence = gates.gate_evidence(service, groups=[g for _, gs in service.tiers for g in gs], policies=policies)
    items = list(gate.items.all()) if gate else []
    for item in items:
        item.live = evidence.get(item.code)
        item.can_sign = gates.may_sign(user, item)
        item.can_reopen = gates.may_reopen(user, item, service)
    refused = extra.get("refused") or {}
    for item in items:  # a refused item form shows its message and what was typed in place
        item.refused = next(({"what": what, **refused} for what in ("sign", "reopen", "appoint")
                             if refused.get("form") == f"{what}-{item.pk}"), None)
    still_open = [i for i in items if i.state != GateItemState.SIGNED_OFF]
    accepted = gate is not None and gate.accepted_at is not None
    staff = _staff() if manages else []
    ctx = {
        "nav": "services", "service": service, "gate": gate, "items": items, "still_open": still_open,
        "signed": len(items) - len(still_open), "accepted": accepted, "manages": manages, "is_manager": is_manager,
        "can_setup": setup.may_setup_catalogue(user, service), "staff": staff,
        "standard": [(code, GateItemCode(code).label) for code in gates.STANDARD_ITEMS],
        "can_open": gates.may_open_gate(user, service, gate),
        "can_accept": gates.may_accept(user, service, gate),
        "can_retire": gates.may_retire(user, service),
        **extra,
    }
    if partial:
        return render(request, f"itsm/services/detail.html#{partial}", ctx, status=status)
    ctx.update({
        "open_count": Ticket.objects.filter(service=service, status__in=sorted(OPEN_STATUSES)).count(),
        "catalog_items": list(CatalogItem.objects.filter(service=service).annotate(field_count=Count("fields"))
                              .order_by("order", "name")),
        "articles": KnowledgeArticle.objects.filter(LIVE, services=service)
        .aggregate(n=Count("pk"), internal=Count("pk", filter=Q(audience="internal"))),
        "changes": list(Ticket.objects.filter(service=service, kind=Kind.CHANGE).select_related("assignee")
                        .order_by("-created_at")[:5]),
        "history": gates.service_history(service),
        "edit_form": extra.get("edit_form") or (ServiceForm(staff=staff, initial={
            "service_manager": service.service_manager_id, "owners": [u.pk for u in service.owners.all()],
            "project_group": service.project_group_id, "description": service.description}) if manages else None),
    })
    return render(request, "itsm/services/detail.html", ctx, status=status)


@staff_only
@require_GET
def service(request, pk):
    return _page(request, _service(pk))


def _after(request, service: Service, notice: str, partial: str = "gate"):
    if request.htmx:
        return _page(request, service, partial=partial, notice=notice)
    messages.success(request, notice)
    return redirect("itsm:service", pk=service.pk)


def _refused(request, service: Service, exc: DomainError, form: str, partial: str = "gate", **typed):
    refused = {"form": form, "error": exc.message, "fields": exc.fields, **typed}
    return _page(request, service, status=exc.status, partial=partial if request.htmx else "", refused=refused)


def _user(pk) -> User | None:
    try:
        return User.objects.filter(pk=int(pk)).first() if pk else None
    except (TypeError, ValueError):
        return None


@staff_only
@require_POST
def service_edit(request, pk):
    service = _service(pk)
    staff = _staff()
    form = ServiceForm(request.POST, staff=staff)
    if form.is_valid():
        try:
            gates.service_update(service=service, actor=request.user, changes=dict(form.cleaned_data))
        except DomainError as exc:
            form_errors(form, exc)
            return _page(request, service, status=exc.status, edit_form=form, edit_open=True)
        messages.success(request, f"Saved {service.name}.")
        return redirect("itsm:service", pk=service.pk)
    return _page(request, service, status=400, edit_form=form, edit_open=True)


@staff_only
@require_POST
def service_retire(request, pk):
    service = _service(pk)
    reason = request.POST.get("reason", "")[:4000]
    try:
        gates.service_retire(service=service, actor=request.user, reason=reason)
    except DomainError as exc:
        return _refused(request, service, exc, "retire", partial="lifecycle", reason=reason)
    return _after(request, service, f"{service.name} is retired: it takes no new tickets.", partial="lifecycle")


@staff_only
@require_POST
def gate_open(request, pk):
    service = _service(pk)
    approvers = {code: _user(request.POST.get(f"approver-{code}")) for code in gates.STANDARD_ITEMS}
    extra_label = request.POST.get("extra_label", "")[:400]
    extras = [(extra_label, _user(request.POST.get("extra_approver")))] if extra_label.strip() else []
    try:
        gates.gate_open(service=service, actor=request.user, approvers={k: v for k, v in approvers.items() if v},
                        extras=extras)
    except DomainError as exc:
        return _refused(request, service, exc, "open", typed={k: getattr(v, "pk", None) for k, v in approvers.items()},
                        extra_label=extra_label)
    return _after(request, service, f"The operations gate of {service.name} is open; the approvers have been told.")


def _item(service: Service, item_pk) -> GateItem:
    item = gates.gate_item_of(service, item_pk)
    if item is None:
        raise Http404("No such item on this gate.")
    return item


@staff_only
@require_POST
def gate_item_sign(request, pk, item_pk):
    service = _service(pk)
    item = _item(service, item_pk)
    evidence = request.POST.get("evidence", "")[:8000]
    try:
        gates.gate_item_sign(item=item, actor=request.user, evidence=evidence)
    except DomainError as exc:
        return _refused(request, service, exc, f"sign-{item.pk}", text=evidence)
    return _after(request, service, f"Signed off “{item.label}”.")


@staff_only
@require_POST
def gate_item_reopen(request, pk, item_pk):
    service = _service(pk)
    item = _item(service, item_pk)
    reason = request.POST.get("reason", "")[:4000]
    try:
        gates.gate_item_reopen(item=item, actor=request.user, reason=reason)
    except DomainError as exc:
        return _refused(request, service, exc, f"reopen-{item.pk}", text=reason)
    return _after(request, service, f"Reopened “{item.label}”; {item.approver.display_name} signs it again.")


@staff_only
@require_POST
def gate_item_appoint(request, pk, item_pk):
    service = _service(pk)
    item = _item(service, item_pk)
    try:
        gates.gate_item_appoint(item=item, actor=request.user, approver=_user(request.POST.get("approver")))
    except DomainError as exc:
        return _refused(request, service, exc, f"appoint-{item.pk}")
    return _after(request, service, f"{item.approver.display_name} signs off “{item.label}”.")


@staff_only
@require_POST
def gate_item_add(request, pk):
    service = _service(pk)
    label = request.POST.get("label", "")[:400]
    approver = _user(request.POST.get("approver"))
    try:
        gates.gate_item_add(service=service, actor=request.user, label=label, approver=approver)
    except DomainError as exc:
        return _refused(request, service, exc, "add", text=label, approver_pk=getattr(approver, "pk", None))
    return _after(request, service, f"Added “{label.strip()}” to the checklist.")


@staff_only
@require_POST
def gate_accept(request, pk):
    service = _service(pk)
    note = request.POST.get("note", "")[:8000]
    try:
        gates.gate_accept(service=service, actor=request.user, note=note)
    except DomainError as exc:
        return _refused(request, service, exc, "accept", text=note)
    messages.success(request, f"{service.name} is operational: the desk and the portal take it from now on.")
    if request.htmx:  # the whole page changes (lifecycle, people told): load it again
        return HttpResponseClientRedirect(reverse("itsm:service", args=[service.pk]))
    return redirect("itsm:service", pk=service.pk)


# --- the catalogue editor ---------------------------------------------------------------------------------------

def _setup_service(request, pk) -> Service:
    service = _service(pk)
    if not setup.may_setup_catalogue(request.user, service):
        raise Http404("Only the service's owners, its manager and administrators set up its catalogue.")
    return service


def _catalogue_item(service: Service, item_pk) -> CatalogItem:
    return get_object_or_404(CatalogItem.objects.select_related("fulfilment_group", "sla_policy", "approver"),
                             pk=item_pk, service=service)


def _item_values(form: ItemForm) -> dict:
    return dict(form.cleaned_data)


@staff_only
def catalogue_items(request, pk):
    """The service's catalogue items, and the form of a new one."""
    service = _setup_service(request, pk)
    form = ItemForm(request.POST or None, initial={"icon": "package", "active": True, "order": 100})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                item = setup.item_create(service=service, actor=request.user, **_item_values(form))
            except DomainError as exc:
                form_errors(form, exc)
                status = exc.status
            else:
                messages.success(request, f"Created “{item.name}”; now add its form's fields.")
                return redirect("itsm:setup-item", pk=service.pk, item_pk=item.pk)
        else:
            status = 400
    items = list(CatalogItem.objects.filter(service=service).select_related("fulfilment_group")
                 .annotate(field_count=Count("fields")).order_by("order", "name"))
    return render(request, "itsm/services/catalogue.html", {"nav": "services", "service": service, "items": items,
                                                             "form": form}, status=status)


def _field_initial(field: CatalogField) -> dict:
    return {"label": field.label, "name": field.name, "type": field.type, "required": field.required,
            "help_text": field.help_text, "choices": "\n".join(field.choices),
            "min_value": "" if field.min_value is None else field.min_value.normalize(),
            "max_value": "" if field.max_value is None else field.max_value.normalize(),
            "max_length": field.max_length, "pattern": field.pattern, "pattern_message": field.pattern_message}


def _item_page(request, service, item, *, status=200, **extra):
    fields = list(item.fields.all())
    editing, edit_form = extra.pop("editing", None), extra.pop("edit_form", None)
    for field in fields:  # each field's own edit form; the refused one bound, with what was typed
        field.form = edit_form if editing == field.pk and edit_form is not None else FieldForm(
            initial=_field_initial(field), auto_id=f"f{field.pk}_%s")
        field.editing = editing == field.pk
    templates = list(item.task_templates.select_related("group"))
    ctx = {
        "nav": "services", "service": service, "item": item, "fields": fields, "templates": templates,
        "preview": extra.pop("preview", None) or fields, "handlers": setup.known_handlers(),
        "form": extra.pop("form", None) or ItemForm(initial={
            "name": item.name, "summary": item.summary, "description": item.description, "icon": item.icon,
            "audience": item.audience, "fulfilment_group": item.fulfilment_group_id,
            "sla_policy": item.sla_policy_id, "approval": item.approval, "approver": item.approver_id,
            "handler": item.handler, "handler_config": json.dumps(item.handler_config) if item.handler_config else "",
            "active": item.active, "order": item.order}),
        "field_form": extra.pop("field_form", None) or FieldForm(initial={"type": FieldType.TEXT},
                                                                 auto_id="new_%s"),
        "task_form": extra.pop("task_form", None) or TaskTemplateForm(),
        **extra,
    }
    return render(request, "itsm/services/item.html", ctx, status=status)


@staff_only
def catalogue_item(request, pk, item_pk):
    """One item: its settings, its form's fields (add, edit, reorder, remove), a live preview, its tasks."""
    service = _setup_service(request, pk)
    item = _catalogue_item(service, item_pk)
    if request.method != "POST":
        return _item_page(request, service, item)
    form = ItemForm(request.POST)
    if form.is_valid():
        try:
            setup.item_update(item=item, actor=request.user, changes=_item_values(form))
        except DomainError as exc:
            form_errors(form, exc)
            item.refresh_from_db()
            return _item_page(request, service, item, status=exc.status, form=form)
        messages.success(request, f"Saved “{item.name}”.")
        return redirect("itsm:setup-item", pk=service.pk, item_pk=item.pk)
    return _item_page(request, service, item, status=400, form=form)


@staff_only
@require_POST
def catalogue_field(request, pk, item_pk, field_pk=None):
    """Add a field (no field_pk) or save one; a refusal shows in the field's form with what was typed."""
    service = _setup_service(request, pk)
    item = _catalogue_item(service, item_pk)
    field = get_object_or_404(CatalogField, pk=field_pk, item=item) if field_pk else None
    form = FieldForm(request.POST, auto_id=f"f{field.pk}_%s" if field else "new_%s")
    edit = {} if field is None else {"edit_form": form, "editing": field.pk}
    if form.is_valid():
        try:
            if field is None:
                saved = setup.field_add(item=item, actor=request.user, **form.values())
            else:
                values = form.values()
                if not values["name"]:
                    values["name"] = field.name
                saved = setup.field_update(field=field, actor=request.user, changes=values)
        except DomainError as exc:
            form_errors(form, exc)
            return _item_page(request, service, item, status=exc.status,
                              **(edit or {"field_form": form}))
        messages.success(request, f"Saved the field “{saved.label}”.")
        return redirect("itsm:setup-item", pk=service.pk, item_pk=item.pk)
    return _item_page(request, service, item, status=400, **(edit or {"field_form": form}))


@staff_only
@require_POST
def catalogue_field_move(request, pk, item_pk, field_pk):
    service = _setup_service(request, pk)
    item = _catalogue_item(service, item_pk)
    field = get_object_or_404(CatalogField, pk=field_pk, item=item)
    setup.field_move(field=field, actor=request.user, up=request.POST.get("direction") == "up")
    return redirect("itsm:setup-item", pk=service.pk, item_pk=item.pk)


@staff_only
@require_POST
def catalogue_field_remove(request, pk, item_pk, field_pk):
    service = _setup_service(request, pk)
    item = _catalogue_item(service, item_pk)
    field = get_object_or_404(CatalogField, pk=field_pk, item=item)
    setup.field_remove(field=field, actor=request.user)
    messages.success(request, f"Removed the field “{field.label}”.")
    return redirect("itsm:setup-item", pk=service.pk, item_pk=item.pk)


@staff_only
@require_POST
def catalogue_preview(request, pk, item_pk):
    """The form as the requester will see it, with the field being typed in the editor in place (htmx)."""
    service = _setup_service(request, pk)
    item = _catalogue_item(service, item_pk)
    fields = list(item.fields.all())
    form = FieldForm(request.POST)
    draft = None
    if form.is_valid():
        values = form.values()
        for bound in ("min_value", "max_value"):
            try:
                values[bound] = Decimal(values[bound]) if values[bound] else None
            except InvalidOperation:
                values[bound] = None
        draft = CatalogField(item=item, **values)
        draft.label = draft.label or "(new question)"
        editing = request.POST.get("editing")
        if editing and editing.isdigit():
            fields = [draft if f.pk == int(editing) else f for f in fields]
        else:
            fields.append(draft)
    return render(request, "itsm/services/item.html#preview", {"item": item, "preview": fields, "draft": draft})


@staff_only
@require_POST
def catalogue_task(request, pk, item_pk, task_pk=None):
    service = _setup_service(request, pk)
    item = _catalogue_item(service, item_pk)
    template = get_object_or_404(CatalogTaskTemplate, pk=task_pk, item=item) if task_pk else None
    if template is not None and request.POST.get("remove"):
        setup.task_template_remove(template=template, actor=request.user)
        messages.success(request, f"Removed the task “{template.title}”.")
        return redirect("itsm:setup-item", pk=service.pk, item_pk=item.pk)
    form = TaskTemplateForm(request.POST)
    if form.is_valid():
        try:
            if template is None:
                setup.task_template_add(item=item, actor=request.user, **form.cleaned_data)
            else:
                setup.task_template_update(template=template, actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            form_errors(form, exc)
            return _item_page(request, service, item, status=exc.status, task_form=form)
        messages.success(request, f"Saved the task “{form.cleaned_data['title']}”.")
        return redirect("itsm:setup-item", pk=service.pk, item_pk=item.pk)
    return _item_page(request, service, item, status=400, task_form=form)
