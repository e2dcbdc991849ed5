"""The OpenAPI 3.1 document of the REST API, written as data next to the routes it describes.

`tests/unit/test_openapi.py` checks both variants (dev, production) against the OpenAPI schema,
that every route the app serves is described here (or listed in `UNDOCUMENTED`) and that every
route described here is served, so the two cannot drift apart. The production variant adds
credentials and the admin API (`openapi_admin.py`).
"""

from __future__ import annotations

from mainspring import __version__
from mainspring.api.openapi_admin import PATHS as admin_paths
from mainspring.api.openapi_admin import SECURITY_SCHEMES, secure
from mainspring.api.openapi_parts import (
    ANY,
    BAD,
    BOOL,
    EVENT_ID,
    FUNCTION_ID,
    HOLD_BODY,
    INT,
    JSON,
    NOT_FOUND,
    NSTR,
    RUN_FILTERS,
    RUN_ID,
    RUN_LIST,
    RUN_STATUSES,
    SCHEMAS,
    SKIP_BODY,
    STR,
    body,
    envelope,
    error,
    obj,
    op,
    path_param,
    query,
    ref,
)
from mainspring.config import MAX_ZOMBIE_GRACE_S

APP_SYNC = envelope(
    obj({"url": STR, "error": NSTR, "synced_at": {"type": ["integer", "null"]}}, ["url"])
)
LIMIT: JSON = {"type": "integer", "minimum": 1}
ZOMBIE_GRACE = query(
    "grace",
    "seconds unchanged (default: --zombie-grace)",
    {"type": "number", "minimum": 0, "maximum": MAX_ZOMBIE_GRACE_S},
)

# SDK-facing protocol routes (described in the Inngest protocol, not an operator's API).
UNDOCUMENTED = frozenset(
    {
        "/fn/register",
        "/v0/runs/{run_id}/actions",
        "/v0/runs/{run_id}/batch",
        "/v1/checkpoint/{run_id}/async",
        "/v0/gql",
        "/v0/connect/start",
        "/openapi.json",
        "/docs",
        "/docs/assets/{name}",
    }
)


