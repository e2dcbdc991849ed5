"""A database thread that drains queued units of work and runs each drained batch in one
transaction (group commit). Units are re-runnable: when one fails, the batch is rolled back and
every unit runs again in its own transaction, so one failing unit undoes only itself.
Shared by the SQLite and PostgreSQL connectors; each brings a `Session`.

The thread never dies: whatever a driver raises, in any state of pipeline mode or transaction,
fails the batch in hand with a retryable `StoreError` (callers answer 503), drops the connection
and reconnects with backoff, from the next batch or, while idle, on its own."""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from mainspring import errors
from mainspring.store.base import AssumptionFailed
from mainspring.supervision import Component, backoff, watch_thread

log = logging.getLogger("mainspring.store")
MAX_BATCH = 512
RECONNECT_BACKOFF_S = (0.1, 0.25, 0.5, 1.0, 2.0)
# While idle and disconnected, look for the database this often (so `/health` turns 200 again
# without waiting for the next write).
IDLE_CHECK_S = 0.5
Job = tuple[Callable[[Any], Any], asyncio.Future[Any]]
Outcome = tuple[asyncio.Future[Any], bool, Any]


class Session(Protocol):
    """One connection and the statements that frame a batch."""

    tx: Any

    def begin(self, *, alone: bool = False) -> None:
        """`alone`: a unit re-run in its own transaction, after its batch failed."""

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def is_disconnect(self, exc: BaseException) -> bool: ...

    def reconnect(self) -> None: ...

    def close(self) -> None: ...


