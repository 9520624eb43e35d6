"""Property-based run of the VCS endpoints (webhook, repositories, a ticket's code) from their schema: never a
500."""
import pytest
from rest_framework.authtoken.models import Token

from devflow.models import Repository
from tests.fuzz import BOUNDED, api_schema, call_never_500, in_test_transaction  # noqa: F401 (a fixture)
from tracker import services

schema = api_schema(r"^/api/v1/(vcs/|repositories/|tickets/\{key\}/code/)")


@pytest.fixture
def targets(cast):
    github = Repository.objects.create(name="acme/payroll", provider="github", secret="s1")
    gitlab = Repository.objects.create(name="acme/hr", provider="gitlab", secret="s2", active=False)
    defect = services.ticket_create(actor=cast.engineer, kind="defect", title="Payslip month", group=cast.l3)
    return {"repository": [str(github.pk), "acme/hr", "nobody/none"], "id": [github.pk, gitlab.pk, 999999],
            "key": [defect.key, "DEF-99999"]}


@pytest.fixture
def token(cast):
    return Token.objects.create(user=cast.admin).key


@schema.parametrize()
@BOUNDED
@pytest.mark.usefixtures("in_test_transaction")
def test_no_input_makes_the_vcs_api_answer_500(case, token, targets):
    call_never_500(case, token, targets)
