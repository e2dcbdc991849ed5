"""The trace export's claim on ended runs (`store.repos.exports`), on SQLite and PostgreSQL:
in end order, each run once (also between two connectors on one PostgreSQL database), not
before `upto`, and never a backlog older than `start_at`."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from mainspring import errors
from mainspring.domain.runs import RunStatus
from mainspring.store import open_connector
from mainspring.store.base import Connector, Tx
from mainspring.store.repos import exports as exports_repo
from mainspring.store.repos import runs as runs_repo
from mainspring.telemetry.export import TraceExport
from mainspring.telemetry.run_spans import Origin

from .test_read_queries import NOW, Table, function, send

TABLE = Table(function("f1", "app-f", "e"))


def end_runs(tx: Tx, ended_at: list[int], prefix: str = "01E") -> list[str]:
    """One run per entry, ended at that time; returns their ids in creation order."""
    event_ids = send(tx, TABLE, ["e"] * len(ended_at), NOW, prefix)
    runs = [str(row["id"]) for row in runs_repo.list_runs_by_events(tx, event_ids)]
    for run_id, at in zip(runs, ended_at, strict=True):
        runs_repo.finish(tx, run_id, RunStatus.COMPLETED, None, at)
    return runs


def claim(tx: Tx, upto: int, limit: int = 100, start_at: int = NOW - 1) -> list[str]:
    rows, _ = exports_repo.claim_ended_runs(tx, "traces", start_at, upto, limit)
    return [str(row["id"]) for row in rows]


async def test_ended_runs_are_claimed_once_in_end_order(connector: Connector) -> None:
    ended = [NOW + 30, NOW + 10, NOW + 10, NOW + 20, NOW + 500]
    runs = await connector.write(lambda tx: end_runs(tx, ended))
    in_order = sorted(runs[:4], key=lambda run_id: (ended[runs.index(run_id)], run_id))

    first = await connector.write(lambda tx: claim(tx, NOW + 100, limit=2))
    rest = await connector.write(lambda tx: claim(tx, NOW + 100))
    assert first + rest == in_order  # a tie on ended_at is split by run id, none lost
    assert await connector.write(lambda tx: claim(tx, NOW + 100)) == []
    assert await connector.write(lambda tx: claim(tx, NOW + 1000)) == [runs[4]]


async def test_a_run_ended_before_start_at_is_not_claimed(connector: Connector) -> None:
    runs = await connector.write(lambda tx: end_runs(tx, [NOW + 10, NOW + 50]))
    assert await connector.write(lambda tx: claim(tx, NOW + 100, start_at=NOW + 20)) == [runs[1]]


@pytest.mark.postgres_only  # several processes share one PostgreSQL database
async def test_two_connectors_never_claim_the_same_run(db_url: str, connector: Connector) -> None:
    await connector.write(lambda tx: end_runs(tx, [NOW + i for i in range(1, 61)]))
    other = open_connector(db_url)

    async def drain(conn: Connector) -> list[str]:
        claimed: list[str] = []
        while batch := await conn.write(lambda tx: claim(tx, NOW + 100, limit=3)):
            claimed += batch
        return claimed

    try:
        mine, theirs = await asyncio.gather(drain(connector), drain(other))
    finally:
        await other.close()
    assert len(mine) + len(theirs) == 60
    assert not set(mine) & set(theirs)


class _FailingReads:
    """The store with its next `fail` reads refused, as when the database goes away between
    the export's claim (a write) and its reads of the claimed runs' facts."""

    def __init__(self, connector: Connector, fail: int) -> None:
        self._connector, self.fail = connector, fail

    async def write(self, unit: Any) -> Any:
        return await self._connector.write(unit)

    async def read(self, unit: Any) -> Any:
        if getattr(unit, "func", None) is not None and self.fail > 0:  # a facts read
            self.fail -= 1
            raise errors.StoreError("database unavailable: injected")
        return await self._connector.read(unit)


async def test_runs_claimed_but_unread_are_exported_by_the_next_round(
    connector: Connector,
) -> None:
    """The cursor moves on at the claim; a failed read of the facts must not lose the runs."""
    runs = await connector.write(lambda tx: end_runs(tx, [NOW + 10, NOW + 20]))
    exporter = InMemorySpanExporter()
    origin = Origin(Resource.create({}), InstrumentationScope("test"))
    store = _FailingReads(connector, fail=1)
    export = TraceExport(
        cast(Connector, store),
        SimpleSpanProcessor(exporter),
        origin,
        lambda slug: slug,
        lambda: NOW + 10_000,
    )
    with pytest.raises(errors.StoreError):
        await export.export_round()
    assert await export.export_round() == 2
    roots = {span.context.trace_id for span in exporter.get_finished_spans()}
    assert len(roots) == len(runs) == 2
