"""Holding work while a function is paused or the kill switch is on.

Two checks, kept apart from the queue code so that flow control can change leasing freely:

- `hold_leased` runs inside the lease transaction (the authoritative check): CALL items of a held
  function are *parked* (due at `PARKED_AT`, never leased) instead of handed to the executor.
  Only CALL items make SDK calls; sleeps and timers run and merely queue a CALL, which is then
  parked, so nothing is lost and a resumed run continues exactly where it stopped.
- `Holds` is an in-memory view of the same state for the executor's step boundary ("stay on the
  run" must stop after the step in flight) and for cron, refreshed on every change here, on
  `mainspring_operations` notifications from other processes, and every few seconds.
"""

from __future__ import annotations

import asyncio
import logging

from mainspring import errors
from mainspring.operations.periodic import Periodic
from mainspring.queue.kinds import QueueItem
from mainspring.store.base import Connector, Tx
from mainspring.store.repos import operations as ops_repo

log = logging.getLogger("mainspring.operations")
REFRESH_INTERVAL_S = 5.0


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


class Holds:
    """What is held right now, as last read from the store (cheap to ask on the hot path)."""

    def __init__(self, connector: Connector) -> None:
        self._connector = connector
        self.killed = False
        self.paused: frozenset[str] = frozenset()
        self.rounds = Periodic("holds refresh", self.refresh, REFRESH_INTERVAL_S, wait_first=True)
        self._refreshing: set[asyncio.Task[None]] = set()

    def is_held(self, slug: str) -> bool:
        """True when the function must make no new SDK call (paused, or the kill switch)."""
        return self.killed or slug in self.paused

    async def refresh(self) -> None:
        def unit(tx: Tx) -> tuple[bool, frozenset[str]]:
            killed = ops_repo.kill_switch(tx) is not None
            return killed, frozenset(ops_repo.paused_slugs(tx))

        try:
            self.killed, self.paused = await self._connector.read(unit)
        except errors.StoreError as exc:
            log.warning("could not read paused functions: %s", exc)

    def changed(self) -> None:
        """Another process paused, resumed or flipped the kill switch."""
        task = asyncio.get_running_loop().create_task(self.refresh())
        self._refreshing.add(task)
        task.add_done_callback(self._refreshing.discard)

    async def start(self) -> None:
        await self.refresh()
        self._connector.listen("mainspring_operations", self.changed)
        self.rounds.start()

    async def stop(self) -> None:
        await self.rounds.stop()
