"""A run's `step.waitForSignal`, recorded with the SDK reply that asked for it (one transaction).

The wait holds nothing but a pause row and its timeout item; `POST /v1/signals` finds it by the
signal's name (`ingest.signals`). A name already held by another run's live wait fails this run
at once, as Inngest does ("conflict": "fail", the default), or is taken over ("replace"): the
older wait then only times out.
"""

from __future__ import annotations

from typing import Any

from mainspring.domain.functions import Functions
from mainspring.domain.runs import RunState, RunStatus
from mainspring.execution.opcodes import Scheduled, error_summary
from mainspring.ingest import accept
from mainspring.runs.transitions import Effects
from mainspring.store.base import Tx
from mainspring.store.repos import queue as queue_repo
from mainspring.store.repos import runs as runs_repo
from mainspring.store.repos import signals as signals_repo
from mainspring.store.repos.signals import SignalWait

OP = "WaitForSignal"
WAITING = "step.waiting_signal"  # history kinds: the wait began; its name was taken over
REPLACED = "step.signal_replaced"


def wait(
    tx: Tx, state: RunState, later: Scheduled, now: int, functions: Functions, effects: Effects
) -> bool:
    """Record the wait and its timeout; False when the run failed on a conflict instead."""
    signal: str = later.opts["signal"]
    replace = bool(later.opts.get("replace"))
    mine = SignalWait(
        f"{state.run_id}:{later.step_id}", state.run_id, later.step_id, later.name, later.at_ms
    )
    claim = signals_repo.claim(tx, mine, signal, now, replace=replace)
    if not claim.taken:
        _conflict(tx, state, later, signal, claim.holder, now, functions, effects)
        return False
    if claim.replaced is not None:
        old = claim.replaced
        runs_repo.add_history(
            tx,
            old.run_id,
            now,
            REPLACED,
            step_id=old.step_id,
            step_name=old.step_name,
            data={"signal": signal, "by_run_id": state.run_id},
        )
    queue_repo.enqueue_pause_timeout(
        tx, state.run_id, later.step_id, later.name, mine.pause_id, later.at_ms, now
    )
    detail = {"signal": signal, "until": later.at_ms, "conflict": "replace" if replace else "fail"}
    runs_repo.add_history(
        tx, state.run_id, now, WAITING, step_id=later.step_id, step_name=later.name, data=detail
    )
    return True


def conflict_error(signal: str, holder: SignalWait | None) -> dict[str, Any]:
    other = f", run {holder.run_id}" if holder is not None else ""
    return {
        "name": "Error",
        "message": "Signal conflict; signal wait already exists for another run "
        f"(signal {signal!r}{other})",
    }


def _conflict(
    tx: Tx,
    state: RunState,
    later: Scheduled,
    signal: str,
    holder: SignalWait | None,
    now: int,
    functions: Functions,
    effects: Effects,
) -> None:
    """The wait's step fails, and with it the run, without retries (Inngest's `fail early`)."""
    error = conflict_error(signal, holder)
    runs_repo.save_step(
        tx,
        state.run_id,
        step_id=later.step_id,
        name=later.name,
        op=OP,
        memo={"error": error},
        attempts=1,
        now=now,
        history_kind="step.failed",
        history_attempt=0,
        history_data=error,
    )
    accept.end_run(
        tx, state, RunStatus.FAILED, error, error_summary(None, error), now, functions, effects
    )
