"""The zombie query and its repair, on both dialects: what counts as "something will call this
run again", the grace period, and repair being idempotent."""

from __future__ import annotations

from mainspring.domain.functions import FunctionDef, Trigger
from mainspring.domain.queue import Kind
from mainspring.domain.runs import RunStatus
from mainspring.store.base import Connector, Tx
from mainspring.store.repos import pauses as pauses_repo
from mainspring.store.repos import queue as queue_repo
from mainspring.store.repos import runs as runs_repo
from mainspring.store.repos import zombies as zombies_repo

NOW = 1_800_000_000_000
FUNCTION = FunctionDef(
    id="f1", app_id="a1", slug="app-fn", name="fn", url="http://x", triggers=(Trigger("e"),)
)


async def new_run(connector: Connector, event: str) -> str:
    run_id = await connector.write(lambda tx: runs_repo.start_run(tx, FUNCTION, event, event, NOW))
    assert run_id is not None
    return run_id


async def zombie_ids(connector: Connector, settled_before: int = NOW + 1) -> list[str]:
    rows = await connector.read(lambda tx: zombies_repo.find(tx, settled_before, 100))
    return [str(row["id"]) for row in rows]


def drop_items(tx: Tx, run_id: str) -> None:
    for row in tx.fetchall("run_jobs", {"run_id": run_id}):
        queue_repo.delete(tx, row["id"])


async def test_only_runs_nothing_will_call_again_are_zombies(connector: Connector) -> None:
    queued, stranded, timed, waiting, ended = [await new_run(connector, e) for e in "abcde"]

    def arrange(tx: Tx) -> None:
        for run_id in (stranded, timed, waiting, ended):
            drop_items(tx, run_id)
        # A run-timeout item only ends the run: it does not keep it alive.
        queue_repo.enqueue(tx, kind=Kind.RUN_TIMEOUT, run_id=timed, available_at=NOW + 9, now=NOW)
        pauses_repo.create(
            tx,
            pause_id=f"{waiting}:w",
            run_id=waiting,
            kind="wait",
            event_name="reply",
            expression=None,
            trigger_event={},
            expires_at=NOW + 9,
            now=NOW,
            step_id="w",
            step_name="w",
        )
        runs_repo.finish(tx, ended, RunStatus.COMPLETED, None, NOW)

    await connector.write(arrange)
    assert sorted(await zombie_ids(connector)) == sorted([stranded, timed])
    assert queued not in await zombie_ids(connector)
    # Within the grace period (created or changed at NOW or later): not yet.
    assert await zombie_ids(connector, settled_before=NOW) == []


async def test_repair_queues_one_discovery_and_is_idempotent(connector: Connector) -> None:
    run_id = await new_run(connector, "a")

    def strand(tx: Tx) -> None:
        drop_items(tx, run_id)
        runs_repo.add_pending(tx, run_id, "left-over")

    await connector.write(strand)
    assert await connector.write(lambda tx: zombies_repo.repair(tx, run_id, NOW + 5))
    assert not await connector.write(lambda tx: zombies_repo.repair(tx, run_id, NOW + 6))
    assert await zombie_ids(connector, settled_before=NOW + 100) == []
    jobs = await connector.read(lambda tx: tx.fetchall("run_jobs", {"run_id": run_id}))
    assert [(j["kind"], j["step_id"]) for j in jobs] == [("call", None)]
    assert await connector.read(lambda tx: runs_repo.pending_count(tx, run_id)) == 0
    kinds = [h["kind"] for h in await connector.read(lambda tx: runs_repo.list_history(tx, run_id))]
    assert kinds.count("run.repaired") == 1
