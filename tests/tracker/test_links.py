"""Links between tickets: parent/sub-task trees never loop."""
import pytest

from tracker import services
from tracker.errors import ValidationFailed
from tracker.models import Link


@pytest.fixture
def changes(cast):
    return [services.ticket_create(actor=cast.agent2, kind="change", title=f"Roll out step {i}") for i in range(4)]


def test_a_sub_task_cannot_become_the_parent_of_its_parent(cast, api, changes):
    a, b = changes[:2]
    client = api(cast.agent2)
    assert client.post(f"/api/v1/tickets/{a.key}/links/", {"type": "parent_of", "target": b.key}).status_code == 201
    response = client.post(f"/api/v1/tickets/{b.key}/links/", {"type": "parent_of", "target": a.key})
    assert response.status_code == 400
    assert f"{a.key} cannot become a sub-task of {b.key}" in response.json()["detail"]
    assert "target" in response.json()["fields"]
    assert Link.objects.count() == 1


def test_a_cycle_is_refused_at_any_depth_naming_the_chain(cast, changes):
    a, b, c, d = changes
    for parent, child in ((a, b), (b, c), (c, d)):
        services.ticket_link(source=parent, target=child, type="parent_of", actor=cast.agent2)
    with pytest.raises(ValidationFailed) as refused:
        services.ticket_link(source=d, target=a, type="parent_of", actor=cast.agent2)
    assert f"({a.key} → {b.key} → {c.key} → {d.key})" in refused.value.message
    assert Link.objects.count() == 3
    assert not d.events.filter(field="parent_of", new=a.key).exists()  # no half-written history


def test_trees_and_other_link_types_are_still_allowed(cast, changes):
    a, b, c, _ = changes
    services.ticket_link(source=a, target=b, type="parent_of", actor=cast.agent2)
    services.ticket_link(source=a, target=c, type="parent_of", actor=cast.agent2)
    services.ticket_link(source=b, target=c, type="parent_of", actor=cast.agent2)  # a diamond is no loop
    services.ticket_link(source=b, target=a, type="relates_to", actor=cast.agent2)
    assert Link.objects.count() == 4
