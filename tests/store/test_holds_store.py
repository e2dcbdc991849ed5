"""Holding work (kill switch, paused functions) against concurrent leases on PostgreSQL."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from mainspring.domain.ids import new_ulid
from mainspring.domain.queue import Kind
from mainspring.store import open_connector
from mainspring.store.base import Tx
from mainspring.store.repos import operations as ops_repo
from mainspring.store.repos import queue as queue_repo
from mainspring.store.sql_files import load_queries

NOW = 1_800_000_000_000


@pytest.mark.postgres_only
async def test_turning_the_kill_switch_off_waits_for_a_lease_that_parks(db_url: str) -> None:
    """Process B's lease saw the switch on and parks an item; process A turns the switch off at
    the same moment. A's unpark must wait for B's commit and bring the item back: without the
    wait it ran first, found nothing parked, and the item stayed parked for good."""
    connector = open_connector(db_url)
    other = psycopg.connect(db_url)
    run_id = new_ulid()
    try:
        await connector.write(lambda tx: ops_repo.activate_kill_switch(tx, "r", None, NOW))

        def enqueue(tx: Tx) -> None:
            queue_repo.enqueue(tx, kind=Kind.CALL, run_id=run_id, available_at=NOW, now=NOW)

        await connector.write(enqueue)
        hold_state = load_queries("postgres")["hold_state"]
        held = other.execute(hold_state).fetchone()  # B's lease transaction, as hold_leased
        assert held == (1, 0)
        other.execute(
            "UPDATE queue SET available_at = %s, leased_by = NULL WHERE run_id = %s",
            (ops_repo.PARKED_AT, run_id),
        )

        def switch_off(tx: Tx) -> int:
            ops_repo.deactivate_kill_switch(tx)
            return ops_repo.unpark_all(tx, NOW + 1)

        task = asyncio.create_task(connector.write(switch_off))
        await asyncio.sleep(0.5)
        assert not task.done(), "turning the switch off did not wait for the lease"
        other.commit()
        assert await asyncio.wait_for(task, timeout=10) == 1
        due = other.execute("SELECT available_at FROM queue WHERE run_id = %s", (run_id,))
        assert due.fetchone() == (NOW + 1,)
    finally:
        other.close()
        await connector.close()
