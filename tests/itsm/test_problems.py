"""Problem management's rules: a problem from incidents, a known error applied to an incident, a problem resolved
with exactly the chosen incidents, the defect's requester, and what a requester's portal shows."""
import pytest

from devflow import services as dev
from itsm import selectors, services
from sla.models import Notification
from tracker import services as core
from tracker.choices import Kind, LinkType, Status
from tracker.errors import AccessDenied, Conflict, MissingField, TransitionRefused, ValidationFailed
from tracker.models import Comment, Link, Ticket


def incident(cast, title="Payslips are blank", requester=None, **values):
    values.setdefault("service", cast.services["payroll"])
    return core.ticket_create(actor=requester or cast.requester, kind=Kind.INCIDENT, title=title, **values)


def known_error(cast, *incidents, workaround="Open the payslip in the PDF viewer instead of the browser."):
    """A problem raised from the incidents, investigated and recorded as a known error."""
    problem = services.problem_from_incidents(incidents=incidents or [incident(cast)], actor=cast.agent2,
                                              title="PDF renderer drops fonts")
    core.ticket_transition(ticket=problem, to=Status.IN_PROGRESS, actor=cast.agent2)
    core.ticket_transition(ticket=problem, to=Status.KNOWN_ERROR, actor=cast.agent2,
                           values={"root_cause": "The renderer's font cache is full.", "workaround": workaround})
    return problem


def test_a_problem_from_incidents_links_every_incident_and_takes_what_they_share(cast):
    first = incident(cast, impact=3)
    second = incident(cast, "Payslip empty again", requester=cast.other_requester, impact=1)
    core.ticket_escalate(ticket=first, actor=cast.agent1, to_group=cast.l2)
    core.ticket_escalate(ticket=second, actor=cast.agent1, to_group=cast.l2)

    problem = services.problem_from_incidents(incidents=[first, second], actor=cast.agent2, title="Blank payslips")

    assert problem.kind == Kind.PROBLEM and problem.key.startswith("PRB-")
    assert problem.requester == cast.agent2  # never an incident's requester
    assert problem.service == cast.services["payroll"] and problem.group == cast.l2
    assert problem.impact == 1  # the worst incident's
    assert set(Link.objects.filter(target=problem, type=LinkType.INSTANCE_OF).values_list("source__key", flat=True)) \
        == {first.key, second.key}


def test_incidents_that_disagree_leave_the_service_empty(cast):
    problem = services.problem_from_incidents(
        incidents=[incident(cast), incident(cast, service=cast.services["mail"])], actor=cast.agent2)
    assert problem.service is None and problem.title.startswith("Problem behind")


def test_a_problem_from_mixed_kinds_is_refused_and_nothing_is_written(cast):
    request = core.ticket_create(actor=cast.requester, kind=Kind.REQUEST, title="New laptop")
    before = Ticket.objects.filter(kind=Kind.PROBLEM).count()
    with pytest.raises(ValidationFailed, match=request.key):
        services.problem_from_incidents(incidents=[incident(cast), request], actor=cast.agent2)
    assert Ticket.objects.filter(kind=Kind.PROBLEM).count() == before


def test_an_incident_already_instance_of_an_open_problem_is_named_in_the_refusal(cast):
    taken = incident(cast)
    first = services.problem_from_incidents(incidents=[taken], actor=cast.agent2)
    with pytest.raises(Conflict, match=f"{taken.key} is already an instance of {first.key}"):
        services.problem_from_incidents(incidents=[incident(cast), taken], actor=cast.agent2)
    assert Ticket.objects.filter(kind=Kind.PROBLEM).count() == 1


def test_a_requester_cannot_raise_a_problem(cast):
    with pytest.raises(AccessDenied):
        services.problem_from_incidents(incidents=[incident(cast)], actor=cast.requester)


def test_recording_a_known_error_sets_the_flag(cast):
    problem = known_error(cast)
    problem.refresh_from_db()
    assert problem.status == Status.KNOWN_ERROR and problem.known_error is True


def test_applying_a_known_error_links_the_incident_and_replies_publicly(cast):
    problem = known_error(cast)
    fresh = incident(cast, "Payslip blank in Chrome", requester=cast.other_requester)
    assert [p.key for p in selectors.known_errors_for(ticket=fresh, user=cast.agent1)] == [problem.key]

    comment = services.known_error_apply(incident=fresh, problem=problem, actor=cast.agent1)

    assert Link.objects.filter(source=fresh, target=problem, type=LinkType.INSTANCE_OF).exists()
    assert not comment.internal and comment.ticket == fresh and "PDF viewer" in comment.body
    assert [p.linked for p in selectors.known_errors_for(ticket=fresh, user=cast.agent1)] == [True]
    fresh.refresh_from_db()
    assert fresh.first_response_at is not None  # the workaround is the desk's answer to the requester


def test_applying_a_known_error_resolved_meanwhile_writes_nothing(cast):
    problem = known_error(cast)
    fresh = incident(cast)
    stale_copy = Ticket.objects.get(pk=problem.pk)
    core.ticket_transition(ticket=problem, to=Status.RESOLVED, actor=cast.agent2,
                           values={"resolution_note": "Font cache enlarged."})
    with pytest.raises(Conflict, match="no longer an open known error"):
        services.known_error_apply(incident=fresh, problem=stale_copy, actor=cast.agent1)
    assert not Link.objects.filter(source=fresh).exists()
    assert not Comment.objects.filter(ticket=fresh).exists()


