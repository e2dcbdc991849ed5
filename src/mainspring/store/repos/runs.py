"""Runs, their memoized steps, parallel bookkeeping and history."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mainspring import codec
from mainspring.domain.events import NewEvent
from mainspring.domain.functions import FunctionDef
from mainspring.domain.ids import new_ulid
from mainspring.domain.queue import discovery_key
from mainspring.domain.runs import RunState, RunStatus
from mainspring.store.base import Row, Tx
from mainspring.store.repos import events as events_repo
from mainspring.store.repos import queue as queue_repo

RUN_KEY_WINDOW_MS = 24 * 3600 * 1000


def start_run(
    tx: Tx,
    function: FunctionDef,
    event_internal_id: str,
    event_id: str,
    now: int,
    *,
    confirm: bool = True,
) -> str | None:
    """Create a run and queue its first call, unless this (function, event id) already ran.

    The event table has already dropped resends of the same event id, so the claim is a second
    line of defence that loses only to a race; a caller that writes nothing else for the run
    passes `confirm=False` and does not wait for the answer (on PostgreSQL the statement then
    travels in the pipeline), getting the new id either way.
    """
    run_id = new_ulid()
    params = {
        "key": f"{function.id}:{event_id}",
        "id": run_id,
        "expires_at": now + RUN_KEY_WINDOW_MS,
        "function_id": function.id,
        "function_slug": function.slug,
        "event_id": event_internal_id,
        "event_ids": codec.dumps([event_internal_id]),
        "item_id": new_ulid(),
        "dedupe_key": discovery_key(run_id),
        "now": now,
    }
    if confirm:
        if not tx.execute("create_run", params):
            return None
    else:
        tx.write("create_run", params)
    tx.announce(queue_repo.CHANNEL)
    return run_id


def add_history(
    tx: Tx,
    run_id: str,
    at: int,
    kind: str,
    *,
    step_id: str | None = None,
    step_name: str | None = None,
    attempt: int | None = None,
    data: Any = None,
) -> None:
    tx.write(
        "insert_history",
        {
            "run_id": run_id,
            "at": at,
            "kind": kind,
            "step_id": step_id,
            "step_name": step_name,
            "attempt": attempt,
            "data": None if data is None else codec.dumps(data),
        },
    )


def get_run(tx: Tx, run_id: str) -> Row | None:
    return tx.fetchone("get_run", {"id": run_id})


def load_state(tx: Tx, run_id: str) -> RunState | None:
    """What the executor needs to call the SDK for this run (one statement)."""
    row = tx.fetchone("load_run_state", {"id": run_id})
    return None if row is None else _state(row)


def load_states(tx: Tx, run_ids: list[str]) -> dict[str, RunState]:
    """`load_state` of several runs in one statement, by run id (absent runs are left out)."""
    if not run_ids:
        return {}
    rows = tx.fetchall("load_run_states", {"ids": codec.dumps(run_ids)})
    return {row["id"]: _state(row) for row in rows}


def _state(row: Row) -> RunState:
    events = codec.loads(row["events"])
    for event in events:
        if event.get("v") is None:
            event.pop("v", None)
    state = RunState(
        run_id=row["id"],
        function_id=row["function_id"],
        function_slug=row["function_slug"],
        status=RunStatus(row["status"]),
        events=events,
        force_plan=bool(row["force_plan"]),
        request_version=row["request_version"],
        started_at=row["started_at"],
        start_recorded=row["started_at"] is not None,
        defers=codec.loads(row["defers"]) if row["defers"] else {},
    )
    for step in codec.loads(row["steps"]):
        state.steps[step["step_id"]] = step["memo"]
        state.stack.append(step["step_id"])
    return state


def mark_started(
    tx: Tx, run_id: str, now: int, request_version: int = -1, *, confirm: bool = True
) -> bool:
    """The first call went out at `now`; also keeps the SDK's request version from its reply.

    True when this call marked it; a caller with nothing to do on that answer passes
    `confirm=False` and does not wait for it (then the result is always True).
    """
    params = {"id": run_id, "now": now, "request_version": request_version}
    if not confirm:
        tx.write("mark_run_started", params)
        return True
    return tx.execute("mark_run_started", params) == 1


def save_step(
    tx: Tx,
    run_id: str,
    *,
    step_id: str,
    name: str | None,
    op: str,
    memo: Any,
    attempts: int,
    now: int,
    history_kind: str,
    history_attempt: int | None = None,
    history_data: Any = None,
) -> Callable[[], bool]:
    """Memoize a step result and append `history_kind` to the run's history, in one statement
    on PostgreSQL. The returned function tells, once called, whether it was written: False
    (and no history) if one was already recorded (it is never overwritten) or the run is no
    longer running. Not calling it before commit spares the wait for the answer."""
    written = tx.execute_later(
        "record_step",
        {
            "run_id": run_id,
            "step_id": step_id,
            "name": name,
            "op": op,
            "memo": codec.dumps(memo),
            "attempts": attempts,
            "now": now,
            "history_kind": history_kind,
            "history_attempt": history_attempt,
            "history_data": None if history_data is None else codec.dumps(history_data),
        },
    )
    return lambda: written() == 1


FINISH_EVENT_KEYS = ("internal_id", "id", "name", "data", "user", "ts", "v", "received_at")


def finish(
    tx: Tx,
    run_id: str,
    status: RunStatus,
    output: Any,
    now: int,
    event: NewEvent | None = None,
) -> Callable[[], bool]:
    """End a running run (its queue items, parallel bookkeeping and pauses go with it, its
    history gets `run.<status>` and, when given, `event` is stored: its lifecycle event, in
    the same statement). The returned function tells whether this call ended it (False if it
    had already ended, and nothing was written); its answer arrives with the next statement
    that waits."""
    params = {
        "id": run_id,
        "status": status.value,
        "output": codec.dumps(output),
        "history_kind": f"run.{status.value.lower()}",
        "history_data": None if output is None else codec.dumps(output),
        "now": now,
    }
    stored = events_repo.insert_params(event, now) if event is not None else {}
    params.update({f"event_{key}": stored.get(key) for key in FINISH_EVENT_KEYS})
    ended = tx.execute_later("finish_run", params)
    return lambda: ended() == 1


def set_plan(tx: Tx, run_id: str, force_plan: bool, request_version: int) -> None:
    tx.write(
        "set_run_plan",
        {"id": run_id, "force_plan": int(force_plan), "request_version": request_version},
    )


def add_pending(tx: Tx, run_id: str, step_id: str) -> None:
    tx.write("insert_pending_step", {"run_id": run_id, "step_id": step_id})


def list_runs(
    tx: Tx, *, event_id: str | None, slug: str | None, status: str | None, limit: int
) -> list[Row]:
    if event_id is not None:
        return tx.fetchall("list_runs_by_event", {"event_id": event_id})
    params = {"slug": slug, "status": status, "limit": limit}
    if slug is not None:
        name = "list_runs_by_function_status" if status else "list_runs_by_function"
    else:
        name = "list_runs_by_status" if status else "list_runs"
    return tx.fetchall(name, params)


def list_runs_by_events(tx: Tx, event_ids: list[str]) -> list[Row]:
    """The runs of several events in one query, oldest first (a run belongs to the first event
    of its batch)."""
    if not event_ids:
        return []
    return tx.fetchall("list_runs_by_events", {"ids": codec.dumps(event_ids)})


def list_steps(tx: Tx, run_id: str) -> list[Row]:
    return tx.fetchall("list_steps", {"run_id": run_id})


def list_history(tx: Tx, run_id: str) -> list[Row]:
    return tx.fetchall("list_history", {"run_id": run_id})


def status(tx: Tx, run_id: str) -> RunStatus | None:
    row = tx.fetchone("run_status", {"id": run_id})
    return None if row is None else RunStatus(row["status"])


def continue_after(tx: Tx, run_id: str, step_id: str, now: int) -> bool:
    """A step of the run has its result: once its parallel group is complete, queue discovery.

    Returns True when a discovery was queued (and force-planning, if on, was switched off).
    """
    tx.fetchone("lock_run", {"id": run_id})
    tx.write("delete_pending_step", {"run_id": run_id, "step_id": step_id})
    # The group's remaining steps and the run's plan flag in one look-up.
    row = tx.fetchone("pending_steps_and_plan", {"id": run_id})
    if row is None or row["pending"] > 0:
        return False
    if row is not None and row["force_plan"]:
        set_plan(tx, run_id, False, row["request_version"])
    queue_repo.enqueue_discovery(tx, run_id, now, now)
    return True


def running_of_function(tx: Tx, slug: str, started_after: int, started_before: int) -> list[Row]:
    return tx.fetchall(
        "list_running_runs_of_function",
        {"slug": slug, "started_after": started_after, "started_before": started_before},
    )


def pending_count(tx: Tx, run_id: str) -> int:
    row = tx.fetchone("count_pending_steps", {"run_id": run_id})
    return 0 if row is None else int(row["n"])
