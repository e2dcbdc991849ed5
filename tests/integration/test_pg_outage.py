"""PostgreSQL goes away under a running server and comes back.

With runs in progress, the local cluster is stopped, held down for a few seconds and started
again (`pg_ctlcluster … stop` / `start`; a plain `restart` leaves too short a window to aim
requests into). Meanwhile `/health` and `POST /e` are probed. Expected: the server stays up,
`/health` answers 503 "degraded" while the database is down, the event API answers 503 (never
200) for what it cannot commit and stores none of it, and once PostgreSQL is back every run
whose event was accepted with 200 completes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from .harness import (
    JSONDict,
    Stack,
    requires_postgres_dialect,
    running_stack,
    wait_until,
)
from .pg_control import controlled_cluster, ensure_pg_running, pg_ctl

pytestmark = [requires_postgres_dialect(), pytest.mark.slow]

EVENTS = 50
SLUG = "dur-three-steps"
STEPS = ("a", "b", "c")
LEASE_SECONDS = 3
MAX_IN_FLIGHT = 4  # 150 bodies of 0.2 s spread over ~7.5 s: the outage hits runs mid-way
# Long enough that a POST /e sent in its first seconds must be answered (503, within
# POST_ANSWER_BOUND) while PostgreSQL is still down.
DOWN_SECONDS = 9.0
PROBE_INTERVAL = 0.05
# The server retries its connection for ~4 s (0.1 + 0.25 + 0.5 + 1 + 2 s) before failing a write;
# a POST /e sent while PostgreSQL is down must be answered (503) within this bound.
POST_ANSWER_BOUND = 6.0
POST_INTERVAL = 0.2


# --------------------------------------------------------------------------------------
# Probes running while the database goes away
# --------------------------------------------------------------------------------------


@dataclass
class Probe:
    sent: float
    answered: float
    status: int  # 0: no HTTP answer (transport error)
    body: JSONDict
    event_id: str = ""  # POST /e: the sender id of the event posted


class Prober:
    """Two threads: GET /health every PROBE_INTERVAL, POST /e (one event) every POST_INTERVAL."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.health: list[Probe] = []
        self.posts: list[Probe] = []
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._health_loop, daemon=True),
            threading.Thread(target=self._post_loop, daemon=True),
        ]

    def __enter__(self) -> Prober:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _call(self, client: httpx.Client, method: str, path: str, **kw: object) -> Probe:
        sent = time.monotonic()
        try:
            resp = client.request(method, path, **kw)  # type: ignore[arg-type]
        except httpx.TransportError as exc:
            return Probe(sent, time.monotonic(), 0, {"error": repr(exc)})
        try:
            body = resp.json()
        except ValueError:
            body = {"text": resp.text[:200]}
        return Probe(sent, time.monotonic(), resp.status_code, body)

    def _health_loop(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=10.0) as client:
            while not self._stop.is_set():
                self.health.append(self._call(client, "GET", "/health"))
                self._stop.wait(PROBE_INTERVAL)

    def _post_loop(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=20.0) as client:
            k = 0
            while not self._stop.is_set():
                sender_id = f"outage-{k}"
                event = {"name": "dur/three", "id": sender_id, "data": {"i": 1000 + k}}
                probe = self._call(client, "POST", "/e/test", json=event)
                probe.event_id = sender_id
                self.posts.append(probe)
                k += 1
                self._stop.wait(POST_INTERVAL)


# --------------------------------------------------------------------------------------
# The test
# --------------------------------------------------------------------------------------


@pytest.fixture
def cluster() -> Iterator[list[str]]:
    with controlled_cluster() as command:
        yield command


