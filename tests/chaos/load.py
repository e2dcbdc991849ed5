"""Load for the chaos tests and what it must have produced once the faults are over.

- `EventSender`: posts numbered events with a sender `id` to whichever server answers, resending
  the same `id` elsewhere (or later) on a transport error or a 503, as an SDK would: the `id`
  makes a resend a no-op, so every event ends up accepted exactly once.
- `check_outputs`: every accepted event has exactly one Completed run with the right output.
- `check_reruns`: a step body ran again only where an execution was in flight at a fault.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import httpx

from integration.harness import JSONDict

STEPS = ("a", "b", "c")
# A body that logged END this long before a fault began may still have had its reply in transit
# (SDK response → server → durable write), so its re-run is allowed (as in test_crash.py).
REPLY_GRACE = 0.5
SEND_DEADLINE = 60.0


@dataclass
class Fault:
    """One injected fault: when it began, when it was over (the process dead and restarted, the
    database back), what it was, and how many servers' in-flight calls it could cut off."""

    kind: str
    began: float
    ended: float
    servers_hit: int = 1
    detail: str = ""


@dataclass
class EventSender:
    """Posts `{"name": name, "id": "<prefix>-<i>", "data": {"i": i}}` events in batches."""

    urls: Callable[[], Sequence[str]]
    name: str
    prefix: str = "chaos"
    accepted: set[int] = field(default_factory=set)
    internal_ids: dict[int, str] = field(default_factory=dict)
    resends: int = 0
    # A test fails on any answer but 200 or 503 (strict); the soak counts them and goes on.
    strict: bool = True
    unexpected: list[str] = field(default_factory=list)

    def send(self, numbers: Sequence[int], *, within: float = SEND_DEADLINE) -> None:
        batch = [{"name": self.name, "id": f"{self.prefix}-{i}", "data": {"i": i}} for i in numbers]
        deadline = time.monotonic() + within
        while True:
            url = random.choice(list(self.urls()))
            try:
                resp = httpx.post(f"{url}/e/test", json=batch, timeout=min(10.0, within))
                if resp.status_code == 200:
                    self.accepted.update(numbers)
                    self.internal_ids.update(zip(numbers, resp.json()["ids"], strict=True))
                    return
                if resp.status_code != 503:
                    answer = f"POST /e -> {resp.status_code}: {resp.text[:300]}"
                    assert not self.strict, answer
                    self.unexpected.append(answer)
            except httpx.TransportError:
                pass
            self.resends += 1
            assert time.monotonic() < deadline, f"events {numbers[0]}… never accepted"
            time.sleep(0.2)

    def send_paced(self, count: int, batch: int, seconds: float) -> None:
        """`count` events in batches of `batch`, spread evenly over `seconds`."""
        start = time.monotonic()
        batches = range(0, count, batch)
        for n, first in enumerate(batches):
            pause = start + seconds * n / len(batches) - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            self.send(range(first, min(first + batch, count)))


def check_outputs(runs: Sequence[JSONDict], accepted: set[int]) -> None:
    """Exactly one Completed run per accepted event, each with the output its steps make."""
    by_number: dict[int, list[JSONDict]] = defaultdict(list)
    for run in runs:
        assert run["status"] == "Completed", f"run not completed: {run}"
        by_number[int(run["output"]["i"])].append(run)
    missing = sorted(accepted - set(by_number))
    assert not missing, f"{len(missing)} accepted event(s) have no run: {missing[:10]}"
    extra = sorted(set(by_number) - accepted)
    assert not extra, f"runs for events never accepted: {extra[:10]}"
    doubled = {i: len(rs) for i, rs in by_number.items() if len(rs) > 1}
    assert not doubled, f"events with several runs: {doubled}"
    for i, (run,) in by_number.items():
        assert run["output"]["results"] == [f"{s}{i}" for s in STEPS], run["output"]


def _hit(start: JSONDict, end: JSONDict | None, fault: Fault) -> bool:
    """Was this execution in flight when the fault struck (its reply possibly lost)?"""
    return bool(
        start["mono"] < fault.ended and (end is None or end["mono"] > fault.began - REPLY_GRACE)
    )


