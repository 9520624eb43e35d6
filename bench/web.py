#!/usr/bin/env python3
"""Closed-loop HTTP load on a running Crossline server, measured as the peer benchmark's load client does.

    .venv/bin/python bench/web.py queue  --port 8000 --user lena --password demo [--requests 200]
    .venv/bin/python bench/web.py ticket --port 8000 --user lena --password demo --keys INC-1,INC-2
    .venv/bin/python bench/web.py create --port 8000 --token <key> --clients 4 --requests 1000

C client *processes* each log in (session cookie + CSRF, as a browser does) or carry an API token, wait on
a barrier, then send requests back to back (no think time) until they have sent N/C requests or the time
cap is hit. Every request opens a new connection; latency = connect + send + full body read. Loopback only,
bounded by count. Prints `metric value unit` lines: req/s, errors, p50 and p95 in milliseconds.
"""
import argparse
import http.client
import json
import multiprocessing as mp
import random
import re
import sys
import time
import urllib.parse
from http.cookies import SimpleCookie
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import pct  # noqa: E402

LOOPBACK = ("127.0.0.1", "localhost", "::1")
# The agent queue as the peer's list is asked for: open incidents, sorted by priority, first page.
QUEUE_PATH = "/queue/?view=open&kind=incident&sort=priority"
CREATE_PATH = "/api/v1/tickets/"
SCENARIOS = ("queue", "ticket", "create", "get")


class Client:
    """One browser-like user: keeps cookies, opens a new connection per request, loopback only."""

    def __init__(self, host: str, port: int):
        if host not in LOOPBACK:
            raise ValueError("loopback only")
        self.host, self.port = host, port
        self.cookies: dict[str, str] = {}
        self.location = ""

    def request(self, method: str, path: str, body: str | bytes | None = None,
                headers: dict | None = None) -> tuple[int, bytes]:
        sent = {"Host": f"{self.host}:{self.port}", "User-Agent": "crossline-bench/1"}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        sent.update(headers or {})
        conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            data = response.read()
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    cookie = SimpleCookie()
                    cookie.load(value)
                    self.cookies.update({k: m.value for k, m in cookie.items()})
            self.location = response.getheader("Location") or ""
            return response.status, data
        finally:
            conn.close()

    def login(self, username: str, password: str) -> None:
        status, body = self.request("GET", "/login/")
        found = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        if status != 200 or not found:
            raise RuntimeError(f"login page: HTTP {status}")
        form = urllib.parse.urlencode({"username": username, "password": password,
                                       "csrfmiddlewaretoken": found.group(1).decode(), "next": "/queue/"})
        status, _ = self.request("POST", "/login/", form, {
            "Content-Type": "application/x-www-form-urlencoded",
            "Referer": f"http://{self.host}:{self.port}/login/"})
        if status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"login as {username!r} failed: HTTP {status}")


def create_body(client_index: int, i: int, rng: random.Random, service: int = 1) -> str:
    return json.dumps({
        "kind": "incident", "title": f"Load c{client_index} #{i}: VPN drops every few minutes",
        "description": "User reports the VPN disconnects every few minutes since the last update. "
                       "Steps: connect, wait, observe drop. Impact: whole team.",
        "impact": rng.choice([1, 2, 2, 3]), "urgency": rng.choice([1, 2, 3]), "service": service})


def request_fn(cfg: dict, client: Client, index: int):
    """(fn(i) -> (status, body), the status that counts as success) for the scenario."""
    rng = random.Random(1000 + index)
    scenario = cfg["scenario"]
    if scenario == "queue":
        return (lambda i: client.request("GET", cfg.get("path") or QUEUE_PATH)), 200
    if scenario == "get":
        paths = cfg["paths"]
        return (lambda i: client.request("GET", paths[i % len(paths)])), 200
    if scenario == "ticket":
        keys = cfg["keys"]
        return (lambda i: client.request("GET", f"/tickets/{rng.choice(keys)}/")), 200
    if scenario == "create":
        headers = {"Authorization": f"Token {cfg['token']}", "Content-Type": "application/json"}
        return (lambda i: client.request("POST", CREATE_PATH, create_body(index, i, rng, cfg["service"]), headers)), 201
    raise ValueError(f"unknown scenario {scenario!r}")


