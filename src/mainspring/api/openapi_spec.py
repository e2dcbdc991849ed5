"""The OpenAPI 3.1 document of the REST API, written as data next to the routes it describes.

`tests/unit/test_openapi.py` checks it against the OpenAPI schema and that every route the app
serves is described here (or listed in `UNDOCUMENTED`), so the two cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from mainspring import __version__

JSON = dict[str, Any]
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
RUN_STATUSES = ["Running", "Completed", "Failed", "Cancelled"]


def _obj(properties: JSON | None = None, required: list[str] | None = None) -> JSON:
    schema: JSON = {"type": "object", "properties": properties or {}}
    if required:
        schema["required"] = required
    return schema


STR: JSON = {"type": "string"}
NSTR: JSON = {"type": ["string", "null"]}
TIME: JSON = {"type": ["string", "null"], "format": "date-time"}
INT: JSON = {"type": "integer"}
ANY: JSON = {}
BOOL: JSON = {"type": "boolean"}

SCHEMAS: dict[str, JSON] = {
    "Error": _obj(
        {
            "error": STR,
            "status": INT,
            "code": STR,
            "field": {"type": "string", "description": "the parameter or body field at fault"},
            "index": INT,
        },
        ["error", "status"],
    ),
    "Run": _obj(
        {
            "run_id": STR,
            "function_id": {"type": "string", "description": "function slug `<app>-<fn>`"},
            "status": {"type": "string", "enum": RUN_STATUSES},
            "event_id": STR,
            "output": ANY,
            "run_started_at": TIME,
            "ended_at": TIME,
            "created_at": TIME,
        }
    ),
    "RunListItem": _obj(
        {
            "run_id": STR,
            "function_id": STR,
            "status": {"type": "string", "enum": RUN_STATUSES},
            "event_id": STR,
            "event_name": NSTR,
            "output": ANY,
            "created_at": TIME,
            "run_started_at": TIME,
            "ended_at": TIME,
            "duration_ms": {"type": ["integer", "null"]},
        }
    ),
    "Event": _obj(
        {
            "internal_id": STR,
            "id": STR,
            "name": STR,
            "data": {"type": "object"},
            "user": {"type": "object"},
            "ts": INT,
            "v": NSTR,
            "received_at": TIME,
        }
    ),
    "KillSwitch": _obj(
        {"active": BOOL, "reason": NSTR, "requested_by": NSTR, "since": TIME},
        ["active", "reason", "requested_by", "since"],
    ),
    "PauseState": _obj(
        {"function_id": STR, "paused": BOOL, "reason": NSTR, "requested_by": NSTR, "since": TIME}
    ),
    "Replay": _obj(
        {
            "replay_id": STR,
            "run_ids": {"type": "array", "items": STR, "description": "the new runs"},
            "request": {"type": "object"},
            "idempotency_key": NSTR,
            "created_at": TIME,
        },
        ["replay_id", "run_ids"],
    ),
}


def _ref(name: str) -> JSON:
    return {"$ref": f"#/components/schemas/{name}"}


def _envelope(data: JSON) -> JSON:
    return {
        "description": "OK",
        "content": {
            "application/json": {
                "schema": _obj({"data": data, "metadata": {"type": "object"}}, ["data"])
            }
        },
    }


def _error(text: str) -> JSON:
    return {"description": text, "content": {"application/json": {"schema": _ref("Error")}}}


def _path_param(name: str, text: str) -> JSON:
    return {"name": name, "in": "path", "required": True, "schema": STR, "description": text}


def _query(name: str, text: str, schema: JSON | None = None) -> JSON:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema or STR,
        "description": text,
    }


def _body(schema: JSON, required: bool = False) -> JSON:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


RUN_ID = _path_param("run_id", "run id (ULID)")
EVENT_ID = _path_param("event_id", "internal event id (ULID)")
FUNCTION_ID = _path_param("function_id", "function slug `<app>-<fn>`")
RUN_FILTERS = [
    _query("status", "one or a comma list of " + ", ".join(RUN_STATUSES)),
    _query("function_id", "function slug"),
    _query("app_id", "app id (name)"),
    _query("started_after", "created at or after (RFC 3339 or epoch ms); alias `from`"),
    _query("started_before", "created at or before (RFC 3339 or epoch ms); alias `until`"),
    _query("cursor", "`metadata.cursor` of the previous page"),
    _query("query", 'CEL over the trigger `event`, e.g. `event.data.user_id == "u1"`'),
    _query("limit", "1..1000 (default 100; larger values are capped)", INT),
]
NOT_FOUND = {"404": _error("not found")}
BAD = {"400": _error("bad input; `field` names the parameter")}
HOLD_BODY = _body(_obj({"reason": STR, "requested_by": STR}))
SKIP_BODY = _body(
    _obj({"skip_held_events": {"type": "boolean", "description": "end held runs instead"}})
)
RUN_LIST = _envelope({"type": "array", "items": _ref("RunListItem")})


def _op(tag: str, summary: str, responses: JSON, **extra: Any) -> JSON:
    if "description" in responses:  # a bare response is the 200 one
        responses = {"200": responses}
    return {"tags": [tag], "summary": summary, "responses": responses, **extra}


PATHS: dict[str, JSON] = {
    "/e/{key}": {
        "post": _op(
            "Events",
            "Send one event or an array (any key in dev mode)",
            {"200": {"description": "stored; `ids` are internal event ids"}, **BAD},
            parameters=[_path_param("key", "event key")],
            requestBody=_body({"oneOf": [{"type": "object"}, {"type": "array"}]}, True),
        )
    },
    "/v1/events": {
        "get": _op(
            "Events",
            "List events, newest first",
            _envelope({"type": "array", "items": _ref("Event")}),
            parameters=[
                _query("name", "event name"),
                _query("received_after", "RFC 3339 or epoch ms"),
                _query("received_before", "RFC 3339 or epoch ms (exclusive)"),
                _query("cursor", "`metadata.cursor` of the previous page"),
                _query("limit", "1..1000", INT),
            ],
        ),
        "post": _op(
            "Events",
            "Send events with `Authorization: Bearer <event key>`",
            {"200": {"description": "stored"}, **BAD},
            requestBody=_body({"oneOf": [{"type": "object"}, {"type": "array"}]}, True),
        ),
    },
    "/v1/events/{event_id}": {
        "get": _op(
            "Events",
            "One event",
            {"200": _envelope(_ref("Event")), **NOT_FOUND},
            parameters=[EVENT_ID],
        )
    },
    "/v1/events/{event_id}/runs": {
        "get": _op(
            "Events",
            "Runs the event started",
            _envelope({"type": "array", "items": _ref("Run")}),
            parameters=[EVENT_ID],
        )
    },
    "/invoke/{slug}": {
        "post": _op(
            "Functions",
            "Invoke a function with `{data}` (emits `inngest/function.invoked`)",
            {"200": {"description": "the event id"}, **NOT_FOUND, **BAD},
            parameters=[_path_param("slug", "function slug")],
            requestBody=_body(_obj({"data": {"type": "object"}, "user": {"type": "object"}})),
        )
    },
    "/v1/runs": {
        "get": _op(
            "Runs",
            "List runs with filters and a CEL query",
            {"200": RUN_LIST, **BAD},
            parameters=RUN_FILTERS,
        )
    },
    "/v2/runs": {
        "get": _op(
            "Runs", "List runs (v2; same filters)", {"200": RUN_LIST, **BAD}, parameters=RUN_FILTERS
        )
    },
    "/v1/runs/{run_id}": {
        "get": _op(
            "Runs", "One run", {"200": _envelope(_ref("Run")), **NOT_FOUND}, parameters=[RUN_ID]
        ),
        "delete": _op(
            "Runs",
            "Cancel a run",
            {"200": _envelope(_obj({"run_id": STR, "status": STR})), **NOT_FOUND},
            parameters=[RUN_ID],
        ),
    },
    "/v0/runs/{run_id}": {
        "delete": _op(
            "Runs",
            "Cancel a run (legacy path)",
            {"200": _envelope(ANY), **NOT_FOUND},
            parameters=[RUN_ID],
        )
    },
    "/v2/runs/{run_id}": {
        "get": _op(
            "Runs",
            "One run, with `original_run_id` for reruns",
            {"200": _envelope(_ref("Run")), **NOT_FOUND},
            parameters=[RUN_ID],
        )
    },
    "/v2/runs/{run_id}/trace": {
        "get": _op(
            "Runs",
            "Trigger events and one span per step (attempts, errors, timing)",
            {
                "200": _envelope(
                    _obj(
                        {
                            "run": _ref("Run"),
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
        "post": _op(
            "Runs",
            "Cancel a run",
            {"200": _envelope(_obj({"run_id": STR, "status": STR})), **NOT_FOUND},
            parameters=[RUN_ID],
        )
    },
    "/v1/runs/{run_id}/rerun": {
        "post": _op(
            "Runs",
            "A new run of the same function with the same event(s)",
            {"201": _envelope(_obj({"run_id": STR, "original_run_id": STR})), **NOT_FOUND},
            parameters=[RUN_ID],
        )
    },
    "/v2/runs/{run_id}/rerun": {
        "post": _op(
            "Runs",
            "Rerun (v2 path)",
            {"201": _envelope(_obj({"run_id": STR, "original_run_id": STR})), **NOT_FOUND},
            parameters=[RUN_ID],
        )
    },
    "/v1/runs/{run_id}/steps": {
        "get": _op(
            "Runs",
            "Memoized steps in completion order",
            {"200": _envelope({"type": "array"}), **NOT_FOUND},
            parameters=[RUN_ID],
        )
    },
    "/v1/runs/{run_id}/history": {
        "get": _op(
            "Runs",
            "Every state change of the run",
            {"200": _envelope({"type": "array"}), **NOT_FOUND},
            parameters=[RUN_ID],
        )
    },
    "/v1/runs/{run_id}/jobs": {
        "get": _op(
            "Runs",
            "Queue items of the run (`held` while paused)",
            {"200": _envelope({"type": "array"}), **NOT_FOUND},
            parameters=[RUN_ID],
        )
    },
    "/v1/cancellations": {
        "post": _op(
            "Operations",
            "Cancel running runs of a function created in a window (optional CEL `if`)",
            {"201": _envelope({"type": "object"}), **BAD},
            requestBody=_body(
                _obj(
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
        "get": _op("Operations", "Bulk cancellations", _envelope({"type": "array"})),
    },
    "/v1/cancellations/{cancellation_id}": {
        "delete": _op(
            "Operations",
            "Delete a bulk cancellation record",
            {"200": _envelope(ANY), **NOT_FOUND},
            parameters=[_path_param("cancellation_id", "id")],
        )
    },
    "/v1/replays": {
        "post": _op(
            "Operations",
            "Bulk replay: rerun `run_ids`, or the runs of a function by status and window",
            {"201": _envelope(_ref("Replay")), **BAD},
            parameters=[
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "schema": STR,
                    "description": "a repeated key answers the first replay and starts nothing",
                }
            ],
            requestBody=_body(
                {
                    "oneOf": [
                        _obj(
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
                        _obj(
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
        "get": _op("Operations", "Kill switch state", _envelope(_ref("KillSwitch"))),
        "post": _op(
            "Operations",
            "Activate: no function makes new SDK calls",
            {"200": _envelope(_ref("KillSwitch")), **BAD},
            requestBody=HOLD_BODY,
        ),
        "delete": _op(
            "Operations",
            "Deactivate; held runs start unless `skip_held_events`",
            {"200": _envelope(_ref("KillSwitch")), **BAD},
            requestBody=SKIP_BODY,
        ),
    },
    "/v1/functions/paused": {
        "get": _op(
            "Functions",
            "Paused functions",
            _envelope({"type": "array", "items": _ref("PauseState")}),
        )
    },
    "/v1/functions/{function_id}/pause": {
        "get": _op(
            "Functions",
            "Pause state of a function",
            {"200": _envelope(_ref("PauseState")), **NOT_FOUND},
            parameters=[FUNCTION_ID],
        ),
        "post": _op(
            "Functions",
            "Pause: no new runs start, started runs stop at their next step",
            {"200": _envelope(_ref("PauseState")), **NOT_FOUND, **BAD},
            parameters=[FUNCTION_ID],
            requestBody=HOLD_BODY,
        ),
    },
    "/v1/functions/{function_id}/resume": {
        "post": _op(
            "Functions",
            "Resume; events received while paused start runs unless `skip_held_events`",
            {
                "200": _envelope(
                    _obj(
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
        "get": _op(
            "Health",
            "Counts by status, success rate, p50/p95/p99 duration, attempts",
            {"200": _envelope({"type": "object"}), **NOT_FOUND, **BAD},
            parameters=[
                FUNCTION_ID,
                _query("hours", "window in hours (default 24)", {"type": "number"}),
            ],
        )
    },
    "/v1/health": {
        "get": _op(
            "Health",
            "Queue, dead letters, success rates, kill switch, alert states",
            {"200": _envelope({"type": "object"}), "503": {"description": "database unavailable"}},
        )
    },
    "/health": {
        "get": _op(
            "Health",
            "Liveness (Inngest shape)",
            {"200": {"description": "OK"}, "503": {"description": "degraded"}},
        )
    },
    "/metrics": {
        "get": _op(
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
        "post": _op(
            "Apps",
            "Sync an app by URL (issue 8)",
            {"200": _envelope({"type": "object"}), **BAD, "502": _error("the app did not answer")},
            requestBody=_body(_obj({"url": STR}, ["url"]), True),
        )
    },
    "/dev": {
        "get": _op(
            "Apps", "Dev server info: synced functions and app URLs", {"200": {"description": "OK"}}
        )
    },
}


def document() -> JSON:
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
            for name in ("Runs", "Events", "Functions", "Operations", "Health", "Apps")
        ],
        "paths": PATHS,
        "components": {"schemas": SCHEMAS},
    }
