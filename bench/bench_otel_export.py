"""What the OpenTelemetry trace export costs per step, measured in process on the real path.

Usage (from the repository root)::

    .venv/bin/python bench/bench_otel_export.py [--runs 2000] [--steps 3]

Seeds a fresh SQLite database with ``--runs`` ended runs of ``--steps`` steps each, recorded as
the executor records them (history, memoized steps, the run's end), then lets the export
(`telemetry.export.TraceExport`: claim, read the facts, build the spans, the SDK's
`BatchSpanProcessor` and OTLP/HTTP exporter) send them all to a local receiver that reads and
discards. Reports this process's CPU (all threads: the export round and the processor's
encoding and sending) per run and per step. Set beside the server CPU per step of
``bench_core.py`` (export off), it gives the export's share without the noise of two end-to-end
runs. The receiver does not decode, so its CPU is small and counted here too (an upper bound).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from mainspring.domain.functions import FunctionDef, Trigger
from mainspring.domain.runs import RunStatus
from mainspring.store import open_connector
from mainspring.store.base import Connector, Tx
from mainspring.store.repos import runs as runs_repo
from mainspring.telemetry.export import TraceExport
from mainspring.telemetry.run_spans import Origin
from otlp_sink import OtlpSink

FUNCTION = FunctionDef(
    id="f1",
    app_id="bench",
    slug="bench-chain",
    name="chain",
    url="http://x",
    triggers=(Trigger("e"),),
)


def record_run(tx: Tx, index: int, steps: int, now: int) -> None:
    run_id = runs_repo.start_run(tx, FUNCTION, f"E{index}", f"E{index}", now)
    assert run_id is not None
    runs_repo.mark_started(tx, run_id, now + 1, -1, confirm=False)
    for step in range(steps):
        runs_repo.save_step(
            tx,
            run_id,
            step_id=f"s{step}",
            name=f"step-{step}",
            op="Step",
            memo={"data": step},
            attempts=1,
            now=now + 2 + step,
            history_kind="step.completed",
            history_attempt=0,
        )
    runs_repo.finish(tx, run_id, RunStatus.COMPLETED, {"ok": True}, now + 3 + steps)


async def seed(connector: Connector, runs: int, steps: int, now: int) -> None:
    for start in range(0, runs, 200):
        count = min(200, runs - start)

        def unit(tx: Tx, start: int = start, count: int = count) -> None:
            for index in range(start, start + count):
                record_run(tx, index, steps, now)

        await connector.write(unit)


async def measure(args: argparse.Namespace) -> None:
    sink = OtlpSink(decode=False)
    with tempfile.TemporaryDirectory() as tmp:
        connector = open_connector(str(Path(tmp) / "otel.db"))
        now = int(time.time() * 1000)
        await seed(connector, args.runs, args.steps, now)
        processor = BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{sink.url}/v1/traces"))
        origin = Origin(Resource.create({"service.name": "mainspring"}), InstrumentationScope("m"))
        export = TraceExport(
            connector, processor, origin, lambda slug: slug, lambda: now + 60_000, settle_ms=0
        )
        cpu0, wall0 = time.process_time(), time.perf_counter()
        exported = await export.export_round()
        processor.force_flush(timeout_millis=120_000)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        processor.shutdown()
        await connector.close()
    sink.close()
    steps = exported * args.steps
    print(f"exported {exported} runs of {args.steps} steps in {sink.requests} OTLP requests")
    print(
        f"CPU {cpu:.3f} s (wall {wall:.3f} s): {cpu / exported * 1e6:,.0f} µs/run, "
        f"{cpu / steps * 1e6:,.0f} µs/step"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--steps", type=int, default=3)
    asyncio.run(measure(parser.parse_args()))


if __name__ == "__main__":
    main()
