"""SQLite connector: one writer thread that group-commits units of work, one reader thread.

WAL with `synchronous=NORMAL` survives a killed process; `FULL` also survives power loss at the
cost of an fsync per commit. Only one process may work a database file: an exclusive file lock
is taken at open, which is also what lets start-up void the leases of a dead predecessor.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import queue
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from mainspring import errors
from mainspring.store import sql_files
from mainspring.store.base import Params, Row

T = TypeVar("T")
MAX_BATCH = 512
BUSY_TIMEOUT_MS = 30_000
_Job = tuple[Callable[[Any], Any], asyncio.Future[Any]]


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
    return {column[0]: value for column, value in zip(cursor.description, row, strict=True)}


class SqliteTx:
    def __init__(self, conn: sqlite3.Connection, queries: dict[str, str]) -> None:
        self._conn = conn
        self._queries = queries

    def execute(self, name: str, params: Params | None = None) -> int:
        return self._conn.execute(self._queries[name], params or {}).rowcount

    def fetchone(self, name: str, params: Params | None = None) -> Row | None:
        row: Row | None = self._conn.execute(self._queries[name], params or {}).fetchone()
        return row

    def fetchall(self, name: str, params: Params | None = None) -> list[Row]:
        return self._conn.execute(self._queries[name], params or {}).fetchall()


class _DbThread(threading.Thread):
    """Owns one connection; drains queued units and runs each drained batch in one transaction."""

    def __init__(self, conn: sqlite3.Connection, queries: dict[str, str], writer: bool) -> None:
        super().__init__(
            name="mainspring-sqlite-" + ("writer" if writer else "reader"), daemon=True
        )
        self._conn = conn
        self._tx = SqliteTx(conn, queries)
        self._writer = writer
        self.jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()

    def run(self) -> None:
        running = True
        while running:
            first = self.jobs.get()
            if first is None:
                break
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    job = self.jobs.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    running = False
                    break
                batch.append(job)
            self._run_batch(batch)
        self._conn.close()

    def _run_batch(self, batch: list[_Job]) -> None:
        outcomes: list[tuple[asyncio.Future[Any], bool, Any]] = []
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE" if self._writer else "BEGIN")
            for unit, future in batch:
                outcomes.append((future, *self._run_unit(unit, len(batch) > 1)))
            conn.execute("COMMIT")
        except Exception as exc:  # the commit itself failed: nothing of the batch is durable
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            outcomes = [(future, False, exc) for _, future in batch]
        loop = batch[0][1].get_loop()
        loop.call_soon_threadsafe(_resolve, outcomes)

    def _run_unit(self, unit: Callable[[Any], Any], isolate: bool) -> tuple[bool, Any]:
        if not (isolate and self._writer):
            try:
                return True, unit(self._tx)
            except Exception as exc:
                if self._writer:  # a lone unit failed: undo its partial writes
                    self._conn.execute("ROLLBACK")
                    self._conn.execute("BEGIN IMMEDIATE")
                return False, exc
        self._conn.execute("SAVEPOINT unit")
        try:
            result = unit(self._tx)
        except Exception as exc:
            self._conn.execute("ROLLBACK TO unit")
            self._conn.execute("RELEASE unit")
            return False, exc
        self._conn.execute("RELEASE unit")
        return True, result


def _resolve(outcomes: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
    for future, ok, value in outcomes:
        if future.cancelled():
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)


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
            for statement in _split_script(script):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (?, ?)", (version, name)
            )
        conn.execute("COMMIT")
    except Exception:
        conn.execute("ROLLBACK")
        raise


def _split_script(script: str) -> list[str]:
    lines = [line for line in script.splitlines() if not line.strip().startswith("--")]
    return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]


class SqliteConnector:
    dialect = "sqlite"
    exclusive = True

    def __init__(self, path: str, synchronous: str = "NORMAL") -> None:
        db_path = Path(path)
        try:
            db_path.parent.mkdir(parents=True, exist_ok=True)
            self._lock_fd = _lock_file(db_path)
            writer_conn = _connect(str(db_path), synchronous)
            _migrate(writer_conn)
            reader_conn = _connect(str(db_path), synchronous)
        except errors.StoreLocked:
            raise
        except (OSError, sqlite3.Error) as exc:
            raise errors.StoreError(f"cannot open SQLite database {path}: {exc}") from None
        queries = sql_files.load_queries("sqlite")
        self._writer = _DbThread(writer_conn, queries, writer=True)
        self._reader = _DbThread(reader_conn, queries, writer=False)
        self._writer.start()
        self._reader.start()

    async def write(self, unit: Callable[[Any], T]) -> T:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._writer.jobs.put((unit, future))
        return await future

    async def read(self, unit: Callable[[Any], T]) -> T:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._reader.jobs.put((unit, future))
        return await future

    async def close(self) -> None:
        for thread in (self._writer, self._reader):
            thread.jobs.put(None)
        await asyncio.to_thread(self._writer.join)
        await asyncio.to_thread(self._reader.join)
        os.close(self._lock_fd)
