"""Pausing and the kill switch across two Mainspring processes on one PostgreSQL database: a
pause or kill switch set through one process holds the work of the other, which also stops a
started run at its next step (issue 7, item 3, with `mainspring start`-style scale-out)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .harness import (
    Api,
    SideEffects,
    assert_stays,
    postgres_cluster,
    requires_postgres_dialect,
    wait_until,
)

pytestmark = [requires_postgres_dialect(), pytest.mark.slow]
SLUGS = ("ops-steps", "ops-quick", "ops-fails")


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Api, Api, SideEffects]]:
    workdir = tmp_path_factory.mktemp("opsmulti")
    with postgres_cluster(workdir, "ops_app", SLUGS, 2) as cluster:
        yield cluster.apis[0], cluster.apis[1], cluster.sidefx


def calls(sidefx: SideEffects, run_id: str) -> int:
    return len(sidefx.select(kind="CALL", run_id=run_id))


def test_pause_through_one_process_holds_the_other(pair: tuple[Api, Api, SideEffects]) -> None:
    one, other, sidefx = pair
    assert one.http.post("/v1/functions/ops-quick/pause").status_code == 200
    runs = [
        other.run_for_event(other.send_event("ops/quick", {"n": n}))["run_id"] for n in range(6)
    ]
    assert_stays(lambda: all(calls(sidefx, r) == 0 for r in runs), duration=2.0, what="no SDK call")
    assert other.http.post("/v1/functions/ops-quick/resume").status_code == 200
    for run_id in runs:
        assert one.wait_for_run_status(run_id, "Completed")["output"] == {"n": runs.index(run_id)}


def test_kill_switch_through_one_process_stops_a_run_in_the_other(
    pair: tuple[Api, Api, SideEffects],
) -> None:
    one, other, sidefx = pair
    run_id = other.run_for_event(other.send_event("ops/steps", {"slow": 1.5}))["run_id"]
    wait_until(
        lambda: sidefx.select(kind="START", run_id=run_id, step="two") or None,
        timeout=20,
        what="step two started",
    )
    assert one.http.post("/v1/kill-switch", json={"reason": "drill"}).status_code == 200
    assert other.data("/v1/kill-switch")["active"] is True
    wait_until(
        lambda: sidefx.select(kind="END", run_id=run_id, step="two") or None,
        timeout=20,
        what="step two ended",
    )
    assert_stays(
        lambda: not sidefx.select(kind="START", run_id=run_id, step="three"),
        duration=2.0,
        what="step three held",
    )
    assert other.http.request("DELETE", "/v1/kill-switch").status_code == 200
    assert one.wait_for_run_status(run_id, "Completed")["output"] == {"total": 6}
