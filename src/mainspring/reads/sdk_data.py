"""What an SDK added to a run beside its steps, as the read side shows it (pure; unit-tested):
its metadata rolled up (`domain.metadata`), its userland spans as trees under their step, its
defers. REST (run detail, trace), GraphQL and the dashboard read these shapes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from mainspring.domain import metadata
from mainspring.domain.durations import rfc3339

RUN = None  # the key of what belongs to the run itself, not to one of its steps


def metadata_views(updates: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Stored updates in arrival order → one entry per (scope, step, span, kind)."""
    return [
        {
            "scope": group.scope,
            "kind": group.kind,
            "step_id": group.step_id,
            "span_id": group.span_id,
            "values": group.values,
            "updated_at": rfc3339(group.updated_at),
        }
        for group in metadata.roll_up(updates)
    ]


def _ms(ns: int) -> int:
    return ns // 1_000_000


def span_view(row: Mapping[str, Any]) -> dict[str, Any]:
    start, end = int(row["start_ns"]), int(row["end_ns"])
    return {
        "span_id": row["span_id"],
        "trace_id": row["trace_id"],
        "parent_span_id": row["parent_span_id"],
        "step_id": row["step_id"],
        "attempt": row["attempt"],
        "name": row["name"],
        "kind": row["kind"],
        "scope_name": row["scope_name"],
        "service_name": row["service_name"],
        "status": row["status"],
        "status_message": row["status_message"],
        "started_at": rfc3339(_ms(start)),
        "ended_at": rfc3339(_ms(end)),
        "duration_ms": round(max(end - start, 0) / 1e6, 3),
        "attributes": row["attributes"],
        "children": [],
    }


def nest(spans: Iterable[dict[str, Any]]) -> dict[str | None, list[dict[str, Any]]]:
    """Span views (in start order) as trees: a span under its parent span when that was stored,
    else under its step (`step_id`), else under the run (key `RUN`). Parent ids come from the
    app: a loop among them is cut (its first span found becomes a root), never followed."""
    ordered = list(spans)
    by_id = {span["span_id"]: span for span in ordered}
    parent_of = {
        span["span_id"]: span["parent_span_id"]
        for span in ordered
        if span["parent_span_id"] in by_id and span["parent_span_id"] != span["span_id"]
    }
    cut = _loops(parent_of)
    roots: dict[str | None, list[dict[str, Any]]] = {}
    for span in ordered:
        parent = parent_of.get(span["span_id"])
        if parent is not None and span["span_id"] not in cut:
            by_id[parent]["children"].append(span)
        else:
            roots.setdefault(span["step_id"], []).append(span)
    return roots


def _loops(parent_of: dict[str, str]) -> set[str]:
    """One span of each loop of the parent relation (walked once: linear)."""
    done: set[str] = set()
    cut: set[str] = set()
    for start in parent_of:
        path: list[str] = []
        on_path: set[str] = set()
        node: str | None = start
        while node is not None and node not in done and node not in on_path:
            path.append(node)
            on_path.add(node)
            node = parent_of.get(node)
        if node is not None and node in on_path:
            cut.add(node)
        done.update(path)
    return cut


def defer_view(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["userland_id"],
        "hashed_id": row["hashed_id"],
        "function_id": row["fn_slug"],
        "status": row["status"],
        "input": row["input"],
        "added_at": rfc3339(row["added_at"]),
        "event_id": row["event_id"],
    }


def of_step(entries: Iterable[dict[str, Any]], step_id: str | None) -> list[dict[str, Any]]:
    """Metadata entries of one step (`RUN`: the run's own)."""
    return [entry for entry in entries if entry["step_id"] == step_id]


def annotate_spans(
    spans: list[dict[str, Any]],
    metadata_entries: list[dict[str, Any]],
    userland: dict[str | None, list[dict[str, Any]]],
) -> list[dict[str, Any]]:
    """Fill the `metadata` and `userland` of the REST trace's step spans (`reads.trace.spans`);
    returns the userland spans of no listed step (the run's own), in start order."""
    for span in spans:
        span["metadata"] = of_step(metadata_entries, span["step_id"])
        span["userland"] = userland.get(span["step_id"], [])
    listed = {span["step_id"] for span in spans}
    rest = [root for key, roots in userland.items() if key not in listed for root in roots]
    return sorted(rest, key=lambda span: str(span["started_at"]))
