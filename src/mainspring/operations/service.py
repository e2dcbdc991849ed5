"""One object holding every operations service, built once by the composition root.

The REST API (`api/admin.py`) and the dashboard call the same methods:
`operations.kill_switch.{state,activate,deactivate}`, `operations.pausing.{status,pause,resume,
list_paused}`, `operations.replays.{rerun,replay}`, `operations.cancel_run`, and the read helpers
below.
"""

from __future__ import annotations

from typing import Any

from mainspring.cancellation import Cancellations
from mainspring.clock import Clock
from mainspring.ingest import Ingest
from mainspring.operations.holds import Holds
from mainspring.operations.kill_switch import KillSwitch
from mainspring.operations.pausing import Pausing
from mainspring.operations.replays import Replays
from mainspring.reads import Reads
from mainspring.store.base import Connector


class Operations:
    def __init__(
        self,
        connector: Connector,
        ingest: Ingest,
        reads: Reads,
        cancellations: Cancellations,
        clock: Clock,
    ) -> None:
        self.holds = Holds(connector)
        self.pausing = Pausing(ingest, self.holds, clock)
        self.kill_switch = KillSwitch(ingest, self.holds, clock)
        self.replays = Replays(ingest, clock)
        self._reads = reads
        self._cancellations = cancellations

    async def cancel_run(self, run_id: str) -> str | None:
        """Cancel one run; its final status, or None for an unknown run."""
        return await self._cancellations.cancel_run(run_id)

    async def dead_letters(self, limit: int = 100) -> list[dict[str, Any]]:
        """Failed runs, newest first (the dead-letter list; replay them with `replays.replay`)."""
        return await self._reads.runs(status="Failed", limit=limit)

    def is_held(self, slug: str) -> bool:
        """Must `slug` make no new SDK call right now? (cheap; in-memory)."""
        return self.holds.is_held(slug)
