"""Per-run timing records shared by the benchmark apps (no third-party imports).

Both apps record, for every run they see, the wall-clock time (``time.time()``) at which
the first and the final SDK call of the run arrived, plus the ``sent_at`` / ``phase`` the
benchmark driver put in the event data. The driver reads them back through
``GET /bench/wait?phase=P&n=N&secs=S`` (long poll: answers as soon as N runs of phase P
have had their final call) and ``GET /bench/stats`` (everything).
"""

from __future__ import annotations

import asyncio
from typing import Any


class RunRecorder:
    """In-memory per-run timings; single event loop, no locking needed."""

    def __init__(self) -> None:
        self.runs: dict[str, dict[str, Any]] = {}
        self.final_by_phase: dict[str, int] = {}
        self.total_calls = 0
        self._waiters: list[tuple[str, int, asyncio.Future[None]]] = []

    def call(self, run_id: str, arrived: float, data: Any) -> dict[str, Any]:
        """Record one SDK call of ``run_id``; returns the run's record."""
        self.total_calls += 1
        rec = self.runs.get(run_id)
        if rec is None:
            sent_at = phase = None
            if isinstance(data, dict):
                sent_at = data.get("sent_at")
                phase = data.get("phase")
            rec = {
                "first": arrived,
                "final": None,
                "calls": 0,
                "sent_at": sent_at,
                "phase": phase if isinstance(phase, str) else "",
            }
            self.runs[run_id] = rec
        rec["calls"] += 1
        return rec

    def final(self, rec: dict[str, Any], arrived: float) -> None:
        """Mark the run's final call (the one answered 200); first one wins."""
        if rec["final"] is not None:
            rec["dup_final"] = rec.get("dup_final", 0) + 1
            return
        rec["final"] = arrived
        phase = rec["phase"]
        count = self.final_by_phase.get(phase, 0) + 1
        self.final_by_phase[phase] = count
        if self._waiters:
            keep = []
            for w_phase, w_n, fut in self._waiters:
                if w_phase == phase and count >= w_n and not fut.done():
                    fut.set_result(None)
                elif not fut.done():
                    keep.append((w_phase, w_n, fut))
            self._waiters = keep

    def count(self, phase: str) -> int:
        return self.final_by_phase.get(phase, 0)

    async def wait(self, phase: str, n: int, secs: float) -> dict[str, Any]:
        """Wait until ``n`` runs of ``phase`` had their final call, or ``secs`` s."""
        if self.count(phase) < n:
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append((phase, n, fut))
            try:
                await asyncio.wait_for(fut, secs)
            except TimeoutError:
                pass
        return {
            "phase": phase,
            "final": self.count(phase),
            "calls": self.total_calls,
            "runs": len(self.runs),
            "done": self.count(phase) >= n,
        }

    def stats(self) -> dict[str, Any]:
        return {"runs": self.runs, "calls": self.total_calls, "final_by_phase": self.final_by_phase}


def parse_query(raw: str) -> dict[str, str]:
    """Tiny query-string parser (values used here never need percent-decoding)."""
    out: dict[str, str] = {}
    for part in raw.split("&"):
        if part:
            key, _, value = part.partition("=")
            out[key] = value
    return out
