"""Shapes and look-ups shared by the resolvers of several areas."""

from __future__ import annotations

from typing import Any

import graphql

from mainspring import codec
from mainspring.api.gql.context import Info

STATUSES = {s: s.upper() for s in ("Running", "Completed", "Failed", "Cancelled", "Skipped")}
STATUSES["Scheduled"] = "QUEUED"


def payload(event: dict[str, Any]) -> dict[str, Any]:
    """The event as the SDK sent it (what Inngest's UI shows as the trigger payload)."""
    return {k: event[k] for k in ("name", "data", "user", "id", "ts", "v")}


def run_node(run: dict[str, Any]) -> dict[str, Any]:
    status = str(run["status"])
    return {
        "id": run["run_id"],
        "functionID": run["function_id"],
        "eventID": run["event_id"],
        "status": STATUSES.get(status, "UNKNOWN"),
        "output": None if status == "Running" else codec.dumps(run["output"]),
        "startedAt": run["run_started_at"],
        "endedAt": run["ended_at"],
        "run": run,
    }


async def need_run(info: Info, run_id: str) -> dict[str, Any]:
    run = await info.context.services.reads.run(run_id)
    if run is None:
        raise graphql.GraphQLError(f"run not found: {run_id}")
    return run


def function_name(info: Info, slug: str) -> str:
    function = info.context.services.registry.get(slug)
    return function.name if function is not None else slug
