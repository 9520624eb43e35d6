"""The webhooks settings pages: managers only, refusals in place with what was typed, the secret shown once,
the delivery log and redelivery."""

from django.utils import timezone

from sla.choices import DeliveryState, WebhookEvent
from sla.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from sla.services import webhook_event


def test_only_managers_and_admins_see_the_link_and_the_page(client, cast):
    client.force_login(cast.agent1)
    assert "/settings/webhooks/" not in client.get("/queue/").content.decode()
    assert client.get("/settings/webhooks/").status_code == 403
    client.force_login(cast.manager)
    assert client.get("/settings/webhooks/").status_code == 200
    assert 'href="/settings/webhooks/"' in client.get("/queue/").content.decode()


def test_a_bad_url_is_refused_in_place_keeping_what_was_typed_then_the_secret_is_shown_once(client, cast):
    client.force_login(cast.admin)
    bad = client.post("/settings/webhooks/new/", {"name": "Status page", "url": "status.example.test/hook",
                                                 "events": ["ticket.created"], "active": "on"})
    page = bad.content.decode()
    assert bad.status_code == 400 and "http:// or https://" in page
    assert 'value="Status page"' in page and 'value="status.example.test/hook"' in page
    none = client.post("/settings/webhooks/new/", {"name": "Status page", "url": "https://status.example.test/h"})
    assert none.status_code == 400 and "at least one event" in none.content.decode()
    ok = client.post("/settings/webhooks/new/", {"name": "Status page", "url": "https://status.example.test/h",
                                                "events": ["ticket.created", "sla.breach"], "active": "on"})
    sub = WebhookSubscription.objects.get()
    assert ok.status_code == 302 and sub.events == ["ticket.created", "sla.breach"] and sub.active
    assert sub.secret in client.get(ok["Location"]).content.decode()
    assert sub.secret not in client.get(ok["Location"]).content.decode()  # once


def test_the_delivery_log_shows_tries_and_redelivers(client, cast, django_assert_max_num_queries):
    client.force_login(cast.manager)
    sub = WebhookSubscription.objects.create(name="CMDB", url="https://cmdb.example.test/in", secret="s",
                                             events=[WebhookEvent.TICKET_CREATED], created_at=timezone.now())
    for i in range(5):
        webhook_event(event=WebhookEvent.TICKET_CREATED, payload={"ticket": {"key": f"INC-{i}"}}, now=timezone.now())
    WebhookDelivery.objects.update(state=DeliveryState.FAILED, attempts=8, last_status_code=500, last_duration_ms=12)
    for d in WebhookDelivery.objects.all():
        WebhookAttempt.objects.create(delivery=d, attempted_at=timezone.now(), status_code=500, duration_ms=12)
    with django_assert_max_num_queries(12):
        page = client.get(f"/settings/webhooks/{sub.pk}/").content.decode()
    assert page.count("failed</span>") == 5 and "12 ms" in page
    delivery = WebhookDelivery.objects.first()
    client.post(f"/settings/webhooks/deliveries/{delivery.pk}/redeliver/")
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PENDING
    client.force_login(cast.agent1)
    assert client.post(f"/settings/webhooks/deliveries/{delivery.pk}/redeliver/").status_code == 403
