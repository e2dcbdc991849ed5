"""Read-only queries of the dashboard and the filtered run list (named SQL in browse.sql)."""

from __future__ import annotations

from dataclasses import dataclass

from mainspring.store.base import Row, Tx


@dataclass(frozen=True, slots=True)
class RunFilter:
    """Filters on indexed columns; None means any. Times are epoch ms, `[after, before)`."""

    slug: str | None = None
    status: str | None = None
    app_id: str | None = None
    created_after: int | None = None
    created_before: int | None = None


def search_runs(tx: Tx, where: RunFilter, cursor: str | None, limit: int) -> list[Row]:
    """Runs newest first, after `cursor` (the last id of the previous page)."""
    params = {
        "slug": where.slug,
        "status": where.status,
        "app_id": where.app_id,
        "created_after": where.created_after,
        "created_before": where.created_before,
        "cursor": cursor,
        "limit": limit,
    }
    if where.slug is not None:
        return tx.fetchall("search_runs_by_function", params)
    if where.status is not None:
        return tx.fetchall("search_runs_by_status_only", params)
    return tx.fetchall("search_runs", params)


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
