"""The quickstart from the README, run exactly as documented (on free ports)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest

from .harness import REPO_ROOT, Stack, running_stack, wait_until

QUICKSTART_DIR = REPO_ROOT / "examples" / "quickstart"


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(
        tmp_path_factory.mktemp("quickstart"),
        "app",
        ["quickstart-summarize-transcript"],
        app_dir=QUICKSTART_DIR,
    ) as stack:
        yield stack


@pytest.mark.slow
def test_quickstart_summarizes_transcript(quickstart: Stack) -> None:
    base = quickstart.server.url
    text = "Hello, durable world. Steps are memoized and sleeps survive restarts!"

    # curl -X POST $BASE/e/dev -d '{"name": "transcript/uploaded", "data": {...}}'
    sent = httpx.post(f"{base}/e/dev", json={"name": "transcript/uploaded", "data": {"text": text}})
    assert sent.status_code == 200, sent.text
    (event_id,) = sent.json()["ids"]

    def finished_run() -> dict[str, object] | None:
        runs = httpx.get(f"{base}/v1/events/{event_id}/runs").json()["data"]
        return runs[0] if runs and runs[0]["status"] in {"Completed", "Failed"} else None

    run = wait_until(finished_run, timeout=20, what="the quickstart run to finish")
    assert run["status"] == "Completed", run
    assert run["function_id"] == "quickstart-summarize-transcript"
    assert run["output"] == {"words": 10, "summary": "hello durable world steps are ..."}

    run_id = run["run_id"]
    detail = httpx.get(f"{base}/v1/runs/{run_id}").json()["data"]
    started = datetime.fromisoformat(str(detail["run_started_at"]))
    ended = datetime.fromisoformat(str(detail["ended_at"]))
    assert (ended - started).total_seconds() >= 1.0, "the 1 s durable sleep is part of the run"

    steps = httpx.get(f"{base}/v1/runs/{run_id}/steps").json()["data"]
    assert [(s["name"], s["op"]) for s in steps] == [
        ("clean-transcript", "StepRun"),
        ("cool-down", "Sleep"),
        ("summarize", "StepRun"),
    ]
    assert steps[2]["output"] == "hello durable world steps are ..."
