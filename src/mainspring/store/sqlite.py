"""SQLite connector: one writer thread that group-commits units of work, one reader thread.

WAL with `synchronous=NORMAL` survives a killed process; `FULL` also survives power loss at the
cost of an fsync per commit. Only one process may work a database file: an exclusive file lock
is taken at open, which is also what lets start-up void the leases of a dead predecessor.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from mainspring import errors
from mainspring.store import sql_files
from mainspring.store.base import Params, Row
from mainspring.store.batching import BatchThread, submit
from mainspring.supervision import Component

T = TypeVar("T")
BUSY_TIMEOUT_MS = 30_000


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
    return {column[0]: value for column, value in zip(cursor.description, row, strict=True)}


class SqliteTx:
    def __init__(self, conn: sqlite3.Connection, queries: dict[str, str]) -> None:
        self._conn = conn
        self._queries = queries
        # Named operations spelled as several statements (sql_files.compound_parts).
        self._guarded = {
            name: parts
            for name, body in queries.items()
            if len(parts := sql_files.compound_parts(body)) > 1
        }
        self.statements = 0  # round trips on PostgreSQL; counted for the benchmarks
        self.memo: dict[str, Any] = {}

    def execute(self, name: str, params: Params | None = None) -> int:
        self.statements += 1
        parts = self._guarded.get(name)
        if parts is None:
            return self._conn.execute(self._queries[name], params or {}).rowcount
        changed = self._conn.execute(parts[0], params or {}).rowcount
        if changed > 0:
            for statement in parts[1:]:
                self._conn.execute(statement, params or {})
        return changed

    def write(self, name: str, params: Params | None = None) -> None:
        if name in self._guarded:
            self.execute(name, params)
            return
        self.statements += 1
        self._conn.execute(self._queries[name], params or {})

    def execute_later(self, name: str, params: Params | None = None) -> Callable[[], int]:
        changed = self.execute(name, params)
        return lambda: changed

    def assume(self, check: Callable[[], bool]) -> bool:
        return check()  # answers are at hand in-process: nothing to save by assuming

    def fetchone(self, name: str, params: Params | None = None) -> Row | None:
        self.statements += 1
        row: Row | None = self._conn.execute(self._queries[name], params or {}).fetchone()
        return row

    def fetchall(self, name: str, params: Params | None = None) -> list[Row]:
        self.statements += 1
        return self._conn.execute(self._queries[name], params or {}).fetchall()

    def announce(self, channel: str) -> None:
        """One process per SQLite file: nobody else to tell."""


class _SqliteSession:
    def __init__(self, conn: sqlite3.Connection, queries: dict[str, str], writer: bool) -> None:
        self._conn = conn
        self._begin = "BEGIN IMMEDIATE" if writer else "BEGIN"
        self.tx = SqliteTx(conn, queries)

    def begin(self, *, alone: bool = False) -> None:
        self.tx.memo.clear()
        self._conn.execute(self._begin)

    def commit(self) -> None:
        self.tx.memo.clear()
        self._conn.execute("COMMIT")

    def rollback(self) -> None:
        self.tx.memo.clear()
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    def is_disconnect(self, exc: BaseException) -> bool:
        return False  # a local file does not disconnect

    def reconnect(self) -> None:
        """Nothing to do for a local file."""

    def close(self) -> None:
        self._conn.close()


def _connect(path: str, synchronous: str) -> sqlite3.Connection:
    conn = sqlite3.connect(
        path, isolation_level=None, check_same_thread=False, cached_statements=256
    )
    conn.row_factory = _dict_row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def _lock_file(path: Path) -> int:
    lock_path = path.with_name(path.name + ".lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise errors.StoreLocked(
            f"database {path} is in use by another Mainspring process; "
            "use PostgreSQL to run several processes"
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())
    return fd


def _migrate(conn: sqlite3.Connection) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT)"
        )
        done = {row["version"] for row in conn.execute("SELECT version FROM schema_migrations")}
        for version, name, script in sql_files.load_migrations("sqlite"):
            if version in done:
                continue
            for statement in sql_files.split_script(script):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (?, ?)", (version, name)
            )
        conn.execute("COMMIT")
    except Exception:
        conn.execute("ROLLBACK")
        raise


class SqliteConnector:
    dialect = "sqlite"
    exclusive = True

    def __init__(self, path: str, synchronous: str = "NORMAL") -> None:
        db_path = Path(path)
        try:
            db_path.parent.mkdir(parents=True, exist_ok=True)
            self._lock_fd = _lock_file(db_path)  # StoreLocked: another process works this file
        except OSError as exc:
            raise errors.StoreError(f"cannot open SQLite database {path}: {exc}") from None
        try:
            writer_conn = _connect(str(db_path), synchronous)
            _migrate(writer_conn)
            reader_conn = _connect(str(db_path), synchronous)
        except (OSError, sqlite3.Error) as exc:
            # let the file go: a later attempt (an environment retried) must not find it locked
            os.close(self._lock_fd)
            raise errors.StoreError(f"cannot open SQLite database {path}: {exc}") from None
        queries = sql_files.load_queries("sqlite")
        self._writer = BatchThread(
            "mainspring-sqlite-writer",
            _SqliteSession(writer_conn, queries, writer=True),
            "db-writer",
        )
        self._reader = BatchThread(
            "mainspring-sqlite-reader",
            _SqliteSession(reader_conn, queries, writer=False),
            "db-reader",
        )
        self._writer.start()
        self._reader.start()

    @property
    def healthy(self) -> bool:
        """False after a batch's framing failed (a full disk, an I/O error) until the next one
        commits."""
        return self._writer.healthy and self._reader.healthy

    def components(self) -> list[Component]:
        return [self._writer.component, self._reader.component]

    def stats(self) -> dict[str, int]:
        """Statements, transactions and calls into SQLite so far (both threads), for the
        benchmarks."""
        threads = (self._writer, self._reader)
        return {
            "statements": sum(thread.statements for thread in threads),
            "transactions": sum(thread.transactions for thread in threads),
            "round_trips": sum(thread.round_trips for thread in threads),
        }

    async def write(self, unit: Callable[[Any], T]) -> T:
        result: T = await submit(self._writer, unit)
        return result

    async def write_aside(self, unit: Callable[[Any], T]) -> T:
        return await self.write(unit)

    async def read(self, unit: Callable[[Any], T]) -> T:
        result: T = await submit(self._reader, unit)
        return result

    def listen(self, channel: str, callback: Callable[[], None]) -> None:
        """One process per SQLite file: in-process notifications are all there is."""

    async def close(self) -> None:
        import asyncio

        for thread in (self._writer, self._reader):
            thread.jobs.put(None)
        await asyncio.to_thread(self._writer.join)
        await asyncio.to_thread(self._reader.join)
        os.close(self._lock_fd)
