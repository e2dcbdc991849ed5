"""The queue's dispatch table: which handler runs an item of each kind.

Built once at start-up from the services that handle items and handed to the worker; every
`Kind` must have a handler, checked here rather than discovered at the first item of a kind.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from mainspring.domain.queue import Kind, QueueItem

Handler = Callable[[QueueItem], Awaitable[None]]


class Dispatch:
    def __init__(self, handlers: Mapping[Kind, Handler]) -> None:
        missing = sorted(kind.value for kind in Kind if kind not in handlers)
        if missing:
            raise ValueError(f"no handler for queue item kinds: {', '.join(missing)}")
        self._handlers = dict(handlers)

    async def __call__(self, item: QueueItem) -> None:
        await self._handlers[item.kind](item)
