"""The Connect hub's decisions: which worker takes a call, what a reply means, when a call is
lost; session tokens. In-process, with workers whose `send` records what the gateway sent."""

from __future__ import annotations

import asyncio

import pytest

from mainspring.connect import routes
from mainspring.connect.hub import Hub, Worker, to_reply
from mainspring.connect.session import register_body, sdk_name
from mainspring.connect.tokens import Tokens
from mainspring.execution.driver import WorkerLost
from mainspring.protocol import connect as wire


class Sent(list[wire.ConnectMessage]):
    """What the gateway sent one worker; `arrived` is set at each message."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived = asyncio.Event()


def _worker(
    name: str, capacity: int | None = None, any_sent: asyncio.Event | None = None
) -> tuple[Worker, Sent]:
    sent = Sent()

    async def send(data: bytes) -> None:
        sent.append(wire.unframe(data))
        sent.arrived.set()
        if any_sent is not None:
            any_sent.set()

    async def close() -> None:
        return None

    worker = Worker(name, name, ("app",), "inngest-py:v0.5.19", capacity, send, close)
    return worker, sent


def _request() -> wire.GatewayExecutorRequestData:
    return wire.GatewayExecutorRequestData(app_name="app", function_slug="app-fn", step_id="step")


async def _sent_request(sent: Sent) -> wire.GatewayExecutorRequestData:
    await sent.arrived.wait()
    request = wire.GatewayExecutorRequestData()
    request.ParseFromString(sent[-1].payload)
    return request


async def test_a_call_goes_to_the_least_busy_worker_and_returns_its_reply() -> None:
    hub, any_sent = Hub(), asyncio.Event()
    busy, busy_sent = _worker("busy", any_sent=any_sent)
    idle, idle_sent = _worker("idle", any_sent=any_sent)
    hub.add(busy)
    hub.add(idle)
    first = asyncio.create_task(hub.call(_request()))
    await any_sent.wait()
    second = asyncio.create_task(hub.call(_request()))
    await asyncio.sleep(0.01)
    assert len(busy_sent) == 1 and len(idle_sent) == 1  # one each: fair
    for sent in (busy_sent, idle_sent):
        request = await _sent_request(sent)
        body = b'[{"op": "StepRun", "id": "x"}]'
        reply = wire.SDKResponse(
            request_id=request.request_id, status=wire.SDKResponseStatus.NOT_COMPLETED, body=body
        )
        assert hub.replied(reply)
    for task in (first, second):
        reply = await task
        assert reply.status == 206 and reply.from_sdk and reply.sdk == "inngest-py:v0.5.19"
        assert reply.body == [{"op": "StepRun", "id": "x"}]


async def test_a_worker_leaving_loses_its_calls() -> None:
    hub = Hub()
    worker, sent = _worker("w")
    hub.add(worker)
    call = asyncio.create_task(hub.call(_request()))
    await _sent_request(sent)
    hub.remove(worker, "disconnected")
    with pytest.raises(WorkerLost, match="disconnected"):
        await call
    assert not worker.in_flight


async def test_no_worker_of_the_app_is_lost_at_once() -> None:
    with pytest.raises(WorkerLost, match="no connect worker"):
        await Hub().call(_request())


async def test_a_paused_worker_gets_no_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("mainspring.connect.hub.FREE_WORKER_WAIT_S", 0.05)
    hub = Hub()
    worker, _ = _worker("w", capacity=0)
    hub.add(worker)
    with pytest.raises(WorkerLost, match="busy"):
        await hub.call(_request())


def test_replies_read_as_the_http_path_would() -> None:
    done = wire.SDKResponse(status=wire.SDKResponseStatus.DONE, body=b'"ok"')
    assert (to_reply(done, "s").status, to_reply(done, "s").body) == (200, "ok")
    error = wire.SDKResponse(status=wire.SDKResponseStatus.ERROR, body=b"{}", retry_after="5")
    assert (to_reply(error, "s").status, to_reply(error, "s").retry_after) == (500, "5")
    fatal = wire.SDKResponse(status=wire.SDKResponseStatus.DONE, body=b"{}", no_retry=True)
    assert to_reply(fatal, "s").status == 400  # the TypeScript SDK's NonRetriableError


def test_tokens_are_bound_to_the_connection_and_expire() -> None:
    tokens = Tokens("signkey-test-abc")
    token = tokens.issue("conn-1", now=1000)
    assert tokens.valid("conn-1", token, now=1001)
    assert not tokens.valid("conn-2", token, now=1001)
    assert not tokens.valid("conn-1", token, now=1000 + 301)
    assert not Tokens("signkey-test-other").valid("conn-1", token, now=1001)


def test_a_connected_app_syncs_as_a_register_body() -> None:
    app = wire.pb.AppConfiguration(
        app_name="billing",
        functions=b'[{"id": "billing-charge", "steps": {"step": {"runtime": '
        b'{"type": "ws", "url": "wss://connect?fnId=billing-charge&stepId=step"}}}}]',
    )
    body = register_body(app, sdk_name("py", "0.5.19"))
    url = body["functions"][0]["steps"]["step"]["runtime"]["url"]
    assert routes.is_connect(url) and routes.target(url) == ("billing", "billing-charge")
    assert body["url"] == "wss://connect/billing" and body["sdk"] == "inngest-py:v0.5.19"
