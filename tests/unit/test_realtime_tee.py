"""A durable endpoint's stream tee: raw messages, publish tokens, and how a tee's body is read
(`api/realtime_tee.py`): in order, whole characters, bounded, and ended when it must be."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from mainspring.api.realtime_tee import Ending, Pieces
from mainspring.realtime import keys, tokens
from mainspring.realtime.hub import Hub, Subscriber
from mainspring.realtime.messages import STREAM_TOPIC, Topic, decode, raw

KEY = keys.derived("signkey-prod-" + "ab" * 32)
STREAM = Topic("01RUN", STREAM_TOPIC)
SSE = 'event: inngest.stream\ndata: {"data":"é\\u0000"}\n\n'


def test_raw_messages_reach_subscribers_as_they_came_from_any_process() -> None:
    message = raw(STREAM, SSE + "\x00")
    assert message.sse == (SSE + "\x00").encode() and message.text == SSE + "\x00"
    assert b"\x00" not in message.json  # NOTIFY takes no NUL: it travels escaped
    heard = decode(message.json)
    assert heard is not None
    assert (heard.topic, heard.sse, heard.text) == (STREAM, message.sse, message.text)
    hub = Hub()
    subscriber = Subscriber([STREAM])
    hub.add(subscriber)
    assert hub.deliver(heard) == 1


def test_only_a_valid_token_with_the_publish_claim_may_publish() -> None:
    now = int(time.time())
    assert tokens.may_publish([KEY], tokens.issue(KEY, [], now, publish=True))
    assert not tokens.may_publish([KEY], tokens.issue(KEY, [STREAM], now))
    assert not tokens.may_publish([KEY], tokens.issue(KEY, [], now - 600, 60, publish=True))
    assert not tokens.may_publish(
        [keys.derived("cd" * 32)], tokens.issue(KEY, [], now, publish=True)
    )
    assert not tokens.may_publish([KEY], "not a token")


class Body:
    """An ASGI `receive` whose messages a test hands over one by one."""

    def __init__(self) -> None:
        self.messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def receive(self) -> dict[str, Any]:
        return await self.messages.get()

    def send(self, body: bytes, more: bool = True) -> None:
        self.messages.put_nowait({"type": "http.request", "body": body, "more_body": more})


def pieces(body: Body, **options: Any) -> tuple[Pieces, asyncio.Future[None], list[bool]]:
    stopping: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    over = [False]

    async def run_over() -> bool:
        return over[0]

    return Pieces(body.receive, stopping=stopping, run_over=run_over, **options), stopping, over


async def test_pieces_keep_characters_whole_and_end_with_the_body() -> None:
    body = Body()
    reader, _, _ = pieces(body)
    encoded = "aé€b".encode()
    for n in range(len(encoded)):
        body.send(encoded[n : n + 1])
    body.send(b"", more=False)
    assert "".join([piece async for piece in reader]) == "aé€b"
    assert reader.ending is Ending.COMPLETE and reader.size == len(encoded)


async def test_a_tee_stops_forwarding_at_its_byte_bound() -> None:
    body = Body()
    reader, _, _ = pieces(body, limit=5)
    body.send(b"abc")
    body.send(b"defgh")
    assert [piece async for piece in reader] == ["abc", "de"]
    assert reader.ending is Ending.TOO_LARGE and reader.size == 5


@pytest.mark.parametrize("end", [Ending.RUN_OVER, Ending.STOPPING, Ending.TOO_LONG, Ending.GONE])
async def test_a_quiet_tee_ends_when_it_must(end: Ending) -> None:
    """The SDK leaves the body of a call that ran a step open: such a tee ends once its run is
    over, the server stops, or it is too old; a quiet tee of a running run goes on."""
    body = Body()
    reader, stopping, over = pieces(body, quiet_s=0.01, max_s=0.2 if end is Ending.TOO_LONG else 60)
    body.send(b"first")
    got = [await reader.__anext__()]
    await asyncio.sleep(0.05)  # quiet, run still going: nothing ends
    body.send(b"second")
    got.append(await reader.__anext__())
    if end is Ending.RUN_OVER:
        over[0] = True
    elif end is Ending.STOPPING:
        stopping.set_result(None)
    elif end is Ending.GONE:
        body.messages.put_nowait({"type": "http.disconnect"})
    assert [piece async for piece in reader] == []
    assert got == ["first", "second"] and reader.ending is end
