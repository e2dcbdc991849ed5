"""Fan-out within one process: subscriptions by topic, each with a bounded buffer.

A publisher never waits for a subscriber: `deliver` only appends to each subscriber's buffer,
and the subscriber's own task writes the buffer to its connection. When a buffer is full (the
subscriber reads slower than messages come) the subscription ends: it is dropped from the hub
and told why, and its transport closes with that reason (SSE: an `error` event; WebSocket:
close code 1013). A subscriber sees only what is published after it subscribed: nothing is
kept for late subscribers.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from mainspring.realtime.messages import Outgoing, Topic

# A subscriber may fall this far behind (messages or bytes, whichever comes first) before it
# is dropped; the kernel's socket buffers hold a few more MiB in front of this.
MAX_BUFFERED_MESSAGES = 1000
MAX_BUFFERED_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Closing:
    """Why a subscription ended: `code` for programs, `message` for people."""

    code: str
    message: str


SLOW = Closing(
    "slow_subscriber",
    f"subscriber too slow: more than {MAX_BUFFERED_MESSAGES} messages or "
    f"{MAX_BUFFERED_BYTES // (1024 * 1024)} MiB waiting; reconnect to resume",
)
SHUTDOWN = Closing("server_closing", "the server is shutting down; reconnect")
GONE = Closing("disconnected", "the subscriber went away")


class Subscriber:
    """One subscription: the topics it receives and what is waiting to be written to it."""

    __slots__ = (
        "_bytes",
        "_max_bytes",
        "_max_messages",
        "_nudged",
        "_queue",
        "_waiter",
        "closing",
        "direct",
        "topics",
    )

    def __init__(
        self,
        topics: Iterable[Topic],
        *,
        max_messages: int = MAX_BUFFERED_MESSAGES,
        max_bytes: int = MAX_BUFFERED_BYTES,
    ) -> None:
        self.topics = set(topics)
        self.closing: Closing | None = None
        self._queue: deque[Outgoing] = deque()
        self._bytes = 0
        # A bare future rather than an Event, and no timer per wait: with a thousand
        # subscribers every wake-up costs a thousand times over.
        self._waiter: asyncio.Future[None] | None = None
        self._nudged = False
        # Set by the transport while its writer waits: writes `message` to the connection at
        # once, on the publisher's stack (no task switch per subscriber); False when it
        # cannot, and the message is buffered as usual.
        self.direct: Callable[[Outgoing], bool] | None = None
        self._max_messages = max_messages
        self._max_bytes = max_bytes

    def offer(self, message: Outgoing) -> bool:
        """Buffer `message`; False when the buffer is full (the caller drops this subscriber)."""
        if not self._queue and self.direct is not None and self.direct(message):
            return True
        size = len(message)
        if len(self._queue) >= self._max_messages or self._bytes + size > self._max_bytes:
            return False
        self._queue.append(message)
        self._bytes += size
        self._wake()
        return True

    def nudge(self) -> None:
        """Make a waiting `take` return (empty-handed if nothing came): time for a keep-alive."""
        self._nudged = True
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def take(self) -> list[Outgoing]:
        """Everything buffered, once there is something; [] after a `nudge`, or once the
        subscription ended (`closing` says why)."""
        if not self._queue and self.closing is None and not self._nudged:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        self._nudged = False
        batch = list(self._queue)
        self._queue.clear()
        self._bytes = 0
        return batch

    def close(self, closing: Closing) -> None:
        if self.closing is None:
            self.closing = closing
        self._wake()


class Hub:
    """The subscriptions of this process, found by topic."""

    def __init__(self) -> None:
        self._by_topic: dict[Topic, set[Subscriber]] = {}
        self._subscribers: set[Subscriber] = set()

    def __len__(self) -> int:
        return len(self._subscribers)

    def add(self, subscriber: Subscriber, topics: Iterable[Topic] = ()) -> None:
        """Subscribe to its topics and to `topics` (a WebSocket may ask for more later)."""
        subscriber.topics.update(topics)
        self._subscribers.add(subscriber)
        for topic in subscriber.topics:
            self._by_topic.setdefault(topic, set()).add(subscriber)

    def drop_topics(self, subscriber: Subscriber, topics: Iterable[Topic]) -> None:
        for topic in topics:
            subscriber.topics.discard(topic)
            self._unindex(subscriber, topic)

    def remove(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)
        for topic in subscriber.topics:
            self._unindex(subscriber, topic)

    def _unindex(self, subscriber: Subscriber, topic: Topic) -> None:
        found = self._by_topic.get(topic)
        if found is not None:
            found.discard(subscriber)
            if not found:
                del self._by_topic[topic]

    def deliver(self, message: Outgoing) -> int:
        """Buffer `message` for every subscriber of its topic; returns how many there were.
        A subscriber whose buffer is full is dropped (never waited for)."""
        found = self._by_topic.get(message.topic)
        if not found:
            return 0
        full = [subscriber for subscriber in found if not subscriber.offer(message)]
        count = len(found)
        for subscriber in full:
            self.remove(subscriber)
            subscriber.close(SLOW)
        return count

    def nudge_all(self) -> None:
        for subscriber in self._subscribers:
            subscriber.nudge()

    def close_all(self, closing: Closing) -> None:
        for subscriber in list(self._subscribers):
            self.remove(subscriber)
            subscriber.close(closing)
