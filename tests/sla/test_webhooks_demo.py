"""The demo shows webhooks at work: two subscriptions with a believable delivery log (a retry, two failures)."""

import pytest

from sla.choices import DeliveryState
from sla.models import WebhookAttempt, WebhookDelivery, WebhookSubscription

DEMO_HISTORY = 80


@pytest.fixture
def demo(seeded_demo, db):
    return seeded_demo


def test_the_demo_has_two_webhooks_with_deliveries_a_retry_and_failures(demo, client):
    subs = {s.name: s for s in WebhookSubscription.objects.all()}
    assert set(subs) == {"Status page", "Ops chat bridge"} and not subs["Ops chat bridge"].active
    assert WebhookDelivery.objects.filter(subscription=subs["Status page"], state=DeliveryState.DELIVERED).count() > 3
    assert WebhookDelivery.objects.filter(subscription=subs["Ops chat bridge"], state=DeliveryState.FAILED).count() == 2
    assert WebhookDelivery.objects.filter(attempts=2, state=DeliveryState.DELIVERED).exists()
    for d in WebhookDelivery.objects.all():
        assert d.tries.count() == d.attempts
    assert WebhookAttempt.objects.filter(ok=True).count() == WebhookDelivery.objects.filter(state="delivered").count()
    assert not WebhookDelivery.objects.filter(state=DeliveryState.PENDING).exists()  # nothing for the worker to post
    from tracker.models import User

    client.force_login(User.objects.get(username="maria"))
    page = client.get(f"/settings/webhooks/{subs['Status page'].pk}/").content.decode()
    assert "ticket.created" in page and "delivered</span>" in page