def test_a_known_error_matches_incidents_by_category_when_they_have_no_service(cast):
    from tests.factories import CategoryFactory

    printing = CategoryFactory(name="Printing")
    base = incident(cast, service=None, category=printing)
    problem = known_error(cast, base)
    assert problem.category == printing
    other = incident(cast, "Printer jams", service=None, category=printing)
    assert [p.key for p in selectors.known_errors_for(ticket=other, user=cast.agent1)] == [problem.key]
    assert selectors.known_errors_for(ticket=incident(cast, service=None), user=cast.agent1) == []


def test_resolving_a_problem_resolves_exactly_the_chosen_incidents(cast):
    chosen = incident(cast, "Blank payslip (Alice)")
    core.ticket_transition(ticket=chosen, to=Status.IN_PROGRESS, actor=cast.agent1)
    also = incident(cast, "Blank payslip (Bob)", requester=cast.other_requester)  # still new
    left = incident(cast, "Blank payslip (third)")
    problem = known_error(cast, chosen, also, left)

    before = set(Notification.objects.values_list("pk", flat=True))
    done = services.problem_resolve(problem=problem, actor=cast.agent2, note="Font cache enlarged; fixed.",
                                    incidents=[chosen, also])

    assert {t.key for t in done} == {chosen.key, also.key}
    for ticket in (chosen, also):
        ticket.refresh_from_db()
        assert ticket.status == Status.RESOLVED and ticket.resolution_note == "Font cache enlarged; fixed."
        replies = Comment.objects.filter(ticket=ticket, internal=False, author=cast.agent2)
        assert replies.count() == 1 and problem.key in replies.get().body
        # one note to the requester: the resolution, which carries it (the reply itself is not a second mail)
        told = Notification.objects.filter(recipient=ticket.requester, ticket=ticket).exclude(pk__in=before)
        assert told.count() == 1 and "Font cache enlarged" in told.get().body
    left.refresh_from_db()
    problem.refresh_from_db()
    assert left.status == Status.NEW and not Comment.objects.filter(ticket=left).exists()
    assert problem.status == Status.RESOLVED


def test_resolving_with_an_incident_not_linked_is_refused_whole(cast):
    problem = known_error(cast)
    stranger = incident(cast, "Unrelated")
    with pytest.raises(ValidationFailed, match=stranger.key):
        services.problem_resolve(problem=problem, actor=cast.agent2, note="Fixed.", incidents=[stranger])
    problem.refresh_from_db()
    assert problem.status == Status.KNOWN_ERROR


def test_resolving_needs_a_note_and_a_move_that_exists(cast):
    problem = services.problem_from_incidents(incidents=[incident(cast)], actor=cast.agent2)
    with pytest.raises(ValidationFailed, match="resolution note"):
        services.problem_resolve(problem=problem, actor=cast.agent2, note=" ")
    with pytest.raises(TransitionRefused):  # a new problem is investigated first
        services.problem_resolve(problem=problem, actor=cast.agent2, note="Done")
    core.ticket_transition(ticket=problem, to=Status.IN_PROGRESS, actor=cast.agent2)
    with pytest.raises(MissingField, match="root cause"):
        services.problem_resolve(problem=problem, actor=cast.agent2, note="Done")


def test_a_defect_from_an_incident_belongs_to_the_engineer_not_the_requester(cast):
    ticket = incident(cast)
    defect = dev.defect_from_incident(incident=ticket, actor=cast.engineer)
    assert defect.requester == cast.engineer
    assert defect.key not in {t.key for t in selectors.portal_tickets(user=cast.requester)}


def test_the_portal_lists_no_problem_defect_or_change_the_requester_did_not_raise(cast):
    ticket = incident(cast)
    legacy = core.ticket_create(actor=cast.agent2, kind=Kind.PROBLEM, title="Old problem", requester=cast.requester)
    listed = {t.key for t in selectors.portal_tickets(user=cast.requester)}
    assert ticket.key in listed and legacy.key not in listed


def test_the_requester_sees_only_the_public_status_of_the_problem_behind_their_incident(cast, client_for):
    ticket = incident(cast)
    problem = services.problem_from_incidents(incidents=[ticket], actor=cast.agent2, title="Secret internal title")
    client = client_for(cast.requester)
    page = client.get(f"/portal/tickets/{ticket.key}/").content.decode()
    assert f"Known problem {problem.key}" in page and "under investigation" in page
    assert f"/tickets/{problem.key}/" not in page and "Secret internal title" not in page

    core.ticket_transition(ticket=problem, to=Status.IN_PROGRESS, actor=cast.agent2)
    core.ticket_transition(ticket=problem, to=Status.KNOWN_ERROR, actor=cast.agent2,
                           values={"root_cause": "Internal: cache misconfigured by ops", "workaround": "Use the app."})
    page = client.get(f"/portal/tickets/{ticket.key}/").content.decode()
    assert "Known error" in page and "Use the app." in page
    assert "cache misconfigured" not in page and f"/tickets/{problem.key}/" not in page
    assert client.get(f"/portal/tickets/{problem.key}/").status_code == 404


def test_a_recorded_known_error_keeps_its_flag_until_reinvestigated(cast):
    problem = known_error(cast)
    with pytest.raises(Conflict, match="Reinvestigate"):
        core.ticket_update(ticket=problem, actor=cast.agent2, version=problem.version, changes={"known_error": False})
    core.ticket_transition(ticket=problem, to=Status.IN_PROGRESS, actor=cast.agent2)
    core.ticket_update(ticket=problem, actor=cast.agent2, version=problem.version, changes={"known_error": False})
    assert selectors.known_error_list(user=cast.agent1) == []
