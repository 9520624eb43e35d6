"""The operations gate: a planned service opens its gate (the standard checklist, each item appointed), the
appointed approvers sign their items off, and only the service manager accepts it, only with every item signed:
then it is operational and its owners, the project team's manager and the desk's managers are told. Refusals
name what is wrong, and leave nothing half-written."""

import pytest
from django.contrib.admin.models import LogEntry

from itsm.choices import ArticleAudience, ArticleState, GateItemCode, GateItemState
from itsm.models import GateItem, KnowledgeArticle, OperationsGate
from itsm.services import gate as gates
from sla.models import Notification
from tests.factories import GroupFactory, ServiceFactory, UserFactory
from tracker.choices import Role, ServiceLifecycle, Tier
from tracker.errors import AccessDenied, Conflict, TransitionRefused, ValidationFailed


@pytest.fixture
def planned(cast):
    """A planned service "Expense claims": maria manages it, pia-like owner olga owns it, Payroll Dev builds it,
    the desk (L1) covers it."""
    service = ServiceFactory(name="Expense claims", lifecycle=ServiceLifecycle.PLANNED,
                             service_manager=cast.manager, project_group=cast.l3)
    service.owners.add(UserFactory(username="olga", role=Role.MANAGER, first_name="Olga"))
    cast.l1.services.add(service)
    return service


def opened(cast, service):
    return gates.gate_open(service=service, actor=cast.manager,
                           approvers={GateItemCode.UAT: cast.agent2, GateItemCode.KNOWLEDGE: cast.agent1})


def sign_all(gate):
    for item in gate.items.select_related("approver"):
        if item.state == GateItemState.OPEN:
            gates.gate_item_sign(item=item, actor=item.approver, evidence="Checked.")


def test_opening_the_gate_creates_the_standard_checklist_and_moves_the_service_in_transition(cast, planned):
    gate = opened(cast, planned)

    planned.refresh_from_db()
    assert planned.lifecycle == ServiceLifecycle.IN_TRANSITION
    items = list(gate.items.order_by("order"))
    assert [i.code for i in items] == gates.STANDARD_ITEMS
    by_code = {i.code: i.approver for i in items}
    assert by_code[GateItemCode.UAT] == cast.agent2 and by_code[GateItemCode.KNOWLEDGE] == cast.agent1
    assert by_code[GateItemCode.MONITORING] == cast.manager  # default: the service manager
    # the appointed approvers (not the opener) are told, once each
    told = set(Notification.objects.filter(kind="service").values_list("recipient__username", flat=True))
    assert told == {"liam", "lena"}
    assert Notification.objects.get(recipient=cast.agent2).url == f"/services/{planned.pk}/"
    assert LogEntry.objects.filter(object_id=str(planned.pk), change_message__contains="gate opened").exists()


def test_only_the_service_manager_or_an_admin_opens_the_gate(cast, planned):
    with pytest.raises(AccessDenied, match="Only the service manager"):
        gates.gate_open(service=planned, actor=cast.agent1)
    assert not OperationsGate.objects.exists()
    gates.gate_open(service=planned, actor=cast.admin)
    with pytest.raises(Conflict, match="already open"):
        gates.gate_open(service=planned, actor=cast.admin)


def test_a_gate_needs_a_service_manager_and_staff_approvers(cast, planned):
    planned.service_manager = None
    planned.save()
    with pytest.raises(ValidationFailed, match="Name the service manager") as refused:
        gates.gate_open(service=planned, actor=cast.admin)
    assert "service_manager" in refused.value.fields
    planned.service_manager = cast.manager
    planned.save()
    with pytest.raises(ValidationFailed, match="appoint an active staff member"):
        gates.gate_open(service=planned, actor=cast.manager, approvers={GateItemCode.UAT: cast.requester})
    assert not OperationsGate.objects.exists()
    assert ServiceFactory._meta.model.objects.get(pk=planned.pk).lifecycle == ServiceLifecycle.PLANNED


def test_an_operational_service_has_no_gate_to_open(cast):
    service = ServiceFactory(name="Old one", service_manager=cast.manager)
    with pytest.raises(TransitionRefused, match="only a planned service"):
        gates.gate_open(service=service, actor=cast.manager)


