"""Read-only numbers about runs and the queue (health, metrics, alerts)."""

from __future__ import annotations

from mainspring.store.base import Row, Tx
from mainspring.store.repos.operations import PARKED_AT


def function_status_counts(tx: Tx, slug: str, lower: str) -> dict[str, int]:
    rows = tx.fetchall("function_status_counts", {"slug": slug, "lower": lower})
    return {row["status"]: int(row["n"]) for row in rows}


def function_durations(tx: Tx, slug: str, lower: str, limit: int) -> list[int]:
    rows = tx.fetchall("function_durations", {"slug": slug, "lower": lower, "limit": limit})
    return [int(row["d"]) for row in rows]


def function_attempts(tx: Tx, slug: str, lower: str) -> tuple[int, int]:
    row = tx.fetchone("function_attempts", {"slug": slug, "lower": lower})
    return (0, 0) if row is None else (int(row["steps"]), int(row["attempts"]))


def status_counts_by_function(tx: Tx, lower: str) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for row in tx.fetchall("status_counts_by_function", {"lower": lower}):
        counts.setdefault(row["function_slug"], {})[row["status"]] = int(row["n"])
    return counts


def last_success(tx: Tx, slug: str) -> int | None:
    row = tx.fetchone("last_success", {"slug": slug})
    return None if row is None else row["ended_at"]


def dead_letter_count(tx: Tx, lower: str) -> int:
    row = tx.fetchone("dead_letter_count", {"lower": lower})
    return 0 if row is None else int(row["n"])


def queue_stats(tx: Tx, now: int) -> Row:
    row = tx.fetchone("queue_stats", {"now": now, "parked": PARKED_AT})
    assert row is not None  # an aggregate always answers one row
    return row


def failure_streak(tx: Tx, slug: str, limit: int) -> int:
    """How many of the function's newest finished runs failed in a row (at most `limit`)."""
    rows = tx.fetchall("recent_outcomes", {"slug": slug, "limit": limit})
    streak = 0
    for row in rows:
        if row["status"] != "Failed":
            break
        streak += 1
    return streak
