"""Our read views (`reads.views`) in Inngest's GraphQL shapes: runs (`FunctionRun`, the older
type that events and the stream list, and `FunctionRunV2`), events (`Event`, `EventV2`).

Nodes are dicts whose keys are the fields answered as they are; fields that need another read
(a run's function, app, event name, trace) have resolvers in the area modules, which find what
they need under the `run` / `event` keys.
"""

from __future__ import annotations

from typing import Any

from mainspring import codec
from mainspring.domain import events as event_names

# Our run status → Inngest's FunctionRunStatus (and back, for filters).
STATUSES = {
    "Scheduled": "QUEUED",
    "Running": "RUNNING",
    "Completed": "COMPLETED",
    "Failed": "FAILED",
    "Cancelled": "CANCELLED",
    "Skipped": "SKIPPED",
}
OUR_STATUS = {theirs: ours for ours, theirs in STATUSES.items() if ours != "Scheduled"}
ENDED = ("Completed", "Failed", "Cancelled", "Skipped")
DEV_ENV_ID = "00000000-0000-4000-b000-000000000000"  # the one environment, as a UUID


def run_status(status: str) -> str:
    return STATUSES.get(status, "RUNNING")


def output(run: dict[str, Any]) -> str | None:
    """JSON text of the run's result, or of its error when it failed; null while running."""
    return None if run["status"] not in ENDED else codec.dumps(run["output"])


def trigger_ids(run: dict[str, Any]) -> list[str]:
    found: list[str] = run.get("event_ids") or [run["event_id"]]  # several for a batch
    return found


def run_v1(run: dict[str, Any]) -> dict[str, Any]:
    """`FunctionRun`: what `event { functionRuns }`, the stream and `functionRun` answer."""
    ended = run["status"] in ENDED
    return {
        "id": run["run_id"],
        "eventID": run["event_id"],
        "status": run_status(str(run["status"])),
        "output": output(run),
        "startedAt": run["run_started_at"],
        "finishedAt": run["ended_at"] if ended else None,
        "endedAt": run["ended_at"],
        "batchID": None,
        "batchCreatedAt": None,
        "workspace": None,
        "run": run,
    }


def run_v2(run: dict[str, Any]) -> dict[str, Any]:
    """`FunctionRunV2`: what `run`, `runs` and `eventV2 { runs }` answer."""
    ids = trigger_ids(run)
    ended = run["status"] in ENDED
    return {
        "id": run["run_id"],
        "traceID": run["run_id"],
        "queuedAt": run["created_at"],
        "startedAt": run["run_started_at"],
        "endedAt": run["ended_at"] if ended else None,
        "status": run_status(str(run["status"])),
        "sourceID": None,
        "triggerIDs": ids,
        "isBatch": len(ids) > 1,
        "batchCreatedAt": None,
        "output": output(run),
        "hasAI": False,
        "defers": [],
        "siblingDefers": [],
        "deferredFrom": [],
        "isDeferred": False,
        "run": run,
    }


def sent(event: dict[str, Any]) -> dict[str, Any]:
    """The event as the SDK sent it (what Inngest's UI shows as the trigger payload)."""
    return {key: event[key] for key in ("name", "data", "user", "id", "ts", "v")}


def event_v1(event: dict[str, Any], payload: Any) -> dict[str, Any]:
    """`Event`; `payload` is the whole event or its data (see the SDL)."""
    return {
        "id": event["internal_id"],
        "externalID": event["id"],
        "workspace": None,
        "name": event["name"],
        "createdAt": event["received_at"],
        "receivedAt": event["received_at"],
        "payload": codec.dumps(payload),
        "schema": None,
        "raw": codec.dumps(sent(event)),
        "event": event,
    }


def event_v2(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "envID": DEV_ENV_ID,
        "id": event["internal_id"],
        "idempotencyKey": event["id"],
        "name": event["name"],
        "occurredAt": event["ts"],
        "raw": codec.dumps(sent(event)),
        "receivedAt": event["received_at"],
        "source": None,
        "version": event["v"],
        "event": event,
    }


def cron_of(event: dict[str, Any] | None) -> str | None:
    """The cron expression of a scheduled run's trigger (`inngest/scheduled.timer`)."""
    if event is None or event["name"] != event_names.SCHEDULED_TIMER:
        return None
    data = event["data"]
    cron = data.get("cron") if isinstance(data, dict) else None
    return cron if isinstance(cron, str) else None


def event_status(runs: list[dict[str, Any]]) -> str:
    """Inngest's EventStatus from the runs an event started."""
    statuses = [str(run["status"]) for run in runs]
    if not statuses:
        return "NO_FUNCTIONS"
    if any(status not in ENDED for status in statuses):
        return "RUNNING"
    failed = sum(status == "Failed" for status in statuses)
    if failed == len(statuses):
        return "FAILED"
    return "PARTIALLY_FAILED" if failed else "COMPLETED"
