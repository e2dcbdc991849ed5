"""Run metadata: key/value groups an SDK attaches to a run or one of its steps (pure; unit-tested).

The TypeScript SDK sends an update two ways: on the opcode of the step it ran (`metadata:
[{kind, scope, op, values}]`, from `inngest.metadata.set()` or `step.metadata(id).set()` inside a
step, and AI usage) or through `POST /v1/runs/{id}/metadata {target, metadata: [{kind, op,
values}]}` (outside a step, or for another run). Each update is stored as it came; reading rolls
the updates of one (scope, step, span, kind) up in arrival order with their op, as Inngest does:
`merge` copies keys, `set` replaces the whole group, `delete` drops keys, `add` sums numbers.

Kinds are `userland.<name>` for what users set, and a few reserved `inngest.*` kinds the SDKs may
send (any other `inngest.*` kind is refused, so internal metadata cannot be forged). Sizes count
key lengths plus JSON value lengths: one update at most 64 KiB, one run at most 1 MiB.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

OPS = frozenset({"merge", "set", "delete", "add"})
SCOPES = frozenset({"run", "step", "step_attempt", "extended_trace"})
MAX_KIND_LENGTH = 128
MAX_UPDATE_BYTES = 64 * 1024
MAX_RUN_BYTES = 1024 * 1024
MAX_UPDATES_PER_REQUEST = 100
ALLOWED_INNGEST_KINDS = frozenset(
    {
        "inngest.ai",
        "inngest.http",
        "inngest.http.timing",
        "inngest.response_headers",
        "inngest.warnings",
        "inngest.experiment",
        "inngest.score",
    }
)


class Invalid(ValueError):
    """An update or target we refuse; `field` is the dotted path at fault."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


class TooLarge(Invalid):
    """An update past `MAX_UPDATE_BYTES`."""


@dataclass(frozen=True, slots=True)
class Update:
    """One update as stored: `step_id` is the hashed step id (None for the run's own)."""

    scope: str
    kind: str
    op: str
    values: dict[str, Any]
    size: int
    step_id: str | None = None
    span_id: str | None = None


@dataclass(slots=True)
class Rolled:
    """The current values of one (scope, step, span, kind), after every update in order."""

    scope: str
    kind: str
    step_id: str | None
    span_id: str | None
    values: dict[str, Any] = field(default_factory=dict)
    updated_at: int = 0


def size_of(values: Mapping[str, Any]) -> int:
    compact = (",", ":")
    return sum(
        len(key) + len(json.dumps(value, separators=compact)) for key, value in values.items()
    )


def parse_update(
    raw: Any, where: str, *, scope: str, step_id: str | None = None, span_id: str | None = None
) -> Update:
    """One `{kind, op, values}` of the wire; raises Invalid naming `where`'s field."""
    if not isinstance(raw, dict):
        raise Invalid("a metadata update must be an object", where)
    kind = raw.get("kind")
    if not isinstance(kind, str) or not kind:
        raise Invalid("kind must be a non-empty string", f"{where}.kind")
    if len(kind) > MAX_KIND_LENGTH:
        raise Invalid(f"kind longer than {MAX_KIND_LENGTH} characters", f"{where}.kind")
    if kind.startswith("inngest.") and kind not in ALLOWED_INNGEST_KINDS:
        raise Invalid(f"kind {kind!r} is reserved", f"{where}.kind")
    op = raw.get("op", "merge")
    if op not in OPS:
        raise Invalid(f"op must be one of {', '.join(sorted(OPS))}", f"{where}.op")
    values = raw.get("values")
    if not isinstance(values, dict):
        raise Invalid("values must be an object", f"{where}.values")
    size = size_of(values)
    if size > MAX_UPDATE_BYTES:
        raise TooLarge(f"metadata update larger than {MAX_UPDATE_BYTES} bytes", f"{where}.values")
    scope = "step" if scope == "step_attempt" else scope  # Inngest's legacy name for a step's
    return Update(scope, kind, str(op), values, size, step_id, span_id)


def hashed_step_id(step_id: str, index: int | None) -> str:
    """The id the SDK hashes a userland step id to (`id`, or `id:index` for a repeated id)."""
    text = step_id if not index else f"{step_id}:{index}"
    return hashlib.sha1(text.encode()).hexdigest()


def _optional(target: Mapping[str, Any], key: str, kind: type) -> Any:
    value = target.get(key)
    if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
        raise Invalid(f"target.{key} must be a {kind.__name__}", f"target.{key}")
    return value


def parse_request(body: Any, run_id: str) -> list[Update]:
    """`POST /v1/runs/{id}/metadata`: the target picks the scope. No `step_id`: the run's; a
    `step_id` (userland, hashed here): that step's; with `span_id` too: that span's."""
    if not isinstance(body, dict):
        raise Invalid("body must be an object with target and metadata", "body")
    target = body.get("target")
    if not isinstance(target, dict):
        raise Invalid("target must be an object", "target")
    if target.get("run_id") not in (None, run_id):
        raise Invalid("target.run_id must be the run of the path", "target.run_id")
    step_id = _optional(target, "step_id", str)
    index = _optional(target, "step_index", int)
    _optional(target, "step_attempt", int)
    span_id = _optional(target, "span_id", str)
    if step_id is None:
        for key in ("step_index", "step_attempt", "span_id"):
            if target.get(key) is not None:
                raise Invalid(f"target.step_id must be given with target.{key}", "target.step_id")
    updates = body.get("metadata")
    if not isinstance(updates, list) or not updates:
        raise Invalid("metadata must be a non-empty list of updates", "metadata")
    if len(updates) > MAX_UPDATES_PER_REQUEST:
        raise Invalid(f"at most {MAX_UPDATES_PER_REQUEST} updates per request", "metadata")
    hashed = None if step_id is None else hashed_step_id(step_id, index)
    scope = "run" if hashed is None else "extended_trace" if span_id else "step"
    return [
        parse_update(raw, f"metadata[{n}]", scope=scope, step_id=hashed, span_id=span_id)
        for n, raw in enumerate(updates)
    ]


def _number(value: Any) -> float | int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


def combine(values: dict[str, Any], update: Mapping[str, Any], op: str) -> None:
    """Apply one update's `op` to `values` in place (Inngest's `Values.Combine`)."""
    if op == "set":
        values.clear()
        values.update(update)
    elif op == "delete":
        for key in update:
            values.pop(key, None)
    elif op == "add":
        for key, value in update.items():
            old, new = _number(values.get(key)), _number(value)
            if old is None:
                values[key] = value
            elif new is not None:
                values[key] = old + new
    else:  # merge
        values.update(update)


def roll_up(rows: Iterable[Mapping[str, Any]]) -> list[Rolled]:
    """Rows (`scope, kind, op, values, at, step_id, span_id`) in arrival order → one group per
    (scope, step, span, kind), in the order each first appeared."""
    groups: dict[tuple[str, str | None, str | None, str], Rolled] = {}
    for row in rows:
        key = (row["scope"], row["step_id"], row["span_id"], row["kind"])
        group = groups.get(key)
        if group is None:
            group = groups[key] = Rolled(row["scope"], row["kind"], row["step_id"], row["span_id"])
        combine(group.values, row["values"], row["op"])
        group.updated_at = max(group.updated_at, int(row["at"]))
    return list(groups.values())
