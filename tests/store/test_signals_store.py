"""Signal waits in the store (both dialects): one live wait per signal name, replace, expiry,
events never matching them, and the unique index as the arbiter between processes."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from mainspring.store import open_connector
from mainspring.store.base import Connector, Tx
from mainspring.store.repos import pauses as pauses_repo
from mainspring.store.repos import signals as signals_repo
from mainspring.store.repos.signals import Claim, SignalWait
from mainspring.store.sql_files import load_queries

NOW = 1_800_000_000_000
HOUR = 3_600_000


def wait(run: str, expires_at: int = NOW + HOUR) -> SignalWait:
    return SignalWait(f"{run}:s", run, "s", "wait-signal", expires_at)


async def claim(
    connector: Connector, mine: SignalWait, *, replace: bool = False, now: int = NOW
) -> Claim:
    return await connector.write(
        lambda tx: signals_repo.claim(tx, mine, "approve", now, replace=replace)
    )


async def holder(connector: Connector) -> str | None:
    found = await connector.read(lambda tx: signals_repo.waiting(tx, "approve"))
    return None if found is None else found.run_id


async def test_a_wait_is_found_by_its_signal_and_never_by_an_event(connector: Connector) -> None:
    assert await claim(connector, wait("r1")) == Claim(True)
    assert await holder(connector) == "r1"
    assert await claim(connector, wait("r1")) == Claim(True), "the same wait recorded again"

    event = {"name": "approve", "data": {"signal": "approve"}, "signal": "approve"}
    found = await connector.write(lambda tx: pauses_repo.take_satisfied(tx, event, NOW))
    assert found == []


async def test_a_live_wait_holds_the_name_unless_replaced(connector: Connector) -> None:
    first, second, third = wait("r1"), wait("r2"), wait("r3")
    await claim(connector, first)
    assert await claim(connector, second) == Claim(False, holder=first)
    assert await holder(connector) == "r1"

    assert await claim(connector, third, replace=True) == Claim(True, replaced=first)
    assert await holder(connector) == "r3"
    # The replaced wait stays until its timeout consumes it; the name no longer reaches it.
    old = await connector.read(lambda tx: pauses_repo.get(tx, first.pause_id))
    assert old is not None and old.kind == "signal"
    assert await claim(connector, first) == Claim(False, holder=third)


async def test_a_wait_past_its_expiry_gives_the_name_up(connector: Connector) -> None:
    await claim(connector, wait("r1", expires_at=NOW + 10))
    assert await claim(connector, wait("r2"), now=NOW + 11) == Claim(True)
    assert await holder(connector) == "r2"


async def test_consuming_the_wait_frees_the_name(connector: Connector) -> None:
    first = wait("r1")
    await claim(connector, first)
    assert await connector.write(lambda tx: pauses_repo.consume(tx, first.pause_id))
    assert await holder(connector) is None
    assert await claim(connector, wait("r2")) == Claim(True)


def _insert(conn: psycopg.Connection[object], mine: SignalWait) -> None:
    params = {
        "id": mine.pause_id,
        "run_id": mine.run_id,
        "step_id": mine.step_id,
        "step_name": mine.step_name,
        "signal": "approve",
        "now": NOW,
        "expires_at": mine.expires_at,
    }
    conn.execute(load_queries("postgres")["insert_signal_pause"], params)


@pytest.mark.postgres_only
@pytest.mark.parametrize("replace", [False, True], ids=["fail", "replace"])
async def test_another_process_waiting_at_the_same_moment_is_seen(
    db_url: str, replace: bool
) -> None:
    """Process A has inserted its wait but not committed when process B claims the name: B's
    look-up cannot see A's row, its insert waits on the unique index until A commits, then it
    looks again and meets A's wait: a conflict, or (replace) it takes the name over."""
    connector = open_connector(db_url)
    other = psycopg.connect(db_url)
    try:
        await connector.write(lambda tx: None)  # migrated
        _insert(other, wait("a"))  # A's transaction stays open
        claiming = asyncio.create_task(claim(connector, wait("b"), replace=replace))
        await asyncio.sleep(0.3)
        assert not claiming.done(), "B must wait for A's transaction"
        other.commit()
        outcome = await asyncio.wait_for(claiming, 10)
        if replace:
            assert outcome == Claim(True, replaced=wait("a"))
            assert await holder(connector) == "b"
        else:
            assert outcome == Claim(False, holder=wait("a"))
            assert await holder(connector) == "a"
    finally:
        other.close()
        await connector.close()


async def test_one_transaction_sees_its_own_wait(connector: Connector) -> None:
    def both(tx: Tx) -> tuple[Claim, Claim]:
        return (
            signals_repo.claim(tx, wait("r1"), "approve", NOW, replace=False),
            signals_repo.claim(tx, wait("r2"), "approve", NOW, replace=False),
        )

    first, second = await connector.write(both)
    assert first.taken and not second.taken
