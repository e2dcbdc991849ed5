"""No fault of the database or its driver ends a database thread, leaves a caller waiting, or
leaves the connector unhealthy once the database answers again.

PostgreSQL: each of the connector's connections is terminated (`pg_terminate_backend`, found by
its `application_name`) again and again while units of work stream through it. SQLite and both:
a session whose driver fails in the worst order (a COMMIT fails, then the ROLLBACK meant to clean
up fails too, as psycopg's "cannot exit pipeline mode while busy" did after an `AdminShutdown`).
"""

import asyncio
import os
import random
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from mainspring import errors
from mainspring.store.base import Connector, Tx
from mainspring.store.batching import BatchThread, submit
from mainspring.store.repos import events as events_repo
from mainspring.store.repos import queue as queue_repo

from .test_contract import NOW, ingest_events, new_event

ROLES = ("writer-0", "leaser", "reader-0", "reader-1")


def _terminate(url: str, role: str) -> int:
    name = f"mainspring/{os.getpid()}/{role}"
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = %s AND datname = current_database()",
            (name,),
        ).fetchall()
    return len(rows)


async def _settle(connector: Connector, unit: Any, *, timeout_s: float = 15.0) -> Any:
    """Run `unit` until the connector has reconnected: a StoreError is the retryable answer
    to a unit caught by a fault."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        try:
            return await asyncio.wait_for(unit(), 5.0)
        except errors.StoreError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.05)


@pytest.mark.postgres_only
async def test_terminated_connections_end_no_thread_and_lose_no_caller(
    connector: Connector, db_url: str
) -> None:
    rng = random.Random(13)
    written: list[str] = []
    refused = 0
    stop = asyncio.Event()

    async def traffic(lane: int) -> None:
        nonlocal refused
        n = 0
        while not stop.is_set():
            event_id = f"01LANE{lane}N{n:05d}"
            n += 1
            try:
                # Every kind of unit: a pipelined write, a lease (its own connection), reads.
                await asyncio.wait_for(
                    connector.write(lambda tx, e=event_id: ingest_events(tx, [new_event(e)], NOW)),
                    10,
                )
                written.append(event_id)
                await asyncio.wait_for(connector.write_aside(queue_repo.ping), 10)
                await asyncio.wait_for(connector.read(queue_repo.ping), 10)
            except errors.StoreError:
                refused += 1  # retryable: the caller was answered, not left waiting
                await asyncio.sleep(0.01)

    lanes = [asyncio.create_task(traffic(lane)) for lane in range(4)]
    terminated = 0
    for _ in range(24):
        await asyncio.sleep(rng.uniform(0.02, 0.25))
        terminated += await asyncio.to_thread(_terminate, db_url, rng.choice(ROLES))
    stop.set()
    await asyncio.wait_for(asyncio.gather(*lanes), 30)  # a hung caller fails here

    assert terminated >= 20, f"only {terminated} connections were terminated"
    threads = [c for c in connector.components() if c.name.startswith("db-")]
    assert all(c.problem() is None or "down" in str(c.problem()) for c in threads)
    # Every thread is alive and back at work once the database answers.
    for unit in (connector.write, connector.write_aside, connector.read):
        assert await _settle(connector, lambda u=unit: u(queue_repo.ping)) is True
    await _settle(connector, lambda: connector.read(queue_repo.ping))
    problems = [str(p) for c in connector.components() if (p := c.problem()) is not None]
    assert not problems, problems
    assert connector.healthy
    # Nothing answered "written" was lost.
    for event_id in written[-50:]:
        found = await connector.read(lambda tx, e=event_id: events_repo.get_event(tx, e))
        assert found is not None, f"{event_id} was acknowledged but is not stored"
    assert written and refused < len(written), (len(written), refused)


class _Tx:
    statements = 0


class _TreacherousSession:
    """A driver in the worst state: COMMIT fails while the connection looks alive, and the
    ROLLBACK meant to clean up raises too (psycopg: "cannot exit pipeline mode while busy")."""

    def __init__(self) -> None:
        self.tx = _Tx()
        self.fail_next = 0
        self.reconnects = 0

    def begin(self, *, alone: bool = False) -> None:
        pass

    def commit(self) -> None:
        if self.fail_next:
            self.fail_next -= 1
            raise psycopg.OperationalError("consuming input failed: server closed the connection")

    def rollback(self) -> None:
        raise psycopg.OperationalError("cannot exit pipeline mode while busy")

    def is_disconnect(self, exc: BaseException) -> bool:
        return False

    def reconnect(self) -> None:
        self.reconnects += 1

    def close(self) -> None:
        pass


@pytest.fixture
def treacherous() -> Iterator[tuple[BatchThread, _TreacherousSession]]:
    session = _TreacherousSession()
    thread = BatchThread("test-batch", session, "db-test")
    thread.start()
    yield thread, session
    thread.jobs.put(None)
    thread.join(5)


async def test_a_failing_rollback_fails_the_batch_retryably_and_the_thread_goes_on(
    treacherous: tuple[BatchThread, _TreacherousSession],
) -> None:
    thread, session = treacherous
    session.fail_next = 1

    def unit(tx: Tx) -> str:
        return "done"

    with pytest.raises(errors.StoreError):
        await asyncio.wait_for(submit(thread, unit), 5)
    assert thread.is_alive()
    assert not thread.healthy
    assert "down" in str(thread.component.problem())
    # The thread reconnects (while idle or before the next batch) and works again.
    assert await asyncio.wait_for(submit(thread, unit), 5) == "done"
    assert session.reconnects >= 1
    assert thread.healthy and thread.component.problem() is None


async def test_a_bug_escaping_the_batch_loop_is_logged_and_the_thread_restarts(
    treacherous: tuple[BatchThread, _TreacherousSession], caplog: pytest.LogCaptureFixture
) -> None:
    thread, _ = treacherous
    original = thread._run_batch
    calls = 0

    def broken_once(batch: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise KeyError("a bug of ours")
        original(batch)

    thread._run_batch = broken_once  # type: ignore[method-assign]
    with pytest.raises(errors.StoreError, match="database thread failed"):
        await asyncio.wait_for(submit(thread, lambda tx: 1), 5)
    assert await asyncio.wait_for(submit(thread, lambda tx: 2), 5) == 2
    assert thread.is_alive()
    assert thread.component.restarts == 1
    assert "component db-test failed; restarting" in caplog.text


@pytest.mark.postgres_only
async def test_a_connection_left_in_pipeline_mode_is_replaced_not_trusted(
    connector: Connector, db_url: str
) -> None:
    """libpq still in pipeline mode while psycopg believes it left (an exit that failed during a
    restart) made the next statement read an earlier one's result: a 500 "the last operation
    didn't produce records (command status: DELETE 1)" in the soak. A batch must not start on
    such a connection."""
    from mainspring.store.postgres import PostgresConnector

    assert isinstance(connector, PostgresConnector)
    session = connector._writers[0]._session
    stale = session._conn  # type: ignore[attr-defined]
    stale.pgconn.enter_pipeline_mode()
    written = await asyncio.wait_for(
        connector.write(lambda tx: ingest_events(tx, [new_event("01AFTERSTALE")], NOW)), 10
    )
    assert written is not None
    assert session._conn is not stale  # type: ignore[attr-defined]
    assert stale.closed
    found = await connector.read(lambda tx: events_repo.get_event(tx, "01AFTERSTALE"))
    assert found is not None
