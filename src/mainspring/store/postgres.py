"""PostgreSQL connector: the same units of work as SQLite, on psycopg 3 connections.

Each process has one writer thread (group commit, as on SQLite), one reader thread and one
LISTEN thread. Several processes share the database: items are leased with
`FOR UPDATE SKIP LOCKED`, new work is announced with NOTIFY, and a lost connection is
re-established with backoff while callers get `StoreError` (the API answers 503).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import re
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg
from psycopg import pq
from psycopg.rows import tuple_row

from mainspring import errors
from mainspring.store import sql_files
from mainspring.store.base import AssumptionFailed, Params, Row
from mainspring.store.batching import BatchThread, submit
from mainspring.store.pg_connect import connect as _connect
from mainspring.store.pg_listen import Listener
from mainspring.store.pg_migrate import migrate
from mainspring.store.urls import redact_url
from mainspring.supervision import Component

T = TypeVar("T")
log = logging.getLogger("mainspring.store.postgres")
# Writer connections per process. Measured with bench/bench_scaling.py (steps/s vs one SQLite
# process, for 1 / 2 / 3 processes): 1 writer 0.24 / 0.65 / 0.52, 2 writers 0.27 / 0.51 / 0.46,
# 3 writers 0.32 / 0.48 / 0.47. Extra writers help a lone process but lose more to row-lock
# contention once several processes share the database, which is what PostgreSQL is for here.
# Re-measured after step records stopped waiting (2026-11-24, one process): 2 writers 922
# steps/s against about 880 with 1, within the machine's noise; the separate lease connection
# gained more (0.71x -> 0.74x of SQLite, interleaved rounds).
WRITERS = 1
READERS = 2
# Driver errors that no server sent (no SQLSTATE): a lost connection, or a pipeline whose
# results no longer line up with its statements. Not DataError: psycopg refuses a NUL in a
# parameter with one before sending anything, and that is the caller's bad input.
_CLIENT_SIDE = (psycopg.OperationalError, psycopg.InterfaceError, psycopg.ProgrammingError)


# Query name -> (SQL with `%s` placeholders, the parameter names in their order).
Statements = dict[str, tuple[str, tuple[str, ...]]]
_NAMED_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def positional(queries: dict[str, str]) -> Statements:
    """Named placeholders turned positional once, at start-up: psycopg maps a dict of
    parameters onto the query at every execution, which cost 13 of its 34 µs per statement
    (micro-benchmark, psycopg 3.3, reused cursor); a tuple built here costs about 1 µs."""
    return {
        name: (_NAMED_PLACEHOLDER.sub("%s", sql), tuple(_NAMED_PLACEHOLDER.findall(sql)))
        for name, sql in queries.items()
    }


def _nul_refused(exc: psycopg.DataError) -> errors.InvalidInput | None:
    """PostgreSQL text cannot hold NUL: psycopg refuses such a parameter before sending it.
    That is the caller's input (an event name, a reason, an id), so 400, not 500."""
    if "NUL" not in str(exc):
        return None
    return errors.InvalidInput("text must not contain NUL (U+0000) characters", field="body")


class _Answer:
    """The changed-row count of a statement sent with `execute_later`. Settled into a plain
    number at commit, so the cursor goes back to the pool and the count can be read anywhere."""

    __slots__ = ("_count", "_cursor", "_transaction", "_tx")

    def __init__(self, tx: PostgresTx, cursor: psycopg.Cursor[Any]) -> None:
        self._tx = tx
        self._cursor: psycopg.Cursor[Any] | None = cursor
        self._transaction = tx.transaction
        self._count: int | None = None

    def __call__(self) -> int:
        if self._count is None:
            cursor = self._cursor
            if cursor is None or self._transaction != self._tx.transaction:
                raise errors.StoreError("the statement's answer was lost with its batch")
            if cursor.pgresult is None:  # asked inside the unit, before the answer came
                self._tx.wait_for_answers()
            self._count = cursor.rowcount
        return self._count

    def settle(self, *, committed: bool) -> psycopg.Cursor[Any] | None:
        cursor, self._cursor = self._cursor, None
        if committed and cursor is not None and self._count is None:
            self._count = cursor.rowcount
        return cursor


