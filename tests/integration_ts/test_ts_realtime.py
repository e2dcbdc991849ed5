"""Realtime through the TypeScript SDK (npm `inngest` 4.24.0), in dev mode: a function
publishes 100 messages (`step.realtime.publish`, or the client's `realtime.publish` inside a
step) and a subscriber receives all of them in order, through the SDK's own `subscribe`
(WebSocket) or through SSE with a token from the SDK's `getSubscriptionToken`.
Across two processes on PostgreSQL: tests/integration_ts/test_ts_cluster.py."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from integration.realtime_clients import SseSubscriber

from .node_subscriber import NodeSubscriber
from .ts_harness import TsStack

COUNT = 100


def received_in_order(
    ts_url: str, api_trigger: TsStack, transport: str, via: str, log_dir: Path
) -> None:
    channel = uuid.uuid4().hex[:10]
    subscriber = NodeSubscriber(
        ts_url, f"progress:{channel}", count=COUNT, transport=transport, log_dir=log_dir
    )
    try:
        subscriber.wait_ready()
        run = api_trigger.api.trigger_and_wait(
            "ts/realtime.publish", {"channel": channel, "count": COUNT, "via": via}, timeout=120
        )
        assert run["output"] == {"published": COUNT}, run
        got = subscriber.messages(timeout=30)
    finally:
        subscriber.stop()
    assert [m["data"] for m in got] == [{"i": i, "of": COUNT} for i in range(COUNT)]
    assert {(m["kind"], m["topic"], m["runId"]) for m in got} == {("data", "tick", run["run_id"])}


@pytest.mark.parametrize(
    ("transport", "via"), [("ws", "step"), ("sse", "client")], ids=["ws-step", "sse-client"]
)
def test_an_sdk_subscriber_receives_every_message_in_order(
    ts: TsStack, transport: str, via: str, tmp_path: Path
) -> None:
    received_in_order(ts.stack.server.url, ts, transport, via, tmp_path)


def test_publish_steps_are_memoized_steps(ts: TsStack) -> None:
    """`step.realtime.publish` is a planned step: run once, its data memoized as its output."""
    channel = uuid.uuid4().hex[:10]
    run = ts.api.trigger_and_wait(
        "ts/realtime.publish", {"channel": channel, "count": 3, "via": "step"}, timeout=60
    )
    steps = ts.api.run_steps(str(run["run_id"]))
    outputs = sorted((s.get("name"), s.get("output")) for s in steps)
    assert [name for name, _ in outputs] == ["tick-0", "tick-1", "tick-2"], steps
    assert [output for _, output in outputs] == [{"i": i, "of": 3} for i in range(3)], steps


def test_dev_mode_subscribes_by_channel_and_topic_without_a_token(ts: TsStack) -> None:
    url, channel = ts.stack.server.url, uuid.uuid4().hex[:10]
    sse = SseSubscriber(url, {"channel": f"progress:{channel}", "topic": ["tick", "other"]})
    assert sse.status == 200
    ts.api.trigger_and_wait(
        "ts/realtime.publish", {"channel": channel, "count": 2, "topic": "other", "via": "client"}
    )
    events = sse.events(2, timeout=10)
    assert [(e["data"]["topic"], e["data"]["data"]["i"]) for e in events] == [
        ("other", 0),
        ("other", 1),
    ]
    sse.close()
    refused = httpx.get(f"{url}/v1/realtime/sse", params={"channel": "c"})
    assert refused.status_code == 401 and "topic" in refused.json()["error"]
