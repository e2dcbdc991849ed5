"""The trace export: a background round that claims runs ended since the last round, reads
their recorded facts and hands their spans to the OpenTelemetry SDK's `BatchSpanProcessor`
(whose thread encodes and sends them).

Why after the end, from the store, rather than live from the executor: every way a run ends
(its last reply, a cancel, a timeout, a zombie repair, another process) is seen in one place,
the hot path does nothing, and the spans carry exactly what the dashboard shows. A run's spans
wait `SETTLE_MS` after its end for userland spans the app exports late. The claim moves a
cursor in the database (`store.repos.exports`), so on PostgreSQL each run is exported once.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from opentelemetry.sdk.trace import SpanProcessor

from mainspring import codec, errors
from mainspring.clock import Clock
from mainspring.domain import events as names
from mainspring.domain.events import Event
from mainspring.operations.periodic import Periodic
from mainspring.reads.views import history_view, step_view
from mainspring.store.base import Connector, Row, Tx
from mainspring.store.repos import events as events_repo
from mainspring.store.repos import exports as exports_repo
from mainspring.telemetry import run_spans
from mainspring.telemetry.run_spans import Origin, RunFacts

log = logging.getLogger("mainspring.telemetry")
CURSOR = "traces"
INTERVAL_S = 0.5
SETTLE_MS = 1_000  # userland spans an app exports just after the run's last call
BATCH_RUNS = 100  # runs claimed per transaction (~600 spans: within the processor's queue)
RUNS_PER_READ = 20  # runs whose facts one read transaction fetches (4 queries)
BACKLOG_MS = 3_600_000  # at start-up, runs that ended longer ago than this are not exported
KNOWN_CHILDREN = 10_000  # invoke step → child run, remembered for the parent's export


class TraceExport:
    def __init__(
        self,
        connector: Connector,
        processor: SpanProcessor,
        origin: Origin,
        function_name: Callable[[str], str | None],
        clock: Clock,
        *,
        interval_s: float = INTERVAL_S,
        settle_ms: int = SETTLE_MS,
    ) -> None:
        self._connector = connector
        self._processor = processor
        self._origin = origin
        self._function_name = function_name
        self._clock = clock
        self._settle_ms = settle_ms
        self._start_at = clock() - BACKLOG_MS
        self._seen: tuple[int, str] = (self._start_at, "")  # last claimed here: a cheap peek
        self._children: OrderedDict[str, str] = OrderedDict()
        self._unread: list[Row] = []  # claimed runs whose facts a failed read did not get
        self.rounds = Periodic("trace export", self.export_round, interval_s)
        self.exported_runs = 0

    def start(self) -> None:
        self.rounds.start()

    async def stop(self) -> None:
        """Stop the rounds, then export every run ended so far: a late userland span is worth
        less than the trace. The processor's shutdown (the caller's) flushes the queue."""
        await self.rounds.stop()
        with contextlib.suppress(errors.StoreError):
            await self.export_round(settle_ms=0)

    async def export_round(self, settle_ms: int | None = None) -> int:
        """Claim and export the runs ended since the last round (at least `settle_ms` ago, by
        default `SETTLE_MS`); returns how many."""
        settle = self._settle_ms if settle_ms is None else settle_ms
        exported = 0
        while True:
            facts = await self._next_batch(self._clock() - settle)
            if not facts:
                return exported
            for one in facts:
                self._export(one)
            exported += len(facts)
            self.exported_runs += len(facts)
            # The processor sends what it holds before more comes: its queue is bounded and
            # would drop spans of a burst of ends (or a slow collector) otherwise.
            await asyncio.to_thread(self._processor.force_flush)
            if len(facts) < BATCH_RUNS:
                return exported

    async def _next_batch(self, upto: int) -> list[RunFacts]:
        """Claim in a short write, then read in short reads: SQLite's one writer and one
        reader serve the hot path too, which must not queue behind a hundred runs' history."""
        rows = self._unread
        if not rows:
            if not await self._connector.read(lambda tx: self._any_ended(tx, upto)):
                return []
            rows = await self._connector.write(lambda tx: self._claim(tx, upto))
        # Claimed (the cursor moved on) but not yet read: a read that fails (database away)
        # leaves them here for the next round instead of losing their traces.
        self._unread = rows
        facts: list[RunFacts] = []
        for start in range(0, len(rows), RUNS_PER_READ):
            facts += await self._connector.read(
                functools.partial(self._read_facts, rows[start : start + RUNS_PER_READ])
            )
        self._unread = []
        return facts

    def _read_facts(self, rows: list[Row], tx: Tx) -> list[RunFacts]:
        """The facts of several runs in four queries (events, history, steps, userland)."""
        run_ids = [str(row["id"]) for row in rows]
        events = {e.internal_id: e for e in events_repo.get_events(tx, _event_ids(rows))}
        history, steps, spans = exports_repo.facts_of_runs(tx, run_ids)
        return [
            self._facts(
                row,
                events.get(str(row["event_id"])),
                [history_view(entry) for entry in history.get(run_id, [])],
                [step_view(step) for step in steps.get(run_id, [])],
                [
                    {**span, "attributes": codec.loads(span["attributes"])}
                    for span in spans.get(run_id, [])
                ],
            )
            for row, run_id in zip(rows, run_ids, strict=True)
        ]

    def _any_ended(self, tx: Tx, upto: int) -> bool:
        at, run_id = self._seen
        params = {"at": at, "id": run_id, "upto": upto, "n": 1}
        return bool(tx.fetchall("runs_ended_after", params))

    def _claim(self, tx: Tx, upto: int) -> list[Row]:
        rows, self._seen = exports_repo.claim_ended_runs(
            tx, CURSOR, self._start_at, upto, BATCH_RUNS
        )
        return rows

    def _facts(
        self,
        row: Row,
        event: Event | None,
        history: list[dict[str, Any]],
        steps: list[dict[str, Any]],
        userland: list[dict[str, Any]],
    ) -> RunFacts:
        run_id, slug = str(row["id"]), str(row["function_slug"])
        invoked_by = _invoked_by(event.name, event.data) if event is not None else None
        if invoked_by is not None:
            self._remember(f"{invoked_by[0]}:{invoked_by[1]}", run_id)
        invoked = {
            str(entry["step_id"]): child
            for entry in history
            if entry["kind"] == "step.invoking"
            and (child := self._children.get(f"{run_id}:{entry['step_id']}")) is not None
        }
        return RunFacts(
            run={**row, "output": codec.loads(row["output"])},
            function_name=self._function_name(slug) or slug,
            event_name=event.name if event is not None else None,
            history=history,
            steps=steps,
            userland=userland,
            invoked_by=invoked_by,
            invoked=invoked,
        )

    def _remember(self, key: str, child: str) -> None:
        self._children[key] = child
        if len(self._children) > KNOWN_CHILDREN:
            self._children.popitem(last=False)

    def _export(self, facts: RunFacts) -> None:
        try:
            spans = run_spans.build(facts, self._origin)
        except Exception:  # one run's odd record must not stop the others' export
            log.exception("trace of run %s could not be built", facts.run["id"])
            return
        for span in spans:
            self._processor.on_end(span)


def _event_ids(rows: list[Row]) -> list[str]:
    return list({str(row["event_id"]) for row in rows})


def _invoked_by(name: str, data: dict[str, Any]) -> tuple[str, str] | None:
    """(parent run, invoke step) of a run started by `step.invoke` (`recording._invoke_event`)."""
    if name != names.FUNCTION_INVOKED:
        return None
    meta = data.get("_inngest") or {}
    correlation = str(meta.get("correlation_id") or "")
    parent_run, _, step_id = correlation.partition(".")
    return (parent_run, step_id) if parent_run and step_id else None
