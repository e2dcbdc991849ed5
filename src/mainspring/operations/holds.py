"""Holding work while a function is paused or the kill switch is on.

Two checks of the same state:

- `queue.holds.hold_leased` runs inside the lease transaction (the authoritative check).
- `Holds` here is an in-memory view of it for the executor's step boundary ("stay on the run"
  must stop after the step in flight) and for cron, refreshed on every change here, on
  `mainspring_operations` notifications from other processes, and every few seconds.
"""

from __future__ import annotations

import asyncio
import logging

from mainspring import errors
from mainspring.operations.periodic import Periodic
from mainspring.store.base import Connector, Tx
from mainspring.store.repos import operations as ops_repo

log = logging.getLogger("mainspring.operations")
REFRESH_INTERVAL_S = 5.0


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
