"""What the chaos tests watch while faults happen: the server logs, `/health`, the database.

- `log_failures(path)`: a thread or task that died outside the supervisor (the issue's bug: a
  writer thread ended by `cannot exit pipeline mode while busy` while `/health` said 200).
- `HealthWatch`: `GET /health` of each server every PROBE_INTERVAL, in a thread.
- `DbWatch`: can a fresh connection run `SELECT 1` now? every PROBE_INTERVAL, in a thread.
- `health_lies(...)`: how long a server answered 200 while the database was unreachable,
  beyond the detection deadline the contract allows (HEALTH_DEADLINE).
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from integration.pg_control import pg_up

PROBE_INTERVAL = 0.1
# The contract: a component down or the database unreachable shows on /health within 2 s.
HEALTH_DEADLINE = 2.0

# The start of a log record: our format (`2026-11-24 07:00:00,123 LEVEL logger: message`),
# uvicorn's (`INFO:     …`), the harness's start marker, and Python's own last-resort reports.
_RECORD_START = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ [A-Z]+ \S+: |[A-Z]+: |--- start |"
    r"Exception in thread |Task exception was never retrieved|Exception ignored in)"
)
_SUPERVISOR_RECORD = re.compile(r" mainspring\.supervisor: component (\S+) failed; restarting")
# Records of an error caught where it happened, with the work failed retryably: their traceback
# is diagnosis, not a death. Anything else with a traceback is a failure.
_HANDLED_RECORD = re.compile(
    r"( mainspring\.supervisor: component \S+ failed; restarting"
    r"| mainspring\.worker: processing \S+ of run \S+ failed; it will be retried"
    r"| mainspring\.worker: leasing failed"
    r"| mainspring\.worker: renewing leases failed"
    r"| mainspring\.store: a batch failed and was rolled back)"
)
_UNSUPERVISED = ("Exception in thread", "Task exception was never retrieved")


def log_failures(path: Path) -> list[str]:
    """Every record of the log that says a thread or task died, or carries a traceback, outside
    the supervisor's `component <NAME> failed; restarting in <S>s` records (and the worker's
    records of a call or lease failed retryably)."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return []
    failures: list[str] = []
    record = ""
    for line in lines:
        if _RECORD_START.match(line):
            record = line
            if line.startswith(_UNSUPERVISED):
                failures.append(line)
        elif line.startswith("Traceback") and not _HANDLED_RECORD.search(record):
            failures.append(f"traceback after: {record[:200]}")
    return failures


def log_failure_report(paths: Sequence[Path]) -> str:
    """The failures of several logs with a tail of each offending log, '' when there are none."""
    report: list[str] = []
    for path in paths:
        failures = log_failures(path)
        if failures:
            tail = "\n".join(path.read_text(errors="replace").splitlines()[-60:])
            report.append(f"{path.name}: {len(failures)} failure(s): {failures[:5]}\n{tail}")
    return "\n".join(report)


def supervisor_restarts(path: Path) -> Counter[str]:
    """How many times the supervisor restarted each component, from the log."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return Counter()
    return Counter(m.group(1) for m in _SUPERVISOR_RECORD.finditer(text))


@dataclass
class HealthSample:
    at: float
    server: int
    status: int  # 0: no HTTP answer (the server is down or restarting)
    body: dict[str, Any]


class _Poller:
    """A daemon thread calling `poll()` every PROBE_INTERVAL until stopped (context manager)."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> _Poller:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def poll(self) -> None:
        raise NotImplementedError

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.poll()
            self._stop.wait(PROBE_INTERVAL)


class HealthWatch(_Poller):
    """`GET /health` on each URL `urls()` returns (index = server number)."""

    def __init__(self, urls: Callable[[], Sequence[str]]) -> None:
        super().__init__()
        self.urls = urls
        self.samples: list[HealthSample] = []
        self._client = httpx.Client(timeout=2.0)

    def poll(self) -> None:
        for k, url in enumerate(self.urls()):
            at = time.monotonic()
            try:
                resp = self._client.get(f"{url}/health")
                body = (
                    resp.json()
                    if resp.headers.get("content-type", "").startswith("application/json")
                    else {"text": resp.text[:200]}
                )
                self.samples.append(HealthSample(at, k, resp.status_code, body))
            except (httpx.HTTPError, ValueError) as exc:
                self.samples.append(HealthSample(at, k, 0, {"error": repr(exc)}))

    def stop(self) -> None:
        super().stop()
        self._client.close()

    def of(self, server: int, since: float = 0.0) -> list[HealthSample]:
        return [s for s in self.samples if s.server == server and s.at >= since]


class DbWatch(_Poller):
    """Whether a fresh connection to `url` answers `SELECT 1`, sampled: (time, up)."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self.samples: list[tuple[float, bool]] = []

    def poll(self) -> None:
        at = time.monotonic()
        self.samples.append((at, pg_up(self.url, timeout=1)))

    def down_windows(self) -> list[tuple[float, float]]:
        """(first sample down, first sample up again) for each outage seen."""
        windows: list[tuple[float, float]] = []
        began: float | None = None
        for at, up in self.samples:
            if not up and began is None:
                began = at
            elif up and began is not None:
                windows.append((began, at))
                began = None
        if began is not None:
            windows.append((began, time.monotonic()))
        return windows


@dataclass
class HealthVerdict:
    """How /health behaved during the database's outages, for one server."""

    longest_lie: float = 0.0  # 200 answered past HEALTH_DEADLINE into an outage, seconds
    outages_unnoticed: list[tuple[float, float]] = field(default_factory=list)
    longest_degraded_after: float = 0.0  # 503 after the database was back, seconds


def health_verdict(
    samples: Sequence[HealthSample], windows: Sequence[tuple[float, float]]
) -> HealthVerdict:
    """Judge one server's /health samples against the database's down windows."""
    verdict = HealthVerdict()
    for began, ended in windows:
        during = [s for s in samples if began + HEALTH_DEADLINE < s.at < ended]
        lies = [s.at for s in during if s.status == 200]
        if lies:
            verdict.longest_lie = max(verdict.longest_lie, lies[-1] - lies[0] + PROBE_INTERVAL)
        longer = ended - began > HEALTH_DEADLINE + 1.0
        if longer and not any(s.status == 503 for s in samples if began <= s.at <= ended + 1.0):
            verdict.outages_unnoticed.append((began, ended))
        after = [s for s in samples if s.at >= ended]
        first_ok = next((s.at for s in after if s.status == 200), None)
        recovered = first_ok if first_ok is not None else (after[-1].at if after else ended)
        verdict.longest_degraded_after = max(verdict.longest_degraded_after, recovered - ended)
    return verdict
