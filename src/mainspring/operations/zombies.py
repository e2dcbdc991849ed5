"""The invariant check "a Running run always has a queue item, a wait, a timer or a lease":
found by one indexed query, logged, counted, and repaired by queueing a discovery call."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mainspring.clock import Clock
from mainspring.operations.periodic import Periodic
from mainspring.store.base import Connector, Row
from mainspring.store.repos import zombies as zombies_repo

log = logging.getLogger("mainspring.zombies")
BATCH = 100  # zombies repaired per round at most; the next round takes the rest


@dataclass(frozen=True, slots=True)
class ZombieConfig:
    interval_s: float = 30.0  # 0: no background check (the API can still run one)
    # A run counts only once unchanged this long: a margin on top of reading committed state.
    grace_s: float = 60.0


@dataclass(slots=True)
class ZombieStats:
    """What this process's checks found (each process counts its own repairs)."""

    checks: int = 0
    repaired_total: int = 0
    last_check_at: int | None = None
    last_found: list[str] = field(default_factory=list)


class ZombieCheck:
    def __init__(
        self,
        connector: Connector,
        clock: Clock,
        config: ZombieConfig,
        on_new_work: Callable[[], None] = lambda: None,
    ) -> None:
        self._connector = connector
        self._on_new_work = on_new_work  # wakes this process's worker for the re-queued calls
        self._clock = clock
        self._config = config
        self.stats = ZombieStats()
        self.rounds = Periodic("zombie check", self.check_once, config.interval_s, wait_first=True)

    async def find(self, grace_s: float | None = None) -> list[Row]:
        """Zombies unchanged for `grace_s` (default: the configured grace), without repair."""
        grace_ms = int(1000 * (self._config.grace_s if grace_s is None else grace_s))
        settled_before = self._clock() - grace_ms
        return await self._connector.read(lambda tx: zombies_repo.find(tx, settled_before, BATCH))

    async def check_once(self, grace_s: float | None = None) -> list[str]:
        """Find zombies and repair each (its own short transaction); the ids repaired."""
        repaired = []
        for row in await self.find(grace_s):
            run_id = str(row["id"])
            if await self._repair(run_id):
                log.warning(
                    "zombie run %s of %s: Running with nothing queued; discovery re-queued",
                    run_id,
                    row["function_slug"],
                )
                repaired.append(run_id)
        if repaired:
            self._on_new_work()
        self.stats.checks += 1
        self.stats.repaired_total += len(repaired)
        self.stats.last_check_at = self._clock()
        self.stats.last_found = repaired
        return repaired

    async def _repair(self, run_id: str) -> bool:
        now = self._clock()
        repaired: bool = await self._connector.write(
            lambda tx: zombies_repo.repair(tx, run_id, now)
        )
        return repaired

    def summary(self) -> dict[str, Any]:
        """The `zombies` field of `GET /v1/health`."""
        return {
            "repaired_total": self.stats.repaired_total,
            "checks": self.stats.checks,
            "last_check_at": self.stats.last_check_at,
            "last_repaired": self.stats.last_found,
            "interval_s": self._config.interval_s,
            "grace_s": self._config.grace_s,
        }

    def start(self) -> None:
        if self._config.interval_s > 0:
            self.rounds.start()

    async def stop(self) -> None:
        await self.rounds.stop()
