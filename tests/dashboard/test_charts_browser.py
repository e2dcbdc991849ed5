"""Charts: 200 runs of two functions through the Python SDK (one failing every other run) show
up on the function pages and on Operations without a reload, the failing step stands out, and
`GET /v1/functions/{id}/stats` returns the same numbers.

Its own server with rollups recomputed every 300 ms, so the charts fill in within a poll.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from integration.harness import Stack, running_stack, wait_until

from .conftest import shot

RUNS_EACH = 100
SLUGS = ("charts-steady", "charts-flaky")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    env = {"MAINSPRING_ROLLUP_INTERVAL": "300ms"}
    workdir = tmp_path_factory.mktemp("charts")
    with running_stack(workdir, "charts_app", SLUGS, server_env=env) as found:
        yield found


def _totals(stats: dict[str, Any]) -> dict[str, int]:
    keys = ("started", "completed", "failed")
    return {key: sum(int(i[key]) for i in stats["intervals"]) for key in keys}


def _finished(stack: Stack, slug: str) -> dict[str, Any] | None:
    stats: dict[str, Any] = stack.api.data(f"/v1/functions/{slug}/stats", window="hour")
    totals = _totals(stats)
    return stats if totals["completed"] + totals["failed"] == RUNS_EACH else None


def test_charts_fill_in_live_and_show_the_failing_step(stack: Stack, page: Page) -> None:
    # Given the flaky function's page, open before any run
    page.goto(f"{stack.server.url}/functions/charts-flaky")
    expect(page.locator("#chart-runs")).to_have_attribute("data-empty", "true")

    # When 200 runs go through the SDK, half of the flaky ones failing in `charge`
    events = [
        {"name": f"charts/{kind}", "data": {"n": n}}
        for n in range(RUNS_EACH)
        for kind in ("steady", "flaky")
    ]
    stack.api.send_events(events)
    flaky = wait_until(lambda: _finished(stack, "charts-flaky"), timeout=60, what="flaky rollups")
    steady = wait_until(lambda: _finished(stack, "charts-steady"), timeout=30, what="rollups")

    # Then the JSON has the counts, percentiles and the failing step
    assert _totals(flaky) == {"started": 100, "completed": 50, "failed": 50}
    assert _totals(steady) == {"started": 100, "completed": 100, "failed": 0}
    assert flaky["failing_step"] == "charge"
    assert steady["failing_step"] is None
    assert steady["slowest_step"] == "transform"
    charge = next(s for s in flaky["steps"] if s["name"] == "charge")
    assert (charge["attempts"], charge["failure_rate"]) == (100, 0.5)
    assert sum(charge["distribution"]) == 100
    assert any(i["p95_ms"] for i in steady["intervals"])

    # and the open page redraws itself (htmx polling): bars, the failing step marked
    expect(page.locator("#chart-runs")).to_have_attribute("data-empty", "false")
    assert page.locator("#chart-runs rect.c-failed").count() >= 1
    expect(page.locator('tr[data-step="charge"]')).to_have_attribute("data-failing", "true")
    expect(page.locator('tr[data-step="prepare"]')).to_have_attribute("data-failing", "false")
    expect(page.locator("#chart-durations polyline.c-p95_ms")).to_have_count(1)
    shot(page, "charts-function-flaky")

    page.goto(f"{stack.server.url}/functions/charts-steady?window=day")
    expect(page.locator("#function-charts")).to_have_attribute("data-window", "day")
    expect(page.locator('tr[data-step="transform"]')).to_have_attribute("data-slowest", "true")
    page.locator("#function-charts .tabs a", has_text="week").click()
    expect(page.locator("#function-charts")).to_have_attribute("data-window", "week")
    expect(page.locator("#chart-runs")).to_have_attribute("data-empty", "false")

    page.goto(f"{stack.server.url}/operations")
    for name in ("queue", "lag", "in-flight", "dead-letters"):
        expect(page.locator(f"#chart-{name}")).to_have_attribute("data-empty", "false")
    system = stack.api.data("/v1/operations/stats", window="hour")
    assert max(i["dead_letters"] or 0 for i in system["intervals"]) == 50
    shot(page, "charts-operations")


def test_stats_window_is_checked(stack: Stack) -> None:
    response = stack.api.http.get("/v1/functions/charts-steady/stats", params={"window": "year"})
    assert response.status_code == 400
    assert response.json()["field"] == "window"
    assert stack.api.http.get("/v1/functions/nope/stats").status_code == 404
