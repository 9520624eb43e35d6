"""Property-based run of the swarm and work-log endpoints from their OpenAPI schema: never a 500."""
import pytest
from rest_framework.authtoken.models import Token

from tests.fuzz import BOUNDED, api_schema, call_never_500, in_test_transaction  # noqa: F401 (a fixture)
from tracker import services

schema = api_schema(r"^/api/v1/tickets/\{key\}/(contributors|worklogs)")


@pytest.fixture
def targets(cast):
    """A swarming team's ticket with a contributor, and a ticket of a team that does not swarm."""
    cast.l2.swarming = True
    cast.l2.save()
    swarm = services.ticket_create(actor=cast.agent2, kind="incident", title="Swarmed", group=cast.l2)
    plain = services.ticket_create(actor=cast.agent2, kind="incident", title="Tiered", group=cast.l1)
    contributor = services.contributor_invite(ticket=swarm, actor=cast.agent2, user=cast.engineer)
    return {"key": [swarm.key, plain.key], "contributor_id": [contributor.pk, 999999]}


@pytest.fixture
def token(cast):
    return Token.objects.create(user=cast.agent2).key


@schema.parametrize()
@BOUNDED
@pytest.mark.usefixtures("in_test_transaction")
def test_no_input_makes_the_swarm_api_answer_500(case, token, targets):
    call_never_500(case, token, targets)
