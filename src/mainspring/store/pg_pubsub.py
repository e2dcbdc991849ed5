"""PubSub on PostgreSQL: NOTIFY carries the payload, one LISTEN thread hears the others.

NOTIFY takes at most 7999 bytes. A longer payload is cut into parts sent by one transaction:
PostgreSQL queues a transaction's notifications together, in the order they were made, at
commit, so the parts arrive one after the other and are joined again here. Each notification
starts with a frame header `origin:seq:part:parts:`: the origin (random per process) lets a
process skip its own messages, and the sequence number keeps two equal messages of one batch
apart (PostgreSQL drops a repeated channel + payload within one transaction).

Publishes are batched: while one transaction is on its way, the next publishes queue and
leave together in the following one (one round trip for the batch, order kept).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import psycopg

from mainspring import errors
from mainspring.store.pg_connect import CONNECT_TIMEOUT_S, TCP_OPTIONS, application_name
from mainspring.store.pg_listen import Listener
from mainspring.supervision import Component

log = logging.getLogger("mainspring.store.postgres")
NOTIFY_MAX_BYTES = 7999
PART_BYTES = NOTIFY_MAX_BYTES - 64  # room for the frame header
MAX_PARTIAL = 64  # messages being reassembled at once; older ones were cut short (reconnects)
NOTIFY = "SELECT pg_notify(%s, %s)"

_Pending = tuple[str, list[str], "asyncio.Future[None]"]


def frames(origin: str, seq: int, payload: bytes) -> list[str]:
    """The notifications of one payload: parts cut at UTF-8 character boundaries."""
    parts: list[bytes] = []
    start = 0
    while True:
        end = min(start + PART_BYTES, len(payload))
        while end < len(payload) and payload[end] & 0xC0 == 0x80:
            end -= 1  # never split a multi-byte character
        parts.append(payload[start:end])
        if end >= len(payload):
            break
        start = end
    count = len(parts)
    return [f"{origin}:{seq}:{n}:{count}:{part.decode()}" for n, part in enumerate(parts)]


class Reassembly:
    """Joins the parts of each message; a message is given out once all its parts arrived."""

    def __init__(self, own_origin: str) -> None:
        self._own = own_origin
        self._partial: OrderedDict[tuple[str, str], list[str]] = OrderedDict()

    def add(self, text: str) -> bytes | None:
        origin, seq, part, count, body = text.split(":", 4)
        if origin == self._own:
            return None
        if count == "1":
            return body.encode()
        key = (origin, seq)
        if part == "0":
            self._partial[key] = []
            while len(self._partial) > MAX_PARTIAL:
                self._partial.popitem(last=False)
        parts = self._partial.get(key)
        if parts is None or len(parts) != int(part):
            self._partial.pop(key, None)  # a part went missing (the listener reconnected)
            return None
        parts.append(body)
        if len(parts) < int(count):
            return None
        del self._partial[key]
        return "".join(parts).encode()


class PgPubSub:
    """`store.base.PubSub` for PostgreSQL: a publishing connection of its own and a listener."""

    def __init__(self, url: str, namespace: str = "") -> None:
        self._url = url
        self._namespace = namespace  # an environment's suffix: channels of one do not reach another
        self._origin = secrets.token_hex(4)
        self._seq = itertools.count()
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._pending: list[_Pending] = []
        self._flusher: asyncio.Task[None] | None = None
        self._listener: Listener | None = None
        self._callbacks: dict[str, list[Callable[[bytes], None]]] = {}
        self._reassembly = Reassembly(self._origin)
        self.component = Component("realtime-publisher")

    def components(self) -> list[Component]:
        listener = [] if self._listener is None else [self._listener.component]
        return [self.component, *listener]

    def subscribe(self, channel: str, callback: Callable[[bytes], None]) -> None:
        self._callbacks.setdefault(channel, []).append(callback)
        if self._listener is None:
            self._listener = Listener(self._url, asyncio.get_running_loop(), "realtime-listener")
            self._listener.add_payload(
                channel + self._namespace, lambda text: self._heard(channel, text)
            )
            self._listener.start()

    def _heard(self, channel: str, text: str) -> None:
        payload = self._reassembly.add(text)
        if payload is None:
            return
        for callback in self._callbacks.get(channel, []):
            callback(payload)

    async def publish(self, channel: str, payload: bytes) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append(
            (channel + self._namespace, frames(self._origin, next(self._seq), payload), done)
        )
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="realtime-publish")
        await done

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                await self._send(batch)
            except (psycopg.Error, OSError) as exc:
                await self._lost(exc)
                failure = errors.StoreError(f"cannot publish through PostgreSQL: {exc}")
                for _, _, done in batch:
                    if not done.done():
                        done.set_exception(failure)
                continue
            for _, _, done in batch:
                if not done.done():
                    done.set_result(None)

    async def _send(self, batch: list[_Pending]) -> None:
        conn = await self._connection()
        async with conn.pipeline(), conn.transaction():
            for channel, parts, _ in batch:
                for part in parts:
                    await conn.execute(NOTIFY, (channel, part))

    async def _connection(self) -> psycopg.AsyncConnection[Any]:
        if self._conn is None or self._conn.closed:
            self._conn = await psycopg.AsyncConnection.connect(
                self._url,
                autocommit=True,
                connect_timeout=CONNECT_TIMEOUT_S,
                application_name=application_name("realtime-publisher"),
                **TCP_OPTIONS,
            )
            self.component.up()
        return self._conn

    async def _lost(self, exc: BaseException) -> None:
        log.warning("realtime publishing connection failed (%s); reconnecting on next use", exc)
        self.component.down(f"database unavailable: {exc}")
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close()

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.stop()
        if self._flusher is not None:
            await asyncio.gather(self._flusher, return_exceptions=True)
        if self._conn is not None:
            await self._conn.close()
            self._conn = None
