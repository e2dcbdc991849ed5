"""Building blocks of the OpenAPI document: schemas, parameters, response helpers."""

from __future__ import annotations

from typing import Any

JSON = dict[str, Any]
RUN_STATUSES = ["Running", "Completed", "Failed", "Cancelled"]


def obj(properties: JSON | None = None, required: list[str] | None = None) -> JSON:
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
    "Error": obj(
        {
            "error": STR,
            "status": INT,
            "code": STR,
            "field": {"type": "string", "description": "the parameter or body field at fault"},
            "index": INT,
        },
        ["error", "status"],
    ),
    "Run": obj(
        {
            "run_id": STR,
            "function_id": {"type": "string", "description": "function slug `<app>-<fn>`"},
            "status": {"type": "string", "enum": RUN_STATUSES},
            "event_id": STR,
            "output": ANY,
            "run_started_at": TIME,
            "ended_at": TIME,
            "created_at": TIME,
            "original_run_id": NSTR,
            "replay_id": NSTR,
            "held": {"type": "boolean", "description": "waiting for a resume"},
        }
    ),
    "RunListItem": obj(
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
    "Event": obj(
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
    "KillSwitch": obj(
        {"active": BOOL, "reason": NSTR, "requested_by": NSTR, "since": TIME},
        ["active", "reason", "requested_by", "since"],
    ),
    "PauseState": obj(
        {"function_id": STR, "paused": BOOL, "reason": NSTR, "requested_by": NSTR, "since": TIME}
    ),
    "Replay": obj(
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


def ref(name: str) -> JSON:
    return {"$ref": f"#/components/schemas/{name}"}


def envelope(data: JSON) -> JSON:
    return {
        "description": "OK",
        "content": {
            "application/json": {
                "schema": obj({"data": data, "metadata": {"type": "object"}}, ["data"])
            }
        },
    }


def error(text: str) -> JSON:
    return {"description": text, "content": {"application/json": {"schema": ref("Error")}}}


def path_param(name: str, text: str) -> JSON:
    return {"name": name, "in": "path", "required": True, "schema": STR, "description": text}


def query(name: str, text: str, schema: JSON | None = None) -> JSON:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema or STR,
        "description": text,
    }


def body(schema: JSON, required: bool = False) -> JSON:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


RUN_ID = path_param("run_id", "run id (ULID)")
EVENT_ID = path_param("event_id", "internal event id (ULID)")
FUNCTION_ID = path_param("function_id", "function slug `<app>-<fn>`")
RUN_FILTERS = [
    query("status", "one or a comma list of " + ", ".join(RUN_STATUSES)),
    query("function_id", "function slug"),
    query("app_id", "app id (name)"),
    query("started_after", "created at or after (RFC 3339 or epoch ms); alias `from`"),
    query("started_before", "created at or before (RFC 3339 or epoch ms); alias `until`"),
    query("cursor", "`metadata.cursor` of the previous page"),
    query("query", 'CEL over the trigger `event`, e.g. `event.data.user_id == "u1"`'),
    query(
        "limit",
        "1..1000 (default 100; larger values are capped)",
        {"type": "integer", "minimum": 1},
    ),
]
NOT_FOUND = {"404": error("not found")}
BAD = {"400": error("bad input; `field` names the parameter")}
HOLD_BODY = body(obj({"reason": STR, "requested_by": STR}))
SKIP_BODY = body(
    obj({"skip_held_events": {"type": "boolean", "description": "end held runs instead"}})
)
RUN_LIST = envelope({"type": "array", "items": ref("RunListItem")})


def op(tag: str, summary: str, responses: JSON, **extra: Any) -> JSON:
    if "description" in responses:  # a bare response is the 200 one
        responses = {"200": responses}
    return {"tags": [tag], "summary": summary, "responses": responses, **extra}
