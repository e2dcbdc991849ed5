"""The LISTEN thread: calls back on the event loop when another process NOTIFYs a channel."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

import psycopg

from mainspring.store.batching import RECONNECT_BACKOFF_S
from mainspring.store.pg_connect import connect
from mainspring.supervision import Component, backoff, watch_thread

log = logging.getLogger("mainspring.store.postgres")
LISTEN_POLL_S = 1.0


class Listener(threading.Thread):
    """LISTENs on the given channels and calls back on the event loop; reconnects on loss,
    and on any other failure too (it is supervised: it never ends before `stop`).

    `add` callbacks are told "something happened" (and, after a reconnect, told anyway), but
    not of what this process's own sessions sent (`own`: their backend pids): this process
    acted on its own work when it committed it, as it does on SQLite. Told again, its worker
    leased once more per commit for nothing (one process on PostgreSQL: a third of its lease
    transactions). `add_payload` callbacks get each notification's payload, own ones too, and
    nothing for what was sent while the connection was down."""

    def __init__(
        self,
        url: str,
        loop: asyncio.AbstractEventLoop,
        name: str = "db-listener",
        own: Callable[[], frozenset[int]] = frozenset,
    ) -> None:
        super().__init__(name=f"mainspring-{name}", daemon=True)
        self._url = url
        self._loop = loop
        self._callbacks: dict[str, list[Callable[[], None]]] = {}
        self._payload_callbacks: dict[str, list[Callable[[str], None]]] = {}
        self._stop = threading.Event()
        self._failures = 0  # in a row; reset once LISTENing again
        self._role = name.removeprefix("db-")
        self._own = own
        self.component = Component(name)
        watch_thread(self.component, self)

    def add(self, channel: str, callback: Callable[[], None]) -> None:
        self._callbacks.setdefault(channel, []).append(callback)

    def add_payload(self, channel: str, callback: Callable[[str], None]) -> None:
        self._payload_callbacks.setdefault(channel, []).append(callback)

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        first = True
        while not self._stop.is_set():
            try:
                self._listen(catch_up=not first)
            except psycopg.Error as exc:
                log.warning("LISTEN connection lost (%s); reconnecting", exc)
                self.component.down(f"database unavailable: {exc}")
                self._stop.wait(self._reconnect_delay())
            except Exception as exc:
                delay = backoff(self._failures)
                self._failures += 1
                self.component.crashed(exc, delay)
                self._stop.wait(delay)
            first = False

    def _reconnect_delay(self) -> float:
        """The writers' schedule (at most 2 s): a restarted database is heard again promptly."""
        delay = RECONNECT_BACKOFF_S[min(self._failures, len(RECONNECT_BACKOFF_S) - 1)]
        self._failures += 1
        return delay

    def _listen(self, *, catch_up: bool) -> None:
        with connect(self._url, self._role) as conn:
            listening = self._listen_to_new(conn, set())
            self._failures = 0
            self.component.up()
            if catch_up:  # notifications sent while we were deaf are lost: act as if told
                self._fire_all()
            while not self._stop.is_set():
                listening = self._listen_to_new(conn, listening, catch_up=True)
                for notify in conn.notifies(timeout=LISTEN_POLL_S, stop_after=64):
                    if notify.pid not in self._own():
                        for callback in self._callbacks.get(notify.channel, []):
                            self._call_soon(callback)
                    for with_payload in self._payload_callbacks.get(notify.channel, []):
                        self._call_soon(with_payload, notify.payload)

    def _listen_to_new(
        self, conn: psycopg.Connection[Any], listening: set[str], *, catch_up: bool = False
    ) -> set[str]:
        """LISTEN to the channels added since (one added after the thread started was missed
        until now: its callbacks are told, as after a reconnect)."""
        for channel in [*self._callbacks, *self._payload_callbacks]:
            if channel not in listening:
                conn.execute(f"LISTEN {channel}".encode())
                listening.add(channel)
                if catch_up:
                    for callback in self._callbacks.get(channel, []):
                        self._call_soon(callback)
        return listening

    def _fire_all(self) -> None:
        for callbacks in self._callbacks.values():
            for callback in callbacks:
                self._call_soon(callback)

    def _call_soon(self, callback: Callable[..., None], *args: object) -> None:
        try:
            self._loop.call_soon_threadsafe(callback, *args)
        except RuntimeError:  # the loop is closed: the process is shutting down
            self._stop.set()
