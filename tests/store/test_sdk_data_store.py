"""What an SDK adds to a run beside its steps (issue 16), against a real database, on SQLite and
PostgreSQL: run metadata (caps, roll-up), userland spans (once per span, per-run cap), defers
(resends, aborts for good, the per-run cap) and the one `inngest/deferred.schedule` event per
live defer that a run's end emits, even when two transactions (two processes on PostgreSQL) end
the run at once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from mainspring import errors, ingest
from mainspring.domain import defers
from mainspring.domain.functions import FunctionDef, Trigger
from mainspring.domain.runs import RunState, RunStatus
from mainspring.protocol.otlp import Span
from mainspring.protocol.sidecar import from_ops
from mainspring.reads import Reads
from mainspring.runs import run_metadata, sidecar, userland
from mainspring.store import open_connector
from mainspring.store.base import Connector, Tx
from mainspring.store.repos import events as events_repo
from mainspring.store.repos import retention as retention_repo
from mainspring.store.repos import runs as runs_repo

NOW = 1_800_000_000_000
FUNCTION = FunctionDef(
    id="f1", app_id="a1", slug="app-fn", name="fn", url="http://x", triggers=(Trigger("e"),)
)


class OneFunction:
    def get(self, slug: str) -> FunctionDef | None:
        return FUNCTION if slug == FUNCTION.slug else None

    def match(self, event: dict[str, Any]) -> list[FunctionDef]:
        return [FUNCTION] if event["name"] == "e" else []


async def new_run(connector: Connector, internal_id: str) -> str:
    payload = {"name": "e", "data": {}, "user": {}, "id": internal_id, "ts": NOW}
    event = events_repo.NewEvent(internal_id, payload, None, [FUNCTION])
    effects = await connector.write(
        lambda tx: ingest.process_events(tx, [event], NOW, OneFunction(), ingest.Effects())
    )
    run_id: str = effects.started[0]
    return run_id


async def state_of(connector: Connector, run_id: str) -> RunState:
    state = await connector.read(lambda tx: runs_repo.load_state(tx, run_id))
    assert state is not None
    return state


def defer_op(name: str, **opts: Any) -> dict[str, Any]:
    fields = {"fn_slug": "app-later", "input": {"n": name}, **opts}
    return {"op": "DeferAdd", "id": f"h-{name}", "userland": {"id": name}, "opts": fields}


def abort_op(name: str) -> dict[str, Any]:
    opts = {"target_hashed_id": f"h-{name}", "fn_slug": "app-later"}
    return {"op": "DeferAbort", "id": f"h-{name}:abort", "opts": opts}


async def record(connector: Connector, run_id: str, ops: list[dict[str, Any]]) -> None:
    riders = from_ops(ops)
    await connector.write(lambda tx: sidecar.record(tx, run_id, riders, NOW))


def end(state: RunState, status: RunStatus) -> Callable[[Tx], bool]:
    def unit(tx: Tx) -> bool:
        return ingest.end_run(tx, state, status, None, None, NOW, OneFunction(), ingest.Effects())

    return unit


async def scheduled_events(connector: Connector) -> list[Any]:
    found = await connector.read(
        lambda tx: events_repo.list_events(tx, defers.DEFERRED_SCHEDULE, 100)
    )
    return list(found)


async def test_metadata_rolls_up_and_a_request_past_the_run_cap_stores_nothing(
    connector: Connector,
) -> None:
    run_id = await new_run(connector, "01MD")
    body = {
        "target": {"run_id": run_id},
        "metadata": [
            {"kind": "userland.a", "op": "merge", "values": {"x": 1, "y": 2}},
            {"kind": "userland.a", "op": "delete", "values": {"y": None}},
            {"kind": "userland.a", "op": "add", "values": {"x": 41}},
        ],
    }
    assert await run_metadata.add(connector, run_id, body, NOW) == 3
    step = {"target": {"step_id": "s1"}, "metadata": [{"kind": "userland.b", "values": {"k": 1}}]}
    assert await run_metadata.add(connector, run_id, step, NOW + 1) == 1
    big = {"kind": "userland.big", "values": {"v": "z" * 60_000}}
    with pytest.raises(errors.PayloadTooLarge) as refused:
        await run_metadata.add(connector, run_id, {"target": {}, "metadata": [big] * 18}, NOW)
    assert refused.value.field == "metadata[17].values"
    with pytest.raises(errors.NotFound):
        await run_metadata.add(connector, "01NOPE", step, NOW)
    found = await Reads(connector).metadata(run_id)
    assert [(m["scope"], m["kind"], m["values"]) for m in found] == [
        ("run", "userland.a", {"x": 42}),
        ("step", "userland.b", {"k": 1}),
    ]
    assert found[1]["step_id"] == run_metadata.metadata.hashed_step_id("s1", None)


async def test_defers_resent_stay_one_an_abort_is_for_good_and_a_run_has_at_most_20(
    connector: Connector,
) -> None:
    run_id = await new_run(connector, "01DF")
    await record(connector, run_id, [defer_op("a"), defer_op("b")])
    await record(connector, run_id, [defer_op("a"), abort_op("b"), abort_op("never-added")])
    await record(connector, run_id, [defer_op("b"), defer_op("never-added")])  # replayed adds
    state = await state_of(connector, run_id)
    assert state.defers == {"h-a": "live", "h-b": "aborted", "h-never-added": "aborted"}
    await record(connector, run_id, [defer_op(f"n{i}") for i in range(25)])
    state = await state_of(connector, run_id)
    assert len(state.defers) == defers.MAX_DEFERS_PER_RUN
    history = await connector.read(lambda tx: runs_repo.list_history(tx, run_id))
    kinds = [row["kind"] for row in history]
    assert kinds.count("defer.aborted") == 2 and kinds.count("defer.added") == 19


async def test_a_run_end_emits_one_event_per_live_defer_even_when_ended_twice_at_once(
    connector: Connector, db_url: str
) -> None:
    run_id = await new_run(connector, "01EN")
    await record(connector, run_id, [defer_op("keep"), defer_op("drop"), abort_op("drop")])
    state = await state_of(connector, run_id)
    # On PostgreSQL a second connection, as another process has; SQLite has one writer.
    other = open_connector(db_url) if connector.dialect == "postgres" else connector
    try:
        ended = await asyncio.gather(
            connector.write(end(state, RunStatus.COMPLETED)),
            other.write(end(await state_of(other, run_id), RunStatus.CANCELLED)),
            connector.write(end(state, RunStatus.FAILED)),
        )
    finally:
        if other is not connector:
            await other.close()
    assert sorted(ended) == [False, False, True]
    (event,) = await scheduled_events(connector)
    assert event.data["n"] == "keep" and event.data["_inngest"]["parent_run_id"] == run_id
    assert event.id == defers.event_id(run_id, "h-keep")
    after = await state_of(connector, run_id)
    assert after.defers == {"h-keep": "scheduled", "h-drop": "aborted"}


async def test_a_defer_reported_after_the_end_is_dropped(connector: Connector) -> None:
    run_id = await new_run(connector, "01LA")
    state = await state_of(connector, run_id)
    assert await connector.write(end(state, RunStatus.COMPLETED))
    await record(connector, run_id, [defer_op("late")])
    assert (await state_of(connector, run_id)).defers == {}
    assert await scheduled_events(connector) == []


def span(run_id: str | None, span_id: str, size: int = 100, **fields: Any) -> Span:
    base: dict[str, Any] = {
        "run_id": run_id,
        "trace_id": "00" * 16,
        "span_id": span_id,
        "parent_span_id": None,
        "step_id": "s1",
        "attempt": 0,
        "name": f"span-{span_id}",
        "kind": "INTERNAL",
        "scope_name": "app",
        "service_name": "svc",
        "status": "OK",
        "status_message": None,
        "start_ns": NOW * 1_000_000,
        "end_ns": NOW * 1_000_000 + 5_000_000,
        "attributes": {"k": span_id},
        "size": size,
    }
    return Span(**{**base, **fields})


async def test_userland_spans_are_kept_once_and_a_run_holds_at_most_its_cap(
    connector: Connector,
) -> None:
    run_id = await new_run(connector, "01SP")
    spans = [span(run_id, "aa"), span(run_id, "bb", parent_span_id="aa"), span(None, "cc")]
    spans.append(span("01NOPE", "dd"))
    spans.append(span(run_id, "ee", name="inngest.execution", scope_name="inngest"))
    result = await userland.store(connector, spans, NOW)
    assert (result.stored, result.rejected) == (2, 2)
    assert (await userland.store(connector, spans[:2], NOW)).stored == 2  # a resend
    with pytest.raises(errors.PayloadTooLarge):
        await userland.store(connector, [span(run_id, "ff", size=userland.MAX_RUN_BYTES)], NOW)
    found = await Reads(connector).userland_spans(run_id)
    assert [(s["span_id"], s["parent_span_id"]) for s in found] == [("aa", None), ("bb", "aa")]
    assert found[0]["attributes"] == {"k": "aa"} and found[0]["duration_ms"] == 5.0


async def test_retention_deletes_what_an_sdk_added_with_its_run(connector: Connector) -> None:
    run_id = await new_run(connector, "01RT")
    await record(connector, run_id, [defer_op("a")])
    body = {"target": {}, "metadata": [{"kind": "userland.a", "values": {"x": 1}}]}
    await run_metadata.add(connector, run_id, body, NOW)
    await userland.store(connector, [span(run_id, "aa")], NOW)
    assert await connector.write(end(await state_of(connector, run_id), RunStatus.COMPLETED))
    assert await connector.write(
        lambda tx: retention_repo.prune_runs(tx, "7ZZZZZZZZZZZZZZZZZZZZZZZZZ", 10)
    )
    reads = Reads(connector)
    assert await reads.metadata(run_id) == [] and await reads.userland_spans(run_id) == []
