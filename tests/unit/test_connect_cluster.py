"""Forwarding between processes (connect/cluster.py) over an in-memory PubSub that delivers in
order to every other subscriber, as PostgreSQL's NOTIFY does; a message can be dropped."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from mainspring.connect import cluster as cluster_module
from mainspring.connect.cluster import Cluster
from mainspring.connect.hub import Hub, Worker
from mainspring.execution.driver import WorkerLost
from mainspring.protocol import connect as wire
from mainspring.supervision import Component


class Bus:
    def __init__(self) -> None:
        self.members: list[tuple[object, Callable[[bytes], None]]] = []
        self.drop: Callable[[bytes], bool] = lambda payload: False

    def member(self) -> MemoryPubSub:
        return MemoryPubSub(self)


class MemoryPubSub:
    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    async def publish(self, channel: str, payload: bytes) -> None:
        if self.bus.drop(payload):
            return
        for owner, callback in self.bus.members:
            if owner is not self:
                asyncio.get_running_loop().call_soon(callback, payload)

    def subscribe(self, channel: str, callback: Callable[[bytes], None]) -> None:
        self.bus.members.append((self, callback))

    def components(self) -> list[Component]:
        return []


class Sent(list[wire.ConnectMessage]):
    def __init__(self) -> None:
        super().__init__()
        self.arrived = asyncio.Event()


def _holder(bus: Bus) -> tuple[Cluster, Hub, Sent]:
    hub, sent = Hub(), Sent()

    async def send(data: bytes) -> None:
        sent.append(wire.unframe(data))
        sent.arrived.set()

    async def close() -> None:
        return None

    hub.add(Worker("c1", "w1", ("app",), "inngest-py:v0.5.19", None, send, close))
    return Cluster(hub, bus.member()), hub, sent


async def _answer(hub: Hub, sent: Sent) -> None:
    await sent.arrived.wait()
    request = wire.GatewayExecutorRequestData()
    request.ParseFromString(sent[-1].payload)
    body = b'"done"'
    hub.replied(
        wire.SDKResponse(
            request_id=request.request_id, status=wire.SDKResponseStatus.DONE, body=body
        )
    )


@pytest.fixture(autouse=True)
def fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cluster_module, "PRESENCE_S", 0.05)
    monkeypatch.setattr(cluster_module, "EXPIRY_S", 0.3)
    monkeypatch.setattr(cluster_module, "ACCEPT_S", 0.3)


async def _started(*clusters: Cluster) -> list[asyncio.Task[None]]:
    tasks = [c.start() for c in clusters]
    await asyncio.sleep(0.1)  # one presence round
    return tasks


async def test_a_call_is_forwarded_to_the_process_with_a_worker() -> None:
    bus = Bus()
    holder, hub, sent = _holder(bus)
    caller = Cluster(Hub(), bus.member())
    tasks = await _started(holder, caller)
    assert caller.serves("app") and not caller.serves("other")
    answering = asyncio.create_task(_answer(hub, sent))
    reply = await caller.forward(wire.GatewayExecutorRequestData(app_name="app"))
    assert (reply.status, reply.body) == (200, "done")
    await answering
    for task in tasks:
        task.cancel()


async def test_a_lost_reply_gives_the_call_back() -> None:
    bus = Bus()
    bus.drop = lambda payload: b'"t":"reply"' in payload
    holder, hub, sent = _holder(bus)
    caller = Cluster(Hub(), bus.member())
    tasks = await _started(holder, caller)
    answering = asyncio.create_task(_answer(hub, sent))
    with pytest.raises(WorkerLost, match="lost the reply"):
        await asyncio.wait_for(caller.forward(wire.GatewayExecutorRequestData(app_name="app")), 2)
    await answering
    for task in tasks:
        task.cancel()


async def test_a_silent_holder_gives_the_call_back() -> None:
    bus = Bus()
    holder, _, sent = _holder(bus)
    caller = Cluster(Hub(), bus.member())
    tasks = await _started(holder, caller)
    forwarding = asyncio.create_task(
        caller.forward(wire.GatewayExecutorRequestData(app_name="app"))
    )
    await sent.arrived.wait()
    tasks[0].cancel()  # the holder process stops announcing itself (it died)
    with pytest.raises(WorkerLost, match="went silent"):
        await asyncio.wait_for(forwarding, 2)
    tasks[1].cancel()


async def test_no_process_with_a_worker_is_lost_at_once() -> None:
    caller = Cluster(Hub(), Bus().member())
    with pytest.raises(WorkerLost, match="no process"):
        await caller.forward(wire.GatewayExecutorRequestData(app_name="app"))
