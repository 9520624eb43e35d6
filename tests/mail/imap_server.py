"""A real IMAP server for tests: pymap's in-memory backend on 127.0.0.1, on a free port, in a thread of its own.

    with ImapServer(user="desk", password="secret") as imap:
        imap.deliver(raw_bytes)          # APPENDs to INBOX over IMAP, as a mail server would
        imap.unseen()                    # the UIDs not yet flagged \\Seen

Plain TCP without STARTTLS (so LOGIN is allowed): mailboxes under test use `imap_ssl=False`.
"""

import argparse
import asyncio
import threading

from imap_tools import MailBoxUnencrypted
from proxyprotocol.reader import ProxyProtocolReader
from pymap.backend.dict import DictBackend
from pymap.imap import IMAPServer


class ImapServer:
    host = "127.0.0.1"

    def __init__(self, *, user: str = "desk", password: str = "secret"):
        self.user, self.password = user, password
        self.port: int | None = None
        self._loop = asyncio.new_event_loop()
        self._server = None
        self._ready = threading.Event()
        self._failed: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="test-imap", daemon=True)

    # --- life cycle

    def __enter__(self) -> "ImapServer":
        self._thread.start()
        if not self._ready.wait(15):
            raise RuntimeError("the test IMAP server did not start")
        if self._failed is not None:
            raise RuntimeError("the test IMAP server did not start") from self._failed
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        """Close the server (a second call does nothing): a client then finds the port refused."""
        if not self._thread.is_alive():
            return

        def stop():
            if self._server is not None:
                self._server.close()
            self._loop.stop()

        self._loop.call_soon_threadsafe(stop)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._start())
        except BaseException as exc:  # reported to the test thread by __enter__
            self._failed = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()
        pending = asyncio.all_tasks(self._loop)  # open connections: end them before the loop closes
        for task in pending:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.close()

    async def _start(self) -> None:
        args = argparse.Namespace(
            host=self.host, port=0, debug=False, cert=None, key=None, tls=False, passlib_cfg=None,
            proxy_protocol=None, inherited_sockets=None, demo_data=False, demo_user=self.user,
            demo_password=self.password)
        backend, config = await DictBackend.init(args, invalid_user_sleep=0.0, reject_dnsbl=False)
        config.apply_context()
        callback = ProxyProtocolReader(config.proxy_protocol).get_callback(IMAPServer(backend.login, config))
        self._server = await asyncio.start_server(callback, host=self.host, port=0)
        self.port = self._server.sockets[0].getsockname()[1]

    # --- what a test does with it

    def client(self) -> MailBoxUnencrypted:
        return MailBoxUnencrypted(self.host, self.port, timeout=10).login(self.user, self.password)

    def deliver(self, *raws: bytes) -> None:
        with self.client() as box:
            for raw in raws:
                box.append(raw, "INBOX")

    def unseen(self) -> list[str]:
        with self.client() as box:
            return box.uids("UNSEEN")

    def count(self) -> int:
        with self.client() as box:
            return len(box.uids("ALL"))
