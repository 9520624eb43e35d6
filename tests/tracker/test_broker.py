"""The embedded broker never hands a worker a message that is still being written."""
import threading

import pytest
from kombu import Connection
from kombu.transport.virtual import Empty

from tracker import broker


@pytest.fixture
def channel(tmp_path):
    folders = {name: tmp_path / name for name in ("queue", "processed", "control")}
    for folder in folders.values():
        folder.mkdir()
    options = {
        "data_folder_in": str(folders["queue"]), "data_folder_out": str(folders["queue"]),
        "processed_folder": str(folders["processed"]), "store_processed": False,
        "control_folder": str(folders["control"]),
    }
    with Connection("filesystem://", transport="tracker.broker:Transport", transport_options=options) as conn:
        yield conn.default_channel


def test_the_settings_use_it_when_there_is_no_redis(settings):
    if settings.REDIS_URL:
        assert getattr(settings, "CELERY_BROKER_TRANSPORT", None) is None
    else:
        assert settings.CELERY_BROKER_TRANSPORT == "tracker.broker:Transport"


def test_a_message_is_invisible_until_it_is_written_whole(channel, monkeypatch):
    seen_while_writing = []
    real_replace = broker.os.replace

    def replace(source, target):
        try:
            seen_while_writing.append(channel._get("work"))
        except Empty:
            seen_while_writing.append(None)
        real_replace(source, target)

    monkeypatch.setattr(broker.os, "replace", replace)
    channel._put("work", {"body": "x" * 10_000, "n": 1})
    assert seen_while_writing == [None]
    assert channel._get("work") == {"body": "x" * 10_000, "n": 1}
    with pytest.raises(Empty):
        channel._get("work")


def test_a_reader_racing_a_writer_gets_every_message_whole_and_once(channel):
    count, body = 300, "y" * 50_000
    got, errors = [], []

    def read():
        while len(got) < count and not errors:
            try:
                got.append(channel._get("race")["n"])
            except Empty:
                continue
            except Exception as exc:  # a half-written file fails to decode
                errors.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    for n in range(count):
        channel._put("race", {"body": body, "n": n})
    reader.join(timeout=60)
    assert not errors
    assert sorted(got) == list(range(count))
