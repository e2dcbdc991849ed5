"""One object holding every operations service, built once by the composition root.

The REST API (`api/admin.py`) and the dashboard call the same methods:
`operations.kill_switch.{state,activate,deactivate}`, `operations.pausing.{status,pause,resume,
list_paused}`, `operations.replays.{rerun,replay}`, `operations.cancel_run`, and the read helpers
below.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mainspring.cancellation import Cancellations
from mainspring.clock import Clock
from mainspring.domain.durations import rfc3339
from mainspring.event_lists import EventLists
from mainspring.ingest import Ingest
from mainspring.operations.alerts import Alerts
from mainspring.operations.holds import Holds
from mainspring.operations.insights import Insights
from mainspring.operations.kill_switch import KillSwitch
from mainspring.operations.metrics import Metrics
from mainspring.operations.pausing import Pausing
from mainspring.operations.replays import Replays
from mainspring.operations.retention import Retention
from mainspring.operations.settings import OperationsConfig
from mainspring.operations.zombies import ZombieCheck, ZombieConfig
from mainspring.reads import Reads
from mainspring.run_lists import RunLists
from mainspring.store.base import Connector, Row, Tx
from mainspring.store.repos import operations as ops_repo
from mainspring.supervision import Component


class Operations:
    def __init__(
        self,
        connector: Connector,
        ingest: Ingest,
        reads: Reads,
        cancellations: Cancellations,
        clock: Clock,
        config: OperationsConfig | None = None,
        function_slugs: Callable[[], list[str]] = list,
        zombies: ZombieConfig | None = None,
        on_new_work: Callable[[], None] = lambda: None,
    ) -> None:
        self.config = config or OperationsConfig()
        self._function_slugs = function_slugs  # every synced function, for the health summary
        self.holds = Holds(connector)
        self.pausing = Pausing(ingest, self.holds, clock, connector)
        self.kill_switch = KillSwitch(ingest, self.holds, clock, connector)
        self.replays = Replays(ingest, clock)
        self.run_lists = RunLists(connector)
        self.event_lists = EventLists(connector)
        self.insights = Insights(connector, clock)
        self.alerts = Alerts(connector, self.config.alerts, clock)
        self.retention = Retention(connector, self.config.retention, clock)
        self.zombies = ZombieCheck(connector, clock, zombies or ZombieConfig(), on_new_work)
        self.metrics = Metrics(connector, clock, self.zombies.stats)
        self._connector = connector
        self._reads = reads
        self._cancellations = cancellations

    async def start(self) -> None:
        """Background parts: the held-state view, alert rules, retention, the zombie check."""
        await self.holds.start()
        self.alerts.start()
        self.retention.start()
        self.zombies.start()

    def components(self) -> list[Component]:
        """The supervised background rounds, for `/health`."""
        loops = (self.holds.rounds, self.alerts.rounds, self.retention.rounds, self.zombies.rounds)
        return [component for loop in loops for component in loop.components()]

    async def stop(self) -> None:
        await self.zombies.stop()
        await self.retention.stop()
        await self.alerts.stop()
        await self.holds.stop()

    async def health(self) -> dict[str, Any]:
        """The health summary plus alert states (`GET /v1/health`, the Operations page)."""
        window = self.config.alerts.window_ms
        summary = await self.insights.summary(window, self._function_slugs())
        alerts = await self.alerts.states()
        firing = [alert for alert in alerts if alert["state"] == "firing"]
        summary["alerts"] = alerts
        summary["status"] = "alerting" if firing else "ok"
        summary["zombies"] = self.zombies.summary()
        return summary

    async def cancel_run(self, run_id: str) -> str | None:
        """Cancel one run; its final status, or None for an unknown run."""
        return await self._cancellations.cancel_run(run_id)

    async def dead_letters(self, limit: int = 100) -> list[dict[str, Any]]:
        """Failed runs, newest first (the dead-letter list; replay them with `replays.replay`)."""
        return await self._reads.runs(status="Failed", limit=limit)

    def is_held(self, slug: str) -> bool:
        """Must `slug` make no new SDK call right now? (cheap; in-memory)."""
        return self.holds.is_held(slug)

    async def run_detail(self, run_id: str) -> dict[str, Any] | None:
        """The run view plus `original_run_id` / `replay_id` when it is a rerun, and `held`:
        true while its next call waits for a resume (paused function or kill switch)."""
        run = await self._reads.run(run_id)
        if run is None:
            return None

        def unit(tx: Tx) -> tuple[Row | None, bool]:
            return ops_repo.origin(tx, run_id), ops_repo.run_held(tx, run_id)

        origin, held = await self._connector.read(unit)
        run["original_run_id"] = origin["original_run_id"] if origin else None
        run["replay_id"] = origin["replay_id"] if origin else None
        run["held"] = held
        return run

    async def run_jobs(self, run_id: str) -> list[dict[str, Any]]:
        """Queue items of a run (`GET /v1/runs/{id}/jobs`); a held item shows `held: true`."""

        def unit(tx: Tx) -> list[dict[str, Any]]:
            return [
                {
                    "id": row["id"],
                    "kind": row["kind"],
                    "step_id": row["step_id"],
                    "step_name": row["step_name"],
                    "attempt": row["attempt"],
                    "held": row["available_at"] == ops_repo.PARKED_AT,
                    "available_at": None
                    if row["available_at"] == ops_repo.PARKED_AT
                    else rfc3339(row["available_at"]),
                    "leased": row["leased_by"] is not None,
                }
                for row in ops_repo.run_jobs(tx, run_id)
            ]

        return await self._connector.read(unit)