class PostgresTx:
    """Statements of a batch go out in pipeline mode: `write` does not wait for its answer,
    `execute` and the fetches wait for theirs (and so for everything queued before them).

    Cursors are reused: creating one per statement cost as much Python time as the rest of
    sending it (psycopg 3.3, measured: 71 µs against 29 µs a statement). Statements whose
    answer is ignored share one cursor; each `execute_later` answer takes one from a pool."""

    def __init__(self, conn: psycopg.Connection[dict[str, Any]], queries: Statements) -> None:
        self._conn = conn
        self._queries = queries
        self.statements = 0  # statements sent; counted for the benchmarks
        self.round_trips = 0  # waits for the server's answer (a statement's, or COMMIT's)
        self.announcements: set[str] = set()
        self.pipeline: psycopg.Pipeline | None = None
        self.transaction = 0  # which batch transaction is open (answers belong to one)
        # Rows come as tuples and are zipped with the query's column names, kept per query:
        # psycopg's dict_row decoded every column name of every result again (4 % of the
        # server's GIL time on bench_scaling pg1, py-spy).
        self._cursor: psycopg.Cursor[tuple[Any, ...]] = conn.cursor(row_factory=tuple_row)
        self._columns: dict[str, tuple[str, ...]] = {}
        self._spare: list[psycopg.Cursor[Any]] = []
        self._answers: list[_Answer] = []
        self.memo: dict[str, Any] = {}
        self.optimistic = True  # `assume` defers its checks (False: a unit re-run alone)
        self._assumptions: list[Callable[[], bool]] = []

    def execute(self, name: str, params: Params | None = None) -> int:
        self.statements += 1
        self._cursor.execute(*self._statement(name, params))
        self.wait_for_answers()
        return self._cursor.rowcount

    def write(self, name: str, params: Params | None = None) -> None:
        self.statements += 1
        self._cursor.execute(*self._statement(name, params))

    def execute_later(self, name: str, params: Params | None = None) -> Callable[[], int]:
        self.statements += 1
        cursor = self._spare.pop() if self._spare else self._conn.cursor()
        cursor.execute(*self._statement(name, params))
        answer = _Answer(self, cursor)
        self._answers.append(answer)
        return answer

    def assume(self, check: Callable[[], bool]) -> bool:
        if not self.optimistic:
            return check()
        self._assumptions.append(check)
        return True

    def verify(self) -> None:
        """Before COMMIT: did everything assumed hold? (one wait, only when something was)"""
        if not self._assumptions:
            return
        self.wait_for_answers()
        held = all(check() for check in self._assumptions)
        self._assumptions.clear()
        if not held:
            raise AssumptionFailed()

    def fetchone(self, name: str, params: Params | None = None) -> Row | None:
        self.statements += 1
        self.round_trips += 1
        cursor = self._cursor.execute(*self._statement(name, params))
        row = cursor.fetchone()
        return None if row is None else dict(zip(self._names(name, cursor), row, strict=True))

    def fetchall(self, name: str, params: Params | None = None) -> list[Row]:
        self.statements += 1
        self.round_trips += 1
        cursor = self._cursor.execute(*self._statement(name, params))
        rows = cursor.fetchall()  # first: in a pipeline, the result arrives with the fetch
        names = self._names(name, cursor)
        return [dict(zip(names, row, strict=True)) for row in rows]

    def _names(self, name: str, cursor: psycopg.Cursor[Any]) -> tuple[str, ...]:
        names = self._columns.get(name)
        if names is None:
            description = cursor.description or []
            names = self._columns[name] = tuple(column.name for column in description)
        return names

    def announce(self, channel: str) -> None:
        self.announcements.add(channel)

    def _statement(self, name: str, params: Params | None) -> tuple[str, tuple[Any, ...]]:
        sql, names = self._queries[name]
        if params is None:
            return sql, ()
        return sql, tuple([params[key] for key in names])

    def wait_for_answers(self) -> None:
        """Everything sent so far is answered (one round trip)."""
        self.round_trips += 1
        if self.pipeline is not None:
            self.pipeline.sync()

    def settle(self, *, committed: bool) -> None:
        """The transaction is over: keep the counts if it committed (every answer arrived
        with the COMMIT), take the cursors back, forget what was assumed and memoized."""
        self._assumptions.clear()
        self.memo.clear()
        for answer in self._answers:
            cursor = answer.settle(committed=committed)
            if cursor is not None:
                self._spare.append(cursor)
        self._answers.clear()


