"""The read side's shapes: one JSON-ready dict per run, event, step, history entry and job.

REST, GraphQL and the dashboard all read these, so each field is named in one place: a listed run
(`run_list_view`) and one run in detail (`run_detail_view`) add their fields to `run_view`'s.
`api/models.py` describes every shape for the OpenAPI document.
"""

from __future__ import annotations

from typing import Any

from mainspring import codec
from mainspring.domain.durations import rfc3339
from mainspring.domain.events import Event
from mainspring.store.base import Row


def run_view(row: Row) -> dict[str, Any]:
    return {
        "run_id": row["id"],
        "function_id": row["function_slug"],
        "function_version": 1,
        "environment_id": "dev",
        "event_id": row["event_id"],
        "event_ids": codec.loads(row["event_ids"]),
        "status": row["status"],
        "output": codec.loads(row["output"]),
        "run_started_at": rfc3339(row["started_at"]),
        "ended_at": rfc3339(row["ended_at"]),
        "created_at": rfc3339(row["created_at"]),
    }


def run_list_view(row: Row) -> dict[str, Any]:
    """A run as lists show it: with its event's name and how long it took."""
    started, ended = row["started_at"], row["ended_at"]
    return {
        **run_view(row),
        "event_name": row["event_name"],
        "duration_ms": None if started is None or ended is None else ended - started,
    }


def run_detail_view(
    run: dict[str, Any],
    origin: Row | None,
    held: bool,
    metadata: list[dict[str, Any]] | None = None,
    defers: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The run view plus `original_run_id` / `replay_id` when it is a rerun, `held`, and what
    the SDK added: its `metadata` and `defers` (`reads.sdk_data`)."""
    run["original_run_id"] = origin["original_run_id"] if origin else None
    run["replay_id"] = origin["replay_id"] if origin else None
    run["held"] = held
    run["metadata"] = metadata or []
    run["defers"] = defers or []
    return run


def event_view(event: Event) -> dict[str, Any]:
    return {
        "internal_id": event.internal_id,
        "id": event.id,
        "name": event.name,
        "data": event.data,
        "user": event.user,
        "ts": event.ts,
        "v": event.v,
        "received_at": rfc3339(event.received_at),
        "source": "api",
    }


def step_view(row: Row) -> dict[str, Any]:
    memo = codec.loads(row["memo"])
    is_wrapped = isinstance(memo, dict) and set(memo) <= {"data", "error"} and bool(memo)
    return {
        "id": row["step_id"],
        "name": row["name"],
        "op": row["op"],
        "output": memo.get("data") if is_wrapped else memo,
        "error": memo.get("error") if is_wrapped else None,
        "attempts": row["attempts"],
        "completed_at": row["completed_at"],
    }


def history_view(row: Row) -> dict[str, Any]:
    return {
        "at": row["at"],
        "kind": row["kind"],
        "step_id": row["step_id"],
        "step_name": row["step_name"],
        "attempt": row["attempt"],
        "data": codec.loads(row["data"]),
    }


def job_view(row: Row, parked_at: int) -> dict[str, Any]:
    """A queue item of a run; an item parked at `parked_at` is held (paused, kill switch)."""
    held = row["available_at"] == parked_at
    return {
        "id": row["id"],
        "kind": row["kind"],
        "step_id": row["step_id"],
        "step_name": row["step_name"],
        "attempt": row["attempt"],
        "held": held,
        "available_at": None if held else rfc3339(row["available_at"]),
        "leased": row["leased_by"] is not None,
    }


_LANGUAGES = {"py": "python", "js": "typescript", "go": "go"}


def sdk_parts(sdk: str | None) -> dict[str, str | None]:
    """`py:v0.5.19` (what the SDKs send) as language and version."""
    if not sdk:
        return {"sdk_language": None, "sdk_version": None}
    language, _, version = sdk.partition(":")
    return {
        "sdk_language": _LANGUAGES.get(language, language),
        "sdk_version": version.removeprefix("v") or None,
    }
