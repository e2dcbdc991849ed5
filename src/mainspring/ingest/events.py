"""Incoming events: validate every field, assign internal ids, match triggers (no I/O)."""

from __future__ import annotations

from typing import Any

import orjson

from mainspring import errors, limits
from mainspring.domain import events as event_names
from mainspring.domain.events import NewEvent
from mainspring.domain.functions import FunctionDef, Functions
from mainspring.domain.ids import new_ulid, ulids_from_seed

MAX_EVENTS_PER_REQUEST = 5000
MAX_NAME_LENGTH = 512
MIN_TS_MS = 315_532_800_000  # 1980-01-01
MAX_TS_MS = 4_102_444_800_000  # 2100-01-01


def parse_body(body: bytes) -> list[Any]:
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise errors.InvalidInput(f"body is not valid JSON: {exc}", field="body") from None
    items = parsed if isinstance(parsed, list) else [parsed]
    for index, item in enumerate(items):
        limits.check_depth(item, "body", index)
    if not items:
        raise errors.InvalidInput("no events in the request", field="body")
    if len(items) > MAX_EVENTS_PER_REQUEST:
        raise errors.InvalidInput(
            f"at most {MAX_EVENTS_PER_REQUEST} events per request", field="body"
        )
    return items


def check_sizes(items: list[Any], limit: int) -> None:
    """Each event's JSON within `limit` bytes (Inngest's limit is per event, not per request)."""
    for index, item in enumerate(items):
        if len(orjson.dumps(item)) > limit:
            raise errors.PayloadTooLarge(
                f"event larger than {limit} bytes", field="body", index=index
            )


def _optional_object(raw: dict[str, Any], key: str, index: int) -> dict[str, Any]:
    value = raw.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise errors.InvalidInput(f"event {key} must be an object", field=key, index=index)
    return value


def _name(raw: dict[str, Any], index: int, internal: bool) -> str:
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise errors.InvalidInput(
            "event name must be a non-empty string", field="name", index=index
        )
    if len(name) > MAX_NAME_LENGTH:
        raise errors.InvalidInput(
            f"event name longer than {MAX_NAME_LENGTH} characters", field="name", index=index
        )
    if not internal and event_names.is_reserved(name):
        raise errors.InvalidInput(
            f"event name {name!r} is reserved for Mainspring", field="name", index=index
        )
    return name


def _ts(raw: dict[str, Any], index: int, now: int) -> int:
    """The sender's time, or `now` when it gave none (0 counts as none)."""
    ts = raw.get("ts")
    if ts is None or ts == 0:
        return now
    if isinstance(ts, bool) or not isinstance(ts, int) or not MIN_TS_MS <= ts <= MAX_TS_MS:
        raise errors.InvalidInput(
            "event ts must be integer milliseconds between 1980 and 2100", field="ts", index=index
        )
    return ts


def normalize(raw: Any, index: int, now: int, *, internal: bool = False) -> dict[str, Any]:
    """One event as stored and as functions see it; raises InvalidInput naming the field."""
    if not isinstance(raw, dict):
        raise errors.InvalidInput("an event must be a JSON object", field="event", index=index)
    name = _name(raw, index, internal)
    data = _optional_object(raw, "data", index)
    if not internal:  # `_inngest` carries server metadata; clients may not forge it
        data.pop("_inngest", None)
    user = _optional_object(raw, "user", index)
    sender_id = raw.get("id")
    if sender_id is not None and (not isinstance(sender_id, str) or len(sender_id) > 512):
        raise errors.InvalidInput("event id must be a string", field="id", index=index)
    ts = _ts(raw, index, now)
    version = raw.get("v")
    if version is not None and not isinstance(version, str):
        raise errors.InvalidInput("event v must be a string", field="v", index=index)
    event: dict[str, Any] = {
        "name": name,
        "data": data,
        "user": user,
        "id": sender_id or "",
        "ts": ts,
    }
    if version is not None:
        event["v"] = version
    return event


def prepare(
    raw_events: list[Any],
    registry: Functions,
    now: int,
    *,
    id_seed: str | None = None,
    internal: bool = False,
) -> list[NewEvent]:
    """Validate every event before anything is stored, so a bad one rejects the whole request."""
    normalized = [
        normalize(raw, index, now, internal=internal) for index, raw in enumerate(raw_events)
    ]
    seeded_ids = ulids_from_seed(id_seed, len(normalized)) if id_seed else None
    internal_ids = seeded_ids or [new_ulid() for _ in normalized]
    prepared = []
    for internal_id, event in zip(internal_ids, normalized, strict=True):
        sender_id = event["id"] or None
        if not sender_id:
            event["id"] = internal_id
        prepared.append(
            NewEvent(
                internal_id=internal_id,
                payload=event,
                sender_id=sender_id,
                matches=_targets(event, registry),
                seeded=bool(seeded_ids),
            )
        )
    return prepared


def _targets(event: dict[str, Any], registry: Functions) -> list[FunctionDef]:
    """`inngest/function.invoked` starts exactly the function it names; others match triggers."""
    if event["name"] == event_names.FUNCTION_INVOKED:
        meta = event["data"].get("_inngest")
        target = registry.get(str(meta.get("fn_id"))) if isinstance(meta, dict) else None
        return [] if target is None else [target]
    return registry.match(event)
