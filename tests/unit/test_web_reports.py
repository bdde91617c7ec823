"""The reports page's bar chart layout (server-drawn SVG)."""

from __future__ import annotations

from bot.web.views.reports import CHART_W, MAX_LABELS, bar_chart


def test_weeks_are_summed_over_columns_and_scaled_to_the_tallest() -> None:
    chart = bar_chart(
        [
            {"week": "2024-W02", "column": "a", "count": 1},
            {"week": "2024-W01", "column": "a", "count": 2},
            {"week": "2024-W01", "column": "b", "count": 2},
        ]
    )
    bars = chart["bars"]
    assert [(b["week"], b["count"]) for b in bars] == [("2024-W01", 4), ("2024-W02", 1)]
    assert bars[0]["h"] == 4 * bars[1]["h"]
    assert bars[0]["x"] < bars[1]["x"]
    assert bars[1]["x"] + bars[1]["w"] <= CHART_W


def test_many_weeks_stay_inside_the_chart_with_few_labels() -> None:
    weeks = [{"week": f"2020-W{i:03d}", "column": "a", "count": 0} for i in range(360)]
    chart = bar_chart(weeks)
    assert sum(b["labelled"] for b in chart["bars"]) <= MAX_LABELS
    assert all(b["h"] == 0 for b in chart["bars"])
    last = chart["bars"][-1]
    assert last["x"] + last["w"] <= CHART_W + 0.5


def test_no_weeks_is_an_empty_chart() -> None:
    assert bar_chart([])["bars"] == []
