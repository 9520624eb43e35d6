"""The comparison benchmark's own parts: its HTTP load client against a live server, and its parsers."""
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import compare  # noqa: E402
import web  # noqa: E402

from tracker.models import Ticket  # noqa: E402

PEER_OUTPUT = """\
data.list_filter_matching_rows 3211 rows
hello.wrk_c8.rps 812.40 req/s
list.page_c1.clients 1 processes
list.page_c1.n 200 requests/rep
list.page_c1.p50 61.2 ms
list.dt_priority_c1.p50 77.5 ms
detail.c1.p50 29.8 ms
create.api_c4.rps 86.7 req/s
create.api_c4.p95 71.0 ms
esc.queue_escalate_days INC=1,SR=3 text
esc.rate 198.4 tickets/s
# list.page_c1 rep1: n=200 err=0
"""

SWEEP_OUTPUT = """\
setup: 100,000 tickets and running clocks in 12.3 s
run 1: 2,000 breaches in 1.10 s = 1,818/s; lag p50 0.61 s
due clocks processed : 2,000 of 98,000 running, batch 1000
breaches/s           : median 12,345
lag due -> effect    : p50 0.61 s, p99 1.02 s
idle sweep           : median 3.1 ms over 1 runs
"""


@pytest.mark.django_db(transaction=True)
def test_the_load_client_logs_in_creates_and_reads_pages(cast, live_server):
    from rest_framework.authtoken.models import Token

    url = urlparse(live_server.url)
    token = Token.objects.create(user=cast.agent1).key
    created = web.run(url.port, "create", host=url.hostname, clients=2, requests=4, token=token,
                      service=cast.services["payroll"].pk, warmup=0)
    assert (created["n"], created["errors"], created["codes"]) == (4, 0, {"201": 4})
    keys = list(Ticket.objects.values_list("key", flat=True))
    assert len(keys) == 4

    queue = web.run(url.port, "queue", host=url.hostname, requests=3, user="lena", password="pw", warmup=1)
    assert (queue["n"], queue["errors"], queue["codes"]) == (3, 0, {"200": 3})
    assert 0 < queue["p50"] <= queue["p95"] and queue["rps"] > 0

    ticket = web.run(url.port, "ticket", host=url.hostname, requests=3, user="lena", password="pw", keys=keys,
                     warmup=0)
    assert (ticket["n"], ticket["errors"], ticket["codes"]) == (3, 0, {"200": 3})
    assert [line.split()[0] for line in web.metric_lines("ticket", ticket)] == [
        "ticket.n", "ticket.errors", "ticket.rps", "ticket.p50", "ticket.p95"]


@pytest.mark.django_db(transaction=True)
def test_a_refused_login_fails_the_round(cast, live_server):
    url = urlparse(live_server.url)
    with pytest.raises(RuntimeError, match="login as 'lena' failed"):
        web.run(url.port, "queue", host=url.hostname, requests=2, user="lena", password="wrong", warmup=0)


def test_the_load_client_speaks_to_loopback_only():
    with pytest.raises(ValueError, match="loopback"):
        web.Client("example.com", 80)
    with pytest.raises(ValueError, match="loopback"):
        web.run(80, "queue", host="10.0.0.1")


def test_compare_reads_the_peer_metric_lines():
    figures = compare.parse_peer(PEER_OUTPUT)
    assert figures["list.page_c1.p50"] + figures["list.dt_priority_c1.p50"] == pytest.approx(138.7)
    assert figures["detail.c1.p50"] == 29.8
    assert figures["create.api_c4.rps"] == 86.7 and figures["create.api_c4.p95"] == 71.0
    assert figures["esc.rate"] == 198.4
    assert "esc.queue_escalate_days" not in figures  # a text value
    assert not any(k.startswith("#") for k in figures)


def test_compare_reads_the_sweep_summary_line_only():
    assert compare.parse_sweep(SWEEP_OUTPUT) == 12345
    assert compare.parse_sweep("breaches/s           : median 1,730\n") == 1730
    with pytest.raises(ValueError):
        compare.parse_sweep("run 1: 2,000 breaches in 1.10 s = 1,818/s\n")


