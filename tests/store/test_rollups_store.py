"""Per-minute rollups on both dialects: a round counts runs and steps once, however many times
and however many processes run it (whole-row upserts), the stats read them back, and retention
prunes them."""

from __future__ import annotations

import asyncio
import time

import pytest

from mainspring.domain.functions import FunctionDef, Trigger
from mainspring.domain.runs import RunStatus
from mainspring.operations.rollups import MINUTE_MS, Rollups, hour_of, minute_of
from mainspring.operations.stats import WINDOWS, Stats
from mainspring.store import open_connector
from mainspring.store.base import Connector, Tx
from mainspring.store.repos import rollups as rollups_repo
from mainspring.store.repos import runs as runs_repo

FUNCTION = FunctionDef(
    id="f1", app_id="a1", slug="app-pay", name="pay", url="http://x", triggers=(Trigger("e"),)
)


def now_ms() -> int:
    return int(time.time() * 1000)  # run ids carry the real time: the round reads by id


async def arrange(connector: Connector, now: int) -> None:
    """Four runs: two completed (steps `a` 10 ms, `b` 30 ms), one failed in `b` after an
    error, one still running."""

    def unit(tx: Tx) -> None:
        ids = [runs_repo.start_run(tx, FUNCTION, f"e{n}", f"e{n}", now) for n in range(4)]
        for n, run_id in enumerate(ids[:3]):
            assert run_id is not None
            runs_repo.add_history(tx, run_id, now, "run.started")
            _step(tx, run_id, "a", now + 10)
            if n == 2:
                at = now + 20
                runs_repo.add_history(tx, run_id, at, "step.error", step_id="b", step_name="b")
                _step(tx, run_id, "b", now + 50, failed=True)
                runs_repo.finish(tx, run_id, RunStatus.FAILED, None, now + 60)
            else:
                _step(tx, run_id, "b", now + 40)
                runs_repo.finish(tx, run_id, RunStatus.COMPLETED, None, now + 60)

    await connector.write(unit)


def _step(tx: Tx, run_id: str, name: str, at: int, *, failed: bool = False) -> None:
    kind = "step.failed" if failed else "step.completed"
    runs_repo.save_step(
        tx,
        run_id,
        step_id=name,
        name=name,
        op="StepRun",
        memo={"data": 1},
        attempts=1,
        now=at,
        history_kind=kind,
    )()


async def test_a_round_counts_runs_and_steps_once(connector: Connector) -> None:
    now = now_ms()
    await arrange(connector, now)
    rollups = Rollups(connector, lambda: now + 100, interval_ms=1000)
    lo, hi = minute_of(now) - MINUTE_MS, minute_of(now) + 2 * MINUTE_MS
    await rollups.roll(lo, hi, now + 100)
    await rollups.roll(lo, hi, now + 100)  # again: the same numbers, not twice as many

    stats = await Stats(connector, lambda: now + 100).function(FUNCTION.slug, WINDOWS["hour"])
    totals = {k: sum(i[k] for i in stats["intervals"]) for k in ("started", "completed", "failed")}
    assert totals == {"started": 4, "completed": 2, "failed": 1}
    steps = {s["name"]: s for s in stats["steps"]}
    assert (steps["a"]["attempts"], steps["a"]["failure_rate"]) == (3, 0)
    assert (steps["b"]["completed"], steps["b"]["failed"], steps["b"]["errors"]) == (2, 1, 1)
    assert stats["failing_step"] == "b" and stats["slowest_step"] == "b"
    # percentiles are bucket bounds, within 2^(1/4) of the true 10 ms and 30 ms
    assert 10 <= steps["a"]["p95_ms"] <= 12 and 30 <= steps["b"]["p95_ms"] <= 36
    system = await Stats(connector, lambda: now + 100).system(WINDOWS["hour"])
    assert max(i["dead_letters"] or 0 for i in system["intervals"]) == 1


@pytest.mark.postgres_only
async def test_processes_rolling_the_same_minutes_do_not_count_twice(db_url: str) -> None:
    connectors = [open_connector(db_url) for _ in range(3)]
    try:
        now = now_ms()
        await arrange(connectors[0], now)
        lo, hi = minute_of(now) - MINUTE_MS, minute_of(now) + 2 * MINUTE_MS
        rounds = [Rollups(c, lambda: now, interval_ms=1000) for c in connectors]
        for _ in range(3):
            await asyncio.gather(*(r.roll(lo, hi, now) for r in rounds))
        rows = await connectors[0].read(
            lambda tx: rollups_repo.function_rows(tx, FUNCTION.slug, MINUTE_MS, lo, hi)
        )
        assert [(r["started"], r["completed"], r["failed"]) for r in rows] == [(4, 2, 1)]
    finally:
        for c in connectors:
            await c.close()


async def test_retention_prunes_old_minutes(connector: Connector) -> None:
    now = now_ms()
    await arrange(connector, now)
    lo, hi = minute_of(now), minute_of(now) + MINUTE_MS
    await Rollups(connector, lambda: now, interval_ms=1000).roll(lo, hi, now)
    assert await connector.write(lambda tx: rollups_repo.prune(tx, hour_of(lo))) == 0
    # a minute and an hour row each of the function, its 2 steps and the system
    assert await connector.write(lambda tx: rollups_repo.prune(tx, hi)) == 8
