"""The workers connected to this process, and the step calls in flight on them.

A call picks a worker of the app with free capacity (`maxWorkerConcurrency`; none means no cap),
the one with the fewest calls in flight, and among equals the one picked longest ago, so load
spreads fairly (idle workers take turns rather than the first one taking every call). The call
waits for the worker's WORKER_REPLY; it fails with `WorkerLost` (the queue item goes back, no
attempt counted) when the worker closes, stops heartbeating, or neither acknowledges nor
extends the request in time.
While the call is awaited the queue worker of this process keeps the item's lease renewed, so no
other process takes it: a request is never live on two workers at once.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from ulid import ULID

from mainspring.domain.durations import rfc3339
from mainspring.execution.driver import Reply, WorkerLost
from mainspring.protocol import connect as wire

HEARTBEAT_S = 10  # what GATEWAY_CONNECTION_READY tells workers
EXTEND_LEASE_S = 5
MISSED_HEARTBEATS = 3  # a worker silent this many intervals is gone
ACK_TIMEOUT_S = 10.0  # a request neither acknowledged nor extended for this long is lost
FREE_WORKER_WAIT_S = 2.0  # how long a call waits for a free worker before going back
STATUS_S = 5  # WORKER_STATUS interval asked of the SDKs that report it (the TypeScript one)
GONE_KEPT = 100  # disconnected workers remembered for `workerConnections`
_STATUS = {wire.SDKResponseStatus.DONE: 200, wire.SDKResponseStatus.NOT_COMPLETED: 206}


@dataclass(eq=False)
class Worker:
    """One WebSocket connection of an SDK worker."""

    connection_id: str
    instance_id: str
    apps: tuple[str, ...]
    sdk: str  # "inngest-py:v0.5.19", as the HTTP path's X-Inngest-SDK
    capacity: int | None
    send: Callable[[bytes], Awaitable[None]]
    close: Callable[[], Awaitable[None]]
    connected_at: float = field(default_factory=time.time)
    last_seen: float = field(default_factory=time.monotonic)
    last_heartbeat: float = field(default_factory=time.time)
    in_flight: dict[str, _Pending] = field(default_factory=dict)
    details: WorkerDetails = field(default_factory=lambda: WorkerDetails())
    status: str = "READY"  # READY, DRAINING (paused or shutting down), DISCONNECTED
    disconnected_at: float | None = None
    disconnect_reason: str | None = None
    reported_in_flight: int | None = None  # the SDK's own count (WORKER_STATUS)
    reported_at: float | None = None
    last_picked: int = 0  # the hub's pick counter when this worker was last given a call

    def free(self) -> bool:
        return self.capacity is None or len(self.in_flight) < self.capacity

    def drain(self) -> None:
        """No new calls (WORKER_PAUSE, a shutdown the SDK reported, GATEWAY_CLOSING); the ones
        it holds finish."""
        self.capacity = 0
        self.status = "DRAINING"


@dataclass(frozen=True)
class WorkerDetails:
    """What WORKER_CONNECT said about the worker beyond routing (shown by `workerConnections`)."""

    gateway_id: str = ""
    ip: str = ""
    max_concurrency: int = 0  # as sent; 0 when the worker set none
    sdk_language: str = ""
    sdk_version: str = ""
    platform: str = ""
    cpu_cores: int = 0
    mem_bytes: int = 0
    os: str = ""
    app_versions: dict[str, str] = field(default_factory=dict)
    function_counts: dict[str, int] = field(default_factory=dict)
    group_hashes: dict[str, str] = field(default_factory=dict)


@dataclass(eq=False)
class _Pending:
    worker: Worker
    future: asyncio.Future[Reply]
    touched: float = field(default_factory=time.monotonic)


class Hub:
    def __init__(self) -> None:
        self._workers: dict[str, Worker] = {}
        self._pending: dict[str, _Pending] = {}
        self._freed = asyncio.Event()
        self._joined = asyncio.Event()  # replaced after each join: waiters see the next one
        self._picks = itertools.count(1)
        self._gone: deque[Worker] = deque(maxlen=GONE_KEPT)
        self.changed = asyncio.Event()  # a worker joined or left (the cluster announces it)

    # --- workers -------------------------------------------------------------------------

    def add(self, worker: Worker) -> None:
        self._workers[worker.connection_id] = worker
        self._freed.set()
        self.changed.set()
        self._joined.set()
        self._joined = asyncio.Event()

    def remove(self, worker: Worker, reason: str) -> None:
        """The worker is gone: each call it held goes back to the queue."""
        if self._workers.get(worker.connection_id) is worker:
            del self._workers[worker.connection_id]
            self.changed.set()
            worker.status, worker.disconnect_reason = "DISCONNECTED", reason
            worker.disconnected_at = time.time()
            self._gone.append(worker)
        for request_id, pending in list(worker.in_flight.items()):
            self._drop(request_id, pending, f"connect worker {worker.instance_id} {reason}")

    def workers(self) -> list[Worker]:
        return list(self._workers.values())

    def recent(self) -> list[Worker]:
        """The workers connected now, then the last GONE_KEPT that left (newest first)."""
        return [*self._workers.values(), *reversed(self._gone)]

    async def wait_for_worker(self, app_name: str, timeout_s: float) -> bool:
        """Whether a worker of the app is connected here, waiting up to `timeout_s` for one."""
        deadline = time.monotonic() + timeout_s
        while not self.serves(app_name):
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                await asyncio.wait_for(self._joined.wait(), left)
            except TimeoutError:
                return False
        return True

    def reported(self, worker: Worker, in_flight: list[str], shutting_down: bool) -> None:
        """WORKER_STATUS: the SDK's view. The requests it lists are held (as an extension
        would say); a worker shutting down gets no new calls."""
        worker.reported_in_flight, worker.reported_at = len(in_flight), time.time()
        for request_id in in_flight:
            pending = worker.in_flight.get(request_id)
            if pending is not None:
                pending.touched = time.monotonic()
        if shutting_down:
            worker.drain()

    def serves(self, app_name: str) -> bool:
        return any(app_name in worker.apps for worker in self._workers.values())

    def seen(self, worker: Worker, heartbeat: bool = False) -> None:
        worker.last_seen = time.monotonic()
        if heartbeat:
            worker.last_heartbeat = time.time()

    # --- calls ---------------------------------------------------------------------------

    async def call(self, request: wire.GatewayExecutorRequestData) -> Reply:
        """Send one step call to a worker of `request.app_name` and await its reply."""
        worker = await self._pick(request.app_name)
        request.request_id = str(ULID())
        request.lease_id = request.request_id
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        pending = _Pending(worker, future)
        worker.in_flight[request.request_id] = pending
        self._pending[request.request_id] = pending
        try:
            await worker.send(
                wire.frame(wire.Kind.GATEWAY_EXECUTOR_REQUEST, request.SerializeToString())
            )
            return await future
        except WorkerLost:
            raise
        except Exception as exc:
            raise WorkerLost(f"connect worker {worker.instance_id}: {exc!r}") from None
        finally:
            self._forget(request.request_id, pending)

    async def _pick(self, app_name: str) -> Worker:
        deadline = time.monotonic() + FREE_WORKER_WAIT_S
        while True:
            candidates = [w for w in self._workers.values() if app_name in w.apps]
            free = [w for w in candidates if w.free()]
            if free:
                worker = min(free, key=lambda w: (len(w.in_flight), w.last_picked))
                worker.last_picked = next(self._picks)
                return worker
            if not candidates:
                raise WorkerLost(f"no connect worker of app {app_name} is connected here")
            left = deadline - time.monotonic()
            if left <= 0:
                raise WorkerLost(f"every connect worker of app {app_name} is busy")
            self._freed.clear()
            try:
                await asyncio.wait_for(self._freed.wait(), left)
            except TimeoutError:
                pass

    def acked(self, request_id: str) -> bool:
        """WORKER_REQUEST_ACK or EXTEND_LEASE: the worker still holds the request."""
        pending = self._pending.get(request_id)
        if pending is None:
            return False
        pending.touched = time.monotonic()
        return True

    def replied(self, reply: wire.SDKResponse) -> bool:
        pending = self._pending.get(reply.request_id)
        if pending is None or pending.future.done():
            return False
        pending.future.set_result(to_reply(reply, pending.worker.sdk))
        return True

    def sweep(self) -> list[Worker]:
        """Fail requests no one holds any more; the workers that stopped heartbeating."""
        now = time.monotonic()
        for request_id, pending in list(self._pending.items()):
            if now - pending.touched > ACK_TIMEOUT_S:
                self._drop(request_id, pending, "stopped extending its request")
        limit = HEARTBEAT_S * MISSED_HEARTBEATS
        return [w for w in self._workers.values() if now - w.last_seen > limit]

    def _drop(self, request_id: str, pending: _Pending, reason: str) -> None:
        if not pending.future.done():
            pending.future.set_exception(WorkerLost(reason))
        self._forget(request_id, pending)

    def _forget(self, request_id: str, pending: _Pending) -> None:
        if self._pending.get(request_id) is pending:
            del self._pending[request_id]
        if pending.worker.in_flight.pop(request_id, None) is not None:
            self._freed.set()


def worker_view(worker: Worker) -> dict[str, Any]:
    """A worker as the API and the Apps page show it."""
    reported = worker.reported_at
    return {
        "connection_id": worker.connection_id,
        "instance_id": worker.instance_id,
        "apps": list(worker.apps),
        "sdk": worker.sdk,
        "connected_at": rfc3339(int(worker.connected_at * 1000)),
        "last_heartbeat_at": rfc3339(int(worker.last_heartbeat * 1000)),
        "in_flight": len(worker.in_flight),
        "capacity": worker.capacity,
        "status": worker.status,
        "reported_in_flight": worker.reported_in_flight,
        "reported_at": None if reported is None else rfc3339(int(reported * 1000)),
    }


def to_reply(response: wire.SDKResponse, sdk: str) -> Reply:
    """The SDK's answer as the HTTP path would have read it (the same JSON body)."""
    raw = bytes(response.body)
    try:
        body = orjson.loads(raw) if raw.strip() else None
    except orjson.JSONDecodeError:
        body = {"message": raw[:2000].decode(errors="replace")}
    status = _STATUS.get(response.status, 500)
    if status == 200 and response.no_retry:
        # The TypeScript SDK reports its 400 (a NonRetriableError ending the function) as DONE
        # with no_retry: the HTTP path reads that answer as a failure, and so do we.
        status = 400
    return Reply(
        status=status,
        body=body,
        from_sdk=True,
        no_retry=response.no_retry,
        retry_after=response.retry_after if response.HasField("retry_after") else None,
        request_version=response.request_version,
        sdk=sdk,
    )
