"""Zombie runs: Running, yet nothing (queue item, wait, timer, lease) will ever call them again."""

from __future__ import annotations

from mainspring.store.base import Row, Tx
from mainspring.store.repos import queue as queue_repo
from mainspring.store.repos import runs as runs_repo


def find(tx: Tx, settled_before: int, limit: int) -> list[Row]:
    """Zombies unchanged since `settled_before` (ms), oldest first: (id, function_slug) rows."""
    return tx.fetchall("find_zombie_runs", {"settled_before": settled_before, "limit": limit})


def repair(tx: Tx, run_id: str, now: int) -> bool:
    """Queue a discovery call for the run if it is still a zombie; True when it was repaired.

    Idempotent and safe with two processes at once: the run's row lock orders them, the second
    sees the first's item, and the discovery dedupe key would merge a second item anyway. The SDK
    replays from the memoized steps and plans again what was outstanding, so the run's pending
    parallel steps are cleared (a stale one would hold back the discovery after the group)."""
    tx.fetchone("lock_run", {"id": run_id})
    if tx.fetchone("zombie_run", {"id": run_id}) is None:
        return False
    tx.write("clear_pending_steps", {"run_id": run_id})
    if not queue_repo.enqueue_discovery(tx, run_id, now, now):
        return False
    runs_repo.add_history(
        tx, run_id, now, "run.repaired", data={"reason": "running with nothing queued"}
    )
    return True
