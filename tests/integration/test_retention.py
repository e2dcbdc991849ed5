"""Retention with the official Python SDK: ended runs, their steps and history, and old events
are pruned in the background; running runs and their events are kept (issue 7, item 5)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from .harness import Stack, running_stack, start_run, wait_until

SLUGS = ("ops-steps", "ops-quick", "ops-fails")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    env = {
        "MAINSPRING_RETENTION": "3s",
        "MAINSPRING_RETENTION_INTERVAL": "300ms",
        "MAINSPRING_RETENTION_BATCH": "2",  # several batches per pass
    }
    workdir = tmp_path_factory.mktemp("retention")
    with running_stack(workdir, "ops_app", SLUGS, server_env=env) as running:
        yield running


def test_old_runs_and_events_are_pruned_running_ones_kept(stack: Stack) -> None:
    api, http = stack.api, stack.api.http
    assert http.post("/v1/functions/ops-steps/pause").status_code == 200
    held = start_run(api, "ops/steps", {"slow": 0})
    done = [start_run(api, "ops/quick", {"n": n}) for n in range(5)]
    for run_id in done:
        api.wait_for_run_status(run_id, "Completed")
    events = {run_id: api.get_run(run_id)["event_id"] for run_id in [*done, held]}  # type: ignore[index]
    assert api.data(f"/v1/runs/{done[0]}/steps")

    wait_until(
        lambda: all(http.get(f"/v1/runs/{r}").status_code == 404 for r in done) or None,
        timeout=30,
        what="ended runs pruned",
    )
    wait_until(
        lambda: all(http.get(f"/v1/events/{events[r]}").status_code == 404 for r in done) or None,
        timeout=30,
        what="their events pruned",
    )
    for run_id in done:
        assert http.get(f"/v1/runs/{run_id}/history").status_code == 404

    # The held run is older than the cut-off but still running: it and its event stay.
    time.sleep(1)
    assert api.get_run(held)["status"] == "Running"  # type: ignore[index]
    assert http.get(f"/v1/events/{events[held]}").status_code == 200
    assert http.post("/v1/functions/ops-steps/resume").status_code == 200

    def finished() -> object | None:
        run = http.get(f"/v1/runs/{held}")
        if run.status_code == 200 and run.json()["data"]["status"] == "Completed":
            return run.json()["data"]["output"]
        # Once ended, the run is past the cut-off and may be pruned before we look again; its
        # inngest/function.finished event is new, so it outlives the run by the cut-off.
        for event in api.data("/v1/events", name="inngest/function.finished"):
            if event["data"].get("run_id") == held:
                return event["data"].get("result")
        return None

    assert wait_until(finished, timeout=20, what="the held run to complete") == {"total": 6}
