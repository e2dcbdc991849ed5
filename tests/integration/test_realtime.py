"""Realtime in production mode (`mainspring start`): who may publish and subscribe, token scope
and expiry, fan-out, late subscribers, slow subscribers, and the Python SDK's experimental
publish and token helpers. The TypeScript SDK's side is tests/integration_ts/test_ts_realtime.py.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest

from .production import CloudStack, bearer, new_signing_key, running_cloud_stack
from .realtime_clients import SseSubscriber, WsSubscriber

TOKEN_KEY_LABEL = b"mainspring realtime subscription tokens v1"  # docs/realtime.md


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudStack]:
    with running_cloud_stack(
        tmp_path_factory.mktemp("realtime"),
        "realtime_app",
        functions=2,
        signing_key=new_signing_key(),
    ) as stack:
        yield stack


def _channel() -> str:
    return f"ch-{uuid.uuid4().hex[:8]}"


def _sdk(cloud: CloudStack) -> dict[str, str]:
    return bearer(cloud.server.signing_key)


def _publish(cloud: CloudStack, channel: str, topic: str, data: Any) -> httpx.Response:
    return httpx.post(
        f"{cloud.server.url}/v1/realtime/publish",
        params={"channel": channel, "topic": topic},
        json=data,
        headers=_sdk(cloud),
        timeout=10,
    )


def _token(cloud: CloudStack, pairs: list[tuple[str, str]]) -> str:
    resp = httpx.post(
        f"{cloud.server.url}/v1/realtime/token",
        json=[{"channel": c, "name": t, "kind": "run"} for c, t in pairs],
        headers=_sdk(cloud),
        timeout=10,
    )
    assert resp.status_code == 201, resp.text
    return str(resp.json()["jwt"])


def _minted(signing_key: str, pairs: list[tuple[str, str]], *, exp_in: int) -> str:
    """A token made the documented way: HS256 keyed with HMAC-SHA256(signing key, label)."""
    key = hmac.new(bytes.fromhex(signing_key.split("-")[-1]), TOKEN_KEY_LABEL, hashlib.sha256)
    now = int(time.time())
    claims = {
        "iss": "mainspring/realtime",
        "iat": now - 120,
        "exp": now + exp_in,
        "topics": [{"kind": "run", "channel": c, "name": t} for c, t in pairs],
    }
    return jwt.encode(claims, key.digest(), algorithm="HS256")


def test_publishing_and_tokens_need_the_signing_key(cloud: CloudStack) -> None:
    url = cloud.server.url
    for headers in ({}, bearer(new_signing_key()), {"Authorization": "Bearer nope"}):
        resp = httpx.post(
            f"{url}/v1/realtime/publish",
            params={"channel": "c", "topic": "t"},
            json={"x": 1},
            headers=headers,
        )
        assert resp.status_code == 401 and resp.json()["status"] == 401, resp.text
        resp = httpx.post(f"{url}/v1/realtime/token", json=[{"channel": "c", "name": "t"}])
        assert resp.status_code == 401, resp.text
    assert _publish(cloud, "c", "t", {"x": 1}).status_code == 200
    bad = httpx.post(f"{url}/v1/realtime/token", json={"channel": "c"}, headers=_sdk(cloud))
    assert bad.status_code == 400 and bad.json()["field"] == "body"


def test_subscribing_needs_a_valid_unexpired_token(cloud: CloudStack) -> None:
    url, key = cloud.server.url, cloud.server.signing_key
    pairs = [("c", "t")]
    cases = {
        "no token": ({"channel": "c", "topic": "t"}, "token is required"),
        "garbage": ({"token": "not-a-jwt"}, "invalid subscription token"),
        "expired": ({"token": _minted(key, pairs, exp_in=-30)}, "expired"),
        "other key": ({"token": _minted(new_signing_key(), pairs, exp_in=60)}, "signature"),
    }
    for name, (query, words) in cases.items():
        sse = SseSubscriber(url, dict(query))
        assert sse.status == 401, name
        assert words in sse.body_json()["error"] and sse.body_json()["code"] == "unauthorized"
        sse.close()
        ws = WsSubscriber(url, dict(query))
        assert ws.status == 401 and words in ws.body_json()["error"], name
        ws.close()
    minted = SseSubscriber(url, {"token": _minted(key, pairs, exp_in=60)})
    assert minted.status == 200  # the documented derivation is the one the server uses
    minted.close()


def test_a_token_opens_only_its_channel_and_topics(cloud: CloudStack) -> None:
    url, channel, other = cloud.server.url, _channel(), _channel()
    token = _token(cloud, [(channel, "a")])
    for query in ({"token": token, "channel": channel, "topic": "b"},):
        refused = SseSubscriber(url, query)
        assert refused.status == 403 and refused.body_json()["code"] == "forbidden"
        ws_refused = WsSubscriber(url, query)
        assert ws_refused.status == 403 and "'b'" in ws_refused.body_json()["error"]
    sse = SseSubscriber(url, {"token": token})
    ws = WsSubscriber(url, {"token": token})
    assert sse.status == 200 and ws.status == 101
    for target, topic, n in ((channel, "b", 1), (other, "a", 2), (channel, "a", 3)):
        assert _publish(cloud, target, topic, {"n": n}).status_code == 200
    got = sse.events(1, timeout=10)
    assert [(e["data"]["channel"], e["data"]["topic"], e["data"]["data"]) for e in got] == [
        (channel, "a", {"n": 3})
    ]
    assert [m["data"] for m in ws.messages(1, timeout=10)] == [{"n": 3}]
    assert sse.events(timeout=0.3) == [] and ws.messages(timeout=0.3) == []
    sse.close()
    ws.close()


def test_every_subscriber_gets_what_is_published_after_it_subscribed(cloud: CloudStack) -> None:
    url, channel = cloud.server.url, _channel()
    token = _token(cloud, [(channel, "t")])
    assert _publish(cloud, channel, "t", "before").status_code == 200
    subscribers = [SseSubscriber(url, {"token": token}) for _ in range(3)]
    sockets = [WsSubscriber(url, {"token": token}) for _ in range(3)]
    for n in range(5):
        assert _publish(cloud, channel, "t", {"n": n}).status_code == 200
    for sse in subscribers:
        events = sse.events(5, timeout=10)
        assert [e["data"]["data"] for e in events] == [{"n": n} for n in range(5)]
        assert all(e["data"]["kind"] == "data" and "created_at" in e["data"] for e in events)
        sse.close()
    for ws in sockets:
        assert [m["data"] for m in ws.messages(5, timeout=10)] == [{"n": n} for n in range(5)]
        ws.close()


def test_the_python_sdk_gets_a_token_and_publishes(cloud: CloudStack) -> None:
    channel = _channel()
    run = cloud.api.trigger_and_wait("rt/token", {"channel": channel, "topics": ["tick"]})
    token = run["output"]
    assert token["channel"] == channel and token["topics"] == ["tick"], token
    sse = SseSubscriber(cloud.server.url, {"token": token["key"]})
    assert sse.status == 200
    done = cloud.api.trigger_and_wait("rt/publish", {"channel": channel, "count": 20}, timeout=60)
    assert done["output"] == 20
    events = sse.events(20, timeout=10)
    assert [e["data"]["data"] for e in events] == [{"i": i, "of": 20} for i in range(20)]
    sse.close()


def _read_all(sse: SseSubscriber, count: int, into: list[dict[str, Any]]) -> None:
    into.extend(sse.events(count, timeout=60))


def test_a_slow_subscriber_is_dropped_and_the_publisher_never_waits(cloud: CloudStack) -> None:
    url, channel, count = cloud.server.url, _channel(), 300
    token = _token(cloud, [(channel, "t")])
    # Small fixed receive buffers and no reading: these two fall behind at once.
    slow_sse = SseSubscriber(url, {"token": token}, rcvbuf=16 * 1024)
    slow_ws = WsSubscriber(url, {"token": token}, rcvbuf=16 * 1024)
    fast = SseSubscriber(url, {"token": token})
    received: list[dict[str, Any]] = []
    reader = threading.Thread(target=_read_all, args=(fast, count, received), daemon=True)
    reader.start()
    blob = "x" * (64 * 1024)
    took = []
    with httpx.Client(headers=_sdk(cloud), timeout=10) as client:
        for n in range(count):
            start = time.monotonic()
            resp = client.post(
                f"{url}/v1/realtime/publish",
                params={"channel": channel, "topic": "t"},
                json={"n": n, "blob": blob},
            )
            took.append(time.monotonic() - start)
            assert resp.status_code == 200
    reader.join(timeout=60)
    assert [e["data"]["data"]["n"] for e in received] == list(range(count))
    assert max(took) < 2.0 and sum(took) < 30, (max(took), sum(took))

    behind = slow_sse.events(timeout=20)
    assert behind[-1]["event"] == "error" and behind[-1]["data"]["code"] == "slow_subscriber"
    assert slow_sse.ended
    assert [e["data"]["data"]["n"] for e in behind[:-1]] == list(range(len(behind) - 1))
    assert len(behind) - 1 < count
    messages = slow_ws.messages(timeout=20)
    assert slow_ws.close_code == 1013 and "too slow" in slow_ws.close_reason
    assert [m["data"]["n"] for m in messages] == list(range(len(messages)))
    for sub in (slow_sse, slow_ws, fast):
        sub.close()


def test_unused_path_is_not_a_subscription(cloud: CloudStack) -> None:
    """The realtime routes are exact: nothing under them is open without credentials."""
    resp = httpx.get(f"{cloud.server.url}/v1/realtime/other")
    assert resp.status_code == 401


def test_a_websocket_adds_and_removes_topics_in_band(cloud: CloudStack) -> None:
    url, channel = cloud.server.url, _channel()
    ws = WsSubscriber(url, {"token": _token(cloud, [(channel, "a")])})
    ws.send({"kind": "sub", "data": _token(cloud, [(channel, "b")])})
    ws.send({"kind": "sub", "data": "not-a-token"})  # ignored, as Inngest does
    ws.send({"kind": "unsub", "data": [{"channel": channel, "name": "a"}]})
    # The requests travel apart from the publishes: publish to b until it is heard (then the
    # requests before it were handled), then a must be silent.
    deadline = time.monotonic() + 10
    heard: list[dict[str, Any]] = []
    while not heard and time.monotonic() < deadline:
        assert _publish(cloud, channel, "b", {"to": "b"}).status_code == 200
        heard = ws.messages(1, timeout=0.2)
    assert heard and heard[0]["topic"] == "b"
    assert _publish(cloud, channel, "a", {"to": "a"}).status_code == 200
    assert _publish(cloud, channel, "b", {"to": "b", "last": True}).status_code == 200
    rest = [m for m in ws.messages(timeout=1.0) if m["data"].get("last") or m["topic"] == "a"]
    assert [(m["topic"], m["data"]) for m in rest] == [("b", {"to": "b", "last": True})]
    ws.close()


def test_a_streamed_publish_arrives_as_a_stream(cloud: CloudStack) -> None:
    url, channel = cloud.server.url, _channel()
    sse = SseSubscriber(url, {"token": _token(cloud, [(channel, "t")])})

    def body() -> Iterator[bytes]:
        yield "première partie, ".encode()
        yield b"then the rest"

    resp = httpx.post(
        f"{url}/v1/realtime/publish",
        params={"channel": channel, "topic": "t", "run_id": "01RUN"},
        content=body(),
        headers={**_sdk(cloud), "Content-Type": "text/stream"},
    )
    assert resp.status_code == 200
    events: list[dict[str, Any]] = []
    while not events or events[-1]["kind"] != "datastream-end":
        more = sse.events(1, timeout=5)
        assert more, events
        events.append(more[0]["data"])
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "datastream-start" and kinds[-1] == "datastream-end", kinds
    assert set(kinds[1:-1]) == {"chunk"}
    stream_id = events[0]["data"]
    assert events[-1]["data"] == stream_id
    assert all(e["stream_id"] == stream_id and e["run_id"] == "01RUN" for e in events[1:-1])
    assert "".join(e["data"] for e in events[1:-1]) == "première partie, then the rest"
    sse.close()
