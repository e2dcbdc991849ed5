"""The realtime service of one process: publish, issue and check tokens, hold subscriptions.

A message published here is delivered to this process's subscribers at once, then sent to
the other processes on the same PostgreSQL database (`store.PubSub`), which deliver it to
theirs. On SQLite there is one process and the hub is all there is.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import AsyncIterator, Iterable

import orjson

from mainspring import errors
from mainspring.clock import Clock
from mainspring.realtime import keys, tokens
from mainspring.realtime.hub import SHUTDOWN, Hub, Subscriber
from mainspring.realtime.messages import (
    CHUNK,
    DATA,
    STREAM_END,
    STREAM_START,
    STREAM_TOPIC,
    Outgoing,
    Topic,
    decode,
    encode,
    raw,
)
from mainspring.store.base import Connector, PubSub
from mainspring.supervision import Component, start_supervised

log = logging.getLogger("mainspring.realtime")
CHANNEL = "mainspring_realtime"  # the PubSub channel between processes
MAX_MESSAGE_BYTES = 512 * 1024  # one published message (Inngest's limit)
MAX_STREAM_BYTES = 1024 * 1024  # one streamed publish, all chunks together (Inngest's limit)
KEEPALIVE_S = 15.0  # idle SSE streams get a comment this often, so proxies keep them open
_WARN_EVERY_S = 10.0


class Realtime:
    def __init__(
        self,
        connector: Connector,
        pubsub: PubSub | None,
        clock: Clock,
        *,
        production: bool,
        signing_keys: tuple[str, ...] = (),
        environment: str | None = None,
    ) -> None:
        self.hub = Hub()
        self._environment = environment  # claimed by its tokens (None: the default one)
        self._connector = connector
        self._pubsub = pubsub
        self._clock = clock
        self.production = production
        self._keys = tuple(keys.derived(key) for key in signing_keys) if production else ()
        self._last_warning = 0.0
        self._keepalive = Component("realtime-keepalive")
        self._ticker: asyncio.Task[None] | None = None
        self._stopping: asyncio.Future[None] | None = None
        self._stopped = False

    async def start(self) -> None:
        if not self.production:
            self._keys = (await keys.dev_key(self._connector, self._clock),)
        if self._pubsub is not None:
            self._pubsub.subscribe(CHANNEL, self._heard)
        self._ticker = start_supervised(self._keepalive, self._nudge_forever)

    async def _nudge_forever(self) -> None:
        """One timer for every subscriber, rather than one per subscriber and wait."""
        while True:
            await asyncio.sleep(KEEPALIVE_S)
            self.hub.nudge_all()

    def components(self) -> list[Component]:
        pubsub = [] if self._pubsub is None else self._pubsub.components()
        return [self._keepalive, *pubsub]

    async def publish(self, message: Outgoing) -> int:
        """Deliver `message` here and to the other processes; returns this process's count of
        subscribers. Best effort across processes: a database outage loses messages there
        (logged), never delays the subscribers here."""
        count = self.hub.deliver(message)
        await self._forward(message)
        return count

    async def _forward(self, message: Outgoing) -> None:
        if self._pubsub is not None:
            try:
                await self._pubsub.publish(CHANNEL, message.json)
            except errors.StoreError as exc:
                self._warn(f"realtime message not sent to other processes: {exc}")

    async def publish_data(self, topic: Topic, data: bytes, run_id: str | None) -> int:
        return await self.publish(encode(DATA, topic, data, self._clock(), run_id=run_id))

    async def publish_stream(
        self, topic: Topic, run_id: str | None, pieces: AsyncIterator[str]
    ) -> None:
        """`datastream-start` with a new stream id, one `chunk` per piece, `datastream-end`
        (also when the pieces stop with an error)."""
        stream_id = secrets.token_hex(8)
        marker = f'"{stream_id}"'.encode()
        await self.publish(encode(STREAM_START, topic, marker, self._clock(), run_id=run_id))
        try:
            async for piece in pieces:
                chunk = encode(
                    CHUNK,
                    topic,
                    orjson.dumps(piece),
                    self._clock(),
                    run_id=run_id,
                    stream_id=stream_id,
                )
                await self.publish(chunk)
        finally:
            await self.publish(encode(STREAM_END, topic, marker, self._clock(), run_id=run_id))

    async def tee(self, channel: str, pieces: AsyncIterator[str]) -> None:
        """Pass each piece on, as it is and in order, to the subscribers of `channel`'s
        `$stream` topic (a durable endpoint's output, its SSE events, as the SDK sends it)."""
        topic = Topic(channel, STREAM_TOPIC)
        forwarding: set[asyncio.Task[None]] = set()
        async for piece in pieces:
            message = raw(topic, piece)
            self.hub.deliver(message)
            if self._pubsub is not None:
                # Not awaited one by one: what arrives while a NOTIFY is on its way leaves
                # with the next one, in order (tasks start in the order they were made, and
                # each queues its message before it waits).
                task = asyncio.create_task(self._forward(message))
                forwarding.add(task)
                task.add_done_callback(forwarding.discard)
        await asyncio.gather(*forwarding)  # answered once the other processes can have it all

    def _heard(self, payload: bytes) -> None:
        message = decode(payload)
        if message is not None:
            self.hub.deliver(message)

    def token(self, topics: Iterable[Topic], ttl_s: int = tokens.TOKEN_TTL_S) -> str:
        return tokens.issue(
            self._keys[0], topics, self._clock() // 1000, ttl_s, env=self._environment
        )

    def may_publish(self, token: str) -> bool:
        """`token` is one of ours with the publish claim (Inngest's publish JWT)."""
        return tokens.may_publish(self._keys, token)

    def grants(self, token: str | None, channel: str | None, names: list[str]) -> frozenset[Topic]:
        """The topics a subscriber may receive: its token's (narrowed to `channel`/`names`
        when given); without a token, in dev mode only, exactly `channel` and `names`."""
        if token:
            return tokens.narrowed(tokens.verify(self._keys, token), channel, names)
        if self.production:
            raise tokens.TokenRejected(
                "a subscription token is required (?token= or Authorization: Bearer)"
            )
        if channel is None or not names:
            raise tokens.TokenRejected("give a token, or (dev mode) ?channel= and ?topic=")
        return frozenset(Topic(channel, name) for name in names)

    def subscribe(self, topics: Iterable[Topic]) -> Subscriber:
        subscriber = Subscriber(topics)
        self.hub.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.hub.remove(subscriber)

    def stopping(self) -> asyncio.Future[None]:
        """Done once the server stops: what publishes for long (a tee) ends then."""
        if self._stopping is None:
            self._stopping = asyncio.get_running_loop().create_future()
            if self._stopped:
                self._stopping.set_result(None)
        return self._stopping

    def close_streams(self) -> None:
        """End every subscription (the server is stopping): its transport says so and closes.
        Tees still open end too."""
        self._stopped = True
        if self._stopping is not None and not self._stopping.done():
            self._stopping.set_result(None)
        self.hub.close_all(SHUTDOWN)

    async def stop(self) -> None:
        self.close_streams()
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        if self._pubsub is not None:
            await self._pubsub.close()

    def _warn(self, message: str) -> None:
        now = time.monotonic()
        if now - self._last_warning >= _WARN_EVERY_S:
            self._last_warning = now
            log.warning(message)
