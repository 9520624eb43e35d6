"""The pages of change enablement pass the accessibility audit of the main pages (named inputs, landmarks,
skip link, focus, contrast) in both themes, and look right (screenshots in test-artifacts/)."""

import pytest

from itsm import services as itsm
from tests.itsm.conftest import approve, local
from tracker import services
from tracker.choices import Kind, Status

from .test_accessibility import audit


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_change_task_pages_pass_the_audit(cast, signed_in, shot, scheme):
    change = services.ticket_create(actor=cast.agent2, kind=Kind.CHANGE, title="Mail gateway 11.2",
                                    change_type="normal", service=cast.services["mail"], group=cast.l2)
    for site, country, zone, owner in (("Berlin", "DE", "Europe/Berlin", cast.engineer),
                                       ("Singapore", "SG", "Asia/Singapore", cast.agent2)):
        itsm.task_add(change=change, actor=cast.agent2, title=f"Cut over {site}", business_unit="Retail",
                      site=site, country=country, time_zone=zone, planned_start=local(zone),
                      planned_end=local(zone, hour=11), assignee=owner)
    approve(change, cast)
    services.ticket_transition(ticket=change, to=Status.IN_PROGRESS, actor=cast.agent2)
    page = signed_in(cast.agent2, scheme=scheme)
    problems = []
    for url in (f"/tickets/{change.key}/", "/changes/tasks/", "/changes/tasks/?scope=open",
                "/changes/outcomes/?days=30"):
        problems += audit(page, url)
    assert problems == []
    page.goto("/changes/tasks/")
    shot(page, f"change-tasks-{scheme}")
