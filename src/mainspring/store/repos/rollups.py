"""Per-minute rollups: what a round reads from runs and history, and the rows it upserts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mainspring.domain.ids import ulid_floor
from mainspring.store.base import Row, Tx
from mainspring.store.repos.operations import PARKED_AT


def started(tx: Tx, lo: int, hi: int) -> list[Row]:
    params = {"lower": ulid_floor(lo), "upper": ulid_floor(hi), "lo": lo, "hi": hi}
    return tx.fetchall("rollup_started", params)


def ended(tx: Tx, lo: int, hi: int) -> list[Row]:
    return tx.fetchall("rollup_ended", {"lo": lo, "hi": hi})


def step_history(tx: Tx, lo: int, hi: int) -> list[Row]:
    return tx.fetchall("rollup_step_history", {"lo": lo, "hi": hi})


def in_flight(tx: Tx) -> int:
    row = tx.fetchone("rollup_in_flight", {"parked": PARKED_AT})
    return 0 if row is None else int(row["n"])


def upsert(
    tx: Tx,
    functions: Iterable[dict[str, Any]],
    steps: Iterable[dict[str, Any]],
    systems: Iterable[dict[str, Any]],
) -> None:
    """Whole rows, in key order: two processes upserting the same minutes lock rows in the
    same order (no deadlock) and write the same numbers (no double counting)."""
    for row in sorted(functions, key=lambda r: (r["function_slug"], r["span_ms"], r["minute"])):
        tx.write("rollup_upsert_function", row)
    for row in sorted(
        steps, key=lambda r: (r["function_slug"], r["span_ms"], r["minute"], r["step_name"])
    ):
        tx.write("rollup_upsert_step", row)
    for row in sorted(systems, key=lambda r: (r["span_ms"], r["minute"])):
        tx.write("rollup_upsert_system", row)


def to_merge(tx: Tx, lo: int, hi: int) -> tuple[list[Row], list[Row], list[Row]]:
    """The minute rows of [lo, hi) (whole hours), of every function, step and the system."""
    params = {"lo": lo, "hi": hi}
    return (
        tx.fetchall("rollup_functions_to_merge", params),
        tx.fetchall("rollup_steps_to_merge", params),
        tx.fetchall("rollup_system_to_merge", params),
    )


def function_rows(tx: Tx, slug: str, span: int, lo: int, hi: int) -> list[Row]:
    params = {"slug": slug, "span": span, "lo": lo, "hi": hi}
    return tx.fetchall("rollup_function_rows", params)


def step_rows(tx: Tx, slug: str, span: int, lo: int, hi: int) -> list[Row]:
    return tx.fetchall("rollup_step_rows", {"slug": slug, "span": span, "lo": lo, "hi": hi})


def system_rows(tx: Tx, span: int, lo: int, hi: int) -> list[Row]:
    return tx.fetchall("rollup_system_rows", {"span": span, "lo": lo, "hi": hi})


def prune(tx: Tx, cutoff: int) -> int:
    params = {"cutoff": cutoff}
    return (
        tx.execute("prune_rollup_functions", params)
        + tx.execute("prune_rollup_steps", params)
        + tx.execute("prune_rollup_system", params)
    )
