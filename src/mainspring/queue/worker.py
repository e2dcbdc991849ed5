"""The worker: lease due items, run them concurrently up to a bound, sleep until the next is due.

Wake-ups are never lost: the wake flag is cleared *before* leasing, so a notification that
arrives while a lease query runs makes the next wait return at once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import Counter
from collections.abc import Awaitable, Callable

from mainspring.clock import Clock
from mainspring.domain.ids import new_ulid
from mainspring.domain.queue import Kind, QueueItem
from mainspring.queue.holds import hold_leased
from mainspring.store.base import Connector, Tx
from mainspring.store.repos import flow as flow_repo
from mainspring.store.repos import queue as queue_repo
from mainspring.store.repos import runs as runs_repo
from mainspring.supervision import Component, start_supervised

log = logging.getLogger("mainspring.worker")
IDLE_WAIT_S = 60.0
# While due items are held back by a concurrency limit, look again this often: a slot freed by
# another process is not announced (one freed here wakes the loop at once).
BLOCKED_RECHECK_S = 0.2
# Kinds whose handler (the executor) starts by reading the run: read in the lease's transaction.
READS_RUN = frozenset({Kind.CALL, Kind.SLEEP})


class Worker:
    def __init__(
        self,
        connector: Connector,
        clock: Clock,
        *,
        max_in_flight: int,
        lease_ms: int,
    ) -> None:
        self._connector = connector
        self._handler: Callable[[QueueItem], Awaitable[None]] | None = None
        self._clock = clock
        self._max_in_flight = max_in_flight
        self._lease_ms = lease_ms
        self._owner = new_ulid()
        self._wake = asyncio.Event()
        self._next_due: int | None = None
        self._blocked = False
        self._in_flight: dict[str, asyncio.Task[None]] = {}
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []
        self._leasing = Component("worker-lease")
        self._renewing = Component("worker-heartbeat")

    def components(self) -> list[Component]:
        return [self._leasing, self._renewing] if self._tasks else []

    def notify(self, at: int | None = None) -> None:
        """New work exists, due at `at` (now if None)."""
        if at is None or self._next_due is None or at < self._next_due:
            self._wake.set()

    async def start(self, handler: Callable[[QueueItem], Awaitable[None]]) -> None:
        """Begin leasing; each item goes to `handler` (the dispatch table, `queue.dispatch`).
        Built before the services that announce work (they take `notify`), started after."""
        self._handler = handler
        if self._connector.exclusive:
            now = self._clock()
            released = await self._connector.write(
                lambda tx: queue_repo.release_all_leases(tx, now)
            )
            if released:
                log.info("resumed %d queue items left by a previous process", released)
        self._tasks = [
            start_supervised(self._leasing, self._lease_loop),
            start_supervised(self._renewing, self._heartbeat_loop),
        ]

    async def stop(self, timeout_s: float) -> None:
        """Stop leasing; give in-flight items up to `timeout_s` to finish."""
        self._stopping = True
        self._wake.set()
        pending = list(self._in_flight.values())
        if pending:
            log.info("waiting for %d in-flight calls to finish", len(pending))
            _, still_running = await asyncio.wait(pending, timeout=timeout_s)
            for task in still_running:
                task.cancel()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    async def _lease_loop(self) -> None:
        while not self._stopping:
            self._wake.clear()
            free = self._max_in_flight - len(self._in_flight)
            if free > 0:
                items, next_due = await self._lease(free)
                for item in items:
                    self._spawn(item)
                if len(items) == free:
                    continue
                self._next_due = next_due
            timeout = IDLE_WAIT_S
            if self._next_due is not None and free > 0:
                timeout = max(0.0, min(IDLE_WAIT_S, (self._next_due - self._clock()) / 1000))
            if self._blocked and free > 0:
                timeout = min(timeout, BLOCKED_RECHECK_S)
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                pass

    async def _lease(self, limit: int) -> tuple[list[QueueItem], int | None]:
        now = self._clock()
        owner, lease_until = self._owner, now + self._lease_ms

        def unit(tx: Tx) -> flow_repo.Leased:
            leased = flow_repo.lease(tx, owner=owner, now=now, lease_until=lease_until, limit=limit)
            # Paused functions / kill switch: their calls are parked, not run.
            return dataclasses.replace(leased, items=with_states(tx, hold_leased(tx, leased.items)))

        self._leasing.busy()
        try:
            leased = await self._connector.write_aside(unit)
        except Exception as exc:
            self._leasing.idle()
            self._leasing.down(f"leasing failed: {exc}")
            log.warning("leasing failed (%s); retrying in 1 s", exc, exc_info=True)
            await asyncio.sleep(1)
            return [], self._clock()  # due now: lease again at once, not after the idle wait
        self._leasing.idle()
        self._leasing.up()
        self._blocked = leased.blocked
        return leased.items, leased.next_due

    def _spawn(self, item: QueueItem) -> None:
        task = asyncio.create_task(self._run_item(item), name=f"mainspring-item-{item.id}")
        self._in_flight[item.id] = task

    async def _run_item(self, item: QueueItem) -> None:
        assert self._handler is not None, "leasing starts only after start(handler)"
        try:
            await self._handler(item)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception(
                "processing %s of run %s failed; it will be retried", item.kind, item.run_id
            )
        finally:
            was_full = len(self._in_flight) >= self._max_in_flight
            self._in_flight.pop(item.id, None)
            if was_full or self._blocked:  # a slot of a limited key may have been freed
                self._wake.set()

    async def _heartbeat_loop(self) -> None:
        interval = self._lease_ms / 3000
        while True:
            await asyncio.sleep(interval)
            ids = list(self._in_flight)
            if not ids:
                self._renewing.up()  # nothing to renew is nothing failing
                continue
            self._renewing.busy()
            try:
                await self._renew(ids)
            except Exception as exc:
                self._renewing.down(f"renewing leases failed: {exc}")
                log.warning("renewing leases failed (%s)", exc, exc_info=True)
            else:
                self._renewing.up()
            finally:
                self._renewing.idle()

    async def _renew(self, ids: list[str]) -> None:
        until = self._clock() + self._lease_ms
        await self._connector.write(lambda tx: queue_repo.renew_leases(tx, self._owner, ids, until))


def with_states(tx: Tx, items: list[QueueItem]) -> list[QueueItem]:
    """The items, each call and sleep with its run's state read here, in one statement for all
    (instead of one read per item on the reader thread after the lease: a thread hop, a read
    transaction, on SQLite a page cache the writer's commits keep dropping, on PostgreSQL a
    round trip). A run with two items in the lease gets none: the executor mutates its state."""
    wanted = Counter(item.run_id for item in items if item.kind in READS_RUN)
    once = {run_id for run_id, n in wanted.items() if n == 1}
    if not once:
        return items
    states = runs_repo.load_states(tx, sorted(once))
    return [
        dataclasses.replace(item, state=states.get(item.run_id))
        if item.kind in READS_RUN and item.run_id in once
        else item
        for item in items
    ]
