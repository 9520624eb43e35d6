"""A release from plan to shipped in the browser: devon plans Payroll 2.5.0 and adds the fixed defect, assembles
the notes, is refused reviewing his own notes (in place, his unsaved words kept, his next save works), dana
reviews, liam (2nd line) signs UAT off, devon publishes, lena at the desk reads the notes on an incident of the
service, devon ships; the requester waiting on the incident is told."""

import re

from playwright.sync_api import expect

from devflow.models import Release
from devflow.services import defect_from_incident
from itsm.models import KnowledgeArticle
from sla.models import Notification
from tracker import services
from tracker.choices import Kind, Status


def _fixed_defect_of_an_incident(cast):
    incident = services.ticket_create(actor=cast.agent1, requester=cast.requester, kind=Kind.INCIDENT,
                                      title="Net pay is zero for Z tax codes", service=cast.services["payroll"],
                                      group=cast.l3)
    defect = defect_from_incident(incident=incident, actor=cast.engineer, title="Tax code import ignores Z codes")
    services.ticket_transition(ticket=defect, to=Status.TRIAGED, actor=cast.engineer, values={"severity": "s2"})
    services.ticket_transition(ticket=defect, to=Status.IN_PROGRESS, actor=cast.engineer)
    services.ticket_transition(ticket=defect, to=Status.FIXED, actor=cast.engineer,
                               values={"resolution_note": "Z codes are imported"})
    return incident, defect


def test_a_release_goes_from_plan_to_the_desk_and_ships(cast, signed_in, shot):
    incident, defect = _fixed_defect_of_an_incident(cast)
    devon = signed_in(cast.engineer)
    devon.goto("/dev/releases/")
    devon.get_by_role("link", name="New release").click()
    devon.get_by_label("Service", exact=True).select_option(label="Payroll")
    devon.get_by_label("Name", exact=True).fill("Spring payroll")
    devon.get_by_role("button", name="Plan release").click()  # no version: refused in place, the rest kept
    expect(devon.get_by_role("alert")).to_contain_text("A version is required")
    expect(devon.get_by_label("Name", exact=True)).to_have_value("Spring payroll")
    devon.get_by_label("Version", exact=True).fill("2.5.0")
    devon.get_by_role("button", name="Plan release").click()
    expect(devon.get_by_role("heading", name="Payroll 2.5.0")).to_be_visible()
    release = Release.objects.get()

    devon.get_by_label("Add a defect or change by key").fill("DEF-999")
    devon.get_by_role("button", name="Add", exact=True).click()
    expect(devon.get_by_role("alert")).to_contain_text("No ticket DEF-999")
    devon.get_by_label("Add a defect or change by key").fill(defect.key)
    devon.get_by_role("button", name="Add", exact=True).click()
    expect(devon.locator("#release-tickets")).to_contain_text("Tax code import ignores Z codes")
    devon.get_by_role("button", name="Assemble from tickets").click()
    expect(devon.locator("#release-preview")).to_contain_text(defect.key)
    expect(devon.get_by_label("Release notes")).to_have_value(
        re.compile("### Fixes"))
    shot(devon, "release-01-assembled")

    notes = devon.get_by_label("Release notes")
    notes.fill(notes.input_value() + "\n\nPayslips of Z tax codes show the right net pay again.")
    expect(devon.locator("#release-preview")).to_contain_text("right net pay again")  # live preview
    devon.get_by_role("button", name="Mark notes reviewed").click()  # his own notes: refused in place
    expect(devon.locator("#release-steps").get_by_role("alert")).to_contain_text("edited these notes last")
    expect(devon.get_by_label("Release notes")).to_have_value(re.compile("right net pay again"))
    shot(devon, "release-02-own-review-refused")
    devon.get_by_role("button", name="Save").click()
    expect(devon.get_by_role("status")).to_contain_text("saved")
    assert "right net pay again" in Release.objects.get().notes

    dana = signed_in(cast.engineer2)
    dana.goto(f"/dev/releases/{release.pk}/")
    dana.get_by_role("button", name="Mark notes reviewed").click()
    expect(dana.get_by_role("status")).to_contain_text("Notes reviewed")

    liam = signed_in(cast.agent2)
    liam.goto(f"/dev/releases/{release.pk}/")
    liam.get_by_role("button", name="Sign off UAT").click()  # no note: refused in place
    expect(liam.locator("#release-steps").get_by_role("alert")).to_contain_text("UAT note")
    liam.get_by_label("UAT note").fill("Finance ran Z-code payslips in UAT: all correct.")
    liam.get_by_role("button", name="Sign off UAT").click()
    expect(liam.get_by_role("status")).to_contain_text("UAT signed off")
    defect.refresh_from_db()
    assert defect.status == Status.VERIFIED
    shot(liam, "release-03-uat-signed")

    devon.goto(f"/dev/releases/{release.pk}/")
    devon.get_by_role("button", name="Publish to the desk").click()
    expect(devon.get_by_role("link", name="the desk's article")).to_be_visible()
    assert KnowledgeArticle.objects.get().audience == "internal"

    lena = signed_in(cast.agent1)
    other = services.ticket_create(actor=cast.agent1, kind=Kind.INCIDENT, title="Payslip looks different",
                                   service=cast.services["payroll"])
    lena.goto(f"/tickets/{other.key}/")
    panel = lena.get_by_role("region", name="Changed on this service (14 days)")
    panel.locator("summary", has_text="2.5.0").click()
    expect(panel).to_contain_text("right net pay again")
    shot(lena, "release-04-desk-reads-the-notes")

    devon.once("dialog", lambda dialog: dialog.accept())
    devon.get_by_role("button", name="Ship").click()
    expect(devon.get_by_role("status")).to_contain_text("shipped")
    expect(devon.get_by_role("heading", name="Since this release")).to_be_visible()
    shot(devon, "release-05-shipped")
    defect.refresh_from_db()
    assert defect.status == Status.CLOSED
    told = Notification.objects.get(recipient=cast.requester, ticket=incident, kind="release")
    assert f"The fix for your issue {incident.key} shipped in Payroll 2.5.0" in told.body
