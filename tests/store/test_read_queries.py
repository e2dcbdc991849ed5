"""The read side's queries behind GraphQL (runs of many events at once, events by id, pages
without internal events, counts, deleting an app, rerun from a step), on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from mainspring import codec, errors, ingest
from mainspring.domain.functions import FunctionDef, Trigger
from mainspring.domain.runs import RunStatus
from mainspring.operations import replays
from mainspring.reads import events as event_lists
from mainspring.reads import runs as run_lists
from mainspring.reads.events import EventFilter
from mainspring.reads.filters import RunFilter
from mainspring.store.base import Connector, Tx
from mainspring.store.repos import apps as apps_repo
from mainspring.store.repos import events as events_repo
from mainspring.store.repos import runs as runs_repo

NOW = 1_800_000_000_000


class Table:
    """The function table as event routing sees it: each function triggered by its own event."""

    def __init__(self, *functions: FunctionDef) -> None:
        self.by_slug = {function.slug: function for function in functions}

    def get(self, slug: str) -> FunctionDef | None:
        return self.by_slug.get(slug)

    def match(self, event: dict[str, Any]) -> list[FunctionDef]:
        return [f for f in self.by_slug.values() if f.triggers[0].event == event["name"]]


def function(function_id: str, slug: str, event: str) -> FunctionDef:
    return FunctionDef(
        id=function_id, app_id="a", slug=slug, name=slug, url="http://x", triggers=(Trigger(event),)
    )


def sync(tx: Tx, app: str, url: str, slugs: list[str], now: int = NOW) -> apps_repo.SyncResult:
    functions = [
        apps_repo.SyncedFunction(slug=slug, name=slug, config_json=codec.dumps({"id": slug}))
        for slug in slugs
    ]
    return apps_repo.sync_app(
        tx,
        name=app,
        url=url,
        sdk="py:v0.5.19",
        framework="fastapi",
        checksum=f"{app}:{','.join(slugs)}",
        functions=functions,
        now=now,
    )


def send(tx: Tx, table: Table, names: list[str], at: int, prefix: str = "01E") -> list[str]:
    events = [
        events_repo.NewEvent(
            f"{prefix}{at}{index:03d}",
            {
                "name": name,
                "data": {"i": index},
                "user": {},
                "id": f"{prefix}{at}{index}",
                "ts": at,
            },
            None,
            table.match({"name": name}),
        )
        for index, name in enumerate(names)
    ]
    return ingest.process_events(tx, events, at, table, ingest.Effects()).ids


async def test_runs_of_many_events_in_one_query(connector: Connector) -> None:
    table = Table(function("f1", "app-one", "one"), function("f2", "app-two", "two"))
    ids = await connector.write(lambda tx: send(tx, table, ["one", "two", "none", "one"], NOW))
    rows = await connector.read(lambda tx: runs_repo.list_runs_by_events(tx, [*ids, "01NOPE"]))

    by_event: dict[str, list[str]] = {}
    for row in rows:
        by_event.setdefault(row["event_id"], []).append(row["function_slug"])
    assert by_event == {ids[0]: ["app-one"], ids[1]: ["app-two"], ids[3]: ["app-one"]}
    assert await connector.read(lambda tx: runs_repo.list_runs_by_events(tx, [])) == []


async def test_events_by_ids_in_one_query(connector: Connector) -> None:
    ids = await connector.write(lambda tx: send(tx, Table(), ["a", "b", "c"], NOW))
    found = await connector.read(lambda tx: events_repo.get_events(tx, [ids[2], ids[0], "01NO"]))
    assert sorted(event.name for event in found) == ["a", "c"]


async def test_a_page_without_internal_events_holds_limit_user_events(
    connector: Connector,
) -> None:
    # Newest first: 3 user events, then 5 internal ones, then 3 older user events.
    await connector.write(lambda tx: send(tx, Table(), ["u1", "u2", "u3"], NOW))
    internal = ["inngest/function.finished"] * 5
    await connector.write(lambda tx: send(tx, Table(), internal, NOW + 10))
    await connector.write(lambda tx: send(tx, Table(), ["u4", "u5", "u6"], NOW + 20))

    flt = EventFilter(user_only=True, limit=5)
    page, cursor = await connector.read(lambda tx: event_lists.select(tx, flt))
    assert [e["name"] for e in page] == ["u6", "u5", "u4", "u3", "u2"]
    assert cursor is not None
    at, internal_id = event_lists.parse_cursor(cursor)
    rest = EventFilter(user_only=True, limit=5, before_at=at, before_id=internal_id)
    page, cursor = await connector.read(lambda tx: event_lists.select(tx, rest))
    assert ([e["name"] for e in page], cursor) == (["u1"], None)

    everything = EventFilter(limit=20)
    assert await connector.read(lambda tx: event_lists.count(tx, everything)) == 11
    assert await connector.read(lambda tx: event_lists.count(tx, flt)) == 6
    names = EventFilter(names=("u1", "u5", "inngest/function.finished"), user_only=True)
    page, _ = await connector.read(lambda tx: event_lists.select(tx, names))
    assert [e["name"] for e in page] == ["u5", "u1"]
    assert await connector.read(lambda tx: event_lists.count(tx, names)) == 2
    query = EventFilter(query="event.data.i >= 1 && event.name != 'u2'", user_only=True)
    page, _ = await connector.read(lambda tx: event_lists.select(tx, query))
    assert [e["name"] for e in page] == ["u6", "u5", "u3"]
    assert await connector.read(lambda tx: event_lists.count(tx, query)) == 3


async def test_run_counts_by_status_function_and_app(connector: Connector) -> None:
    await connector.write(lambda tx: sync(tx, "shop", "http://shop/api", ["shop-a", "shop-b"]))
    rows = await connector.read(apps_repo.list_active_functions)
    ids = {row["slug"]: row["id"] for row in rows}
    table = Table(
        function(ids["shop-a"], "shop-a", "a"),
        function(ids["shop-b"], "shop-b", "b"),
        function("f-other", "other", "o"),
    )
    await connector.write(lambda tx: send(tx, table, ["a", "a", "b", "o", "o", "o"], NOW))
    others = await connector.read(
        lambda tx: runs_repo.list_runs(tx, event_id=None, slug="other", status=None, limit=1)
    )
    done = others[0]["id"]
    await connector.write(lambda tx: runs_repo.finish(tx, done, RunStatus.COMPLETED, None, NOW + 5))

    async def count(**fields: Any) -> int:
        flt = RunFilter(**fields)
        return await connector.read(lambda tx: run_lists.count(tx, flt))

    assert await count() == 6
    assert await count(statuses=("Running",)) == 5
    assert await count(statuses=("Running", "Completed")) == 6
    assert await count(function_slugs=("shop-a", "other")) == 5
    assert await count(function_slugs=("other",), statuses=("Completed",)) == 1
    assert await count(app_ids=("shop",)) == 3
    assert await count(app_ids=("shop",), statuses=("Completed",)) == 0
    assert await count(query="event.name == 'o'") == 3

    shop = RunFilter(function_slugs=("shop-a", "shop-b"), limit=2)
    page = await connector.read(lambda tx: run_lists.select(tx, shop))
    assert len(page.runs) == 2 and page.cursor is not None
    rest = RunFilter(function_slugs=("shop-a", "shop-b"), limit=2, upper_id=page.cursor)
    last = await connector.read(lambda tx: run_lists.select(tx, rest))
    assert len(last.runs) == 1 and last.cursor is None
    slugs = sorted(run["function_id"] for run in [*page.runs, *last.runs])
    assert slugs == ["shop-a", "shop-a", "shop-b"]


async def test_a_deleted_app_leaves_the_lists_and_a_sync_brings_it_back(
    connector: Connector,
) -> None:
    synced = await connector.write(lambda tx: sync(tx, "shop", "http://shop/api", ["shop-a"]))
    await connector.write(lambda tx: sync(tx, "blog", "http://blog/api", ["blog-a"]))

    assert await connector.write(lambda tx: apps_repo.archive_app(tx, synced.app_id, NOW + 1))
    assert not await connector.write(lambda tx: apps_repo.archive_app(tx, synced.app_id, NOW + 2))
    assert [row["name"] for row in await connector.read(apps_repo.list_apps)] == ["blog"]
    active = await connector.read(apps_repo.list_active_functions)
    assert [row["slug"] for row in active] == ["blog-a"]
    kept = await connector.read(lambda tx: apps_repo.get_app(tx, synced.app_id))
    assert kept is not None and kept["archived_at"] == NOW + 1
    archived = await connector.read(lambda tx: apps_repo.get_function_by_slug(tx, "shop-a"))
    assert archived is not None and archived["app_name"] == "shop"

    again = await connector.write(
        lambda tx: sync(tx, "shop", "http://shop/api", ["shop-a"], NOW + 3)
    )
    assert (again.app_id, again.modified) == (synced.app_id, True)  # same checksum, but deleted
    assert [row["name"] for row in await connector.read(apps_repo.list_apps)] == ["blog", "shop"]
    active = await connector.read(apps_repo.list_active_functions)
    assert [row["slug"] for row in active] == ["blog-a", "shop-a"]


async def test_rerun_from_a_step_keeps_the_steps_before_it(connector: Connector) -> None:
    table = Table(function("f1", "app-fn", "e"))
    await connector.write(lambda tx: send(tx, table, ["e"], NOW))
    [original] = await connector.read(
        lambda tx: runs_repo.list_runs(tx, event_id=None, slug="app-fn", status=None, limit=5)
    )
    for index, step in enumerate(["one", "two", "three"]):

        def save(tx: Tx, step: str = step, index: int = index) -> object:
            return runs_repo.save_step(
                tx,
                original["id"],
                step_id=step,
                name=step,
                op="StepRun",
                memo={"data": index},
                attempts=1,
                now=NOW + index,
                history_kind="step.completed",
                history_attempt=0,
            )

        await connector.write(save)

    def rerun(from_step: str) -> Any:
        def unit(tx: Tx) -> str | None:
            return replays.rerun_unit(tx, original["id"], NOW + 10, table, from_step=from_step)

        return unit

    new_id = await connector.write(rerun("three"))
    steps = await connector.read(lambda tx: runs_repo.list_steps(tx, new_id))
    assert [(s["step_id"], s["memo"]) for s in steps] == [
        ("one", '{"data":0}'),
        ("two", '{"data":1}'),
    ]
    new_id = await connector.write(rerun("one"))
    assert await connector.read(lambda tx: runs_repo.list_steps(tx, new_id)) == []
    with pytest.raises(errors.InvalidInput) as raised:
        await connector.write(rerun("nope"))
    assert raised.value.field == "fromStep.stepId"
