"""The desk recognises a known problem before it escalates: an agent opens a new incident on a service with a
known error, sees the banner at the top, links it and sends the workaround in one click, and the requester reads
the reply on their portal page; a known error resolved meanwhile is refused in place, with nothing half-written."""

from playwright.sync_api import expect

from tests.itsm.test_problems import incident, known_error
from tracker import services
from tracker.choices import Status
from tracker.models import Comment, Link


def test_an_agent_applies_a_known_errors_workaround_and_the_requester_reads_it(cast, signed_in, shot):
    problem = known_error(cast)
    fresh = incident(cast, "Payslip blank in the browser")

    page = signed_in(cast.agent1)
    page.goto(f"/tickets/{fresh.key}/")
    banner = page.get_by_role("region", name=f"Known error {problem.key}")
    expect(banner).to_contain_text("PDF viewer")
    shot(page, "known-error-banner")
    banner.get_by_role("button", name="Link and apply workaround").click()
    expect(page.locator("#known-errors")).to_contain_text(f"Linked to {problem.key}")
    expect(page.locator(".timeline")).to_contain_text("Open the payslip in the PDF viewer")
    assert Link.objects.filter(source=fresh, target=problem).exists()

    requester = signed_in(cast.requester)
    requester.goto(f"/portal/tickets/{fresh.key}/")
    expect(requester.locator(".timeline")).to_contain_text("Open the payslip in the PDF viewer")
    expect(requester.get_by_text(f"Known problem {problem.key}:")).to_be_visible()
    expect(requester.locator(f"a[href='/tickets/{problem.key}/']")).to_have_count(0)
    shot(requester, "known-error-portal")


def test_a_known_error_resolved_meanwhile_is_refused_in_place(cast, signed_in, shot):
    problem = known_error(cast)
    fresh = incident(cast, "Payslip blank again")
    page = signed_in(cast.agent1)
    page.goto(f"/tickets/{fresh.key}/")
    button = page.get_by_role("button", name="Link and apply workaround")
    expect(button).to_be_visible()
    services.ticket_transition(ticket=problem, to=Status.RESOLVED, actor=cast.agent2,
                               values={"resolution_note": "Font cache enlarged."})
    button.click()
    expect(page.get_by_role("alert")).to_contain_text("no longer an open known error")
    expect(page.get_by_role("heading", name=fresh.title)).to_be_visible()
    expect(page.get_by_role("button", name="Link and apply workaround")).to_have_count(0)
    shot(page, "known-error-refused")
    assert not Link.objects.filter(source=fresh).exists() and not Comment.objects.filter(ticket=fresh).exists()


def test_a_problem_manager_raises_a_problem_from_ticked_incidents_and_analyses_it(cast, signed_in, shot):
    first, second = incident(cast, "Checkout times out"), incident(cast, "Cannot pay: the checkout spins")
    page = signed_in(cast.agent2)
    page.goto("/queue/?view=open")
    page.get_by_label(f"Tick {first.key}").check()
    page.get_by_label(f"Tick {second.key}").check()
    page.get_by_label("With the ticked:").select_option(label="Create problem from incidents")
    page.get_by_label("problem title").fill("Checkout times out at peak hours")
    page.get_by_role("button", name="Apply to ticked").click()
    expect(page.locator("#toasts")).to_contain_text("PRB-1 raised from")

    problem = Link.objects.get(source=first).target
    page.goto(f"/tickets/{problem.key}/")
    analysis = page.locator("#analysis")
    expect(analysis).to_contain_text("2 incidents linked (2 open)")
    expect(analysis).to_contain_text("No root cause")
    analysis.get_by_text("Edit analysis").click()
    analysis.get_by_label("Root cause").fill("The payment provider's pool is too small at noon.")
    analysis.get_by_role("button", name="Save analysis").click()
    expect(page.locator("#analysis")).to_contain_text("pool is too small")
    expect(page.locator("#analysis")).not_to_contain_text("No root cause")
    shot(page, "problem-analysis")
