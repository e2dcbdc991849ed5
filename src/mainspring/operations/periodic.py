"""A background round repeated at a fixed interval (alerts, retention, hold refreshes)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from mainspring import errors
from mainspring.supervision import Component, start_supervised

log = logging.getLogger("mainspring.operations")


class Periodic:
    """Runs `round_` every `interval_s` until stopped. A round that fails is logged and the next
    one comes as usual: a database outage (`StoreError`) or a bug must not end the loop."""

    def __init__(
        self,
        name: str,
        round_: Callable[[], Awaitable[object]],
        interval_s: float,
        *,
        wait_first: bool = False,
    ) -> None:
        self._name = name
        self._round = round_
        self._interval_s = interval_s
        self._wait_first = wait_first
        self._task: asyncio.Task[None] | None = None
        # A round may take a while (retention deletes in chunks); one stuck for minutes is not.
        self.component = Component("periodic-" + name.replace(" ", "-"), deadline_s=300.0)

    def start(self) -> None:
        self._task = start_supervised(self.component, self._loop)

    def components(self) -> list[Component]:
        """Watched only once started (retention may be switched off)."""
        return [] if self._task is None else [self.component]

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _loop(self) -> None:
        if self._wait_first:
            await asyncio.sleep(self._interval_s)
        while True:
            self.component.busy()
            try:
                await self._round()
            except errors.StoreError as exc:
                log.warning("%s skipped: %s", self._name, exc)
            except Exception:
                log.exception("%s failed", self._name)
            finally:
                self.component.idle()
            await asyncio.sleep(self._interval_s)
