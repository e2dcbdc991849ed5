"""The trace export's claim on ended runs: a keyset cursor moved in one write transaction."""

from __future__ import annotations

from mainspring import codec
from mainspring.store.base import Row, Tx


def claim_ended_runs(
    tx: Tx, name: str, start_at: int, upto: int, limit: int
) -> tuple[list[Row], tuple[int, str]]:
    """Ended runs past the cursor `name` (ended by `upto`), oldest first, at most `limit`, and
    the cursor moved past them. A cursor older than `start_at` (or none) starts there: export
    that was off does not replay a backlog. Call it inside a write transaction."""
    tx.write("init_export_cursor", {"name": name, "ended_at": start_at})
    cursor = tx.fetchone("get_export_cursor", {"name": name})
    at, run_id = (start_at, "") if cursor is None else (cursor["ended_at"], cursor["run_id"])
    if at < start_at:
        at, run_id = start_at, ""
    rows = tx.fetchall("runs_ended_after", {"at": at, "id": run_id, "upto": upto, "n": limit})
    if rows:
        at, run_id = int(rows[-1]["ended_at"]), str(rows[-1]["id"])
        tx.write("set_export_cursor", {"name": name, "ended_at": at, "run_id": run_id})
    return rows, (int(at), str(run_id))


def facts_of_runs(tx: Tx, run_ids: list[str]) -> tuple[dict[str, list[Row]], ...]:
    """History, memoized steps and userland spans of several runs, three queries in all;
    each a dict by run id, rows in the order the single-run queries give them."""
    params = {"ids": codec.dumps(run_ids)}
    return tuple(
        _by_run(tx.fetchall(name, params))
        for name in ("history_of_runs", "steps_of_runs", "spans_of_runs")
    )


def _by_run(rows: list[Row]) -> dict[str, list[Row]]:
    grouped: dict[str, list[Row]] = {}
    for row in rows:
        grouped.setdefault(str(row["run_id"]), []).append(row)
    return grouped
