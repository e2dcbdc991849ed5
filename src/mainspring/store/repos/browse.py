"""Read-only queries of the dashboard (named SQL in browse.sql)."""

from __future__ import annotations

from mainspring.store.base import Row, Tx


def page_events(tx: Tx, name: str | None, cursor: str | None, limit: int) -> list[Row]:
    return tx.fetchall("page_events", {"name": name, "cursor": cursor, "limit": limit})


def function_run_counts(tx: Tx, slug: str, since: int) -> dict[str, int]:
    rows = tx.fetchall("function_run_counts", {"slug": slug, "since": since})
    return {row["status"]: int(row["n"]) for row in rows}


def function_recent_durations(tx: Tx, slug: str, since: int, limit: int) -> list[int]:
    rows = tx.fetchall("function_recent_durations", {"slug": slug, "since": since, "limit": limit})
    return [int(row["duration_ms"]) for row in rows]


def count_runs_by_status(tx: Tx) -> dict[str, int]:
    return {row["status"]: int(row["n"]) for row in tx.fetchall("count_runs_by_status")}
