"""Flow-control store primitives on both dialects: the limit-aware lease, GCRA buckets,
singleton holders, held events. Explicit instants, no sleeps."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from mainspring import codec
from mainspring.domain.ids import new_ulid
from mainspring.domain.queue import Kind
from mainspring.store import open_connector
from mainspring.store.base import Connector, Tx
from mainspring.store.repos import flow as flow_repo
from mainspring.store.repos import overrides as overrides_repo
from mainspring.store.repos import queue as queue_repo
from mainspring.store.sql_files import load_queries

NOW = 1_800_000_000_000
LEASE = 30_000


def queue_runs(count: int, slots: flow_repo.Slots, at: int = NOW, slug: str = "app-fn") -> object:
    def unit(tx: Tx) -> list[str]:
        run_ids = []
        for index in range(count):
            run_id = new_ulid()
            if slots:
                flow_repo.set_run_slots(tx, run_id, slots, slug)
            queue_repo.enqueue(tx, kind=Kind.CALL, run_id=run_id, available_at=at + index, now=at)
            run_ids.append(run_id)
        return run_ids

    return unit


async def lease(connector: Connector, at: int, limit: int = 10) -> flow_repo.Leased:
    return await connector.write(
        lambda tx: flow_repo.lease(tx, owner="w", now=at, lease_until=at + LEASE, limit=limit)
    )


async def test_lease_never_exceeds_a_key_limit_and_frees_slots(connector: Connector) -> None:
    await connector.write(queue_runs(5, (("fn:f", 2),)))  # type: ignore[arg-type]
    at = NOW + 10
    first = await lease(connector, at)
    assert len(first.items) == 2 and first.blocked
    again = await lease(connector, at + 1)
    assert again.items == [] and again.blocked, "both slots are in flight"
    await connector.write(lambda tx: queue_repo.delete(tx, first.items[0].id))  # a call ended
    third = await lease(connector, at + 2)
    assert len(third.items) == 1
    # A worker that died: its leases expire and its slots with them.
    later = await lease(connector, at + LEASE + 5)
    assert len(later.items) == 2


async def test_live_override_limits_the_functions_own_keys(connector: Connector) -> None:
    # Synced: 3 per function, 5 per env key. The override (1) is read when the run's keys are
    # stored, whatever limit the caller passed; the shared env key keeps its own.
    await connector.write(lambda tx: overrides_repo.save(tx, "app-f", "{}", 1, None, NOW))
    await connector.write(queue_runs(4, (("fn:f", 3), ("env:x", 5)), slug="app-f"))  # type: ignore[arg-type]
    await connector.write(queue_runs(2, (("env:x", 5),), slug="app-f"))  # type: ignore[arg-type]
    at = NOW + 10
    leased = await lease(connector, at)
    assert len(leased.items) == 3, "one of the function's runs, both runs of the env key only"
    # Raised: the queued runs take the new limit at the next lease.
    relimit = overrides_repo.Relimit(function_id="f", whole=2, keyed=2)
    await connector.write(lambda tx: overrides_repo.relimit(tx, relimit))
    assert len((await lease(connector, at + 1)).items) == 1
    assert len((await lease(connector, at + 2)).items) == 0, "2 in flight: the new limit"


async def test_two_keys_each_must_have_room(connector: Connector) -> None:
    await connector.write(queue_runs(3, (("k1", 5), ("fn:f", 1))))  # type: ignore[arg-type]
    await connector.write(queue_runs(3, (("k2", 5), ("fn:f", 1))))  # type: ignore[arg-type]
    leased = await lease(connector, NOW + 10)
    assert len(leased.items) == 1, "the function-wide limit of 1 binds across keys"


async def test_items_without_limits_pass_a_saturated_key(connector: Connector) -> None:
    await connector.write(queue_runs(20, (("hot", 1),)))  # type: ignore[arg-type]
    await connector.write(queue_runs(3, (), at=NOW + 100))  # type: ignore[arg-type]
    first = await lease(connector, NOW + 200, limit=2)
    assert len(first.items) == 1  # the window is all hot items: one of them has a slot
    second = await lease(connector, NOW + 201, limit=5)
    # Now the hot key is saturated and left out of the candidates: the free items lease.
    assert len(second.items) == 3 and second.blocked


async def test_run_keys_follow_later_calls_of_the_run(connector: Connector) -> None:
    run_ids = await connector.write(queue_runs(1, (("fn:f", 1),)))  # type: ignore[arg-type]

    def planned(tx: Tx) -> None:
        queue_repo.enqueue(
            tx, kind=Kind.CALL, run_id=run_ids[0], available_at=NOW, now=NOW, step_id="s1"
        )

    await connector.write(planned)
    leased = await lease(connector, NOW + 10)
    assert len(leased.items) == 1, "a planned step of the run counts against the run's key"


async def test_buckets_and_singletons_round_trip(connector: Connector) -> None:
    def unit(tx: Tx) -> tuple[object, ...]:
        fresh = flow_repo.lock_bucket(tx, "b")
        flow_repo.set_bucket(tx, "b", tat=NOW + 100, log=[NOW])
        stored = flow_repo.lock_bucket(tx, "b")
        holder = flow_repo.lock_singleton(tx, "s")
        flow_repo.set_singleton(tx, "s", "no-such-run")
        return fresh, stored, holder, flow_repo.lock_singleton(tx, "s")

    fresh, stored, holder, after = await connector.write(unit)
    assert fresh == (None, [])
    assert stored == (NOW + 100, [NOW])
    assert holder == (None, False)
    assert after == ("no-such-run", False)


async def test_held_events_accumulate_under_one_key(connector: Connector) -> None:
    def unit(tx: Tx) -> tuple[flow_repo.Pending, flow_repo.Pending]:
        new = flow_repo.lock_pending(tx, "batch:f", "slug", NOW)
        flow_repo.set_pending(tx, "batch:f", ["e1"], NOW + 1000)
        return new, flow_repo.lock_pending(tx, "batch:f", "slug", NOW + 5)

    new, existing = await connector.write(unit)
    assert new.is_new and new.first_at == NOW
    assert existing.event_ids == ["e1"] and existing.fire_at == NOW + 1000
    assert existing.first_at == NOW


@pytest.mark.postgres_only
async def test_a_lease_waits_for_another_process_holding_the_key(db_url: str) -> None:
    """Process B holds key `fn:f` (as its lease transaction would) and takes a slot; process A's
    lease must wait for B's commit and then count B's slot, not lease on a stale count."""
    connector = open_connector(db_url)
    other = psycopg.connect(db_url)
    try:
        run_ids = await connector.write(queue_runs(10, (("fn:f", 3),)))  # type: ignore[arg-type]
        at = NOW + 100
        lock_keys = load_queries("postgres")["flow_lock_keys"]
        other.execute(lock_keys, {"keys": codec.dumps(["fn:f"])})
        other.execute(
            "UPDATE queue SET leased_by = 'B', available_at = %(until)s WHERE run_id = %(run)s",
            {"until": at + LEASE, "run": run_ids[0]},
        )
        task = asyncio.create_task(lease(connector, at))
        await asyncio.sleep(0.5)
        assert not task.done(), "the lease did not wait for the key's lock"
        other.commit()
        leased = await asyncio.wait_for(task, timeout=10)
        assert len(leased.items) == 2, "B's slot was not counted"
    finally:
        other.close()
        await connector.close()
