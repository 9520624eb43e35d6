"""The webhooks API: managers and admins only; the secret shown once; the delivery log; redelivery."""

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from sla.choices import DeliveryState, WebhookEvent
from sla.models import WebhookDelivery, WebhookSubscription
from sla.services import webhook_event

BASE = "/api/v1/sla/webhooks"


def _client(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_agents_are_refused_and_managers_create_a_subscription_whose_secret_is_shown_once(cast):
    body = {"name": "Status page", "url": "https://status.example.test/hook", "events": ["ticket.created"]}
    refused = _client(cast.agent1).post(f"{BASE}/subscriptions/", body, format="json")
    assert refused.status_code == 403 and "administrators and managers" in refused.json()["detail"]
    made = _client(cast.manager).post(f"{BASE}/subscriptions/", body, format="json")
    assert made.status_code == 201, made.content
    assert made.json()["secret"] == WebhookSubscription.objects.get().secret
    listed = _client(cast.manager).get(f"{BASE}/subscriptions/").json()
    assert listed[0]["name"] == "Status page" and "secret" not in listed[0]


@pytest.mark.parametrize("body, field", [
    ({"name": "X", "url": "not a url", "events": ["ticket.created"]}, "url"),
    ({"name": "X", "url": "https://a.example/h", "events": []}, "events"),
    ({"name": "X", "url": "https://a.example/h", "events": ["ticket.deleted"]}, "events"),
])
def test_bad_subscriptions_are_refused_with_the_field_named(cast, body, field):
    response = _client(cast.admin).post(f"{BASE}/subscriptions/", body, format="json")
    assert response.status_code == 400 and field in response.json()["fields"]
    assert not WebhookSubscription.objects.exists()


def test_the_delivery_log_lists_and_redelivers(cast):
    client = _client(cast.admin)
    sub = client.post(f"{BASE}/subscriptions/", {"name": "A", "url": "https://a.example/h",
                                                 "events": ["ticket.created"]}, format="json").json()
    webhook_event(event=WebhookEvent.TICKET_CREATED, payload={"ticket": {"key": "INC-9"}}, now=timezone.now())
    WebhookDelivery.objects.update(state=DeliveryState.FAILED, attempts=8)
    page = client.get(f"{BASE}/deliveries/", {"subscription": sub["id"], "state": "failed"}).json()
    assert page["count"] == 1 and page["results"][0]["event"] == "ticket.created"
    assert client.get(f"{BASE}/deliveries/", {"state": "nope"}).status_code == 400
    again = client.post(f"{BASE}/deliveries/{page['results'][0]['id']}/redeliver/")
    assert again.status_code == 202 and again.json()["state"] == "pending"
    renewed = client.put(f"{BASE}/subscriptions/{sub['id']}/", {"name": "A", "url": "https://a.example/h",
                                                                "events": ["ticket.created"],
                                                                "regenerate_secret": True}, format="json").json()
    assert renewed["secret"] and renewed["secret"] != sub["secret"]
    assert client.delete(f"{BASE}/subscriptions/{sub['id']}/").status_code == 204
    assert not WebhookDelivery.objects.exists()
