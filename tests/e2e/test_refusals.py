"""Refused actions on the ticket page: the message shows next to what caused it, what was typed stays, and
the next submit works (no full-page swap, no GET with the form in the URL)."""

import re

import pytest
from playwright.sync_api import expect

from tracker import services
from tracker.choices import Kind, Status
from tracker.models import Comment, Link, Ticket


@pytest.fixture
def ticket(cast):
    incident = services.ticket_create(
        actor=cast.requester,
        kind=Kind.INCIDENT,
        title="Payslips are blank for March",
        service=cast.services["payroll"],
    )
    services.ticket_transition(ticket=incident, to=Status.IN_PROGRESS, actor=cast.agent1)
    return incident


def open_ticket(page, ticket):
    page.goto(f"/tickets/{ticket.key}/")
    expect(page.get_by_role("heading", name=ticket.title)).to_be_visible()


def test_an_empty_comment_is_refused_in_place_and_the_next_one_is_saved(cast, ticket, signed_in, shot):
    page = signed_in(cast.agent1)
    open_ticket(page, ticket)
    box = page.get_by_role("textbox", name="Comment")
    box.fill("   ")
    page.get_by_role("button", name="Add comment").click()
    form = page.locator("#comment-form")
    expect(form.get_by_role("alert")).to_contain_text("Write something before sending")
    expect(page.get_by_role("heading", name=ticket.title)).to_be_visible()  # the page is still the page
    shot(page, "refused-comment")

    page.get_by_role("textbox", name="Comment").fill("Checked the payroll export: it is empty.")
    page.get_by_role("button", name="Add comment").click()
    expect(page.locator(".timeline")).to_contain_text("Checked the payroll export: it is empty.")
    assert "?" not in page.url
    assert Comment.objects.filter(ticket=ticket, body="Checked the payroll export: it is empty.").count() == 1


def test_a_move_without_its_required_note_keeps_what_was_typed_and_the_next_submit_moves(
    cast, ticket, signed_in, shot
):
    page = signed_in(cast.agent1)
    open_ticket(page, ticket)
    page.get_by_text("Resolve…").click()
    form = page.locator("form[data-move=resolved]")
    expect(form).to_be_visible()
    form.get_by_role("button", name="Resolve").click()
    expect(form.get_by_role("alert")).to_contain_text(re.compile("resolution[ _]note", re.I))
    expect(page.get_by_role("heading", name=ticket.title)).to_be_visible()
    assert Ticket.objects.get(pk=ticket.pk).status == Status.IN_PROGRESS
    shot(page, "refused-move")

    form = page.locator("form[data-move=resolved]")
    form.get_by_label(re.compile("Resolution note", re.I)).fill("Re-ran the March export.")
    form.get_by_role("button", name="Resolve").click()
    expect(page.locator(".badge.status").first).to_have_text("Resolved")
    assert Ticket.objects.get(pk=ticket.pk).status == Status.RESOLVED


def test_a_link_to_itself_is_refused_in_place_and_the_key_stays(cast, ticket, signed_in, shot):
    other = services.ticket_create(actor=cast.agent1, kind=Kind.PROBLEM, title="Export job drops rows")
    page = signed_in(cast.agent1)
    open_ticket(page, ticket)
    form = page.locator("#link-form")
    form.get_by_label("Ticket key").fill(ticket.key)
    form.get_by_role("button", name="Link").click()
    expect(form.get_by_role("alert")).to_contain_text(re.compile("itself", re.I))
    expect(form.get_by_label("Ticket key")).to_have_value(ticket.key)
    shot(page, "refused-link")

    form.get_by_label("Ticket key").fill(other.key)
    form.get_by_role("button", name="Link").click()
    expect(page.locator("aside")).to_contain_text(other.key)
    assert Link.objects.filter(source=ticket, target=other).count() == 1


def test_an_escalation_is_confirmed(cast, ticket, signed_in):
    ticket.group = cast.l1
    ticket.save(update_fields=["group"])
    page = signed_in(cast.agent1)
    open_ticket(page, ticket)
    page.get_by_text("Escalate…").click()
    page.get_by_label("Why").fill("Needs the payroll team")
    page.get_by_role("button", name="Escalate", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(f"Escalated {ticket.key} to {cast.l2.name}")


def test_take_on_a_queue_row_does_not_silently_grab_someone_elses_ticket(cast, signed_in, shot):
    picked = services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="Tax codes ignored",
                                    service=cast.services["payroll"])
    services.ticket_escalate(ticket=picked, actor=cast.agent1, to_group=cast.l3)
    services.ticket_claim(ticket=picked, actor=cast.engineer)
    page = signed_in(cast.agent1)
    page.goto("/queue/?view=all")
    row = page.locator(f"#row-{picked.key}")
    row.get_by_role("button", name="Take", exact=True).click()
    expect(row.get_by_role("alert")).to_contain_text("held by")
    assert Ticket.objects.get(pk=picked.pk).assignee == cast.engineer
    shot(page, "refused-take")

    page.locator(f"#row-{picked.key}").get_by_role("button", name="Take over").click()
    expect(page.locator(f"#row-{picked.key}").get_by_role("status")).to_contain_text("assigned to you")
    assert Ticket.objects.get(pk=picked.pk).assignee == cast.agent1