def check_reruns(entries: Sequence[JSONDict], faults: Sequence[Fault], max_in_flight: int) -> int:
    """At-most-once per (run, step) except where an execution was in flight at a fault; the
    number of re-runs stays within faults x servers hit x `max_in_flight`. Returns it."""
    reruns, problems = count_reruns(entries, faults)
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems[:40])
    bound = sum(f.servers_hit for f in faults) * max_in_flight
    assert reruns <= bound, f"{reruns} step bodies re-ran; bound {bound} ({len(faults)} faults)"
    return reruns


def count_reruns(entries: Sequence[JSONDict], faults: Sequence[Fault]) -> tuple[int, list[str]]:
    """Re-executed step bodies, and those no fault explains (or whose last run failed)."""
    ends = {e["exec_id"]: e for e in entries if e["kind"] == "END"}
    executions: dict[tuple[str, str], list[JSONDict]] = defaultdict(list)
    for entry in entries:
        if entry["kind"] == "START":
            executions[(entry["run_id"], entry["step"])].append(entry)
    problems: list[str] = []
    reruns = 0
    for (run_id, step), starts in sorted(executions.items()):
        starts.sort(key=lambda e: e["mono"])
        last_end = ends.get(starts[-1]["exec_id"])
        if last_end is None or not last_end["ok"]:
            problems.append(f"{run_id}/{step}: last execution did not finish ok")
        for before in starts[:-1]:
            reruns += 1
            end = ends.get(before["exec_id"])
            if not any(_hit(before, end, fault) for fault in faults):
                note = "no END" if end is None else f"END at {end['mono']:.2f}"
                problems.append(
                    f"{run_id}/{step}: re-executed although no fault caught it in flight "
                    f"(START at {before['mono']:.2f}, {note})"
                )
    return reruns, problems


def wait_all_completed(
    urls: Callable[[], Sequence[str]], slug: str, count: int, *, timeout: float = 60.0
) -> list[JSONDict]:
    """Poll `GET /v1/runs` (any server that answers) until `count` runs exist, all Completed."""
    deadline = time.monotonic() + timeout
    last: list[JSONDict] = []
    while time.monotonic() < deadline:
        url = random.choice(list(urls()))
        try:
            resp = httpx.get(
                f"{url}/v1/runs", params={"function_id": slug, "limit": 1000}, timeout=10.0
            )
        except httpx.TransportError:
            resp = None
        if resp is not None and resp.status_code == 200:
            last = resp.json()["data"]
            bad = [r for r in last if r["status"] in {"Failed", "Cancelled"}]
            assert not bad, f"runs ended badly: {bad[:3]}"
            if len(last) >= count and all(r["status"] == "Completed" for r in last):
                return last
        time.sleep(0.5)
    statuses: dict[str, int] = defaultdict(int)
    for run in last:
        statuses[str(run["status"])] += 1
    raise AssertionError(f"runs of {slug} not all completed after {timeout:.0f}s: {dict(statuses)}")


def run_completed(url: str, internal_id: str) -> bool:
    """Has the event `internal_id` a Completed run, as the server at `url` sees it?"""
    try:
        resp = httpx.get(f"{url}/v1/events/{internal_id}/runs", timeout=5.0)
    except httpx.TransportError:
        return False
    return resp.status_code == 200 and any(r["status"] == "Completed" for r in resp.json()["data"])


def serves_alone(url: str, sender: EventSender, number: int, *, within: float) -> None:
    """The server at `url` by itself accepts event `number` and reports its run Completed,
    all within `within` seconds (a server with a dead writer or leaser cannot)."""
    deadline = time.monotonic() + within
    alone = EventSender(lambda: [url], sender.name, sender.prefix)
    alone.send([number], within=within)
    sender.accepted.add(number)
    internal_id = alone.internal_ids[number]
    while not run_completed(url, internal_id):
        assert time.monotonic() < deadline, f"{url}: event {number} not completed in {within}s"
        time.sleep(0.1)


def health_status(url: str) -> int:
    """`GET /health`'s status, 0 when the server does not answer."""
    try:
        return httpx.get(f"{url}/health", timeout=2.0).status_code
    except httpx.TransportError:
        return 0
