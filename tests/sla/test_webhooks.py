"""Outbound webhooks: events queued in the change's transaction, signed posts to a real HTTP receiver on 127.0.0.1,
retries with backoff, giving up, redelivery, and who may manage them."""

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sla import services as sla
from sla.choices import DeliveryState, WebhookEvent
from sla.models import WebhookAttempt, WebhookDelivery
from sla.services.webhooks import backoff, sign
from tests.sla.conftest import MONDAY_9
from tracker import services
from tracker.choices import Status
from tracker.errors import AccessDenied, ValidationFailed


class Receiver:
    """A real HTTP server on 127.0.0.1 that records each POST and answers from a script (then 200)."""

    def __init__(self, script=(), delay: float = 0.0):
        self.script = list(script)
        self.delay = delay
        self.received: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if receiver.delay:
                    import time

                    time.sleep(receiver.delay)
                with receiver.lock:
                    receiver.received.append({"headers": dict(self.headers), "body": body,
                                              "at": timezone.now()})
                    code = receiver.script.pop(0) if receiver.script else 200
                self.send_response(code)
                if 300 <= code < 400:
                    self.send_header("Location", "/elsewhere")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def ids(self) -> list[str]:
        return [r["headers"]["X-Crossline-Delivery"] for r in self.received]


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


@pytest.fixture
def subscribe(cast):
    def make(url, events=tuple(WebhookEvent.values), **kw):
        sub, secret = sla.webhook_subscription_save(actor=cast.admin, name=kw.pop("name", "Integrations"), url=url,
                                                    events=list(events), **kw)
        return sub

    return make


def _ticket(cast, **kw):
    return services.ticket_create(actor=cast.agent1, kind="incident", title="Mail is down",
                                  service=cast.services["payroll"], **kw)


