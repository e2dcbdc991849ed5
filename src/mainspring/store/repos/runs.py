"""Runs, their memoized steps, parallel bookkeeping and history."""

from __future__ import annotations

from typing import Any

from mainspring import codec
from mainspring.domain.functions import FunctionDef
from mainspring.domain.ids import new_ulid
from mainspring.domain.runs import RunState, RunStatus
from mainspring.store.base import Row, Tx
from mainspring.store.repos import queue as queue_repo

RUN_KEY_WINDOW_MS = 24 * 3600 * 1000


def start_run(
    tx: Tx, function: FunctionDef, event_internal_id: str, event_id: str, now: int
) -> str | None:
    """Create a run and queue its first call, unless this (function, event id) already ran."""
    run_id = new_ulid()
    claimed = tx.execute(
        "claim_run_key",
        {
            "key": f"{function.id}:{event_id}",
            "run_id": run_id,
            "expires_at": now + RUN_KEY_WINDOW_MS,
            "now": now,
        },
    )
    if not claimed:
        return None
    tx.write(
        "insert_run",
        {
            "id": run_id,
            "function_id": function.id,
            "function_slug": function.slug,
            "event_id": event_internal_id,
            "event_ids": codec.dumps([event_internal_id]),
            "now": now,
        },
    )
    add_history(tx, run_id, now, "run.scheduled")
    queue_repo.enqueue_discovery(tx, run_id, now, now)
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
    """What the executor needs to call the SDK for this run."""
    row = tx.fetchone("get_run", {"id": run_id})
    if row is None:
        return None
    events = []
    for internal_id in codec.loads(row["event_ids"]):
        event_row = tx.fetchone("get_event", {"internal_id": internal_id})
        if event_row is not None:
            events.append(_event_payload(event_row))
    state = RunState(
        run_id=run_id,
        function_id=row["function_id"],
        function_slug=row["function_slug"],
        status=RunStatus(row["status"]),
        events=events,
        force_plan=bool(row["force_plan"]),
        request_version=row["request_version"],
        started_at=row["started_at"],
        start_recorded=row["started_at"] is not None,
    )
    for step in tx.fetchall("list_steps", {"run_id": run_id}):
        state.steps[step["step_id"]] = codec.loads(step["memo"])
        state.stack.append(step["step_id"])
    return state


def _event_payload(row: Row) -> dict[str, Any]:
    payload = {
        "name": row["name"],
        "data": codec.loads(row["data"]),
        "user": codec.loads(row["user"]),
        "id": row["id"],
        "ts": row["ts"],
    }
    if row["v"] is not None:
        payload["v"] = row["v"]
    return payload


def mark_started(tx: Tx, run_id: str, now: int, request_version: int = -1) -> bool:
    """The first call went out at `now`; also keeps the SDK's request version from its reply."""
    params = {"id": run_id, "now": now, "request_version": request_version}
    started = tx.execute("mark_run_started", params) == 1
    if started:
        add_history(tx, run_id, now, "run.started")
    return started


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
) -> bool:
    """Memoize a step result; False if one was already recorded (it is never overwritten)."""
    return (
        tx.execute(
            "insert_step",
            {
                "run_id": run_id,
                "step_id": step_id,
                "name": name,
                "op": op,
                "memo": codec.dumps(memo),
                "attempts": attempts,
                "now": now,
            },
        )
        == 1
    )


def finish(tx: Tx, run_id: str, status: RunStatus, output: Any, now: int) -> bool:
    """End a running run; False if it had already ended."""
    ended = (
        tx.execute(
            "finish_run",
            {"id": run_id, "status": status.value, "output": codec.dumps(output), "now": now},
        )
        == 1
    )
    if ended:
        queue_repo.delete_run_items(tx, run_id)
        tx.write("delete_run_pending_steps", {"run_id": run_id})
        add_history(tx, run_id, now, f"run.{status.value.lower()}", data=output)
    return ended


def set_plan(tx: Tx, run_id: str, force_plan: bool, request_version: int) -> None:
    tx.write(
        "set_run_plan",
        {"id": run_id, "force_plan": int(force_plan), "request_version": request_version},
    )


def add_pending(tx: Tx, run_id: str, step_id: str) -> None:
    tx.write("insert_pending_step", {"run_id": run_id, "step_id": step_id})


def resolve_pending(tx: Tx, run_id: str, step_id: str) -> int:
    """Mark a parallel step done; returns how many of its group are still pending."""
    tx.write("delete_pending_step", {"run_id": run_id, "step_id": step_id})
    return pending_count(tx, run_id)


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
    if resolve_pending(tx, run_id, step_id) > 0:
        return False
    row = tx.fetchone("get_run", {"id": run_id})
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
