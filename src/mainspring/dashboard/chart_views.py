"""Context of the chart fragments: the numbers of `operations.stats` and their SVG geometry."""

from __future__ import annotations

from typing import Any

from mainspring.api.state import Services
from mainspring.dashboard import charts
from mainspring.dashboard.views import human_ms
from mainspring.operations.stats import WINDOWS, Window

RUN_STACKS = (("completed", "Completed"), ("failed", "Failed"), ("cancelled", "Cancelled"))


def _labels(intervals: list[dict[str, Any]], window: Window) -> list[str]:
    """`HH:MM` within a day, `MM-DD HH:00` across a week (the stats speak RFC 3339, UTC)."""
    if window.name == "week":
        return [f"{i['at'][5:10]} {i['at'][11:13]}h" for i in intervals]
    return [i["at"][11:16] for i in intervals]


def _ms(value: float) -> str:
    return f"{value:.1f} ms" if 0 < value < 10 and value != int(value) else human_ms(int(value))


async def function_charts(services: Services, slug: str, window: Window) -> dict[str, Any]:
    stats = await services.operations.stats.function(slug, window)
    intervals = stats["intervals"]
    labels = _labels(intervals, window)
    runs = charts.stacked_bars(
        "runs", "Runs", intervals, labels, RUN_STACKS, line=("started", "Started")
    )
    durations = charts.lines(
        "durations", "Duration", intervals, labels, (("p50_ms", "p50"), ("p95_ms", "p95")), _ms
    )
    bounds = stats["distribution_bounds_ms"]
    for step in stats["steps"]:
        step["columns"] = charts.distribution(step["distribution"], bounds, _ms)
    return {
        "slug": slug,
        "stats": stats,
        "window": window.name,
        "windows": list(WINDOWS),
        "charts": [runs, durations],
    }


async def system_charts(services: Services, window: Window) -> dict[str, Any]:
    stats = await services.operations.stats.system(window)
    intervals = stats["intervals"]
    labels = _labels(intervals, window)
    return {
        "stats": stats,
        "window": window.name,
        "windows": list(WINDOWS),
        "charts": [
            charts.lines(
                "queue",
                "Queue depth",
                intervals,
                labels,
                (("queue_depth", "Depth"), ("ready", "Ready")),
            ),
            charts.lines(
                "lag", "Ready lag", intervals, labels, (("ready_lag_ms", "Oldest ready"),), _ms
            ),
            charts.lines(
                "in-flight", "In-flight calls", intervals, labels, (("in_flight", "Calls"),)
            ),
            charts.lines(
                "dead-letters",
                "Dead letters (failed, last hour)",
                intervals,
                labels,
                (("dead_letters", "Dead letters"),),
            ),
        ],
    }
