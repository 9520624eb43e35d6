"""The admin: work and its records are read-only there (no history-less edits); configuration stays editable."""
import pytest
from django.contrib import admin
from django.test import RequestFactory

from devflow.models import Release
from itsm.models import KnowledgeArticle
from sla.models import Calendar, Clock, ClockEffect, Notification, OutboxMessage, Policy, SweepHeartbeat
from tracker import services
from tracker.choices import Kind, Status
from tracker.models import (
    AssignmentGroup,
    Category,
    Comment,
    IdempotencyRecord,
    KeyCounter,
    Link,
    Service,
    Ticket,
    TicketEvent,
    User,
)

READ_ONLY = [Ticket, Comment, TicketEvent, Link, KeyCounter, IdempotencyRecord,
             Clock, ClockEffect, Notification, OutboxMessage, SweepHeartbeat, KnowledgeArticle]
EDITABLE = [User, AssignmentGroup, Service, Category, Calendar, Policy, Release]


@pytest.fixture
def superuser_request(cast):
    request = RequestFactory().get("/admin/")
    request.user = cast.admin
    return request


@pytest.mark.parametrize("model", READ_ONLY, ids=lambda m: m.__name__)
def test_work_records_can_be_viewed_but_not_added_changed_or_deleted(model, superuser_request):
    model_admin = admin.site._registry[model]
    assert model_admin.has_view_permission(superuser_request)
    assert not model_admin.has_add_permission(superuser_request)
    assert not model_admin.has_change_permission(superuser_request)
    assert not model_admin.has_delete_permission(superuser_request)


@pytest.mark.parametrize("model", EDITABLE, ids=lambda m: m.__name__)
def test_configuration_stays_editable_for_administrators(model, superuser_request):
    model_admin = admin.site._registry[model]
    assert model_admin.has_add_permission(superuser_request)
    assert model_admin.has_change_permission(superuser_request)


def test_changing_a_ticket_in_the_admin_is_refused_and_changes_nothing(cast, client):
    ticket = services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="Payslips are blank",
                                    service=cast.services["payroll"])
    before = Ticket.objects.get(pk=ticket.pk)
    events = TicketEvent.objects.filter(ticket=ticket).count()
    client.force_login(cast.admin)
    url = f"/admin/tracker/ticket/{ticket.pk}/change/"

    page = client.get(url)
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert b"Payslips are blank" in page.content

    response = client.post(url, {"title": "Edited behind the history", "status": Status.CLOSED,
                                 "kind": ticket.kind, "priority": 1})
    assert response.status_code == 403
    after = Ticket.objects.get(pk=ticket.pk)
    assert (after.title, after.status, after.version, after.updated_at) == (
        before.title, before.status, before.version, before.updated_at)
    assert TicketEvent.objects.filter(ticket=ticket).count() == events

    assert client.post(f"/admin/tracker/ticket/{ticket.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/tracker/ticket/add/").status_code == 403
    assert Ticket.objects.filter(pk=ticket.pk).exists()


def test_the_ticket_list_in_the_admin_still_filters_and_searches(cast, client):
    services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="Payslips are blank")
    client.force_login(cast.admin)
    page = client.get("/admin/tracker/ticket/", {"q": "payslips", "kind__exact": Kind.INCIDENT})
    assert page.status_code == 200 and b"Payslips are blank" in page.content
    assert b"Add ticket" not in page.content
