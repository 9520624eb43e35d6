"""Property-based run of the change-enablement endpoints (CABs, templates, standard changes, approvals and
votes) from their OpenAPI schema, as the change manager: whatever a client sends, never a 500."""

import pytest
from rest_framework.authtoken.models import Token

from itsm import services as itsm
from tests.fuzz import BOUNDED, api_schema, call_never_500, in_test_transaction  # noqa: F401 (a fixture)
from tracker import services
from tracker.choices import Status

from .conftest import PLAN

schema = api_schema(r"^/api/v1/changes")


@pytest.fixture
def targets(cast, cabs):
    """Changes (a draft, one in review) and a template: generated paths are pointed at them, past the 404."""
    draft = services.ticket_create(actor=cast.agent2, kind="change", title="A draft", change_type="normal")
    review = services.ticket_create(actor=cast.agent2, kind="change", title="In review", change_type="normal")
    services.ticket_transition(ticket=review, to=Status.REVIEW, actor=cast.agent2, values=dict(PLAN))
    template = itsm.template_create(actor=cast.change_manager, title="Restart cache nodes", implementation_plan="p",
                                    backout_plan="b")
    return {"key": [draft.key, review.key], "id": [template.pk, cabs["global"].pk, cabs["payroll"].pk]}


@pytest.fixture
def token(cast):
    return Token.objects.create(user=cast.change_manager).key


@schema.parametrize()
@BOUNDED
@pytest.mark.usefixtures("in_test_transaction")
def test_no_input_makes_the_change_api_answer_500(case, token, targets):
    call_never_500(case, token, targets)