def test_a_receiver_verifies_the_signature_with_the_subscriptions_secret(cast, subscribe, receiver):
    sub = subscribe(receiver.url, events=[WebhookEvent.TICKET_CREATED])
    ticket = _ticket(cast)
    assert sla.webhooks_deliver() == 1
    [got] = receiver.received
    headers, body = got["headers"], got["body"]
    expected = "sha256=" + hmac.new(sub.secret.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Crossline-Signature"], expected)
    assert headers["X-Crossline-Signature"] != sign("another secret", body)
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Crossline-Event"] == "ticket.created"
    assert int(headers["X-Crossline-Timestamp"]) > 1_700_000_000
    payload = json.loads(body)
    assert headers["X-Crossline-Delivery"] == payload["id"]
    assert payload["event"] == "ticket.created"
    assert payload["data"]["ticket"]["key"] == ticket.key
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == (DeliveryState.DELIVERED, 1, 200)
    assert WebhookAttempt.objects.get().ok


def test_payload_shapes_per_event(cast, subscribe, receiver):
    subscribe(receiver.url)
    ticket = _ticket(cast)
    ticket = services.ticket_update(ticket=ticket, actor=cast.agent1, version=ticket.version,
                                    changes={"title": "Mail is down for everyone"})
    ticket = services.ticket_transition(ticket=ticket, to=Status.IN_PROGRESS, actor=cast.agent1)
    services.ticket_comment(ticket=ticket, actor=cast.agent1, body="We are restarting the relay.")
    sla.webhooks_deliver()
    by_event = {json.loads(r["body"])["event"]: json.loads(r["body"]) for r in receiver.received}
    assert set(by_event) >= {"ticket.created", "ticket.updated", "ticket.transitioned", "ticket.commented"}
    for payload in by_event.values():
        assert set(payload) == {"id", "event", "created_at", "data"}
        assert set(payload["data"]["ticket"]) == {"key", "kind", "title", "status", "priority", "service", "group",
                                                  "assignee", "url"}
        assert payload["data"]["ticket"]["url"].endswith(f"/tickets/{ticket.key}/")
    created = by_event["ticket.created"]["data"]["ticket"]
    assert (created["kind"], created["service"], created["status"]) == ("incident", "Payroll", "new")
    assert by_event["ticket.updated"]["data"]["changes"]["title"] == {"old": "Mail is down",
                                                                      "new": "Mail is down for everyone"}
    moved = by_event["ticket.transitioned"]["data"]
    assert moved["changes"]["status"]["new"] == "in_progress"
    assert moved["ticket"]["status"] == "in_progress"
    comment = by_event["ticket.commented"]["data"]["comment"]
    assert comment["body"] == "We are restarting the relay." and comment["author"] == cast.agent1.username


def test_internal_comments_are_never_sent(cast, subscribe, receiver):
    subscribe(receiver.url, events=[WebhookEvent.TICKET_COMMENTED])
    ticket = _ticket(cast)
    services.ticket_comment(ticket=ticket, actor=cast.agent1, body="Customer is difficult; secret note",
                            internal=True)
    services.ticket_comment(ticket=ticket, actor=cast.agent1, body="Fixed on our side.")
    sla.webhooks_deliver()
    assert len(receiver.received) == 1
    assert b"secret note" not in receiver.received[0]["body"]
    assert not WebhookDelivery.objects.filter(payload__icontains="secret note").exists() if connection.vendor == \
        "postgresql" else all("secret note" not in json.dumps(d.payload) for d in WebhookDelivery.objects.all())


def test_only_active_subscriptions_of_the_event_receive_it(cast, subscribe, receiver):
    created = subscribe(receiver.url, events=[WebhookEvent.TICKET_CREATED], name="Created only")
    subscribe(receiver.url, events=[WebhookEvent.TICKET_COMMENTED], name="Comments only")
    subscribe(receiver.url, events=[WebhookEvent.TICKET_CREATED], name="Paused", active=False)
    _ticket(cast)
    assert list(WebhookDelivery.objects.values_list("subscription_id", "event")) == [(created.pk, "ticket.created")]


def test_a_change_that_rolls_back_queues_nothing(cast, subscribe, receiver):
    subscribe(receiver.url)
    with pytest.raises(ValidationFailed):
        services.ticket_create(actor=cast.agent1, kind="incident", title="")
    assert not WebhookDelivery.objects.exists()


def test_failures_back_off_exponentially_then_fail_after_max_attempts(cast, subscribe, settings):
    settings.CROSSLINE_WEBHOOK_RETRY_BACKOFF = 30
    settings.CROSSLINE_WEBHOOK_MAX_ATTEMPTS = 4
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    with Receiver(script=[500] * 10) as rx:
        subscribe(rx.url, events=[WebhookEvent.TICKET_CREATED])
        _ticket(cast)
        delivery = WebhookDelivery.objects.get()
        waits = []
        for _ in range(4):
            now = timezone.now() if not waits else delivery.available_at
            assert sla.webhooks_deliver(now=now) == 0
            before = delivery.available_at
            delivery.refresh_from_db()
            if delivery.state == DeliveryState.PENDING:
                waits.append(round((delivery.available_at - timezone.now()).total_seconds()))
        assert sla.webhooks_deliver(now=timezone.now() + timedelta(days=1)) == 0  # failed: nothing more is tried
    assert len(rx.received) == 4
    assert [w // 10 * 10 for w in waits] == [30, 60, 120]  # within the seconds the test takes
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == (DeliveryState.FAILED, 4, 500)
    assert list(WebhookAttempt.objects.values_list("status_code", "ok")) == [(500, False)] * 4
    assert before is not None


def test_a_receiver_that_is_down_is_recorded_as_an_error(cast, subscribe):
    subscribe("http://127.0.0.1:9/nothing-listens", events=[WebhookEvent.TICKET_CREATED])
    _ticket(cast)
    assert sla.webhooks_deliver() == 0
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None and attempt.error and not attempt.ok
    assert WebhookDelivery.objects.get().state == DeliveryState.PENDING


def test_a_manager_redelivers_a_failed_delivery_and_the_try_is_marked_manual(cast, subscribe, settings):
    settings.CROSSLINE_WEBHOOK_MAX_ATTEMPTS = 1
    with Receiver(script=[503]) as rx:
        subscribe(rx.url, events=[WebhookEvent.TICKET_CREATED])
        _ticket(cast)
        sla.webhooks_deliver()
        delivery = WebhookDelivery.objects.get()
        assert delivery.state == DeliveryState.FAILED
        with pytest.raises(AccessDenied):
            sla.webhook_redeliver(delivery=delivery, actor=cast.agent1)
        again = sla.webhook_redeliver(delivery=delivery, actor=cast.manager)
        assert again.state == DeliveryState.PENDING
        assert sla.webhooks_deliver() == 1
    assert rx.ids()[0] == rx.ids()[1] == delivery.event_id  # the same id: receivers dedupe by it
    assert list(WebhookAttempt.objects.values_list("manual", "ok")) == [(False, False), (True, True)]
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DELIVERED


def test_who_may_manage_and_what_a_subscription_needs(cast):
    assert sla.may_manage_webhooks(cast.admin) and sla.may_manage_webhooks(cast.manager)
    assert not sla.may_manage_webhooks(cast.agent1) and not sla.may_manage_webhooks(cast.requester)
    with pytest.raises(AccessDenied):
        sla.webhook_subscription_save(actor=cast.agent1, name="X", url="https://a.example/h", events=["sla.breach"])
    with pytest.raises(ValidationFailed) as bad:
        sla.webhook_subscription_save(actor=cast.admin, name="X", url="ftp://a.example/h", events=[])
    assert set(bad.value.fields) == {"url", "events"}
    with pytest.raises(ValidationFailed) as unknown:
        sla.webhook_subscription_save(actor=cast.admin, name="X", url="https://a.example/h", events=["nope"])
    assert "Unknown event" in unknown.value.message
    sub, secret = sla.webhook_subscription_save(actor=cast.admin, name="X", url="https://a.example/h",
                                                events=["sla.breach"])
    assert secret and sub.secret == secret
    same, none = sla.webhook_subscription_save(actor=cast.admin, subscription=sub, name="Y", url=sub.url,
                                               events=["sla.breach"])
    assert none is None and same.secret == secret
    _, fresh = sla.webhook_subscription_save(actor=cast.admin, subscription=sub, name="Y", url=sub.url,
                                             events=["sla.breach"], regenerate_secret=True)
    assert fresh and fresh != secret


def test_the_sweep_sends_warnings_and_breaches_with_queries_constant_per_batch(cast, always, make_policy, subscribe):
    from sla.models import Clock

    make_policy(always, response_s=100, resolution_s=10_000_000)
    rounds = iter(range(10))

    def sweep_queries(n: int) -> int:
        Clock.objects.update(next_check_at=MONDAY_9 + timedelta(days=3650))  # earlier rounds' clocks stay out
        start = MONDAY_9 + timedelta(days=next(rounds))
        for i in range(n):
            services.ticket_create(actor=cast.requester, kind="incident", title=f"Down {i}", now=start,
                                   service=cast.services["payroll"])
        with CaptureQueriesContext(connection) as ctx:
            assert sla.clocks_sweep(now=start + timedelta(seconds=80)) == n
        return len(ctx.captured_queries)

    sweep_queries(1)  # warm: the first sweep creates its heartbeat and fills the policy cache
    plain = {n: sweep_queries(n) for n in (2, 6)}
    subscribe("https://hooks.example.test/in", events=[WebhookEvent.SLA_WARNING, WebhookEvent.SLA_BREACH])
    hooked = {n: sweep_queries(n) for n in (2, 6)}
    assert hooked[2] - plain[2] == hooked[6] - plain[6] <= 3  # subscriptions, services, one insert: per batch
    assert WebhookDelivery.objects.filter(event="sla.warning").count() == 8
    payload = WebhookDelivery.objects.filter(event="sla.warning").first().payload
    assert payload["event"] == "sla.warning"
    assert payload["data"]["clock"]["metric"] == "response" and payload["data"]["clock"]["level"] == 75
    assert payload["data"]["ticket"]["service"] == "Payroll"
    Clock.objects.filter(metric="response").update(next_check_at=MONDAY_9)
    sla.clocks_sweep(now=MONDAY_9 + timedelta(days=30))
    assert WebhookDelivery.objects.filter(event="sla.breach").count() >= 8  # each response target (and later tiers)
    breach = WebhookDelivery.objects.filter(event="sla.breach").first().payload["data"]["clock"]
    assert breach["breached"] is True and breach["level"] == 100


def test_two_relays_never_deliver_one_row_twice(cast, subscribe, receiver):
    subscribe(receiver.url, events=[WebhookEvent.TICKET_CREATED])
    for _ in range(5):
        _ticket(cast)
    first = sla.webhooks_deliver(limit=2)
    second = sla.webhooks_deliver()
    assert (first, second) == (2, 3)
    assert sla.webhooks_deliver() == 0
    assert len(set(receiver.ids())) == len(receiver.ids()) == 5
    assert WebhookAttempt.objects.filter(ok=True).count() == 5


def test_a_redirect_is_not_a_delivery(cast, subscribe):
    with Receiver(script=[302, 200]) as rx:
        subscribe(rx.url, events=[WebhookEvent.TICKET_CREATED])
        _ticket(cast)
        assert sla.webhooks_deliver() == 0
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.last_status_code) == (DeliveryState.PENDING, 302)
    assert len(rx.received) == 1  # not followed