class _PostgresSession:
    def __init__(
        self,
        url: str,
        queries: Statements,
        role: str,
        synchronous_commit: str | None = None,
        namespace: str = "",
    ) -> None:
        self._url = url
        self._namespace = namespace
        self._queries = queries
        self._role = role
        self._synchronous_commit = synchronous_commit
        self._conn = _connect(url, role, synchronous_commit)
        self.tx = PostgresTx(self._conn, queries)
        self._pipeline_scope: contextlib.AbstractContextManager[psycopg.Pipeline] | None = None

    def begin(self, *, alone: bool = False) -> None:
        if not self._clean():
            log.warning(
                "%s: connection left mid-pipeline or mid-transaction; replacing it", self._role
            )
            self.reconnect()
        self._pipeline_scope = self._conn.pipeline()
        self.tx.pipeline = self._pipeline_scope.__enter__()
        self.tx.transaction += 1
        self.tx.optimistic = not alone
        self._conn.execute(b"BEGIN")

    def commit(self) -> None:
        """NOTIFYs and COMMIT join whatever is still queued: one round trip (two when a unit
        assumed something, which is checked first)."""
        self.tx.verify()
        channels = self.tx.announcements
        for channel in sorted(channels):
            self._conn.execute(f"NOTIFY {channel}{self._namespace}".encode())
        self._conn.execute(b"COMMIT")
        self.tx.round_trips += 1
        channels.clear()
        self._leave_pipeline()
        self.tx.settle(committed=True)

    def rollback(self) -> None:
        self.tx.announcements.clear()
        try:
            self._leave_pipeline()
        except psycopg.Error:
            pass  # the error that made us roll back, surfacing again
        self.tx.transaction += 1  # answers of the rolled-back work are lost with it
        self.tx.settle(committed=False)
        if self._conn.pgconn.pipeline_status != pq.PipelineStatus.OFF:
            # libpq could not leave pipeline mode (results still uncollected) while psycopg
            # believes it did: the next statement's result would be an earlier one's (seen in
            # the soak as "the last operation didn't produce records (command status: DELETE
            # 1)"). Such a connection cannot be trusted again.
            self._conn.close()
            return
        if not (self._conn.broken or self._conn.closed):
            self._conn.execute(b"ROLLBACK")

    def _clean(self) -> bool:
        """Between batches: no pipeline, no open transaction, no pending result."""
        pgconn = self._conn.pgconn
        return (
            not (self._conn.broken or self._conn.closed)
            and pgconn.pipeline_status == pq.PipelineStatus.OFF
            and pgconn.transaction_status == pq.TransactionStatus.IDLE
        )

    def _leave_pipeline(self) -> None:
        scope, self._pipeline_scope = self._pipeline_scope, None
        self.tx.pipeline = None
        if scope is not None:
            scope.__exit__(None, None, None)

    @property
    def backend_pid(self) -> int:
        """The server process of this session (0 while it has none)."""
        try:
            return self._conn.info.backend_pid
        except psycopg.Error:
            return 0

    def is_disconnect(self, exc: BaseException) -> bool:
        """Lost connections only: a deadlock or serialization failure (also OperationalError)
        is the unit's problem, and the batch re-runs its units one by one."""
        if self._conn.broken or self._conn.closed:
            return True
        if isinstance(exc, _CLIENT_SIDE) and exc.sqlstate is None:
            return True  # raised by the driver, not the server: the connection's state is suspect
        return isinstance(exc, psycopg.errors.AdminShutdown | psycopg.errors.CannotConnectNow)

    def reconnect(self) -> None:
        try:
            self._conn.close()
        except Exception:  # whatever state it was left in, it is being replaced
            pass
        self._pipeline_scope = None
        self._conn = _connect(self._url, self._role, self._synchronous_commit)
        statements, round_trips = self.tx.statements, self.tx.round_trips
        self.tx = PostgresTx(self._conn, self._queries)
        self.tx.statements, self.tx.round_trips = statements, round_trips

    def close(self) -> None:
        self._conn.close()


class _ReaderSession(_PostgresSession):
    """Reads need no transaction here: under READ COMMITTED, PostgreSQL's default, each
    statement sees its own snapshot inside a transaction too. Plain autocommit statements
    spare each batch a BEGIN, a COMMIT and its round trip, and the pipeline's bookkeeping
    (measured: a reader spent 370 µs of Python time per run state loaded)."""

    def begin(self, *, alone: bool = False) -> None:
        self.tx.transaction += 1

    def commit(self) -> None:
        self.tx.settle(committed=True)

    def rollback(self) -> None:
        self.tx.transaction += 1
        self.tx.settle(committed=False)


