"""Charts drawn on the server: the geometry of a line or bar chart, rendered as SVG by a template.

No charting library and no script: the page's Content-Security-Policy allows neither inline
code nor a CDN, and a chart of a few points needs neither. This module turns figures into
pixel positions; `lens/_lab_chart.html` draws them, coloured by CSS classes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

WIDTH, HEIGHT = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 28, 56
BAR_GAP, GROUP_GAP = 4, 18
MAX_LABELLED_POINTS = 6
MAX_LABELLED_GROUPS = 12
"""A line of more points gets no value labels (they would overlap; each point has a tooltip),
and a chart of more bar groups labels every few."""
LOG_SCALE_RATIO = 50
"""Lines whose values span more than this ratio get a logarithmic y axis: on a linear one the
small line lies flat on the axis (a Query's 0.5 RCU under a Scan's 500) and its labels pile up."""
LABEL_CLEARANCE = 12
X_LABEL_CLEARANCE = 24
"""Pixels between two x tick labels of three characters; longer labels need more."""
CHAR_WIDTH = 6.5
"""About how wide one character of a value label is (11 px text), in pixels."""
"""Value labels at one x closer than this (pixels) would overlap: the later one moves to the
other side of its point, or is left to the point's tooltip."""


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
    log_scale: bool = False
    x_log_scale: bool = False

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


def _log_axis(low: float, high: float) -> tuple[Callable[[float], float], list[Tick]]:
    """A y axis from the decade below `low` to the decade above `high`, a tick per decade."""
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    last = max(last, first + 1)
    span = HEIGHT - BOTTOM - TOP

    def y_of(value: float) -> float:
        return round(HEIGHT - BOTTOM - span * (math.log10(value) - first) / (last - first), 1)

    ticks = [Tick(y_of(10.0**d), number_label(10.0**d)) for d in range(first, last + 1)]
    return y_of, ticks


def _y_scale(values: Sequence[float]) -> tuple[Callable[[float], float], list[Tick], bool]:
    """Linear from 0, or logarithmic when every value is positive and they span decades."""
    low, high = min(values, default=0.0), max(values, default=0.0)
    if low > 0 and high / low >= LOG_SCALE_RATIO:
        y_of, ticks = _log_axis(low, high)
        return y_of, ticks, True
    top, ticks = _y_axis(high)
    return (lambda value: _y(value, top)), ticks, False


Label = tuple[float, float, str]  # x, y, text


def _clear(x: float, y: float, text: str, taken: list[Label]) -> bool:
    """No label already placed covers this one (labels are about CHAR_WIDTH a character)."""
    return all(
        abs(y - other_y) >= LABEL_CLEARANCE
        or abs(x - other_x) >= CHAR_WIDTH * (len(text) + len(other_text)) / 2 + 2
        for other_x, other_y, other_text in taken
    )


def _label_y(x: float, y: float, text: str, below: bool, taken: list[Label]) -> float | None:
    """Where a point's value label goes: its preferred side, else the other, else nowhere (the
    point's tooltip still has it). A value already written at the same point is not repeated."""
    if any(abs(x - ox) < 1 and text == otext and abs(y - oy) <= 14 for ox, oy, otext in taken):
        return None
    for side in (14, -7) if below else (-7, 14):
        if _clear(x, y + side, text, taken):
            return y + side
    return None


def line_chart(
    *,
    title: str,
    x_label: str,
    y_label: str,
    xs: Sequence[float],
    series: Sequence[Series],
) -> Chart:
    """Lines over numeric x values (positioned to scale), each point labelled with its value
    where the label does not run into another one."""
    values = [v for s in series for v in s.values if v is not None]
    y_of, y_ticks, log_scale = _y_scale(values)
    x_of, x_log_scale = _x_scale(xs)
    labelled = len(xs) <= MAX_LABELLED_POINTS
    # The y axis's tick labels (right-aligned left of the axis) are in the way too.
    taken: list[Label] = [
        (LEFT - 6 - CHAR_WIDTH * len(tick.label) / 2, tick.at, tick.label) for tick in y_ticks
    ]
    lines = []
    # Solid lines are labelled first; a dashed line often runs on or near a solid one, so its
    # labels prefer the space below its points.
    for number, line in sorted(enumerate(series), key=lambda pair: pair[1].dashed):
        dots = []
        for x, v in zip(xs, line.values, strict=True):
            if v is None:
                continue
            at, y, text = x_of(x), y_of(v), number_label(v)
            spot = _label_y(at, y, text, line.dashed, taken) if labelled else None
            if spot is not None:
                taken.append((at, spot, text))
            dots.append(Dot(at, y, text, spot if spot is not None else y, spot is not None))
        points = " ".join(f"{dot.x},{dot.y}" for dot in dots)
        lines.append(Line(number, line.label, line.dashed, points, dots))
    lines.sort(key=lambda line: line.series)
    return Chart(
        "line",
        title,
        x_label,
        y_label,
        series,
        y_ticks,
        _x_ticks([(x_of(x), number_label(x)) for x in xs]),
        lines=lines,
        log_scale=log_scale,
        x_log_scale=x_log_scale,
    )


def _x_scale(xs: Sequence[float]) -> tuple[Callable[[float], float], bool]:
    """x to pixels, to scale: logarithmic when the sizes span decades (200 to 20,000 items),
    where a linear axis would crowd the small ones into its first pixels."""
    low, high = min(xs, default=0), max(xs, default=1)
    width = WIDTH - LEFT - RIGHT
    if len(xs) < 2:
        return (lambda _x: LEFT + width / 2), False
    if low > 0 and high / low >= LOG_SCALE_RATIO:
        first, last = math.log10(low), math.log10(high)
        return (lambda x: round(LEFT + width * (math.log10(x) - first) / (last - first), 1)), True
    span = (high - low) or 1
    return (lambda x: round(LEFT + width * (x - low) / span, 1)), False


def _x_ticks(ticks: Sequence[tuple[float, str]]) -> list[Tick]:
    """Tick labels from left to right, each one clear of the last one kept (sizes to scale can
    sit close together: 100 and 200 on an axis to 100,000)."""
    kept: list[Tick] = []
    for at, label in ticks:
        if not kept or at - kept[-1].at >= X_LABEL_CLEARANCE * max(len(label), 3) / 3:
            kept.append(Tick(at, label))
    return kept


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