def test_only_the_appointed_approver_signs_off_an_item(cast, planned):
    gate = opened(cast, planned)
    uat = gate.items.get(code=GateItemCode.UAT)
    for someone in (cast.agent1, cast.manager, cast.admin):
        with pytest.raises(AccessDenied, match="Only .* appointed to “User acceptance test done”"):
            gates.gate_item_sign(item=uat, actor=someone, evidence="Looks fine.")
    uat.refresh_from_db()
    assert uat.state == GateItemState.OPEN and uat.signed_by is None


def test_signing_off_needs_a_note_and_happens_once(cast, planned):
    gate = opened(cast, planned)
    uat = gate.items.get(code=GateItemCode.UAT)
    with pytest.raises(ValidationFailed, match="Say what you checked") as refused:
        gates.gate_item_sign(item=uat, actor=cast.agent2, evidence="  ")
    assert refused.value.fields == {"evidence": ["What you checked is required."]}
    gates.gate_item_sign(item=uat, actor=cast.agent2, evidence="12 testers, 40 cases, no blocker.")
    uat.refresh_from_db()
    assert (uat.state, uat.signed_by, uat.evidence) == (GateItemState.SIGNED_OFF, cast.agent2,
                                                        "12 testers, 40 cases, no blocker.")
    with pytest.raises(Conflict, match="already signed off by"):
        gates.gate_item_sign(item=uat, actor=cast.agent2, evidence="Again.")
    stale = GateItem.objects.get(pk=uat.pk)
    stale.state = GateItemState.OPEN  # a copy read before the sign-off: the database still refuses it
    with pytest.raises(Conflict):
        gates.gate_item_sign(item=stale, actor=cast.agent2, evidence="Again.")


def test_the_service_manager_reopens_a_signed_item_with_a_reason(cast, planned):
    gate = opened(cast, planned)
    uat = gate.items.get(code=GateItemCode.UAT)
    gates.gate_item_sign(item=uat, actor=cast.agent2, evidence="Done.")
    with pytest.raises(AccessDenied, match="Only the service manager"):
        gates.gate_item_reopen(item=uat, actor=cast.admin, reason="Redo")
    with pytest.raises(ValidationFailed, match="Say why"):
        gates.gate_item_reopen(item=uat, actor=cast.manager, reason="")
    gates.gate_item_reopen(item=uat, actor=cast.manager, reason="The payroll export was not in scope.")
    uat.refresh_from_db()
    assert uat.state == GateItemState.OPEN and uat.signed_by is None
    assert "not in scope" in uat.evidence
    with pytest.raises(Conflict, match="nothing to reopen"):
        gates.gate_item_reopen(item=uat, actor=cast.manager, reason="again")


def test_an_item_is_reappointed_until_it_is_signed(cast, planned):
    gate = opened(cast, planned)
    monitoring = gate.items.get(code=GateItemCode.MONITORING)
    gates.gate_item_appoint(item=monitoring, actor=cast.manager, approver=cast.engineer)
    monitoring.refresh_from_db()
    assert monitoring.approver == cast.engineer
    gates.gate_item_sign(item=monitoring, actor=cast.engineer, evidence="Dashboards and alerts in place.")
    with pytest.raises(Conflict, match="reopen it before"):
        gates.gate_item_appoint(item=monitoring, actor=cast.manager, approver=cast.agent1)


def test_an_extra_item_is_added_with_its_approver(cast, planned):
    gate = opened(cast, planned)
    item = gates.gate_item_add(service=planned, actor=cast.manager, label="Data protection review",
                               approver=cast.engineer)
    assert (item.code, item.gate, item.approver) == (GateItemCode.OTHER, gate, cast.engineer)
    with pytest.raises(ValidationFailed, match="already has"):
        gates.gate_item_add(service=planned, actor=cast.manager, label="data protection review",
                            approver=cast.engineer)


def test_accepting_with_an_unchecked_item_is_refused_naming_the_open_items(cast, planned):
    gate = opened(cast, planned)
    for item in gate.items.exclude(code__in=[GateItemCode.MONITORING, GateItemCode.CONTACTS]):
        gates.gate_item_sign(item=item, actor=item.approver, evidence="Checked.")
    with pytest.raises(ValidationFailed) as refused:
        gates.gate_accept(service=planned, actor=cast.manager)
    assert "2 of 7 items are not signed off yet: Monitoring in place; Contacts and escalation paths" \
        in refused.value.message
    assert refused.value.fields == {"items": ["Monitoring in place", "Contacts and escalation paths"]}
    planned.refresh_from_db()
    gate.refresh_from_db()
    assert planned.lifecycle == ServiceLifecycle.IN_TRANSITION and gate.accepted_at is None