def test_compare_tables_the_medians_of_rounds_with_ratios():
    rounds = [
        {"peer.create.api_c4.rps": 80, "cl.create.rps": 320, "peer.queue.p50": 140, "cl.queue.p50": 20,
         "cl.sweep.rate": 9000},
        {"peer.create.api_c4.rps": 90, "cl.create.rps": 360, "peer.queue.p50": 130, "cl.queue.p50": 10,
         "cl.sweep.rate": 11000},
        {"peer.create.api_c4.rps": 100, "cl.create.rps": 300, "peer.queue.p50": 150, "cl.queue.p50": 14,
         "cl.sweep.rate": 10000},
    ]
    rows = {line.split(" | ")[0].lstrip("| "): line for line in compare.table(rounds)[2:]}
    assert rows["REST create, 4 clients"] == (
        "| REST create, 4 clients | 90.0 tickets/s | 320 tickets/s | 3.56x | >= 4x |")
    queue = next(line for label, line in rows.items() if label.startswith("agent queue page"))
    assert "| 140 ms | 14.0 ms | 10.00x |" in queue
    assert "| - | 10,000 breaches/s | - |" in rows["SLA sweep without reassignment"]
    assert "ticket page p50" not in rows  # not measured: left out


def test_compare_reports_the_load_seen_and_the_raw_rounds():
    from datetime import UTC, datetime
    from types import SimpleNamespace

    run = compare.Run()
    run.rounds = [{"peer.ticket.p50": 30.0, "cl.ticket.p50": 10.0}, {"peer.ticket.p50": 28.0, "cl.ticket.p50": 7.0}]
    run.loads, run.round_loads = [1.5, 2.5, 3.0], [(1.5, 2.5), (2.5, 3.0)]
    args = SimpleNamespace(only="ticket", read_n=200, create_n4=1000, sweep_args="--runs 1")
    text = compare.report(run, args, datetime(2026, 1, 2, 3, 4, tzinfo=UTC))
    assert "2 interleaved round(s)" in text and "load average (1 min) seen 1.50-3.00" in text
    assert "| ticket page p50 | 29.0 ms | 8.5 ms | 3.41x | >= 3x |" in text
    assert "round 1 (load 1.50-2.50): cl.ticket.p50=10.0, peer.ticket.p50=30.0" in text
    assert "PostgreSQL" not in text  # no settings were compared
    run.server_settings = {"shared_buffers": "2GB", "max_wal_size": "4GB"}
    text = compare.report(run, args, datetime(2026, 1, 2, 3, 4, tzinfo=UTC))
    assert "run the peer's benchmark settings (shared_buffers = 2GB, max_wal_size = 4GB)." in text
    run.server_notes = ["shared_buffers = 128MB (the peer's: 2GB; needs a restart of PostgreSQL)"]
    text = compare.report(run, args, datetime(2026, 1, 2, 3, 4, tzinfo=UTC))
    assert "differ from the peer's: shared_buffers = 128MB (the peer's: 2GB; needs a restart" in text
    assert "Both PostgreSQL" not in text


def test_compare_reads_the_peers_postgresql_settings_from_its_script(tmp_path, monkeypatch):
    script = tmp_path / "scripts" / "pg.sh"
    script.parent.mkdir()
    script.write_text('init)\n  cat >>"$PHD_PGDATA/postgresql.conf" <<CONF\n# ---- peer-helpdesk benchmark ----\n'
                      "listen_addresses = '127.0.0.1'\nport = $PHD_PGPORT\nshared_buffers = 2GB\n"
                      "random_page_cost = 1.1\njit = off\nlogging_collector = off\nCONF\n  ;;\n")
    monkeypatch.setattr(compare, "PEER_SOURCE", tmp_path)
    assert compare.peer_server_settings() == {"shared_buffers": "2GB", "random_page_cost": "1.1", "jit": "off"}
    monkeypatch.setattr(compare, "PEER_SOURCE", tmp_path / "absent")
    assert compare.peer_server_settings() == {}
