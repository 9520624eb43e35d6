"""For the mail tests: a real SMTP server on 127.0.0.1 that the outbox relay delivers to, and a real IMAP server
that intake mailboxes poll."""
import email
import email.policy
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller

from sla.services import outbox_deliver
from tests.mail.imap_server import ImapServer


class _Inbox:
    def __init__(self):
        self.messages: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


class _FreePortController(Controller):
    """Listens on port 0 (any free port) and learns the port the system gave it before its readiness check."""

    def _trigger_server(self):
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@pytest.fixture
def smtp(settings):
    """aiosmtpd on a free port, the app's mail settings pointed at it; calling it runs the relay and returns what
    the server received in that run, parsed. `smtp.raw`: every raw message received so far."""
    inbox = _Inbox()
    controller = _FreePortController(inbox, hostname="127.0.0.1", port=0)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.DEFAULT_FROM_EMAIL = "Crossline <crossline@crossline.test>"
    settings.CROSSLINE_MAIL_DOMAIN = "crossline.test"
    settings.CROSSLINE_BASE_URL = "https://desk.crossline.test"

    def delivered(now=None) -> list[email.message.EmailMessage]:
        """Run the relay; the messages the server received in this run, parsed."""
        before = len(inbox.messages)
        outbox_deliver(now=now or datetime.now(UTC) + timedelta(days=400))
        return [email.message_from_bytes(raw, policy=email.policy.default) for raw in inbox.messages[before:]]

    delivered.raw = inbox.messages
    yield delivered
    controller.stop()


@pytest.fixture
def imap():
    """An IMAP server on 127.0.0.1 with one account, desk / secret (see `tests.mail.imap_server`)."""
    with ImapServer(user="desk", password="secret") as server:
        yield server
