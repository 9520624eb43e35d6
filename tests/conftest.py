"""A shared cast: one user per role, an L1 -> L2 -> L3 chain of groups, two services."""
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client, override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from tests.factories import GroupFactory, ServiceFactory, UserFactory
from tests.workers import private_broker  # noqa: F401 - the fixture, for every test that runs a real worker
from tracker.choices import Role, Tier


def pytest_collection_modifyitems(config, items):
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL (see README)")
    if connection.vendor != "postgresql":
        for item in items:
            if "postgres" in item.keywords:
                item.add_marker(skip_pg)


FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Tests create many users: a fast hasher keeps set-up cheap (production keeps PBKDF2)."""
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture(autouse=True)
def _webhook_wake_open():
    """No test starts with another's webhook wake-up key set on the broker's Redis: a wake sent to a broker no
    worker reads would hold this test's wakes back until the key expires."""
    from sla.services.webhooks import _wake_gate_open

    _wake_gate_open()


@pytest.fixture(scope="session", autouse=True)
def _media_root(tmp_path_factory):
    """Files the tests store (attachments, the demo's too) go to a folder of the run's own, never var/media."""
    with override_settings(MEDIA_ROOT=str(tmp_path_factory.getbasetemp() / "media")):
        yield


@pytest.fixture
def services(db):
    return {"payroll": ServiceFactory(name="Payroll"), "mail": ServiceFactory(name="Mail")}


@pytest.fixture
def cast(db, services):
    """Users by role and the tier chain. `cast.l3` is a development team covering Payroll."""

    class Cast:
        pass

    c = Cast()
    c.requester = UserFactory(username="alice", role=Role.REQUESTER, first_name="Alice")
    c.other_requester = UserFactory(username="bob", role=Role.REQUESTER, first_name="Bob")
    c.agent1 = UserFactory(username="lena", role=Role.AGENT_L1)
    c.agent2 = UserFactory(username="liam", role=Role.AGENT_L2)
    c.engineer = UserFactory(username="devon", role=Role.ENGINEER_L3)
    c.engineer2 = UserFactory(username="dana", role=Role.ENGINEER_L3)
    c.change_manager = UserFactory(username="carl", role=Role.CHANGE_MANAGER)
    c.manager = UserFactory(username="maria", role=Role.MANAGER, email="maria@example.test")
    c.admin = UserFactory(username="root", role=Role.ADMIN, is_superuser=True, is_staff=True)
    c.l3 = GroupFactory(name="Payroll Dev", tier=Tier.L3, manager=c.manager)
    c.l2 = GroupFactory(name="App Support", tier=Tier.L2, manager=c.manager, escalates_to=c.l3)
    c.l1 = GroupFactory(name="Service Desk", tier=Tier.L1, manager=c.manager, escalates_to=c.l2)
    for group in (c.l1, c.l2, c.l3):
        group.services.add(services["payroll"])
    c.l1.members.add(c.agent1)
    c.l2.members.add(c.agent2)
    c.l3.members.add(c.engineer, c.engineer2)
    c.services = services
    return c


@pytest.fixture
def api():
    """An API client factory: api(user) is signed in as that user."""

    def make(user=None):
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def client_for(db):
    """A page client factory: client_for(user) is signed in as that user."""

    def make(user):
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture(scope="module")
def seeded_demo(request, django_db_setup, django_db_blocker):
    """The demo seeded once for a whole test module (a seed takes seconds): inside a transaction that is rolled
    back after the module's last test, each test running in its own savepoint on top of it (Django's
    `setUpTestData` pattern), so what a test changes is gone for the next. The module's `DEMO_HISTORY` sets the
    number of tickets; the value is when the seed started. Every story must play to its end: a refused move
    would leave a half-told ticket (and, mid-step, objects whose rows were rolled back)."""
    history = getattr(request.module, "DEMO_HISTORY", 80)
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        started = timezone.now()
        errors = StringIO()
        try:
            with override_settings(PASSWORD_HASHERS=FAST_HASHERS):  # as every test's own users (below)
                call_command("seed_demo", "--history", str(history), stdout=StringIO(), stderr=errors)
            assert "skipped" not in errors.getvalue(), errors.getvalue()
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    yield started
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)
