"""What rides beside a reply's opcodes: defers (`DeferAdd`, `DeferAbort`) and the metadata the
SDK attached to a step's op (`metadata: [{kind, scope, op, values}]`).

Read from the same op list as `protocol.opcodes.parse_ops` (a 206 reply, or the `steps` of a
checkpoint), which leaves these out: they never change what the run does next. An entry we
cannot honour is dropped with a warning, as Inngest does; the run goes on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from mainspring.domain import defers, metadata

log = logging.getLogger("mainspring.protocol")
DEFER_OPS = frozenset({"DeferAdd", "DeferAbort"})


@dataclass(frozen=True, slots=True)
class Sidecar:
    defers: tuple[defers.Defer, ...] = ()
    metadata: tuple[metadata.Update, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.defers or self.metadata)


NONE = Sidecar()


def from_ops(body: Any) -> Sidecar:
    items = body if isinstance(body, list) else [body] if isinstance(body, dict) else []
    found_defers: list[defers.Defer] = []
    found_metadata: list[metadata.Update] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        if item.get("op") in DEFER_OPS:
            try:
                found_defers.append(defers.parse(item))
            except ValueError as exc:
                log.warning("defer dropped: %s", exc)
        attached = item.get("metadata")
        if isinstance(attached, list) and attached:
            found_metadata.extend(_step_metadata(item, attached))
    if not found_defers and not found_metadata:
        return NONE
    return Sidecar(tuple(found_defers), tuple(found_metadata))


def _step_metadata(item: dict[str, Any], attached: list[Any]) -> list[metadata.Update]:
    """The updates of one op: run-scoped ones are the run's, the others its step's."""
    step_id = str(item.get("id") or "") or None
    found = []
    for index, raw in enumerate(attached):
        scope = raw.get("scope") if isinstance(raw, dict) else None
        scope = scope if scope in metadata.SCOPES else "step"
        try:
            found.append(
                metadata.parse_update(
                    raw,
                    f"metadata[{index}]",
                    scope=scope,
                    step_id=None if scope == "run" else step_id,
                )
            )
        except metadata.Invalid as exc:
            log.warning("metadata of step %s dropped: %s (%s)", step_id, exc, exc.field)
    return found