class PostgresConnector:
    """`WRITERS` group-committing writer connections and `READERS` reader connections; across
    processes PostgreSQL's row locks keep writers apart, and a batch that loses a deadlock
    re-runs its units one by one."""

    dialect = "postgres"
    exclusive = False

    def __init__(
        self,
        url: str,
        writers: int = WRITERS,
        readers: int = READERS,
        synchronous_commit: str | None = None,
        namespace: str = "",
    ) -> None:
        self._url = url
        self._namespace = namespace
        try:
            migrate(url)
            queries = positional(sql_files.load_queries("postgres"))
            # The sessions that commit (and NOTIFY): the listener skips what they sent.
            self._committers = [
                _PostgresSession(url, queries, f"writer-{n}", synchronous_commit, namespace)
                for n in range(writers)
            ]
            self._committers.append(
                _PostgresSession(url, queries, "leaser", synchronous_commit, namespace)
            )
            self._writers = [
                BatchThread(f"mainspring-pg-writer-{n}", session, f"db-writer-{n}")
                for n, session in enumerate(self._committers[:-1])
            ]
            # Leases on a connection of their own: each waits for its answers (candidates,
            # keys, the queue's outlook), which in the group commit held up every step record
            # behind it (they took a fifth of the writer's time in bench_scaling).
            self._leaser = BatchThread("mainspring-pg-leaser", self._committers[-1], "db-leaser")
            self._readers = [
                BatchThread(
                    f"mainspring-pg-reader-{n}",
                    _ReaderSession(url, queries, f"reader-{n}"),
                    f"db-reader-{n}",
                )
                for n in range(readers)
            ]
        except psycopg.Error as exc:
            raise errors.StoreError(f"cannot use PostgreSQL at {redact_url(url)}: {exc}") from None
        for thread in self._threads:
            thread.start()
        self._turn = itertools.count()
        self._listener: Listener | None = None

    @property
    def _threads(self) -> list[BatchThread]:
        return [*self._writers, self._leaser, *self._readers]

    @property
    def healthy(self) -> bool:
        return all(thread.healthy for thread in self._threads)

    def components(self) -> list[Component]:
        listener = [] if self._listener is None else [self._listener.component]
        return [*(thread.component for thread in self._threads), *listener]

    def stats(self) -> dict[str, int]:
        """Statements, transactions and round trips so far (all threads), for the benchmarks."""
        return {
            "statements": sum(thread.statements for thread in self._threads),
            "transactions": sum(thread.transactions for thread in self._threads),
            "round_trips": sum(thread.round_trips for thread in self._threads),
        }

    def _pick(self, threads: list[BatchThread]) -> BatchThread:
        """The least busy connection; ties go round-robin. (Called for every unit of work:
        the lone writer is returned as it is, without a look at queue sizes.)"""
        count = len(threads)
        if count == 1:
            return threads[0]
        turn = next(self._turn)
        best = threads[turn % count]
        least = best.jobs.qsize()
        for offset in range(1, count):
            thread = threads[(turn + offset) % count]
            if least and thread.jobs.qsize() < least:
                best, least = thread, thread.jobs.qsize()
        return best

    # A `with` block around the await cost 3 % of the server's GIL time on the hot path (a
    # generator-based context manager per unit of work; py-spy, bench_scaling pg1): a plain
    # try costs nothing until something is raised.
    async def write(self, unit: Callable[[Any], T]) -> T:
        try:
            result: T = await submit(self._pick(self._writers), unit)
        except psycopg.DataError as exc:
            if (refused := _nul_refused(exc)) is None:
                raise
            raise refused from None
        return result

    async def write_aside(self, unit: Callable[[Any], T]) -> T:
        try:
            result: T = await submit(self._leaser, unit)
        except psycopg.DataError as exc:
            if (refused := _nul_refused(exc)) is None:
                raise
            raise refused from None
        return result

    async def read(self, unit: Callable[[Any], T]) -> T:
        try:
            result: T = await submit(self._pick(self._readers), unit)
        except psycopg.DataError as exc:
            if (refused := _nul_refused(exc)) is None:
                raise
            raise refused from None
        return result

    def _own_backends(self) -> frozenset[int]:
        """Backend pids of the sessions that commit (they change when one reconnects)."""
        return frozenset(session.backend_pid for session in self._committers)

    def listen(self, channel: str, callback: Callable[[], None]) -> None:
        """Call `callback` (on the running loop) whenever another process NOTIFYs `channel`."""
        if self._listener is None:
            loop = asyncio.get_running_loop()
            self._listener = Listener(self._url, loop, own=self._own_backends)
            self._listener.add(channel + self._namespace, callback)
            self._listener.start()
        else:
            self._listener.add(channel + self._namespace, callback)

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.stop()
        for thread in self._threads:
            thread.jobs.put(None)
        for thread in self._threads:
            await asyncio.to_thread(thread.join)
