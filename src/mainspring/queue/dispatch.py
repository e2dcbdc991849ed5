"""The queue's dispatch table: which handler runs an item of each kind.

Built once at start-up from the services that handle items and handed to the worker; every
`Kind` must have a handler, checked here rather than discovered at the first item of a kind.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING

from mainspring.domain.queue import Kind, QueueItem

if TYPE_CHECKING:  # the handlers' owners, named for the table only
    from mainspring.execution.executor import Executor
    from mainspring.queue.scheduler import Scheduler
    from mainspring.queue.timers import Timers

Handler = Callable[[QueueItem], Awaitable[None]]


class Dispatch:
    def __init__(self, handlers: Mapping[Kind, Handler]) -> None:
        missing = sorted(kind.value for kind in Kind if kind not in handlers)
        if missing:
            raise ValueError(f"no handler for queue item kinds: {', '.join(missing)}")
        self._handlers = dict(handlers)

    async def __call__(self, item: QueueItem) -> None:
        await self._handlers[item.kind](item)


def build(executor: Executor, timers: Timers, cron: Scheduler) -> Dispatch:
    """The table: SDK calls to the executor, items that are only time to the timers, cron
    slots to the scheduler."""
    return Dispatch(
        {
            Kind.CALL: executor.process,
            Kind.SLEEP: executor.process,
            Kind.PAUSE_TIMEOUT: timers.pause_timeout,
            Kind.RUN_TIMEOUT: timers.run_timeout,
            Kind.CRON: cron.fire,
            Kind.FLOW_FIRE: timers.flow_fire,
        }
    )
