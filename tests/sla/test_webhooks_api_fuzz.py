"""Property-based run of the webhooks API from its OpenAPI schema: whatever a client sends, never a 500. As an
administrator, so that writes reach the domain functions; the subscriptions' receivers are never called here."""

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token

from sla import services as sla
from sla.choices import WebhookEvent
from sla.services import webhook_event
from tests.fuzz import BOUNDED, api_schema, call_never_500, in_test_transaction  # noqa: F401 - the fixture

schema = api_schema(r"^/api/v1/sla/webhooks/")


@pytest.fixture
def targets(cast):
    sub, _ = sla.webhook_subscription_save(actor=cast.admin, name="Fuzz", url="https://hooks.example.test/in",
                                           events=[WebhookEvent.TICKET_CREATED])
    webhook_event(event=WebhookEvent.TICKET_CREATED, payload={"ticket": {"key": "INC-1"}}, now=timezone.now())
    return {"id": [sub.pk, sub.deliveries.get().pk]}


@pytest.fixture
def token(cast, in_test_transaction):  # noqa: F811
    return Token.objects.create(user=cast.admin).key


@schema.parametrize()
@BOUNDED
def test_no_input_makes_the_webhooks_api_answer_500(case, token, targets):
    call_never_500(case, token, targets)
