"""examples/fastapi under uvicorn against a real Mainspring: the daily digest as its README runs it.

Only the schedule (every 2 s instead of daily), the report's duration (1.5 s instead of minutes)
and the ports differ from what a user runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from .harness import REPO_ROOT, JSONDict, Stack, running_stack, wait_until

APP_ID = "fastapi-example"
USERS = 3
REPORT_SECONDS = 1.5
CRON = "@every 2s"


@pytest.fixture(scope="module")
def digest(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(
        tmp_path_factory.mktemp("example-fastapi"),
        "app",
        [f"{APP_ID}-daily-digest", f"{APP_ID}-user-digest"],
        app_dir=REPO_ROOT / "examples" / "fastapi",
        app_env={
            "DIGEST_CRON": CRON,
            "REPORT_SECONDS": str(REPORT_SECONDS),
            "USER_COUNT": str(USERS),
        },
    ) as stack:
        yield stack


def completed(stack: Stack, fn: str, count: int) -> list[JSONDict]:
    def probe() -> list[JSONDict] | None:
        runs = stack.api.list_runs(f"{APP_ID}-{fn}", status="Completed")
        return runs if len(runs) >= count else None

    return wait_until(
        probe, timeout=30, what=f"{count} completed {fn} runs", on_timeout=stack.server.log_tail
    )


def most_at_once(runs: list[JSONDict]) -> int:
    """The largest number of runs in progress at the same moment."""
    edges = sorted(
        [(datetime.fromisoformat(str(r["run_started_at"])), 1) for r in runs]
        + [(datetime.fromisoformat(str(r["ended_at"])), -1) for r in runs]
    )
    running = peak = 0
    for _, step in edges:
        running += step
        peak = max(peak, running)
    return peak


@pytest.mark.slow
def test_cron_fans_out_one_digest_per_user(digest: Stack) -> None:
    first = completed(digest, "daily-digest", 1)[-1]
    today = datetime.now(UTC).date().isoformat()
    assert first["output"] == {"date": today, "users": USERS, "events": USERS}

    runs = completed(digest, "user-digest", USERS)
    assert sorted(r["output"]["user_id"] for r in runs) == [f"user-{k}" for k in (1, 2, 3)]
    for run in runs:
        assert run["output"]["report_took_s"] >= REPORT_SECONDS, run
        steps = [s["name"] for s in digest.api.run_steps(str(run["run_id"]))]
        assert steps == ["build-report", "deliver"]
    details = [digest.api.get_run(str(r["run_id"])) for r in runs]
    assert most_at_once([d for d in details if d is not None]) <= 2, "concurrency limit 2"

    # The schedule fires again the same day: the event ids dedupe, no user gets a second digest.
    completed(digest, "daily-digest", 2)
    assert len(digest.api.list_runs(f"{APP_ID}-user-digest")) == USERS
    delivered = httpx.get(f"http://127.0.0.1:{digest.app.port}/digests").json()["delivered"]
    assert sorted(d["to"] for d in delivered) == [f"user{k}@example.com" for k in (1, 2, 3)]
