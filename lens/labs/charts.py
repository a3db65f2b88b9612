"""Charts drawn on the server: the geometry of a line or bar chart, rendered as SVG by a template.

No charting library and no script: the page's Content-Security-Policy allows neither inline
code nor a CDN, and a chart of a few points needs neither. This module turns figures into
pixel positions; `lens/_lab_chart.html` draws them, coloured by CSS classes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

WIDTH, HEIGHT = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 28, 56
BAR_GAP, GROUP_GAP = 4, 18
MAX_LABELLED_POINTS = 6
MAX_LABELLED_GROUPS = 12
"""A line of more points gets no value labels (they would overlap; each point has a tooltip)
and every few x ticks are labelled."""


@dataclass(frozen=True)
class Series:
    """One line (or one colour of bars): `values[i]` belongs to the chart's i-th x value."""

    label: str
    values: Sequence[float | None]
    dashed: bool = False


@dataclass(frozen=True)
class Bar:
    series: int
    value: float


@dataclass(frozen=True)
class BarGroup:
    label: str
    bars: Sequence[Bar]


@dataclass(frozen=True)
class Tick:
    at: float
    label: str


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    label: str
    label_y: float
    shown: bool


@dataclass(frozen=True)
class Line:
    series: int
    label: str
    dashed: bool
    points: str
    dots: Sequence[Dot]


@dataclass(frozen=True)
class Rect:
    series: int
    x: float
    y: float
    width: float
    height: float
    label: str


@dataclass(frozen=True)
class Chart:
    kind: str  # "line" or "bar"
    title: str
    x_label: str
    y_label: str
    legend: Sequence[Series]
    y_ticks: Sequence[Tick]
    x_ticks: Sequence[Tick] = ()
    lines: Sequence[Line] = ()
    rects: Sequence[Rect] = ()
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def plot_left(self) -> int:
        return LEFT

    @property
    def plot_right(self) -> int:
        return self.width - RIGHT

    @property
    def plot_bottom(self) -> int:
        return self.height - BOTTOM

    @property
    def plot_top(self) -> int:
        return TOP


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^k that is >= value (1 for nothing to show)."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power


def number_label(value: float) -> str:
    """Short labels: 20000 -> 20k, 0.5 -> 0.5, 1250 -> 1.25k, 2.0417 -> 2.04."""
    if abs(value) >= 1000:
        return f"{value / 1000:.3g}k"
    if value == int(value):
        return str(int(value))
    return f"{value:.3g}"


def _y_axis(top_value: float) -> tuple[float, list[Tick]]:
    top = nice_ceiling(top_value)
    span = HEIGHT - BOTTOM - TOP
    ticks = [
        Tick(HEIGHT - BOTTOM - span * step / 4, number_label(top * step / 4)) for step in range(5)
    ]
    return top, ticks


def _y(value: float, top: float) -> float:
    return round(HEIGHT - BOTTOM - (HEIGHT - BOTTOM - TOP) * value / top, 1)


def line_chart(
    *,
    title: str,
    x_label: str,
    y_label: str,
    xs: Sequence[float],
    series: Sequence[Series],
) -> Chart:
    """Lines over numeric x values (positioned to scale), each point labelled with its value."""
    values = [v for s in series for v in s.values if v is not None]
    top, y_ticks = _y_axis(max(values, default=0.0))
    low, high = min(xs, default=0), max(xs, default=1)
    span = (high - low) or 1
    width = WIDTH - LEFT - RIGHT

    def x_of(x: float) -> float:
        return round(LEFT + width * (x - low) / span, 1) if len(xs) > 1 else LEFT + width / 2

    lines = []
    for number, line in enumerate(series):
        # A dashed line often runs on or near a solid one: its labels go below its points.
        below = 14 if line.dashed else -7
        labelled = len(xs) <= MAX_LABELLED_POINTS
        dots = [
            Dot(x_of(x), _y(v, top), number_label(v), _y(v, top) + below, labelled)
            for x, v in zip(xs, line.values, strict=True)
            if v is not None
        ]
        points = " ".join(f"{dot.x},{dot.y}" for dot in dots)
        lines.append(Line(number, line.label, line.dashed, points, dots))
    every = math.ceil(len(xs) / MAX_LABELLED_POINTS)
    x_ticks = [Tick(x_of(x), number_label(x)) for x in xs[::every]]
    return Chart("line", title, x_label, y_label, series, y_ticks, x_ticks, lines=lines)


def bar_chart(
    *, title: str, x_label: str, y_label: str, series: Sequence[str], groups: Sequence[BarGroup]
) -> Chart:
    """Groups of bars side by side; each bar coloured by its series and labelled by its value."""
    values = [bar.value for group in groups for bar in group.bars]
    top, y_ticks = _y_axis(max(values, default=0.0))
    slots = sum(len(group.bars) for group in groups)
    span = WIDTH - LEFT - RIGHT
    gap = min(GROUP_GAP, span / (4 * (len(groups) + 1)))  # many groups: narrower gaps
    room = span - gap * (len(groups) + 1) - BAR_GAP * slots
    bar_width = max(2.0, min(48.0, room / max(1, slots)))
    used = slots * (bar_width + BAR_GAP) + gap * (len(groups) - 1)
    x = LEFT + max(gap, (span - used) / 2)
    rects, ticks = [], []
    for group in groups:
        start = x
        for bar in group.bars:
            y = _y(bar.value, top)
            height = round(HEIGHT - BOTTOM - y, 1)
            rects.append(
                Rect(
                    bar.series, round(x, 1), y, round(bar_width, 1), height, number_label(bar.value)
                )
            )
            x += bar_width + BAR_GAP
        ticks.append(Tick(round((start + x - BAR_GAP) / 2, 1), group.label))
        x += gap
    every = math.ceil(len(groups) / MAX_LABELLED_GROUPS)
    ticks = [tick if n % every == 0 else Tick(tick.at, "") for n, tick in enumerate(ticks)]
    legend = [Series(label, ()) for label in series]
    return Chart("bar", title, x_label, y_label, legend, y_ticks, ticks, rects=rects)
