"""The manager dashboard and its CSV exports."""

import csv
import io

from django.test import Client

from tracker import services
from tracker.choices import Kind


def test_the_dashboard_renders_and_every_table_downloads_as_csv(cast):
    ticket = services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="x")
    services.ticket_escalate(ticket=ticket, actor=cast.agent1)
    client = Client()
    client.force_login(cast.manager)
    page = client.get("/dashboard/", {"days": "7"})
    assert page.status_code == 200 and b"Escalations per tier" in page.content
    for slug in ("tier", "group", "priority", "kind", "mttr", "backlog", "escalations", "breaches", "trend"):
        response = client.get("/dashboard/", {"days": "7", "export": slug})
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
        assert list(csv.reader(io.StringIO(response.content.decode())))[0]
    rows = list(
        csv.reader(io.StringIO(client.get("/dashboard/", {"export": "escalations"}).content.decode()))
    )
    assert rows[1] == ["L2 - Application support", "1", "0"]


def test_requesters_do_not_see_the_dashboard(cast):
    client = Client()
    client.force_login(cast.requester)
    assert client.get("/dashboard/")["Location"] == "/portal/"
