"""Background retention: runs, steps, history, events and audit entries older than `max_age`
are deleted in small batches, each its own short transaction, with a pause between batches so
that the queue's writes are never held up for long. Runs still running (and the events that
started them) are kept.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from mainspring.clock import Clock
from mainspring.domain.ids import ulid_floor
from mainspring.operations.periodic import Periodic
from mainspring.settings import Retention as RetentionConfig
from mainspring.store.base import Connector, Tx
from mainspring.store.repos import audit as audit_repo
from mainspring.store.repos import retention as retention_repo
from mainspring.store.repos import rollups as rollups_repo

log = logging.getLogger("mainspring.retention")
PAUSE_BETWEEN_BATCHES_S = 0.05


@dataclass(slots=True)
class Pruned:
    runs: int = 0
    events: int = 0
    keys: int = 0
    audit: int = 0
    rollups: int = 0


class Retention:
    def __init__(self, connector: Connector, config: RetentionConfig, clock: Clock) -> None:
        self._connector = connector
        self._config = config
        self._clock = clock
        self.rounds = Periodic("retention", self.prune_once, self._config.interval_ms / 1000)

    async def prune_once(self) -> Pruned:
        """Delete everything older than the cut-off, batch by batch; returns the counts."""
        pruned = Pruned()
        if self._config.max_age_ms <= 0:
            return pruned
        now = self._clock()
        cutoff = now - self._config.max_age_ms
        upper, batch = ulid_floor(cutoff), self._config.batch
        while True:
            count = await self._connector.write(
                lambda tx: retention_repo.prune_runs(tx, upper, batch)
            )
            pruned.runs += count
            if count < batch:
                break
            await asyncio.sleep(PAUSE_BETWEEN_BATCHES_S)
        while True:
            count = await self._connector.write(
                lambda tx: retention_repo.prune_events(tx, cutoff, batch)
            )
            pruned.events += count
            if count < batch:
                break
            await asyncio.sleep(PAUSE_BETWEEN_BATCHES_S)
        pruned.keys = await self._connector.write(
            lambda tx: retention_repo.prune_expired_keys(tx, now, cutoff, batch)
        )
        pruned.audit = await self._prune_batches(lambda tx: audit_repo.prune(tx, upper, batch))
        pruned.rollups = await self._connector.write(lambda tx: rollups_repo.prune(tx, cutoff))
        if pruned.runs or pruned.events:
            log.info("retention: pruned %d runs and %d events", pruned.runs, pruned.events)
        return pruned

    async def _prune_batches(self, prune: Callable[[Tx], int]) -> int:
        """Run `prune` (one batch per transaction) until a batch comes back short."""
        total = 0
        while True:
            count = await self._connector.write(prune)
            total += count
            if count < self._config.batch:
                return total
            await asyncio.sleep(PAUSE_BETWEEN_BATCHES_S)

    def start(self) -> None:
        if self._config.max_age_ms > 0:
            self.rounds.start()

    async def stop(self) -> None:
        await self.rounds.stop()
