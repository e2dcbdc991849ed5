"""A run's state transitions, each inside the caller's write transaction (one home).

start (under flow control), arm (cancel rules, start timeout), mark_started (+ finish timeout),
resume_step, expire_pause, finish. Nothing here emits events: a run that ends emits its
lifecycle events, which is ingest's work (`ingest.accept.end_run` prepares them and calls
`finish`). So runs/ sits below ingest and needs no callback up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mainspring.domain.events import NewEvent
from mainspring.domain.functions import FunctionDef, Functions
from mainspring.domain.queue import Kind
from mainspring.domain.runs import RunState, RunStatus
from mainspring.runs import admission as flow_admission
from mainspring.store.base import Tx
from mainspring.store.repos import flow as flow_repo
from mainspring.store.repos import pauses as pauses_repo
from mainspring.store.repos import queue as queue_repo
from mainspring.store.repos import runs as runs_repo

INVOKE_TIMEOUT_ERROR = {
    "name": "InngestInvokeTimeoutError",
    "message": "Timed out waiting for invoked function to complete",
}
INVOKE_TIMEOUT_MEMO: dict[str, Any] = {"error": INVOKE_TIMEOUT_ERROR}
_OP_OF_PAUSE = {"wait": "WaitForEvent", "invoke": "InvokeFunction", "signal": "WaitForSignal"}


@dataclass(slots=True)
class Effects:
    """What a unit set in motion, for the caller to act on after commit."""

    ids: list[str] = field(default_factory=list)
    started: list[str] = field(default_factory=list)
    woken: int = 0

    @property
    def new_work(self) -> bool:
        return bool(self.started) or self.woken > 0


@dataclass(frozen=True, slots=True)
class Started:
    """A start's outcome. `replaces`: under singleton `cancel`, the running run the new one
    replaces; the caller ends it (ending emits events) before it arms the new run."""

    run_id: str | None
    replaces: str | None = None


def start(tx: Tx, function: FunctionDef, event: NewEvent, now: int) -> Started:
    """Admit (flow control), create and place a run; `arm_run` follows once `replaces` ended."""
    admission = None
    if function.flow.gates_start:
        admission = flow_admission.decide(tx, function, event.payload, now)
        if admission.skip_reason is not None:
            flow_admission.skip(tx, function, event.internal_id, admission.skip_reason, now)
            return Started(None)
    # Without follow-ups for the new run, nothing waits for the database's answer.
    follow_ups = (
        admission is not None or bool(function.cancel) or function.start_timeout_ms is not None
    )
    run_id = runs_repo.start_run(
        tx, function, event.internal_id, event.payload["id"], now, confirm=follow_ups
    )
    if run_id is None or admission is None:
        return Started(run_id)
    flow_admission.place(tx, run_id, admission, now)
    return Started(run_id, admission.cancel_run_id)


def arm_run(
    tx: Tx, function: FunctionDef, run_id: str, trigger_event: dict[str, Any], now: int
) -> None:
    """A new run's cancel rules and start timeout (also used by reruns)."""
    for position, rule in enumerate(function.cancel):
        pauses_repo.create(
            tx,
            pause_id=f"{run_id}:cancel:{position}",
            run_id=run_id,
            kind="cancel",
            event_name=rule.event,
            expression=rule.expression,
            trigger_event=trigger_event,
            expires_at=now + (rule.timeout_ms or pauses_repo.FOREVER_MS),
            now=now,
        )
    if function.start_timeout_ms is not None:
        queue_repo.enqueue(
            tx,
            kind=Kind.RUN_TIMEOUT,
            run_id=run_id,
            available_at=now + function.start_timeout_ms,
            now=now,
            step_name="start",
            dedupe_key=f"run-timeout:start:{run_id}",
        )


def mark_started(tx: Tx, state: RunState, now: int, finish_timeout_ms: int | None = None) -> None:
    """The app's first answer is being recorded: the run has started. With
    `finish_timeout_ms`, `timeouts.finish` is armed from now (not when the run ends at once)."""
    arm = finish_timeout_ms is not None
    started = runs_repo.mark_started(
        tx, state.run_id, state.started_at or 0, state.request_version, confirm=arm
    )
    state.start_recorded = True
    if started and finish_timeout_ms is not None:
        queue_repo.enqueue(
            tx,
            kind=Kind.RUN_TIMEOUT,
            run_id=state.run_id,
            available_at=now + finish_timeout_ms,
            now=now,
            step_name="finish",
            dedupe_key=f"run-timeout:finish:{state.run_id}",
        )


def resume_step(
    tx: Tx, run_id: str, step_id: str, name: str | None, op: str, memo: Any, now: int
) -> bool:
    """Memoize a waited-for result and, once nothing else of its group is pending, continue."""
    kind = "step.timed_out" if memo is None or memo is INVOKE_TIMEOUT_MEMO else "step.resumed"
    # The step is written only while the run is running, so its outcome answers "is it
    # running?" in the usual case; the status is read only when it was not written.
    written = runs_repo.save_step(
        tx,
        run_id,
        step_id=step_id,
        name=name,
        op=op,
        memo=memo,
        attempts=1,
        now=now,
        history_kind=kind,
    )
    if not written() and runs_repo.status(tx, run_id) != RunStatus.RUNNING:
        return False
    runs_repo.continue_after(tx, run_id, step_id, now)
    return True


def expire_pause(tx: Tx, pause_id: str, now: int) -> bool:
    """A wait or invoke timed out (if nothing consumed it first): memoize its timeout value."""
    pause = pauses_repo.get(tx, pause_id)
    if pause is None or not pauses_repo.consume(tx, pause_id):
        return False
    assert pause.step_id is not None
    memo = INVOKE_TIMEOUT_MEMO if pause.kind == "invoke" else None  # a wait resumes with null
    op = _OP_OF_PAUSE[pause.kind]
    return resume_step(tx, pause.run_id, pause.step_id, pause.step_name, op, memo, now)


def finish(
    tx: Tx,
    state: RunState,
    status: RunStatus,
    output: Any,
    now: int,
    finished: NewEvent | None,
    functions: Functions,
) -> bool:
    """Record a running run's end; False if it had already ended. `finished`: its prepared
    `inngest/function.finished` event, stored by the statement that ends the run."""
    # Someone else ending it first (a cancel racing the last step) is rare: go on as if this
    # ended it, checked before commit (on PostgreSQL, no wait per run for the answer).
    if not tx.assume(runs_repo.finish(tx, state.run_id, status, output, now, finished)):
        return False
    function = functions.get(state.function_slug)
    if function is not None and function.flow.concurrency:
        flow_repo.forget_run(tx, state.run_id)  # its concurrency keys are needed no more
    return True
