"""Durable endpoints' runs on both dialects: created once under the SDK's id, running, with a
discovery item due at the sync deadline that checkpoints push on (never once leased or retried),
and an endpoint function upserted under its origin's app."""

from __future__ import annotations

from mainspring import codec
from mainspring.domain.functions import FunctionDef
from mainspring.domain.queue import discovery_key
from mainspring.domain.runs import RunStatus
from mainspring.store.base import Connector, Tx
from mainspring.store.repos import apps as apps_repo
from mainspring.store.repos import endpoint_runs
from mainspring.store.repos import queue as queue_repo
from mainspring.store.repos import runs as runs_repo
from mainspring.store.repos import zombies as zombies_repo

NOW = 1_800_000_000_000
RUN_ID = "01M8XV0SYJCK6H60EGMS96WFCQ"
FUNCTION = FunctionDef(
    id="f1", app_id="a1", slug="h-get-x", name="GET /x", url="http://h/x", triggers=()
)


def create(tx: Tx, deadline: int = NOW + 300_000) -> bool:
    return endpoint_runs.create(
        tx,
        run_id=RUN_ID,
        function=FUNCTION,
        event_id=RUN_ID,
        request_version=2,
        deadline=deadline,
        history_data={"durable_endpoint": "http://h/x"},
        now=NOW,
    )


async def item_at(connector: Connector) -> int:
    row = await connector.read(
        lambda tx: tx.fetchone("endpoint_run_item", {"dedupe_key": discovery_key(RUN_ID)})
    )
    assert row is not None
    due: int = await connector.read(lambda tx: queue_repo.next_due(tx))
    return due


async def test_a_run_is_created_once_running_with_its_deadline(connector: Connector) -> None:
    assert await connector.write(create)
    assert not await connector.write(lambda tx: create(tx, NOW + 1))  # a resend: no-op

    state = await connector.read(lambda tx: runs_repo.load_state(tx, RUN_ID))
    assert state is not None
    assert (state.status, state.started_at, state.request_version) == (
        RunStatus.RUNNING,
        NOW,
        2,
    )
    history = await connector.read(lambda tx: runs_repo.list_history(tx, RUN_ID))
    assert [h["kind"] for h in history] == ["run.scheduled", "run.started"]
    assert codec.loads(history[0]["data"]) == {"durable_endpoint": "http://h/x"}
    found = await connector.read(lambda tx: endpoint_runs.run_item(tx, RUN_ID))
    assert found is not None and found.item.is_discovery and not found.leased
    assert await item_at(connector) == NOW + 300_000
    # Running with an item: never a zombie, however long it waits for its request.
    assert await connector.read(lambda tx: zombies_repo.find(tx, NOW + 10**9, 10)) == []


async def test_checkpoints_push_the_deadline_until_the_server_takes_over(
    connector: Connector,
) -> None:
    await connector.write(create)
    await connector.write(lambda tx: endpoint_runs.extend_deadline(tx, RUN_ID, NOW + 400_000))
    assert await item_at(connector) == NOW + 400_000
    await connector.write(lambda tx: endpoint_runs.extend_deadline(tx, RUN_ID, NOW + 1))
    assert await item_at(connector) == NOW + 400_000  # never earlier

    found = await connector.read(lambda tx: endpoint_runs.run_item(tx, RUN_ID))
    assert found is not None
    await connector.write(
        lambda tx: queue_repo.reschedule(tx, found.item.id, attempt=1, available_at=NOW + 5)
    )
    await connector.write(lambda tx: endpoint_runs.extend_deadline(tx, RUN_ID, NOW + 500_000))
    assert await item_at(connector) == NOW + 5  # a retry is not pushed away

    await connector.write(lambda tx: queue_repo.set_attempt(tx, found.item.id, 0))
    leased = await connector.write(
        lambda tx: queue_repo.lease_due(tx, owner="w", now=NOW + 5, lease_until=NOW + 30, limit=9)
    )
    assert [item.run_id for item in leased] == [RUN_ID]
    await connector.write(lambda tx: endpoint_runs.extend_deadline(tx, RUN_ID, NOW + 500_000))
    again = await connector.read(lambda tx: endpoint_runs.run_item(tx, RUN_ID))
    assert again is not None and again.leased and await item_at(connector) == NOW + 30


async def test_an_endpoint_function_lives_in_its_origins_app(connector: Connector) -> None:
    def upsert(tx: Tx, slug: str, config: str) -> None:
        apps_repo.upsert_endpoint(
            tx, app_name="http://h", slug=slug, name="GET /x", config_json=config, now=NOW
        )

    await connector.write(lambda tx: upsert(tx, "h-get-x", '{"v": 1}'))
    await connector.write(lambda tx: upsert(tx, "h-get-x", '{"v": 2}'))
    await connector.write(lambda tx: upsert(tx, "h-get-y", '{"v": 1}'))

    apps = await connector.read(apps_repo.list_apps)
    assert [(a["name"], a["url"], a["framework"]) for a in apps] == [
        ("http://h", "http://h", "durable-endpoint")
    ]
    functions = await connector.read(apps_repo.list_active_functions)
    assert [(f["slug"], f["config"], f["app_name"]) for f in functions] == [
        ("h-get-x", '{"v": 2}', "http://h"),
        ("h-get-y", '{"v": 1}', "http://h"),
    ]
