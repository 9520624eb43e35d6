"""Standard-change templates: written and versioned by the change manager, retired when no longer used;
a standard change is made only from a live template and keeps the version it came from."""

from datetime import UTC, datetime

import pytest

from itsm import services as itsm
from itsm.models import ChangeTemplateVersion, StandardChange
from tracker import services
from tracker.choices import Status
from tracker.errors import AccessDenied, Conflict, TransitionRefused, ValidationFailed
from tracker.models import Ticket


@pytest.fixture
def template(cast):
    return itsm.template_create(actor=cast.change_manager, title="Rotate VPN certificates",
                                implementation_plan="Run the rotation playbook", backout_plan="Restore the old pair",
                                risk="low", service=cast.services["mail"], description="Quarterly.")


def test_a_standard_change_is_made_from_the_templates_current_version(cast, template):
    change = itsm.standard_change_create(template=template, actor=cast.agent2)
    assert (change.change_type, change.title, change.implementation_plan, change.risk, change.service) == (
        "standard", "Rotate VPN certificates", "Run the rotation playbook", "low", cast.services["mail"])
    assert StandardChange.objects.get(ticket=change).template_version.number == 1
    row = change.events.get(kind="approval", field="template")
    assert "Rotate VPN certificates" in row.note and "version 1" in row.note
    services.ticket_transition(ticket=change, to=Status.APPROVED, actor=cast.agent2)  # pre-approved: no CAB
    assert Ticket.objects.get(pk=change.pk).status == Status.APPROVED


def test_editing_a_template_makes_a_new_version_and_earlier_changes_keep_theirs(cast, template):
    first = itsm.standard_change_create(template=template, actor=cast.agent2)
    itsm.template_update(actor=cast.change_manager, template=template,
                         changes={"implementation_plan": "Run the rotation playbook v2"}, note="New playbook")
    itsm.template_update(actor=cast.change_manager, template=template,
                         changes={"implementation_plan": "Run the rotation playbook v2"})  # nothing changed
    second = itsm.standard_change_create(template=template, actor=cast.agent2)
    assert template.version == 2
    assert list(ChangeTemplateVersion.objects.filter(template=template).values_list("number", "note")) == [
        (2, "New playbook"), (1, "First version.")]
    assert StandardChange.objects.get(ticket=first).template_version.number == 1
    assert StandardChange.objects.get(ticket=second).template_version.number == 2
    assert second.implementation_plan == "Run the rotation playbook v2"


def test_a_retired_template_makes_no_new_change(cast, template):
    itsm.template_retire(actor=cast.change_manager, template=template)
    with pytest.raises(Conflict) as exc:
        itsm.standard_change_create(template=template, actor=cast.agent2)
    assert "retired" in exc.value.message
    with pytest.raises(Conflict):
        itsm.template_update(actor=cast.change_manager, template=template, changes={"risk": "medium"})


def test_only_the_change_manager_writes_templates(cast, template):
    with pytest.raises(AccessDenied):
        itsm.template_create(actor=cast.agent2, title="My shortcut", implementation_plan="x", backout_plan="y")
    with pytest.raises(AccessDenied):
        itsm.template_update(actor=cast.agent2, template=template, changes={"risk": "high"})
    with pytest.raises(AccessDenied):
        itsm.template_retire(actor=cast.engineer, template=template)


def test_a_template_needs_a_plan_a_backout_and_a_unique_title(cast, template):
    with pytest.raises(ValidationFailed) as exc:
        itsm.template_create(actor=cast.change_manager, title="Reboot", implementation_plan="Reboot",
                             backout_plan="  ")
    assert "backout_plan" in exc.value.fields
    with pytest.raises(Conflict):
        itsm.template_create(actor=cast.change_manager, title="Rotate VPN certificates", implementation_plan="x",
                             backout_plan="y")


def test_a_standard_change_is_never_raised_without_a_template(cast):
    with pytest.raises(ValidationFailed) as exc:
        services.ticket_create(actor=cast.agent2, kind="change", title="Quick fix", change_type="standard")
    assert "template" in exc.value.message
    assert not Ticket.objects.filter(kind="change").exists()


def test_a_standard_changes_plan_is_the_templates(cast, template):
    change = itsm.standard_change_create(template=template, actor=cast.agent2)
    with pytest.raises(Conflict) as exc:
        services.ticket_update(ticket=change, actor=cast.agent2, version=change.version,
                               changes={"implementation_plan": "Do something bigger"})
    assert "Rotate VPN certificates" in exc.value.message and "v1" in exc.value.message
    services.ticket_update(ticket=change, actor=cast.agent2, version=change.version,
                           changes={"description": "Done by liam this quarter"})


def test_an_approved_standard_changes_window_is_fixed(cast, template):
    change = itsm.standard_change_create(template=template, actor=cast.agent2,
                                         window_start=datetime(2026, 7, 1, 20, tzinfo=UTC),
                                         window_end=datetime(2026, 7, 1, 21, tzinfo=UTC))
    services.ticket_transition(ticket=change, to=Status.APPROVED, actor=cast.agent2)
    with pytest.raises(Conflict) as exc:
        services.ticket_update(ticket=change, actor=cast.agent2, version=change.version,
                               changes={"window_end": datetime(2026, 7, 1, 23, tzinfo=UTC)})
    assert "approved once" in exc.value.message


def test_a_normal_change_is_not_pre_approved(cast):
    change = services.ticket_create(actor=cast.agent2, kind="change", title="Quick fix", change_type="normal")
    with pytest.raises(TransitionRefused):
        services.ticket_transition(ticket=change, to=Status.APPROVED, actor=cast.change_manager,
                                   values={"implementation_plan": "x"})
