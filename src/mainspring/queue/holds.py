"""Holding leased work while a function is paused or the kill switch is on.

`hold_leased` runs inside the lease transaction (the authoritative check): CALL items of a held
function are *parked* (due at `PARKED_AT`, never leased) instead of handed to the executor.
Only CALL items make SDK calls; sleeps and timers run and merely queue a CALL, which is then
parked, so nothing is lost and a resumed run continues exactly where it stopped. The in-memory
view of the same state, for the executor's step boundary and cron, is `operations.holds.Holds`.
"""

from __future__ import annotations

from mainspring.domain.queue import QueueItem
from mainspring.store.base import Tx
from mainspring.store.repos import operations as ops_repo


def hold_leased(tx: Tx, items: list[QueueItem]) -> list[QueueItem]:
    """Park the leased CALL items of held functions; return the items that may run.

    Costs one read of two tiny counts per lease while nothing is held.
    """
    if not any(ops_repo.is_call(item) for item in items):
        return items
    killed, paused = ops_repo.hold_counts(tx)
    if not killed and not paused:
        return items
    slugs = ops_repo.paused_slugs(tx) if paused and not killed else set()
    kept: list[QueueItem] = []
    for item in items:
        if ops_repo.is_call(item) and (
            killed or ops_repo.function_of_run(tx, item.run_id) in slugs
        ):
            ops_repo.park(tx, item)
        else:
            kept.append(item)
    return kept
