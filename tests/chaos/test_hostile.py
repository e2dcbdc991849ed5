"""Hostile load next to normal traffic (issue 13): a real server and the real Python SDK app run
chains of steps while other clients hold slow-loris and idle connections, send oversize, deeply
nested and malformed bodies, raw garbage, and random bytes to every route of the API (its
OpenAPI document and the SDK routes).
Each hostile request gets a 4xx (never a 5xx) or is closed within the header deadline, `/health`
answers 200 throughout, and every normal run completes with its output. Bounded: ~20 s.
"""

from __future__ import annotations

import json
import random
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from starlette.routing import Route

from integration.harness import Stack, running_stack

HEADER_TIMEOUT = 2.0
CLOSE_MARGIN = 3.0  # two shared cores: the deadline timer may fire late
BODY_LIMIT = 256 * 1024
NORMAL_EVENTS = 30
Problems = list[str]


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    args = ["--header-timeout", str(HEADER_TIMEOUT), "--max-body-bytes", str(BODY_LIMIT)]
    args += ["--max-events-body-bytes", str(BODY_LIMIT)]
    with running_stack(tmp_path, "core_app", ["core-chain"], server_args=args) as started:
        yield started


# Undocumented routes that answer whatever is sent: the dev server's readiness probe ({}).
BODY_IGNORED = {("POST", "/v0/connect/start")}


def _every_route(client: httpx.Client) -> list[tuple[str, str, bool]]:
    """(method, path, whether it reads a body) of every operation in the server's own OpenAPI
    document, plus the SDK's routes, which the REST document leaves out (all read a body)."""
    from mainspring.api import gql, sdk

    spec = client.get("/openapi.json").json()
    found = [
        (method.upper(), path, "requestBody" in operation)
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]
    for route in (*sdk.routes, *gql.routes):
        if isinstance(route, Route):
            methods = sorted(route.methods or ())
            found += [
                (m, route.path, m != "GET" and (m, route.path) not in BODY_IGNORED)
                for m in methods
                if m != "HEAD"
            ]
    return sorted(set(found))


def _fill(path: str, rng: random.Random) -> str:
    """Path parameters replaced by random tokens that name nothing."""
    parts = [f"x{rng.getrandbits(64):x}" if p.startswith("{") else p for p in path.split("/")]
    return "/".join(parts)


def _garbage(rng: random.Random, size: int) -> bytes:
    return b"\xff" + rng.randbytes(size)  # never valid JSON nor UTF-8


def random_bytes_on_every_route(stack: Stack) -> Problems:
    """Never a 5xx; a route documented to read a body answers garbage with a 4xx."""
    rng, problems = random.Random(13), []
    with httpx.Client(base_url=stack.server.url, timeout=10) as client:
        for method, path, reads_body in _every_route(client):
            url = _fill(path, rng)
            resp = client.request(method, url, content=_garbage(rng, rng.randrange(1, 2048)))
            if resp.status_code >= 500 or (reads_body and resp.status_code < 400):
                problems.append(f"{method} {path}: {resp.status_code} {resp.text[:120]}")
    return problems


def _post(stack: Stack, path: str, body: bytes) -> tuple[int, str]:
    """urllib writes the whole body before it reads: the client that saw resets before."""
    request = urllib.request.Request(stack.server.url + path, data=body, method="POST")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=15) as resp:
            return resp.status, resp.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def bad_bodies(stack: Stack) -> Problems:
    """Oversize (413), deeply nested and malformed JSON (400), on the event and sync routes."""
    oversize = json.dumps({"name": "x", "data": {"s": "x" * (4 * BODY_LIMIT)}}).encode()
    cases = {
        "oversize": (oversize, {413}),
        "nested": (b"[" * 100_000 + b"]" * 100_000, {400, 413}),
        "nested-object": (b'{"a":' * 20_000 + b"1" + b"}" * 20_000, {400}),
        "malformed": (b'{"name": "x", "data": {"a": ', {400}),
        "truncated-utf8": (b'{"name": "\xe2\x82"}', {400}),
    }
    problems = []
    for _round in range(3):
        for path in ("/e/test", "/fn/register"):
            for name, (body, wanted) in cases.items():
                try:
                    status, text = _post(stack, path, body)
                except OSError as exc:  # a reset is what this test exists to rule out
                    problems.append(f"{name} {path}: {exc!r}")
                    continue
                if status not in wanted:
                    problems.append(f"{name} {path}: {status} {text[:120]}")
    return problems