PATHS: dict[str, JSON] = {
    "/e/{key}": {
        "post": op(
            "Events",
            "Send one event or an array (any key in dev mode)",
            {"200": {"description": "stored; `ids` are internal event ids"}, **BAD},
            parameters=[path_param("key", "event key")],
            requestBody=body({"oneOf": [{"type": "object"}, {"type": "array"}]}, True),
        )
    },
    "/v1/events": {
        "get": op(
            "Events",
            "List events, newest first",
            {"200": envelope({"type": "array", "items": ref("Event")}), **BAD},
            parameters=[
                query("name", "event name"),
                query("received_after", "RFC 3339 or epoch ms"),
                query("received_before", "RFC 3339 or epoch ms (exclusive)"),
                query("cursor", "`metadata.cursor` of the previous page"),
                query("limit", "1..1000", LIMIT),
            ],
        ),
        "post": op(
            "Events",
            "Send events with `Authorization: Bearer <event key>` (any key in dev mode)",
            {"200": {"description": "stored"}, **BAD, "401": error("no event key")},
            requestBody=body({"oneOf": [{"type": "object"}, {"type": "array"}]}, True),
        ),
    },
    "/v1/events/{event_id}": {
        "get": op(
            "Events",
            "One event",
            {"200": envelope(ref("Event")), **NOT_FOUND},
            parameters=[EVENT_ID],
        )
    },
    "/v1/events/{event_id}/runs": {
        "get": op(
            "Events",
            "Runs the event started",
            envelope({"type": "array", "items": ref("Run")}),
            parameters=[EVENT_ID],
        )
    },
    "/invoke/{slug}": {
        "post": op(
            "Functions",
            "Invoke a function with `{data}` (emits `inngest/function.invoked`)",
            {"200": {"description": "the event id"}, **NOT_FOUND, **BAD},
            parameters=[path_param("slug", "function slug")],
            requestBody=body(obj({"data": {"type": "object"}, "user": {"type": "object"}})),
        )
    },
    "/v1/runs": {
        "get": op(
            "Runs",
            "List runs with filters and a CEL query",
            {"200": RUN_LIST, **BAD},
            parameters=RUN_FILTERS,
        )
    },
    "/v2/runs": {
        "get": op(
            "Runs", "List runs (v2; same filters)", {"200": RUN_LIST, **BAD}, parameters=RUN_FILTERS
        )
    },
    "/v1/runs/{run_id}": {
        "get": op(
            "Runs", "One run", {"200": envelope(ref("Run")), **NOT_FOUND}, parameters=[RUN_ID]
        ),
        "delete": op(
            "Runs",
            "Cancel a run",
            {"200": envelope(obj({"run_id": STR, "status": STR})), **NOT_FOUND},
            parameters=[RUN_ID],
        ),
    },
    "/v0/runs/{run_id}": {
        "delete": op(
            "Runs",
            "Cancel a run (legacy path)",
            {"200": envelope(ANY), **NOT_FOUND},
            parameters=[RUN_ID],
        )
    },
    "/v2/runs/{run_id}": {
        "get": op(
            "Runs",
            "One run, with `original_run_id` for reruns",
            {"200": envelope(ref("Run")), **NOT_FOUND},
            parameters=[RUN_ID],
        )
    },
    "/v2/runs/{run_id}/trace": {
        "get": op(
            "Runs",
            "Trigger events and one span per step (attempts, errors, timing)",
            {
                "200": envelope(
                    obj(
                        {
                            "run": ref("Run"),
                            "trigger": {"type": "object"},
                            "spans": {"type": "array"},
                            "history": {"type": "array"},
                        }
                    )
                ),
                **NOT_FOUND,
            },
            parameters=[RUN_ID],
        )
    },
    "/v2/runs/{run_id}/cancel": {
        "post": op(
            "Runs",
            "Cancel a run",
            {"200": envelope(obj({"run_id": STR, "status": STR})), **NOT_FOUND},
            parameters=[RUN_ID],
        )
    },
    "/v1/runs/{run_id}/rerun": {
        "post": op(
            "Runs",
            "A new run of the same function with the same event(s)",
            {"201": envelope(obj({"run_id": STR, "original_run_id": STR})), **NOT_FOUND},
            parameters=[RUN_ID],
        )
    },
    "/v2/runs/{run_id}/rerun": {
        "post": op(
            "Runs",
            "Rerun (v2 path)",
            {"201": envelope(obj({"run_id": STR, "original_run_id": STR})), **NOT_FOUND},
            parameters=[RUN_ID],
        )
    },
    "/v1/runs/{run_id}/steps": {
        "get": op(
            "Runs",
            "Memoized steps in completion order",
            {"200": envelope({"type": "array"}), **NOT_FOUND},
            parameters=[RUN_ID],
        )
    },
    "/v1/runs/{run_id}/history": {
        "get": op(
            "Runs",
            "Every state change of the run",
            {"200": envelope({"type": "array"}), **NOT_FOUND},
            parameters=[RUN_ID],
        )
    },
    "/v1/runs/{run_id}/jobs": {
        "get": op(
            "Runs",
            "Queue items of the run (`held` while paused)",
            {"200": envelope({"type": "array"}), **NOT_FOUND},
            parameters=[RUN_ID],
        )
    },
    "/v1/cancellations": {
        "post": op(
            "Operations",
            "Cancel running runs of a function created in a window (optional CEL `if`)",
            {"201": envelope({"type": "object"}), **BAD},
            requestBody=body(
                obj(
                    {
                        "app_id": STR,
                        "function_id": STR,
                        "started_after": STR,
                        "started_before": STR,
                        "if": STR,
                    },
                    ["function_id", "started_before"],
                ),
                True,
            ),
        ),
        "get": op("Operations", "Bulk cancellations", envelope({"type": "array"})),
    },
    "/v1/cancellations/{cancellation_id}": {
        "delete": op(
            "Operations",
            "Delete a bulk cancellation record",
            {"200": envelope(ANY), **NOT_FOUND},
            parameters=[path_param("cancellation_id", "id")],
        )
    },
    "/v1/replays": {
        "post": op(
            "Operations",
            "Bulk replay: rerun `run_ids`, or the runs of a function by status and window",
            {"201": envelope(ref("Replay")), **BAD},
            parameters=[
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "schema": STR,
                    "description": "a repeated key answers the first replay and starts nothing",
                }
            ],
            requestBody=body(
                {
                    "oneOf": [
                        obj(
                            {
                                "run_ids": {
                                    "type": "array",
                                    "items": STR,
                                    "minItems": 1,
                                    "maxItems": 1000,
                                }
                            },
                            ["run_ids"],
                        ),
                        obj(
                            {
                                "function_id": STR,
                                "status": {
                                    "type": "string",
                                    "enum": RUN_STATUSES,
                                    "default": "Failed",
                                },
                                "started_after": STR,
                                "started_before": STR,
                            },
                            ["function_id"],
                        ),
                    ]
                },
                True,
            ),
        )
    },
    "/v1/kill-switch": {
        "get": op("Operations", "Kill switch state", envelope(ref("KillSwitch"))),
        "post": op(
            "Operations",
            "Activate: no function makes new SDK calls",
            {"200": envelope(ref("KillSwitch")), **BAD},
            requestBody=HOLD_BODY,
        ),
        "delete": op(
            "Operations",
            "Deactivate; held runs start unless `skip_held_events`",
            {"200": envelope(ref("KillSwitch")), **BAD},
            requestBody=SKIP_BODY,
        ),
    },
    "/v1/functions/paused": {
        "get": op(
            "Functions",
            "Paused functions",
            envelope({"type": "array", "items": ref("PauseState")}),
        )
    },
    "/v1/functions/{function_id}/pause": {
        "get": op(
            "Functions",
            "Pause state of a function",
            {"200": envelope(ref("PauseState")), **NOT_FOUND},
            parameters=[FUNCTION_ID],
        ),
        "post": op(
            "Functions",
            "Pause: no new runs start, started runs stop at their next step",
            {"200": envelope(ref("PauseState")), **NOT_FOUND, **BAD},
            parameters=[FUNCTION_ID],
            requestBody=HOLD_BODY,
        ),
    },
    "/v1/functions/{function_id}/resume": {
        "post": op(
            "Functions",
            "Resume; events received while paused start runs unless `skip_held_events`",
            {
                "200": envelope(
                    obj(
                        {
                            "function_id": STR,
                            "paused": BOOL,
                            "resumed": INT,
                            "skipped_run_ids": {"type": "array", "items": STR},
                        }
                    )
                ),
                **NOT_FOUND,
                **BAD,
            },
            parameters=[FUNCTION_ID],
            requestBody=SKIP_BODY,
        )
    },
    "/v1/metrics/functions/{function_id}": {
        "get": op(
            "Health",
            "Counts by status, success rate, p50/p95/p99 duration, attempts",
            {"200": envelope({"type": "object"}), **NOT_FOUND, **BAD},
            parameters=[
                FUNCTION_ID,
                query(
                    "hours",
                    "window in hours (default 24)",
                    {"type": "number", "exclusiveMinimum": 0, "maximum": 2160},
                ),
            ],
        )
    },
    "/v1/health": {
        "get": op(
            "Health",
            "Queue, dead letters, success rates, kill switch, alert states",
            {"200": envelope({"type": "object"}), "503": {"description": "database unavailable"}},
        )
    },
    "/v1/zombies": {
        "get": op(
            "Health",
            "Running runs with nothing queued, waiting or leased (unchanged for `grace` s)",
            {"200": envelope({"type": "array", "items": {"type": "object"}}), **BAD},
            parameters=[ZOMBIE_GRACE],
        )
    },
    "/v1/zombies/repair": {
        "post": op(
            "Health",
            "Re-queue a discovery call for each zombie run now",
            {"200": envelope({"type": "object"}), **BAD},
            parameters=[ZOMBIE_GRACE],
        )
    },
    "/health": {
        "get": op(
            "Health",
            "Liveness (Inngest shape)",
            {"200": {"description": "OK"}, "503": {"description": "degraded"}},
        )
    },
    "/metrics": {
        "get": op(
            "Health",
            "Prometheus metrics",
            {
                "200": {
                    "description": "text exposition format",
                    "content": {"text/plain": {"schema": STR}},
                }
            },
        )
    },
    "/v1/admin/apps": {
        "post": op(
            "Apps",
            "Sync an app by URL (issue 8)",
            {"200": APP_SYNC, **BAD, "502": {**APP_SYNC, "description": "the app did not answer"}},
            requestBody=body(obj({"url": STR}, ["url"]), True),
        )
    },
    "/dev": {
        "get": op(
            "Apps",
            "Dev server info: synced functions and app URLs",
            {"200": {"description": "OK"}, "404": error("production mode (dev only)")},
        )
    },
}


def document(*, production: bool = False) -> JSON:
    """The document a dev server (default) or a production server serves."""
    paths = secure({**PATHS, **admin_paths}) if production else PATHS
    components: JSON = {"schemas": SCHEMAS}
    if production:
        components["securitySchemes"] = SECURITY_SCHEMES
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Mainspring REST API",
            "version": __version__,
            "description": "Operate Mainspring: runs, events, replays, pausing, the kill switch, "
            "health and metrics. JSON answers use a `{data, metadata}` envelope; bad input "
            "answers 400 with `field` naming the parameter.",
        },
        "tags": [
            {"name": name}
            for name in ("Runs", "Events", "Functions", "Operations", "Health", "Apps", "Admin")
        ],
        "paths": paths,
        "components": components,
        **({"security": [{"apiToken": []}]} if production else {}),
    }
