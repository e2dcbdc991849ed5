"""Signals: `POST /v1/signals {signal, data}` (and the dashboard's form) resume the one run
waiting on that name (`step.waitForSignal`), found by one indexed look-up.

The waiting step returns `{signal, data}` (Inngest's `SignalStepReturn`). A signal nobody waits
for, or whose wait is past its expiry, resumes nothing: the caller answers 404.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mainspring import errors
from mainspring.runs import transitions
from mainspring.runs.transitions import Effects
from mainspring.store.base import Tx
from mainspring.store.repos import pauses as pauses_repo
from mainspring.store.repos import queue as queue_repo
from mainspring.store.repos import signals as signals_repo

OP = "WaitForSignal"


@dataclass(frozen=True, slots=True)
class Signal:
    name: str
    data: Any = None


def parse(body: Any) -> Signal:
    """Validate `{signal, data}`; errors name the field."""
    if not isinstance(body, dict):
        raise errors.InvalidInput("the body must be a JSON object", field="body")
    name = body.get("signal")
    if not isinstance(name, str) or not name:
        raise errors.InvalidInput("signal must be a non-empty string", field="signal")
    return Signal(name, body.get("data"))


def resume(
    tx: Tx, signal: Signal, now: int, effects: Effects, run_id: str | None = None
) -> str | None:
    """Resume the run waiting for `signal`; its id, or None when no live wait holds the name
    (or, with `run_id`, when that run's wait no longer holds it: the dashboard's form)."""
    wait = signals_repo.waiting(tx, signal.name)
    if wait is None or wait.expires_at <= now or run_id not in (None, wait.run_id):
        return None
    if not pauses_repo.consume(tx, wait.pause_id):  # its timeout came first
        return None
    queue_repo.delete_by_dedupe_key(tx, f"pause-timeout:{wait.run_id}:{wait.step_id}")
    memo = {"data": {"signal": signal.name, "data": signal.data}}
    if not transitions.resume_step(tx, wait.run_id, wait.step_id, wait.step_name, OP, memo, now):
        return None
    effects.woken += 1
    return wait.run_id


def resume_unit(
    signal: Signal, now: int, run_id: str | None = None
) -> Callable[[Tx, Effects], str | None]:
    """A unit for `Ingest.run_unit`, which wakes the worker when a run was resumed."""

    def unit(tx: Tx, effects: Effects) -> str | None:
        return resume(tx, signal, now, effects, run_id)

    return unit
