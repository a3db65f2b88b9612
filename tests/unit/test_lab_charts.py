"""The query-vs-scan chart: a Query's flat 0.5 RCU under a Scan's hundreds is drawn on a log
scale, off the axis; value labels at one size never overlap; x labels never run together."""

from __future__ import annotations

from lens.labs.charts import LABEL_CLEARANCE, Series, line_chart

SIZES = [200, 600, 2_000, 6_000, 20_000]
QUERY = [0.5, 0.5, 0.5, 0.5, 0.5]
SCAN = [12.5, 37.5, 125.0, 375.0, 1_250.0]


def query_vs_scan_chart():  # type: ignore[no-untyped-def]
    return line_chart(
        title="t",
        x_label="items",
        y_label="RCU",
        xs=SIZES,
        series=[
            Series("Query, computed", QUERY),
            Series("Scan, computed", SCAN),
            Series("Query, reported", QUERY, dashed=True),
            Series("Scan, reported", SCAN, dashed=True),
        ],
    )


def test_a_query_far_below_the_scan_is_drawn_on_a_log_scale_off_the_axis() -> None:
    chart = query_vs_scan_chart()
    assert chart.log_scale
    assert [tick.label for tick in chart.y_ticks] == ["0.1", "1", "10", "100", "1k", "10k"]
    query = chart.lines[0]
    assert all(chart.plot_bottom - dot.y > 30 for dot in query.dots), "not flat on the axis"
    scan = chart.lines[1]
    assert all(q.y - s.y > 60 for q, s in zip(query.dots, scan.dots, strict=True))


def test_value_labels_at_one_size_never_overlap_and_each_point_keeps_a_tooltip() -> None:
    chart = query_vs_scan_chart()
    by_x: dict[float, list[float]] = {}
    for line in chart.lines:
        assert len(line.dots) == len(SIZES)
        for dot in line.dots:
            if dot.shown:
                by_x.setdefault(dot.x, []).append(dot.label_y)
    for spots in by_x.values():
        spots.sort()
        assert all(b - a >= LABEL_CLEARANCE for a, b in zip(spots, spots[1:], strict=False))


def test_close_sizes_do_not_write_their_x_labels_over_each_other() -> None:
    chart = line_chart(
        title="t",
        x_label="x",
        y_label="y",
        xs=[100, 200, 5_000, 100_000],
        series=[Series("a", [1.0, 2.0, 3.0, 4.0])],
    )
    positions = [tick.at for tick in chart.x_ticks]
    assert all(b - a >= 24 for a, b in zip(positions, positions[1:], strict=False))
    assert not chart.log_scale  # values within one decade-and-a-bit stay linear
