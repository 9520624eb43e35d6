"""Ordering from the request catalogue: every rule of an item's form checked on the server, who may order what,
services not yet operational, the approver, the SLA policy pin, and what an order starts."""

import json
from datetime import time

import pytest

from itsm.choices import ApprovalMode, ApprovalState, AutomationState, CatalogAudience
from itsm.models import CatalogRequest, CatalogTaskTemplate, FulfilmentTask
from itsm.services import catalogue as cat
from sla.choices import Metric, NotificationKind
from sla.models import Calendar, Clock, Notification, Policy, WorkingHours
from tests.factories import ServiceFactory
from tests.itsm.catalogue_items import GOOD, MODELS, make_item
from tracker.choices import Kind, ServiceLifecycle
from tracker.errors import AccessDenied, ValidationFailed
from tracker.models import Ticket


def refused(item, data) -> dict:
    with pytest.raises(ValidationFailed) as exc:
        cat.answers_clean(item, data)
    return exc.value


# --- the form's rules ---------------------------------------------------------------------------------------

def test_good_answers_are_stored_json_safe(cast, laptop):
    clean = cat.answers_clean(laptop, {**GOOD, "for_whom": "bob", "docking": "on", "monitors": "2"})
    assert clean == {**GOOD, "for_whom": cast.other_requester.pk, "docking": True, "monitors": 2}
    assert json.loads(json.dumps(clean)) == clean


def test_a_missing_required_answer_is_refused_by_name(cast, laptop):
    error = refused(laptop, {k: v for k, v in GOOD.items() if k != "needed_by"})
    assert set(error.fields) == {"needed_by"}
    assert "Needed by" in error.message and "required" in error.message


def test_every_bad_answer_is_named_at_once(cast, laptop):
    error = refused(laptop, {"model": "Commodore 64", "justification": "  "})
    assert set(error.fields) == {"model", "needed_by", "justification"}
    assert "Check 3 answers" in error.message


def test_a_choice_outside_the_options_is_refused(cast, laptop):
    error = refused(laptop, {**GOOD, "model": "Commodore 64"})
    assert error.fields["model"] == [f"Choose one of: {', '.join(MODELS)}."]


@pytest.mark.parametrize(("given", "said"), [("3", "At most 2."), ("-1", "At least 0."), ("lots", "Give a number"),
                                             ("NaN", "Give a number"), (True, "Give a number")])
def test_a_number_out_of_range_or_not_a_number_is_refused(cast, laptop, given, said):
    assert refused(laptop, {**GOOD, "monitors": given}).fields["monitors"][0].startswith(said)


@pytest.mark.parametrize("given", ["02/05/2030", "2030-02-30", "tomorrow", 20300502, "2030-W01-1"])
def test_a_bad_date_is_refused(cast, laptop, given):
    assert "YYYY-MM-DD" in refused(laptop, {**GOOD, "needed_by": given}).fields["needed_by"][0]


def test_an_unknown_or_inactive_person_is_refused_and_a_known_one_is_kept_by_id(cast, laptop):
    assert "No active person 'nobody'" in refused(laptop, {**GOOD, "for_whom": "nobody"}).fields["for_whom"][0]
    cast.other_requester.is_active = False
    cast.other_requester.save(update_fields=["is_active"])
    assert "for_whom" in refused(laptop, {**GOOD, "for_whom": "bob"}).fields
    assert cat.answers_clean(laptop, {**GOOD, "for_whom": cast.agent1.pk})["for_whom"] == cast.agent1.pk
    assert "for_whom" in refused(laptop, {**GOOD, "for_whom": 10**12}).fields


def test_a_text_that_misses_the_pattern_says_the_items_own_message(cast, laptop):
    assert refused(laptop, {**GOOD, "cost_centre": "4100"}).fields["cost_centre"] == ["Use the form CC-1234."]


def test_a_text_over_its_limit_is_refused(cast, laptop):
    assert "500 characters" in refused(laptop, {**GOOD, "justification": "x" * 501}).fields["justification"][0]


def test_an_unknown_answer_key_is_refused_by_name(cast, laptop):
    error = refused(laptop, {**GOOD, "colour": "red"})
    assert set(error.fields) == {"colour"} and "no question 'colour'" in error.fields["colour"][0]


def test_yes_no_takes_true_false_and_a_ticked_box_and_nothing_else(cast, laptop):
    assert cat.answers_clean(laptop, {**GOOD, "docking": "true"})["docking"] is True
    assert cat.answers_clean(laptop, {**GOOD, "docking": False})["docking"] is False
    assert cat.answers_clean(laptop, GOOD)["docking"] is False
    assert "docking" in refused(laptop, {**GOOD, "docking": "maybe"}).fields


def test_answers_that_are_not_an_object_are_refused(cast, laptop):
    assert refused(laptop, ["model"]).fields == {"answers": ["An object is expected."]}


# --- ordering -----------------------------------------------------------------------------------------------

def test_ordering_an_item_that_needs_the_managers_approval_waits_for_them(cast, laptop, hardware):
    ticket = cat.request_order(actor=cast.requester, item=laptop, answers={**GOOD, "docking": "on"})
    record = CatalogRequest.objects.get(ticket=ticket)
    assert ticket.kind == Kind.REQUEST and ticket.requester == cast.requester
    assert ticket.title == "New laptop: CC-4100" and ticket.service == laptop.service
    assert ticket.group == hardware  # routed to the fulfilment team, though a requester may not pick one
    assert "- **Model**: ThinkPad T14" in ticket.description and "> New starter in Finance" in ticket.description
    assert record.approval == ApprovalState.PENDING and record.approver == cast.manager
    assert record.answers["docking"] is True
    assert not FulfilmentTask.objects.exists()  # the tasks wait for the approval
    note = Notification.objects.get(recipient=cast.manager, kind=NotificationKind.APPROVAL)
    assert note.url == f"/approvals/requests/{ticket.key}/"
    assert "Alice" in note.title and "New laptop" in note.title and "Model: ThinkPad T14" in note.body
    assert ticket.events.filter(field="catalogue", note__contains="Waiting for approval by").exists()


