"""The webhook relay is woken once however many deliveries commit before it starts claiming."""
import pytest
from django.conf import settings

from sla.services import webhooks
from sla.tasks import deliver_webhooks_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def wakes(monkeypatch):
    sent = []
    monkeypatch.setattr(deliver_webhooks_task, "delay", lambda *a, **kw: sent.append(1))
    return sent


@pytest.fixture
def redis_broker(monkeypatch):
    """The app's broker on this run's Redis, the wake-up key cleared (skipped without Redis)."""
    if not settings.REDIS_URL:
        pytest.skip("needs Redis: set REDIS_URL")
    monkeypatch.setattr(deliver_webhooks_task.app.conf, "broker_url", settings.REDIS_URL)
    gate = webhooks._wake_gate()
    gate.delete(webhooks.WAKE_KEY)
    yield gate
    gate.delete(webhooks.WAKE_KEY)


def test_deliveries_committed_before_the_relay_starts_wake_it_once(redis_broker, wakes):
    for _ in range(5):
        webhooks._wake_relay()
    assert len(wakes) == 1
    assert 0 < redis_broker.ttl(webhooks.WAKE_KEY) <= webhooks.WAKE_TTL_S


def test_a_delivery_after_the_relay_began_claiming_wakes_it_again(redis_broker, wakes):
    webhooks._wake_relay()
    webhooks.webhooks_deliver()  # the relay's run: drops the key before its first claim
    webhooks._wake_relay()
    webhooks._wake_relay()
    assert len(wakes) == 2


def test_a_wake_the_broker_refused_does_not_hold_back_the_next(redis_broker, monkeypatch):
    sent = []

    def refused():
        sent.append(1)
        raise ConnectionError("broker down")

    monkeypatch.setattr(deliver_webhooks_task, "delay", refused)
    webhooks._wake_relay()  # logged, not raised: beat's next run delivers
    webhooks._wake_relay()
    assert len(sent) == 2
    assert not redis_broker.exists(webhooks.WAKE_KEY)


def test_without_redis_every_transaction_wakes_the_relay(monkeypatch, wakes):
    monkeypatch.setattr(deliver_webhooks_task.app.conf, "broker_url", "filesystem://")
    assert webhooks._wake_gate() is None
    webhooks._wake_relay()
    webhooks._wake_relay()
    assert len(wakes) == 2


def test_a_redis_that_refuses_the_key_still_wakes_the_relay(monkeypatch, wakes):
    class Broken:
        def set(self, *args, **kwargs):
            raise ConnectionError("no Redis")

        def delete(self, *args):
            raise ConnectionError("no Redis")

    monkeypatch.setattr(webhooks, "_wake_gate", lambda: Broken())
    webhooks._wake_relay()
    webhooks._wake_relay()
    assert len(wakes) == 2
