"""The demo shows problem management with believable data: known errors with workarounds on services with open
incidents (the banner shows on demo tickets), a problem raised from several incidents, one resolved with the
incidents chosen for it."""

from io import StringIO

import pytest
from django.core.management import call_command

from itsm import selectors
from tracker.choices import Kind, LinkType, Status
from tracker.models import Link, Ticket, User


@pytest.fixture
def demo(db):
    errors = StringIO()
    call_command("seed_demo", "--history", "40", stdout=StringIO(), stderr=errors)
    assert "skipped" not in errors.getvalue(), errors.getvalue()


def test_the_demo_has_problems_known_errors_and_banners(demo):
    lena = User.objects.get(username="lena")
    known = selectors.known_error_list(user=lena)
    workarounds = {p.title: p.workaround for p in known}
    assert "TCP mode" in workarounds["VPN tunnel drops behind captive portals"]
    assert "OneDrive" in workarounds["Mail relay rejects attachments over 5 MB"]
    banners = [t for t in Ticket.objects.filter(kind=Kind.INCIDENT, service__name__in=["VPN", "Email"]).open()
               if any(not p.linked for p in selectors.known_errors_for(ticket=t, user=lena))]
    assert len(banners) >= 2  # a fresh incident on each of the two services still shows the banner
    applied = Ticket.objects.get(title="VPN keeps reconnecting in the hotel")
    assert applied.comments.filter(internal=False, body__contains="TCP mode").exists()

    investigating = Ticket.objects.get(kind=Kind.PROBLEM, title="Checkout times out at peak hours")
    assert investigating.requester.username == "pia" and not investigating.root_cause
    assert Link.objects.filter(target=investigating, type=LinkType.INSTANCE_OF).count() == 3

    resolved = Ticket.objects.get(kind=Kind.PROBLEM, title="HR portal slow every morning at nine")
    statuses = sorted(Ticket.objects.filter(links_out__target=resolved).values_list("status", flat=True))
    assert resolved.status == Status.RESOLVED and statuses == [Status.NEW, Status.RESOLVED, Status.RESOLVED]