def _held_until_closed(port: int, send: bytes, *, byte_every: float) -> tuple[bytes, float]:
    """Send `send` one byte at a time (or nothing) until the server closes the connection."""
    start, received = time.monotonic(), b""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.settimeout(byte_every)
        at = 0
        while time.monotonic() - start < HEADER_TIMEOUT + CLOSE_MARGIN + 2:
            try:
                if at < len(send):
                    sock.send(send[at : at + 1])
                    at += 1
                chunk = sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                break
            if not chunk:
                break
            received += chunk
    return received, time.monotonic() - start


def held_connections(stack: Stack, count: int = 20) -> Problems:
    """Slow loris (headers one byte every 100 ms), idle sockets and raw garbage: each is closed
    within the header deadline; the slow and garbage ones get a 408 or 400 first."""
    slow = b"POST /e/test HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 500
    garbage = _garbage(random.Random(7), 64) + b"\r\n\r\n"
    kinds = {"slow-loris": (slow, b"408"), "idle": (b"", b""), "garbage": (garbage, b"400")}
    jobs = [(kind, spec) for kind, spec in kinds.items() for _ in range(count)]
    problems: Problems = []
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        results = pool.map(
            lambda job: (
                job[0],
                job[1][1],
                _held_until_closed(stack.server.port, job[1][0], byte_every=0.1),
            ),
            jobs,
        )
        for kind, status, (received, elapsed) in results:
            if elapsed > HEADER_TIMEOUT + CLOSE_MARGIN:
                problems.append(f"{kind}: still open after {elapsed:.1f}s")
            if status and not received.startswith(b"HTTP/1.1 " + status):
                problems.append(f"{kind}: answered {received[:40]!r}")
    return problems


def normal_traffic(stack: Stack) -> Problems:
    """Chains of three steps, sent over the hostile period; each must complete, right."""
    sent: dict[str, int] = {}
    for n in range(NORMAL_EVENTS):
        sent[stack.api.send_event("core/chain", {"n": n})] = n
        time.sleep(0.25)
    problems = []
    for event_id, n in sent.items():
        run = stack.api.run_for_event(event_id, timeout=30)
        done = stack.api.wait_for_run_status(str(run["run_id"]), "Completed", timeout=30)
        if done.get("output") != {"total": (n + 1) * 10 + 5}:
            problems.append(f"chain n={n}: output {done.get('output')!r}")
    return problems


def health_watch(stack: Stack, stop: threading.Event) -> Problems:
    problems, checks = [], 0
    while not stop.is_set():
        checks += 1
        status: int | str
        try:
            status = httpx.get(f"{stack.server.url}/health", timeout=3).status_code
        except httpx.HTTPError as exc:
            status = repr(exc)
        if status != 200:
            problems.append(f"/health at check {checks}: {status}")
        stop.wait(0.2)
    return problems if checks > 10 else [f"/health checked only {checks} times"]


def test_hostile_load_next_to_normal_traffic(stack: Stack) -> None:
    start, stop = time.monotonic(), threading.Event()
    hostile: list[Callable[[Stack], Problems]] = [
        held_connections,
        bad_bodies,
        random_bytes_on_every_route,
        held_connections,
    ]
    with ThreadPoolExecutor(max_workers=3) as pool:
        watch = pool.submit(health_watch, stack, stop)
        normal = pool.submit(normal_traffic, stack)
        problems = [p for attack in hostile for p in attack(stack)]
        problems += normal.result()
        stop.set()
        problems += watch.result()
    assert not problems, "\n".join(problems[:40])
    assert time.monotonic() - start < 60
