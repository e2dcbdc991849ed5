"""Pure parts of the charts: duration histograms, windows, and the SVG geometry."""

from __future__ import annotations

import pytest

from mainspring import errors
from mainspring.dashboard import charts
from mainspring.operations import histogram
from mainspring.operations.stats import WINDOWS, parse_window


def test_percentiles_from_a_histogram_are_within_one_bucket() -> None:
    found = histogram.of([10] * 50 + [1000] * 45 + [60_000] * 5)
    assert 10 <= (histogram.percentile(found, 50) or 0) <= 12
    assert 1000 <= (histogram.percentile(found, 95) or 0) <= 1190
    assert 60_000 <= (histogram.percentile(found, 99) or 0) <= 71_400
    assert histogram.percentile({}, 95) is None


def test_histograms_merge_and_survive_json() -> None:
    merged = histogram.of([5, 5])
    histogram.merge(merged, histogram.loads(histogram.dumps(histogram.of([5, 500]))))
    assert sum(merged.values()) == 4
    assert histogram.distribution(merged)[0] == 3  # ≤ 10 ms
    assert histogram.distribution(histogram.of([120_000]))[-1] == 1  # slower than a minute


def test_windows_end_with_the_interval_holding_now() -> None:
    day = parse_window("24h")
    lo, hi = day.bounds(3_600_000 * 30 + 5)
    assert (hi - lo, day.points, hi) == (86_400_000, 24, 3_600_000 * 31)
    assert parse_window(None) is WINDOWS["hour"]
    with pytest.raises(errors.InvalidInput) as raised:
        parse_window("year")
    assert raised.value.field == "window"


def test_stacked_bars_stay_inside_the_plot() -> None:
    intervals = [{"completed": 3, "failed": 1, "cancelled": 0, "started": 9}] * 4
    chart = charts.stacked_bars(
        "runs",
        "Runs",
        intervals,
        ["a", "b", "c", "d"],
        (("completed", "Completed"), ("failed", "Failed"), ("cancelled", "Cancelled")),
        line=("started", "Started"),
    )
    assert len(chart.bars) == 8 and not chart.empty
    assert all(charts.TOP <= b.y and b.y + b.height <= chart.bottom + 0.01 for b in chart.bars)
    assert chart.y_ticks[-1][1] == "10"  # the axis tops out at a round number above 9
    assert charts.lines("x", "X", [{"v": None}] * 3, ["a", "b", "c"], (("v", "V"),)).empty
