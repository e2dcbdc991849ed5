"""The store's edge: a transaction of named queries, and a connector that runs units of work.

A unit of work is a plain synchronous function of a `Tx`. The connector runs it on its own
database thread, so an SDK call in flight never holds a transaction, and repositories
(`store/repos`) are written once for every dialect.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar

from mainspring.supervision import Component

T = TypeVar("T")
Params = Mapping[str, Any]
Row = Mapping[str, Any]


class AssumptionFailed(Exception):
    """A unit went on as if something held (`Tx.assume`) and it did not: the batch is rolled
    back and its units run again one by one, asking at once."""


class Tx(Protocol):
    """A transaction in progress. Query names refer to the dialect's `queries/*.sql`."""

    # Values derived inside this transaction (e.g. look-up results several units of one batch
    # share); forgotten when it ends. Whoever writes what a value depends on drops it.
    memo: dict[str, Any]

    def execute(self, name: str, params: Params | None = None) -> int:
        """Run a statement; returns the number of rows it changed."""
        ...

    def write(self, name: str, params: Params | None = None) -> None:
        """Run a statement whose outcome is not needed now; it may be sent without waiting
        (errors surface by commit at the latest, failing the unit)."""
        ...

    def execute_later(self, name: str, params: Params | None = None) -> Callable[[], int]:
        """Run a statement whose changed-row count is read later: calling the returned function
        gives it. On PostgreSQL the statement travels in the pipeline and the count arrives
        with the next statement that waits, or at commit; calling before then waits for it.
        So a unit can send a statement and decide on its outcome after the batch commits."""
        ...

    def assume(self, check: Callable[[], bool]) -> bool:
        """Go on as if `check()` held, without waiting for the answers it reads: the batch
        checks it before COMMIT (one wait for the whole batch). If it does not hold, the batch
        is rolled back and its units run again one by one, where `assume` asks at once and
        returns the real answer. For outcomes that are almost always as expected."""
        ...

    def fetchone(self, name: str, params: Params | None = None) -> Row | None:
        """Run a query and return its first row, if any."""
        ...

    def fetchall(self, name: str, params: Params | None = None) -> list[Row]:
        """Run a query and return all rows."""
        ...

    def announce(self, channel: str) -> None:
        """Tell the other processes on this database, at commit (NOTIFY; a no-op when alone)."""
        ...


class Connector(Protocol):
    """Runs units of work. Writes are group-committed: `write` returns once its unit is durable."""

    dialect: str
    exclusive: bool

    async def write(self, unit: Callable[[Tx], T]) -> T:
        """Run `unit` in a write transaction; all-or-nothing; returns after commit."""
        ...

    async def write_aside(self, unit: Callable[[Tx], T]) -> T:
        """Like `write`, for short units that should not queue behind the group commit
        (leasing): on PostgreSQL they have a connection of their own, as another process's
        leases would; SQLite has one writer, so it is `write`."""
        ...

    async def read(self, unit: Callable[[Tx], T]) -> T:
        """Run `unit` against a consistent snapshot; must not write."""
        ...

    @property
    def healthy(self) -> bool:
        """False while the database cannot be reached (the connector keeps reconnecting)."""
        ...

    def stats(self) -> dict[str, int]:
        """Statements, transactions and round trips so far (for benchmarks and metrics)."""
        ...

    def components(self) -> list[Component]:
        """Its supervised threads, for `/health`."""
        ...

    def listen(self, channel: str, callback: Callable[[], None]) -> None:
        """Call `callback` when another process announces work on `channel` (no-op if alone)."""
        ...

    async def close(self) -> None:
        """Finish pending work and release the database."""
        ...


class PubSub(Protocol):
    """Messages with a payload between the processes sharing one database (PostgreSQL's
    LISTEN/NOTIFY). Best effort: at most once, nothing is stored, a process that is not
    listening when a message is sent never sees it."""

    async def publish(self, channel: str, payload: bytes) -> None:
        """Send `payload` (UTF-8 text, any size) to the other processes' `subscribe` callbacks;
        returns once the database has taken it. One process's messages arrive in the order
        their `publish` calls were made; its own messages are not delivered back to it."""
        ...

    def subscribe(self, channel: str, callback: Callable[[bytes], None]) -> None:
        """Call `callback` on the running loop with each payload another process publishes."""
        ...

    def components(self) -> list[Component]:
        """Its supervised threads, for `/health`."""
        ...

    async def close(self) -> None:
        """Stop listening and release the connections."""
        ...