def _client_process(index: int, cfg: dict, barrier, out) -> None:
    try:
        client = Client(cfg["host"], cfg["port"])
        if cfg.get("user"):
            client.login(cfg["user"], cfg["password"])
        fn, ok = request_fn(cfg, client, index)
        for w in range(cfg["warmup"]):
            fn(-1 - w)
        share = cfg["requests"] // cfg["clients"] + (1 if index < cfg["requests"] % cfg["clients"] else 0)
        barrier.wait(timeout=300)
        started = time.perf_counter()
        deadline = started + cfg["max_seconds"]
        latencies, errors, codes = [], 0, {}
        for i in range(share):
            if time.perf_counter() > deadline:
                break
            t0 = time.perf_counter()
            try:
                status, _ = fn(i)
            except OSError as exc:
                status = type(exc).__name__
            latencies.append(time.perf_counter() - t0)
            codes[str(status)] = codes.get(str(status), 0) + 1
            errors += status != ok
        out.put((index, started, time.perf_counter(), latencies, errors, codes, None))
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which fails the round
        out.put((index, 0.0, 0.0, [], 0, {}, f"{type(exc).__name__}: {exc}"))
        barrier.abort()


def run(port: int, scenario: str, *, clients: int = 1, requests: int = 200, host: str = "127.0.0.1",
        user: str | None = None, password: str | None = None, token: str | None = None,
        path: str | None = None, paths: list[str] | None = None, keys: list[str] | None = None, service: int = 1,
        warmup: int = 5, max_seconds: float = 120.0) -> dict:
    """One round: `requests` requests shared by `clients` processes. Returns n, errors, codes, wall_s, rps,
    p50 and p95 (ms)."""
    if host not in LOOPBACK:
        raise ValueError("loopback only")
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}")
    cfg = {"scenario": scenario, "host": host, "port": port, "clients": clients, "requests": requests,
           "user": user, "password": password, "token": token, "path": path, "paths": paths or [],
           "keys": keys or [], "service": service, "warmup": warmup, "max_seconds": max_seconds}
    ctx = mp.get_context("fork")
    barrier, out = ctx.Barrier(clients), ctx.Queue()
    procs = [ctx.Process(target=_client_process, args=(i, cfg, barrier, out)) for i in range(clients)]
    for p in procs:
        p.start()
    results = [out.get(timeout=max_seconds + 600) for _ in procs]
    for p in procs:
        p.join()
    failed = [r[6] for r in results if r[6]]
    if failed:
        raise RuntimeError(f"a client failed: {failed[0]}")
    latencies = sorted(x * 1000 for r in results for x in r[3])
    wall = max(r[2] for r in results) - min(r[1] for r in results)
    errors = sum(r[4] for r in results)
    codes: dict[str, int] = {}
    for r in results:
        for code, n in r[5].items():
            codes[code] = codes.get(code, 0) + n
    return {"n": len(latencies), "errors": errors, "codes": codes, "wall_s": wall,
            "rps": (len(latencies) - errors) / wall if wall else 0.0,
            "p50": pct(latencies, 50), "p95": pct(latencies, 95)}


def metric_lines(name: str, result: dict) -> list[str]:
    return [f"{name}.n {result['n']} requests", f"{name}.errors {result['errors']} requests",
            f"{name}.rps {result['rps']:.1f} req/s", f"{name}.p50 {result['p50']:.1f} ms",
            f"{name}.p95 {result['p95']:.1f} ms"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", choices=SCENARIOS)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--requests", type=int, default=200, help="requests per round, all clients together")
    parser.add_argument("--user", help="log in as this user (queue, ticket, get)")
    parser.add_argument("--password", default="")
    parser.add_argument("--token", help="API token (create)")
    parser.add_argument("--path", help="queue: the URL to ask for (default: open incidents by priority)")
    parser.add_argument("--paths", help="get: comma-separated URLs asked for in turn")
    parser.add_argument("--keys", help="ticket: comma-separated ticket keys picked at random")
    parser.add_argument("--warmup", type=int, default=5, help="untimed requests per client first")
    parser.add_argument("--max-seconds", type=float, default=120.0, help="time cap per round")
    parser.add_argument("--name", help="metric prefix (default: the scenario)")
    args = parser.parse_args()
    result = run(args.port, args.scenario, clients=args.clients, requests=min(args.requests, 100_000),
                 host=args.host, user=args.user, password=args.password, token=args.token, path=args.path,
                 paths=args.paths.split(",") if args.paths else None,
                 keys=args.keys.split(",") if args.keys else None, warmup=args.warmup,
                 max_seconds=args.max_seconds)
    print(f"# codes {result['codes']} wall {result['wall_s']:.2f}s", file=sys.stderr)
    print("\n".join(metric_lines(args.name or args.scenario, result)))


if __name__ == "__main__":
    main()