def test_only_the_service_manager_accepts_not_even_an_admin(cast, planned):
    gate = opened(cast, planned)
    sign_all(gate)
    with pytest.raises(AccessDenied, match="An administrator may name another service manager, not accept"):
        gates.gate_accept(service=planned, actor=cast.admin)
    with pytest.raises(AccessDenied, match="Only maria, the service manager of Expense claims, accepts it"):
        gates.gate_accept(service=planned, actor=cast.agent2)
    planned.refresh_from_db()
    assert planned.lifecycle == ServiceLifecycle.IN_TRANSITION


def test_acceptance_makes_the_service_operational_and_tells_the_people_concerned(cast, planned):
    gate = opened(cast, planned)
    sign_all(gate)
    desk_lead = UserFactory(username="dora", role=Role.MANAGER)
    GroupFactory(name="Night desk", tier=Tier.L1, manager=desk_lead).services.add(planned)
    Notification.objects.all().delete()

    gates.gate_accept(service=planned, actor=cast.manager, note="Go-live on Monday.")

    planned.refresh_from_db()
    gate.refresh_from_db()
    assert planned.lifecycle == ServiceLifecycle.OPERATIONAL
    assert (gate.accepted_by, gate.acceptance_note) == (cast.manager, "Go-live on Monday.")
    # owners (olga), the project team's manager (maria, the acceptor: not told), the L1 groups' managers
    told = set(Notification.objects.values_list("recipient__username", flat=True))
    assert told == {"olga", "dora"}
    note = Notification.objects.get(recipient__username="olga")
    assert note.title == "[Expense claims] Now operational" and note.url == f"/services/{planned.pk}/"
    with pytest.raises(TransitionRefused, match="checklist is closed"):
        gates.gate_accept(service=planned, actor=cast.manager)


def test_the_lifecycle_moves_only_forward_and_retired_never_returns(cast, planned):
    with pytest.raises(TransitionRefused, match="only an operational service is retired"):
        gates.service_retire(service=planned, actor=cast.manager, reason="Cancelled")
    gate = opened(cast, planned)
    sign_all(gate)
    gates.gate_accept(service=planned, actor=cast.manager)
    with pytest.raises(ValidationFailed, match="Say why"):
        gates.service_retire(service=planned, actor=cast.manager, reason="")
    gates.service_retire(service=planned, actor=cast.manager, reason="Replaced by the ERP module.")
    planned.refresh_from_db()
    assert planned.lifecycle == ServiceLifecycle.RETIRED and not planned.takes_tickets
    with pytest.raises(TransitionRefused, match="retired and cannot become"):
        gates._require_move(planned, ServiceLifecycle.OPERATIONAL)
    with pytest.raises(TransitionRefused, match="retired"):
        gates.gate_open(service=planned, actor=cast.manager)


def test_editing_a_service_is_for_its_manager_and_admins_and_is_recorded(cast, planned):
    with pytest.raises(AccessDenied):
        gates.service_update(service=planned, actor=cast.agent1, changes={"description": "x"})
    gates.service_update(service=planned, actor=cast.manager, changes={
        "description": "Claims for travel and expenses.", "owners": [cast.manager], "project_group": cast.l2})
    planned.refresh_from_db()
    assert planned.description == "Claims for travel and expenses." and planned.project_group == cast.l2
    assert list(planned.owners.all()) == [cast.manager]
    history = gates.service_history(planned)
    assert "project group: Payroll Dev (L3) → App Support (L2)" in history[0].change_message
    opened(cast, planned)
    with pytest.raises(ValidationFailed, match="keeps a service manager"):
        gates.service_update(service=planned, actor=cast.admin, changes={"service_manager": None})


def test_live_evidence_counts_internal_articles_tiers_and_policies(cast, planned):
    article = KnowledgeArticle.objects.create(title="Expense claims: what the desk checks", body="...",
                                              state=ArticleState.PUBLISHED, audience=ArticleAudience.INTERNAL)
    article.services.add(planned)
    evidence = gates.gate_evidence(planned)
    assert evidence[GateItemCode.KNOWLEDGE].text == "1 published internal article for the desk (0 public)"
    assert evidence[GateItemCode.KNOWLEDGE].ok
    assert evidence[GateItemCode.SUPPORT_GROUPS].text == "L1: Service Desk — no L2, L3 group"
    assert not evidence[GateItemCode.SUPPORT_GROUPS].ok
    assert evidence[GateItemCode.SLA].text == "No SLA policy applies to its tickets."