def test_an_item_without_approval_begins_its_fulfilment_at_once(cast, vpn, django_capture_on_commit_callbacks):
    CatalogTaskTemplate.objects.create(item=vpn, title="Check the account")
    with django_capture_on_commit_callbacks() as callbacks:
        ticket = cat.request_order(actor=cast.requester, item=vpn, answers={"reason": "Working from Lisbon"})
    record = CatalogRequest.objects.get(ticket=ticket)
    assert record.approval == ApprovalState.NOT_NEEDED and record.approver is None
    assert record.automation == AutomationState.QUEUED and len(callbacks) == 1  # the handler, after commit
    assert list(FulfilmentTask.objects.filter(request=ticket).values_list("title", flat=True)) == ["Check the account"]
    assert ticket.title == "VPN access: Working from Lisbon" and ticket.group == cast.l1  # the usual intake


def test_an_item_that_needs_approval_with_nobody_to_approve_is_refused_and_nothing_is_written(cast, laptop):
    cast.requester.manager = None
    cast.requester.save(update_fields=["manager"])
    with pytest.raises(ValidationFailed) as exc:
        cat.request_order(actor=cast.requester, item=laptop, answers=GOOD)
    assert "you have no line manager set" in exc.value.message and "approver" in exc.value.fields
    named = make_item(laptop.service, name="Shared mailbox", approval=ApprovalMode.NAMED)
    with pytest.raises(ValidationFailed, match="no active approver named"):
        cat.request_order(actor=cast.requester, item=named, answers={})
    assert not Ticket.objects.exists() and not CatalogRequest.objects.exists()


def test_a_staff_only_item_is_refused_to_a_requester_and_ordered_by_the_desk_for_them(cast, laptop):
    staff_item = make_item(laptop.service, name="Admin rights", audience=CatalogAudience.STAFF)
    with pytest.raises(AccessDenied):
        cat.request_order(actor=cast.requester, item=staff_item, answers={})
    assert staff_item not in cat.catalogue_items(user=cast.requester)
    ticket = cat.request_order(actor=cast.agent1, item=staff_item, answers={}, requester=cast.requester)
    assert ticket.requester == cast.requester and staff_item in cat.catalogue_items(user=cast.agent1)


def test_only_the_desk_orders_on_someone_elses_behalf(cast, vpn):
    with pytest.raises(AccessDenied):
        cat.request_order(actor=cast.requester, item=vpn, answers={"reason": "x"}, requester=cast.other_requester)


@pytest.mark.parametrize("lifecycle", [ServiceLifecycle.PLANNED, ServiceLifecycle.IN_TRANSITION,
                                       ServiceLifecycle.RETIRED])
def test_an_item_of_a_service_not_operational_is_neither_offered_nor_ordered(cast, lifecycle):
    service = ServiceFactory(name="New HR portal", lifecycle=lifecycle)
    item = make_item(service, name="HR portal account")
    assert item not in cat.catalogue_items(user=cast.agent1)
    with pytest.raises(ValidationFailed, match="New HR portal"):
        cat.request_order(actor=cast.agent1, item=item, answers={}, requester=cast.requester)
    assert not Ticket.objects.exists()


def test_an_item_no_longer_offered_is_refused(cast, vpn):
    vpn.active = False
    vpn.save(update_fields=["active"])
    with pytest.raises(ValidationFailed, match="no longer offered"):
        cat.request_order(actor=cast.requester, item=vpn, answers={"reason": "x"})


def test_a_request_keeps_its_items_sla_policy(cast, vpn):
    london = Calendar.objects.create(name="London office", time_zone="Europe/London")
    WorkingHours.objects.bulk_create([WorkingHours(calendar=london, weekday=d, start=time(9), end=time(17))
                                      for d in range(5)])
    Policy.objects.create(name="All requests", order=1, calendar=london, kinds=["request"], response_s=4 * 3600,
                          resolution_s=40 * 3600)
    fast = Policy.objects.create(name="Access within the hour", order=99, calendar=london, kinds=["request"],
                                 response_s=600, resolution_s=3600)
    vpn.sla_policy = fast
    vpn.save(update_fields=["sla_policy"])
    ticket = cat.request_order(actor=cast.requester, item=vpn, answers={"reason": "x"})
    clocks = {c.metric: c for c in Clock.objects.filter(ticket=ticket).exclude(state="cancelled")}
    assert {m: c.policy_id for m, c in clocks.items()} == {Metric.RESPONSE: fast.pk, Metric.RESOLUTION: fast.pk}
    assert (clocks[Metric.RESPONSE].goal_s, clocks[Metric.RESOLUTION].goal_s) == (600, 3600)
    plain = cat.request_order(actor=cast.requester, item=make_item(vpn.service, name="Other"), answers={})
    assert {c.policy.name for c in Clock.objects.filter(ticket=plain)} == {"All requests"}


def test_the_item_page_says_what_happens_next(cast, laptop, vpn):
    assert cat.next_steps(laptop, cast.requester) == [
        f"Your line manager ({cast.manager.display_name}) approves it first.",
        "Then Hardware fulfils it; you follow each step on your request."]
    assert cat.next_steps(vpn, cast.requester)[-1].startswith("Then it is fulfilled automatically")
