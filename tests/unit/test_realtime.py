"""Realtime's pure parts: message encoding, tokens, the hub's fan-out and bounded buffers, and
the framing of messages over PostgreSQL's NOTIFY."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import jwt
import orjson
import pytest

from mainspring import errors
from mainspring.realtime import keys, tokens
from mainspring.realtime.hub import SLOW, Hub, Subscriber
from mainspring.realtime.messages import DATA, Topic, created_at, decode, encode, json_value
from mainspring.store.pg_pubsub import NOTIFY_MAX_BYTES, Reassembly, frames

KEY = keys.derived("signkey-prod-" + "ab" * 32)
T = Topic("chan", "tick")


def test_messages_have_the_sdk_shape_and_omit_what_is_absent() -> None:
    message = encode(DATA, T, b'{"i":1}', 1_700_000_000_123, run_id="01RUN")
    assert orjson.loads(message.json) == {
        "kind": "data",
        "channel": "chan",
        "topic": "tick",
        "data": {"i": 1},
        "created_at": "2023-11-14T22:13:20.123Z",
        "run_id": "01RUN",
    }
    assert "run_id" not in orjson.loads(encode(DATA, T, b"1", 0).json)
    assert message.sse == b"data: " + message.json + b"\n\n"
    assert message.text == message.json.decode()
    assert decode(message.json) is not None and decode(message.json).topic == T  # type: ignore[union-attr]
    assert decode(b"not json") is None and decode(b'{"kind": "data"}') is None
    assert created_at(5) == "1970-01-01T00:00:00.005Z"


@pytest.mark.parametrize(
    ("body", "value"),
    [
        (b'{"a": 1}', {"a": 1}),
        (b'{\n  "a": 1\n}', {"a": 1}),  # one line: a line break would end the SSE event
        (b"plain text", "plain text"),
        (b"", ""),
        (b"NaN", "NaN"),
        (b"123456789012345678901234567890", 123456789012345678901234567890),
    ],
)
def test_bodies_become_one_line_of_json(body: bytes, value: object) -> None:
    encoded = json_value(body)
    assert b"\n" not in encoded
    assert json.loads(encoded) == value


def test_a_token_opens_its_topics_until_it_expires() -> None:
    now = int(time.time())
    token = tokens.issue(KEY, [T, Topic("chan", "other")], now)
    assert tokens.verify([b"x" * 32, KEY], token) == {T, Topic("chan", "other")}
    expired = tokens.issue(KEY, [T], now - 600, ttl_s=60)
    with pytest.raises(tokens.TokenRejected, match="expired"):
        tokens.verify([KEY], expired)
    with pytest.raises(tokens.TokenRejected, match="signature"):
        tokens.verify([keys.derived("cd" * 32)], token)
    forged = jwt.encode({"iss": "someone", "iat": now, "exp": now + 60}, KEY, algorithm="HS256")
    with pytest.raises(tokens.TokenRejected, match="invalid"):
        tokens.verify([KEY], forged)
    none_alg = jwt.encode({"iss": tokens.ISSUER, "iat": now, "exp": now + 60}, None, "none")
    with pytest.raises(tokens.TokenRejected):
        tokens.verify([KEY], none_alg)


def test_a_subscriber_may_narrow_but_never_widen_its_token() -> None:
    granted = frozenset({T, Topic("chan", "other")})
    assert tokens.narrowed(granted, None, []) == granted
    assert tokens.narrowed(granted, "chan", ["tick"]) == {T}
    with pytest.raises(tokens.TopicNotGranted):
        tokens.narrowed(granted, "chan", ["tick", "secret"])
    with pytest.raises(tokens.TopicNotGranted):
        tokens.narrowed(granted, "elsewhere", ["tick"])
    with pytest.raises(errors.InvalidInput):
        tokens.narrowed(granted, "chan", [])


def test_token_requests_are_validated() -> None:
    assert tokens.requested_topics([{"channel": "c", "name": "t", "kind": "run"}]) == [
        Topic("c", "t")
    ]
    for bad in ([], {}, [1], [{"channel": "c"}], [{"channel": "", "name": "t"}]):
        with pytest.raises(errors.InvalidInput):
            tokens.requested_topics(bad)
    with pytest.raises(errors.InvalidInput, match="kind"):
        tokens.requested_topics([{"channel": "c", "name": "t", "kind": "event"}])


def test_the_derived_key_depends_on_the_signing_key_only() -> None:
    assert keys.derived("signkey-prod-" + "ab" * 32) == keys.derived("ab" * 32)
    assert keys.derived("ab" * 32) != keys.derived("cd" * 32)


async def test_the_hub_delivers_by_topic_and_drops_whoever_falls_behind() -> None:
    hub = Hub()
    fast = Subscriber([T])
    slow = Subscriber([T], max_messages=2)
    elsewhere = Subscriber([Topic("chan", "other")])
    for subscriber in (fast, slow, elsewhere):
        hub.add(subscriber)
    for n in range(3):
        assert hub.deliver(encode(DATA, T, str(n).encode(), 0)) == 2  # fast and slow
    assert [orjson.loads(m.json)["data"] for m in await fast.take()] == [0, 1, 2]
    assert slow.closing is SLOW and len(hub) == 2  # dropped on the third, never waited for
    assert len(await slow.take()) == 2  # what it had is still written before it closes
    assert await slow.take() == []
    hub.nudge_all()  # the keep-alive tick: a waiting take returns empty-handed
    assert await elsewhere.take() == []  # nothing for its topic
    hub.remove(fast)
    assert hub.deliver(encode(DATA, T, b"4", 0)) == 0


async def test_a_byte_bound_drops_too_and_late_topics_can_be_added() -> None:
    hub = Hub()
    subscriber = Subscriber([], max_bytes=100)
    hub.add(subscriber, [T])
    assert hub.deliver(encode(DATA, T, b'"' + b"x" * 200 + b'"', 0)) == 1
    assert subscriber.closing is SLOW and len(hub) == 0
    waiting = Subscriber([T])
    hub.add(waiting)
    task = asyncio.create_task(waiting.take())
    await asyncio.sleep(0)
    hub.deliver(encode(DATA, T, b"1", 0))
    assert len(await task) == 1
    hub.drop_topics(waiting, [T])
    assert hub.deliver(encode(DATA, T, b"2", 0)) == 0


def test_large_payloads_are_split_within_notify_s_limit_and_joined_again() -> None:
    payload = ("é" * 10_000 + "x" * 7_000).encode()  # multi-byte characters across the cuts
    parts = frames("aaaa0001", 7, payload)
    assert len(parts) > 1 and all(len(p.encode()) <= NOTIFY_MAX_BYTES for p in parts)
    other = Reassembly("bbbb0002")
    joined = [other.add(p) for p in parts]
    assert joined[:-1] == [None] * (len(parts) - 1) and joined[-1] == payload
    assert Reassembly("aaaa0001").add(parts[0]) is None  # one's own messages are skipped
    assert other.add(frames("aaaa0001", 8, b"small")[0]) == b"small"
    assert other.add(parts[1]) is None  # a part without its beginning is dropped


async def test_direct_writes_keep_their_order_when_the_connection_pushes_back() -> None:
    """A write that has to wait for the connection finishes in a task; what comes meanwhile
    is buffered and written after it, in order."""
    from mainspring.api.realtime_streams import _Writer

    loop = asyncio.get_running_loop()
    gate: asyncio.Future[None] = loop.create_future()
    written: list[int] = []

    async def send(message: Any) -> None:
        n = orjson.loads(message.json)["data"]
        if n == 1:
            await gate  # the connection is full: this write waits
        written.append(n)

    hub = Hub()
    subscriber = Subscriber([T])
    hub.add(subscriber)
    writer = _Writer(subscriber, send)
    taking = asyncio.create_task(writer.take())
    await asyncio.sleep(0)  # parked: direct writes from now on
    for n in range(4):
        hub.deliver(encode(DATA, T, str(n).encode(), 0))
    assert written == [0]  # 0 went straight through; 1 waits; 2 and 3 are buffered
    gate.set_result(None)
    batch = await taking
    for message in batch:
        await send(message)
    assert written == [0, 1, 2, 3]
