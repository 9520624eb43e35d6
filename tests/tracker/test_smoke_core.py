from tracker import services
from tracker.choices import Status


def test_an_incident_is_raised_escalated_and_resolved(cast, api):
    ticket = services.ticket_create(actor=cast.requester, kind="incident", title="Payslips are blank",
                                    service=cast.services["payroll"])
    assert ticket.key.startswith("INC-") and ticket.group == cast.l1
    services.ticket_transition(ticket=ticket, to=Status.IN_PROGRESS, actor=cast.agent1)
    services.ticket_escalate(ticket=ticket, actor=cast.agent1)
    assert ticket.group == cast.l2
    response = api(cast.requester).get(f"/api/v1/tickets/{ticket.key}/")
    assert response.status_code == 200, response.content
    assert response["ETag"] == f'"{ticket.version}"'
    response = api(cast.other_requester).get(f"/api/v1/tickets/{ticket.key}/")
    assert response.status_code == 404