class BatchThread(threading.Thread):
    def __init__(self, name: str, session: Session, component: str | None = None) -> None:
        super().__init__(name=name, daemon=True)
        self._session = session
        self.jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self.healthy = True
        self.transactions = 0  # commits, for the benchmarks' "database work per step"
        self.component = Component(component or name)
        watch_thread(self.component, self)
        self._next_attempt = 0.0
        self._attempts = 0
        self._in_hand: list[Job] = []

    @property
    def statements(self) -> int:
        counted: int = self._session.tx.statements
        return counted

    @property
    def round_trips(self) -> int:
        """Waits for the database's answer; sessions that do not count them (an in-process
        database has no network) count each statement and each BEGIN and COMMIT."""
        counted: int | None = getattr(self._session.tx, "round_trips", None)
        if counted is None:
            return self.statements + 2 * self.transactions
        return counted

    def run(self) -> None:
        crashes = 0
        while True:
            try:
                self._serve()
                break
            except Exception as exc:  # a bug of ours: the thread goes on all the same
                delay = backoff(crashes)
                crashes += 1
                self.component.crashed(exc, delay)
                self._fail_in_hand(exc)
                self._lost(exc)
                time.sleep(delay)
        self._close_session()

    def _serve(self) -> None:
        """Drain batches until told to stop (a `None` job)."""
        while True:
            try:
                first = self.jobs.get(timeout=IDLE_CHECK_S)
            except queue.Empty:
                self._reconnect_while_idle()
                continue
            if first is None:
                return
            batch, stop = [first], False
            while len(batch) < MAX_BATCH:
                try:
                    job = self.jobs.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    stop = True
                    break
                batch.append(job)
            self._in_hand = batch
            self.component.busy()
            self._run_batch(batch)
            self.component.idle()
            self._in_hand = []
            if stop:
                return

    def _run_batch(self, batch: list[Job]) -> None:
        try:
            self._ensure_connected()
            outcomes = self._try_together(batch)
            if outcomes is None:  # a unit failed: give each its own transaction
                outcomes = [(future, *self._run_alone(unit)) for unit, future in batch]
            self._mark_up()
        except Exception as exc:  # the connection or the commit failed: nothing is durable
            failure = self._failure(exc)
            outcomes = [(future, False, failure) for _, future in batch]
        _deliver(batch, outcomes)

    def _reconnect_while_idle(self) -> None:
        if self.healthy:
            return
        try:
            self._ensure_connected()
        except errors.StoreError:
            return
        self._mark_up()

    def _mark_up(self) -> None:
        if not self.healthy:
            log.info("database connection re-established (%s)", self.component.name)
        self.healthy = True
        self.component.up()

    def _ensure_connected(self) -> None:
        """While the database is away, fail at once (callers answer 503) and try to reconnect
        at most once per backoff step, so no caller waits out the whole backoff."""
        if self.healthy:
            return
        now = time.monotonic()
        if now < self._next_attempt:
            raise errors.StoreError("database unavailable")
        try:
            self._session.reconnect()
        except Exception as exc:
            self._attempts += 1
            delay = RECONNECT_BACKOFF_S[min(self._attempts, len(RECONNECT_BACKOFF_S) - 1)]
            self._next_attempt = now + delay
            self.component.down(f"database unavailable: {exc}")
            raise errors.StoreError(f"database unavailable: {exc}") from None
        self._attempts = 0
        self.healthy = True

    def _try_together(self, batch: list[Job]) -> list[Outcome] | None:
        """The fast path: every unit in one transaction, no savepoints (a round trip each on a
        network database). Units are re-runnable, so a failure re-runs them one by one."""
        session = self._session
        session.begin()
        results = []
        for unit, future in batch:
            try:
                results.append((future, True, unit(session.tx)))
            except Exception as exc:
                if session.is_disconnect(exc) or len(batch) == 1:
                    if not session.is_disconnect(exc):
                        session.rollback()
                        return [(future, False, exc)]
                    raise
                session.rollback()
                return None
        try:
            session.commit()
        except Exception as exc:
            if session.is_disconnect(exc):
                raise
            session.rollback()  # a statement sent without waiting failed: find whose
            if len(batch) == 1 and not isinstance(exc, AssumptionFailed):
                return [(batch[0][1], False, exc)]
            return None  # (a failed assumption too: alone, units ask instead of assuming)
        self.transactions += 1
        return results

    def _run_alone(self, unit: Callable[[Any], Any]) -> tuple[bool, Any]:
        session = self._session
        session.begin(alone=True)
        try:
            result = unit(session.tx)
            session.commit()
        except Exception as exc:
            if session.is_disconnect(exc):
                raise
            session.rollback()
            return False, exc
        self.transactions += 1
        return True, result

    def _failure(self, exc: Exception) -> errors.StoreError:
        """The batch's framing failed (not one unit's own error, which `_try_together` and
        `_run_alone` return to that unit). Nothing of it is durable: the callers get a
        retryable error. A connection that cannot even roll back (a driver left in pipeline
        mode, "cannot exit pipeline mode while busy") is in an unknown state: drop it."""
        if isinstance(exc, errors.StoreError):
            return exc  # already known to be away
        session = self._session
        if not session.is_disconnect(exc):
            try:
                session.rollback()
            except Exception as rollback_error:
                exc = rollback_error
            else:
                log.warning("a batch failed and was rolled back (%s)", exc, exc_info=exc)
                return errors.StoreError(f"database error: {exc}")
        self._lost(exc)
        return errors.StoreError(f"database unavailable: {exc}")

    def _lost(self, exc: BaseException) -> None:
        """Reconnect before the next batch (or while idle), with backoff."""
        if self.healthy:
            log.warning(
                "database connection lost (%s: %s); reconnecting with backoff",
                self.component.name,
                exc,
            )
        self.healthy = False
        self._next_attempt = 0.0
        self.component.down(f"database unavailable: {exc}")

    def _fail_in_hand(self, exc: BaseException) -> None:
        batch, self._in_hand = self._in_hand, []
        if batch:
            failure = errors.StoreError(f"database thread failed: {exc}")
            _deliver(batch, [(future, False, failure) for _, future in batch])

    def _close_session(self) -> None:
        try:
            self._session.close()
        except Exception as exc:
            log.warning("closing %s failed: %s", self.component.name, exc)


def _deliver(batch: list[Job], outcomes: list[Outcome]) -> None:
    """Hand the outcomes to the callers' event loop (gone at shutdown: nobody is waiting)."""
    loop = batch[0][1].get_loop()
    try:
        loop.call_soon_threadsafe(_resolve, outcomes)
    except RuntimeError:
        log.debug("event loop closed; %d outcomes dropped", len(outcomes))


def _resolve(outcomes: list[Outcome]) -> None:
    for future, ok, value in outcomes:
        if future.cancelled():
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)


async def submit(thread: BatchThread, unit: Callable[[Any], Any]) -> Any:
    future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    thread.jobs.put((unit, future))
    return await future
