"""One object holding every operations service, built once by the composition root.

The REST API (`api/admin.py`) and the dashboard call the same methods:
`operations.kill_switch.{state,activate,deactivate}`, `operations.pausing.{status,pause,resume,
list_paused}`, `operations.replays.{rerun,replay}`, `operations.cancel_run` and `health`. Runs,
events and their lists are read through `reads.Reads`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mainspring.clock import Clock
from mainspring.ingest import Ingest
from mainspring.ingest.cancellation import Cancellations
from mainspring.operations.alerts import Alerts
from mainspring.operations.holds import Holds
from mainspring.operations.insights import Insights
from mainspring.operations.kill_switch import KillSwitch
from mainspring.operations.metrics import Metrics
from mainspring.operations.pausing import Pausing
from mainspring.operations.replays import Replays
from mainspring.operations.retention import Retention
from mainspring.operations.rollups import Rollups
from mainspring.operations.settings import OperationsConfig
from mainspring.operations.stats import Stats
from mainspring.operations.zombies import ZombieCheck, ZombieConfig
from mainspring.store.base import Connector
from mainspring.supervision import Component


class Operations:
    def __init__(
        self,
        connector: Connector,
        ingest: Ingest,
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
        self.insights = Insights(connector, clock)
        self.alerts = Alerts(connector, self.config.alerts, clock, self.config.environment)
        self.retention = Retention(connector, self.config.retention, clock)
        self.rollups = Rollups(connector, clock, self.config.retention.rollup_interval_ms)
        self.stats = Stats(connector, clock)
        self.zombies = ZombieCheck(connector, clock, zombies or ZombieConfig(), on_new_work)
        self.metrics = Metrics(connector, clock, self.zombies.stats)
        self._connector = connector
        self._cancellations = cancellations

    async def start(self) -> None:
        """Background parts: the held-state view, alert rules, retention, the zombie check."""
        await self.holds.start()
        self.alerts.start()
        self.retention.start()
        if self.config.retention.rollup_interval_ms > 0:
            self.rollups.start()
        self.zombies.start()

    def components(self) -> list[Component]:
        """The supervised background rounds, for `/health`."""
        loops = (
            self.holds.rounds,
            self.alerts.rounds,
            self.retention.rounds,
            self.rollups.rounds,
            self.zombies.rounds,
        )
        return [component for loop in loops for component in loop.components()]

    async def stop(self) -> None:
        await self.zombies.stop()
        await self.rollups.stop()
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

    def is_held(self, slug: str) -> bool:
        """Must `slug` make no new SDK call right now? (cheap; in-memory)."""
        return self.holds.is_held(slug)
