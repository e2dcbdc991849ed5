"""Userland spans of runs (`protocol.otlp`): stored per run, a resent span kept once."""

from __future__ import annotations

from typing import Any

from mainspring import codec
from mainspring.protocol.otlp import Span
from mainspring.store.base import Row, Tx


def bytes_of_run(tx: Tx, run_id: str) -> int:
    row = tx.fetchone("run_span_bytes", {"run_id": run_id})
    return 0 if row is None else int(row["n"])


def add(tx: Tx, run_id: str, span: Span, now: int) -> None:
    tx.write(
        "insert_run_span",
        {
            "run_id": run_id,
            "span_id": span.span_id,
            "trace_id": span.trace_id,
            "parent_span_id": span.parent_span_id,
            "step_id": span.step_id,
            "attempt": span.attempt,
            "name": span.name,
            "kind": span.kind,
            "scope_name": span.scope_name,
            "service_name": span.service_name,
            "status": span.status,
            "status_message": span.status_message,
            "start_ns": span.start_ns,
            "end_ns": span.end_ns,
            "attributes": codec.dumps(span.attributes),
            "size": span.size,
            "now": now,
        },
    )


def list_for_run(tx: Tx, run_id: str) -> list[dict[str, Any]]:
    rows: list[Row] = tx.fetchall("list_run_spans", {"run_id": run_id})
    return [{**row, "attributes": codec.loads(row["attributes"])} for row in rows]