def test_postgres_outage_loses_nothing(
    cluster: list[str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    with running_stack(
        tmp_path_factory.mktemp("pg_outage"),
        "durability_app",
        [SLUG],
        server_args=[
            "--lease-seconds",
            str(LEASE_SECONDS),
            "--max-in-flight",
            str(MAX_IN_FLIGHT),
        ],
    ) as stack:
        outage(stack, cluster)


def outage(stack: Stack, cluster: list[str]) -> None:
    api, sidefx = stack.api, stack.sidefx
    first_ids = api.send_events([{"name": "dur/three", "data": {"i": i}} for i in range(EVENTS)])
    sidefx.wait_for(
        lambda es: sum(e["kind"] == "END" for e in es) >= 20,
        timeout=30,
        what="runs to be in progress",
    )

    with Prober(stack.server.url) as prober:
        time.sleep(0.5)
        stop_begin = time.monotonic()
        try:
            pg_ctl(cluster, "stop")
            down = time.monotonic()  # from here until start_begin the database is certainly down
            deadline = down + DOWN_SECONDS
            while time.monotonic() < deadline:
                assert stack.server.running, (
                    f"server died while PostgreSQL was down\n{stack.server.log_tail()}"
                )
                time.sleep(0.1)
            start_begin = time.monotonic()
            pg_ctl(cluster, "start")
            up = time.monotonic()
        finally:
            ensure_pg_running(cluster)  # before the stack's teardown needs it to drop the db
        wait_until(
            lambda: True if prober.health and prober.health[-1].status == 200 else None,
            timeout=30,
            what="/health to answer 200 again after PostgreSQL came back",
            on_timeout=stack.server.log_tail,
        )
        time.sleep(1.0)  # a few more accepted events after recovery

    assert stack.server.running, f"server died\n{stack.server.log_tail()}"
    print(
        f"stop took {down - stop_begin:.1f}s, held down {start_begin - down:.1f}s, "
        f"start took {up - start_begin:.1f}s; {len(prober.health)} health probes, "
        f"{len(prober.posts)} posts ({sum(p.status == 200 for p in prober.posts)} accepted)"
    )
    print(timeline(prober, stop_begin))
    # Recovery: every event answered 200 started exactly one run, and every run completes. An
    # event answered 503 around the stop (not certainly while down) may or may not be stored.
    accepted = {
        str(p.body["ids"][0]): 1000 + int(p.event_id.split("-")[1])
        for p in prober.posts
        if p.status == 200
    }
    accepted.update({event_id: i for i, event_id in enumerate(first_ids)})
    maybe = {1000 + int(p.event_id.split("-")[1]) for p in prober.posts if p.status != 200}
    runs = wait_for_runs_completed(stack, len(accepted))
    by_event: dict[str, list[JSONDict]] = {}
    for run in runs:
        by_event.setdefault(str(run["event_id"]), []).append(run)
    missing = sorted(set(accepted) - set(by_event))
    assert not missing, f"{len(missing)} event(s) accepted with 200 started no run: {missing[:5]}"
    doubled = {e: len(rs) for e, rs in by_event.items() if len(rs) > 1}
    assert not doubled, f"events with several runs: {doubled}"
    outputs = {int(run["output"]["i"]): run["output"] for run in runs}
    assert set(accepted.values()) <= set(outputs) <= set(accepted.values()) | maybe
    for i, output in outputs.items():
        assert output["results"] == [f"{s}{i}" for s in STEPS]

    # While down: /health degraded, POST /e refused promptly, and nothing refused was stored.
    check_health(prober.health, down, start_begin)
    refused = check_posts(prober.posts, down, start_begin)
    stored = {str(e["id"]) for e in api.list_events("dur/three", limit=1000)}
    ghosts = sorted(stored & refused)
    assert not ghosts, f"events answered 503 were stored anyway: {ghosts}"


def timeline(prober: Prober, origin: float) -> str:
    """Status changes of /health and every POST /e, in seconds from the stop (for failures)."""
    lines: list[str] = []
    previous = None
    for probe in prober.health:
        if probe.status != previous:
            lines.append(f"  {probe.sent - origin:+6.2f}s GET /health -> {probe.status}")
            previous = probe.status
    for probe in prober.posts:
        lines.append(
            f"  {probe.sent - origin:+6.2f}s POST /e {probe.event_id} -> {probe.status} "
            f"after {probe.answered - probe.sent:.2f}s"
        )
    return "timeline (0 = stop began):\n" + "\n".join(
        sorted(lines, key=lambda x: float(x.split("s")[0]))
    )


def check_health(health: list[Probe], down: float, start_begin: float) -> None:
    statuses = {p.status for p in health}
    assert 0 not in statuses, "GET /health got no answer: " + str(
        next(p.body for p in health if p.status == 0)
    )
    assert statuses <= {200, 503}, f"unexpected /health statuses {statuses}"
    for probe in health:
        if probe.status == 503:
            assert "degraded" in str(probe.body.get("message", "")), probe.body
    during = [p for p in health if p.sent >= down and p.answered <= start_begin]
    degraded = [p for p in during if p.status == 503]
    assert degraded, (
        f"/health never answered 503 in the {start_begin - down:.1f}s PostgreSQL was down "
        f"({len(during)} probes)"
    )
    # Once degraded, nothing can have committed until PostgreSQL is started again.
    flaps = [p for p in during if p.sent > degraded[0].answered and p.status == 200]
    assert not flaps, f"/health answered 200 while PostgreSQL was down ({len(flaps)} times)"


def check_posts(posts: list[Probe], down: float, start_begin: float) -> set[str]:
    """POST /e answers 200 or 503, promptly: a request is never held for the length of the
    outage (SDKs retry a 503; a request hanging for as long as the database is down times them
    out). While the database is down the answer is 503, never 200. Returns the sender ids of
    the events refused while it was certainly down."""
    statuses = {p.status for p in posts}
    assert statuses <= {200, 503}, f"POST /e answered {statuses}: " + str(
        [p.body for p in posts if p.status not in {200, 503}][:3]
    )
    held = [
        f"{p.event_id} sent {p.sent - down:+.1f}s into the outage, "
        f"held {p.answered - p.sent:.1f}s, answered {p.status} "
        + ("after PostgreSQL was started again" if p.answered > start_begin else "while down")
        for p in posts
        if p.sent <= start_begin - POST_ANSWER_BOUND and p.answered - p.sent > POST_ANSWER_BOUND
    ]
    assert not held, (
        f"POST /e was held instead of answered (503) within {POST_ANSWER_BOUND:.0f}s while "
        f"PostgreSQL was down ({start_begin - down:.1f}s): " + "; ".join(held)
    )
    during = [p for p in posts if p.sent >= down and p.answered <= start_begin]
    accepted_while_down = [p.event_id for p in during if p.status == 200]
    assert not accepted_while_down, (
        f"POST /e answered 200 while PostgreSQL was down: {accepted_while_down}"
    )
    for probe in during:
        assert probe.body.get("status") == 503, probe.body
    assert during, "no POST /e was answered while PostgreSQL was down"
    return {p.event_id for p in during}


def wait_for_runs_completed(stack: Stack, count: int) -> list[JSONDict]:
    last: list[list[JSONDict]] = [[]]

    def probe() -> list[JSONDict] | None:
        runs = stack.api.list_runs(SLUG, limit=1000)
        last[0] = runs
        bad = [r for r in runs if r["status"] in {"Failed", "Cancelled"}]
        assert not bad, f"runs ended badly: {bad[:3]}"
        done = [r for r in runs if r["status"] == "Completed"]
        return runs if len(done) >= count and len(runs) == len(done) else None

    return wait_until(
        probe,
        timeout=60,
        interval=0.5,
        what=f"{count} runs to complete after PostgreSQL came back",
        on_timeout=lambda: (
            f"{sum(r['status'] == 'Completed' for r in last[0])}/{len(last[0])} completed\n"
            f"{stack.server.log_tail()}"
        ),
    )
