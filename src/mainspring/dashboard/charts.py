"""SVG charts drawn on the server: geometry here (pure), markup in `partials/chart.html`.

A chart is a list of intervals (the dicts of `operations.stats`) turned into bars and lines in
a fixed viewBox that the browser scales; every bar and point carries a `<title>` so hovering
tells the exact number. No JavaScript: htmx swaps the fragment when the numbers change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

WIDTH, HEIGHT = 640, 170
LEFT, RIGHT, TOP, BOTTOM = 46, 8, 10, 20
X_LABELS = 6

Format = Callable[[float], str]


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str


@dataclass(frozen=True, slots=True)
class Line:
    points: str
    css: str
    dots: list[tuple[float, float, str]]


@dataclass(slots=True)
class Chart:
    name: str
    title: str
    legend: list[tuple[str, str]]
    bars: list[Bar] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    y_ticks: list[tuple[float, str]] = field(default_factory=list)
    x_ticks: list[tuple[float, str]] = field(default_factory=list)
    total: float = 0
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    bottom: float = HEIGHT - BOTTOM

    @property
    def empty(self) -> bool:
        return self.total == 0


def _count(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def _nice_max(value: float) -> float:
    """The top of the y axis: 1, 2 or 5 times a power of ten, at least `value`."""
    if value <= 0:
        return 1
    step = 1.0
    while step * 10 <= value:
        step *= 10
    return next(m * step for m in (1, 2, 5, 10) if m * step >= value)


def _frame(chart: Chart, labels: Sequence[str], top: float, fmt: Format) -> float:
    """Axis ticks; returns the width of one interval's slot."""
    plot_h = chart.bottom - TOP
    chart.y_ticks = [(chart.bottom - plot_h * f, fmt(top * f)) for f in (0, 0.5, 1)]
    slot = (WIDTH - LEFT - RIGHT) / max(len(labels), 1)
    every = max(1, len(labels) // X_LABELS)
    chart.x_ticks = [(LEFT + slot * i, label) for i, label in enumerate(labels) if i % every == 0]
    return slot


def _y(chart: Chart, value: float, top: float) -> float:
    return chart.bottom - (chart.bottom - TOP) * (value / top)


def stacked_bars(
    name: str,
    title: str,
    intervals: Sequence[dict[str, Any]],
    labels: Sequence[str],
    stacks: Sequence[tuple[str, str]],
    line: tuple[str, str] | None = None,
) -> Chart:
    """Bars of `stacks` (key, label) stacked per interval, and optionally a line (key, label)."""
    chart = Chart(name, title, [*stacks, *([line] if line else [])])
    tallest = max(
        [sum(int(i[key] or 0) for key, _ in stacks) for i in intervals]
        + ([max((int(i[line[0]] or 0) for i in intervals), default=0)] if line else []),
        default=0,
    )
    top = _nice_max(tallest)
    slot = _frame(chart, labels, top, _count)
    for n, interval in enumerate(intervals):
        base = 0
        for key, label in stacks:
            value = int(interval[key] or 0)
            if value:
                y = _y(chart, base + value, top)
                height = _y(chart, base, top) - y
                x = LEFT + slot * n + slot * 0.1
                tip = f"{labels[n]}: {value} {label.lower()}"
                chart.bars.append(Bar(x, y, slot * 0.8, height, key, tip))
            base += value
        chart.total += base
    if line is not None:
        chart.lines.append(_line(chart, intervals, labels, line, top, slot, _count))
        chart.total += sum(int(i[line[0]] or 0) for i in intervals)
    return chart


def lines(
    name: str,
    title: str,
    intervals: Sequence[dict[str, Any]],
    labels: Sequence[str],
    series: Sequence[tuple[str, str]],
    fmt: Format = _count,
) -> Chart:
    """One line per (key, label); intervals without a value leave a gap in no line (points
    are joined across them), so sparse data still reads as a trend."""
    chart = Chart(name, title, list(series))
    values = [float(i[key]) for i in intervals for key, _ in series if i[key] is not None]
    top = _nice_max(max(values, default=0))
    slot = _frame(chart, labels, top, fmt)
    for key_label in series:
        chart.lines.append(_line(chart, intervals, labels, key_label, top, slot, fmt))
    chart.total = len(values)
    return chart


def _line(
    chart: Chart,
    intervals: Sequence[dict[str, Any]],
    labels: Sequence[str],
    series: tuple[str, str],
    top: float,
    slot: float,
    fmt: Format,
) -> Line:
    key, label = series
    dots = [
        (LEFT + slot * (n + 0.5), _y(chart, float(v), top), f"{labels[n]}: {label} {fmt(v)}")
        for n, v in enumerate(i[key] for i in intervals)
        if v is not None
    ]
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in dots)
    return Line(points, key, dots)


@dataclass(frozen=True, slots=True)
class Column:
    x: float
    y: float
    height: float
    title: str


DIST_WIDTH, DIST_HEIGHT = 180, 36


def distribution(bins: Sequence[int], bounds_ms: Sequence[int], fmt: Format) -> list[Column]:
    """A small histogram of one step's durations: one column per display bin."""
    tallest = max(bins, default=0) or 1
    width = DIST_WIDTH / max(len(bins), 1)
    found = []
    for n, count in enumerate(bins):
        height = (DIST_HEIGHT - 2) * count / tallest
        where = f"≤ {fmt(bounds_ms[n])}" if n < len(bounds_ms) else f"> {fmt(bounds_ms[-1])}"
        found.append(Column(n * width + 1, DIST_HEIGHT - height, height, f"{where}: {count}"))
    return found
