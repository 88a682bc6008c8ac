"""The heatmap's phone form (ranked correlation to BTC) and where the figures put legends."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from components import figures, optimize_figures, performance
from components.correlation_list import LIST_CLASS, bar_colour, correlation_list, ranking

SYMBOLS = ["BTC", "ETH", "GLD", "MATIC", "USDC"]


def _matrix(btc_row: dict[str, float], counts: dict[str, int]):
    matrix = pd.DataFrame(np.eye(len(SYMBOLS)), index=SYMBOLS, columns=SYMBOLS)
    n_obs = pd.DataFrame(90, index=SYMBOLS, columns=SYMBOLS)
    for symbol, value in btc_row.items():
        matrix.loc["BTC", symbol] = matrix.loc[symbol, "BTC"] = value
    for symbol, count in counts.items():
        n_obs.loc["BTC", symbol] = n_obs.loc[symbol, "BTC"] = count
    return matrix, n_obs


def test_ranking_is_lowest_first_without_btc_and_numberless_assets_last():
    matrix, n_obs = _matrix({"ETH": 0.8, "GLD": -0.06, "MATIC": np.nan, "USDC": 0.1},
                            {"MATIC": 3})
    assert ranking(matrix, n_obs, min_obs=20) == [
        ("GLD", -0.06, 90), ("USDC", 0.1, 90), ("ETH", 0.8, 90), ("MATIC", None, 3)]


def test_too_few_common_returns_means_no_number_even_with_a_value():
    matrix, n_obs = _matrix({"ETH": 0.8, "GLD": 0.2, "MATIC": 0.5, "USDC": 0.1}, {"GLD": 19})
    rows = dict((s, v) for s, v, _ in ranking(matrix, n_obs, min_obs=20))
    assert rows["GLD"] is None and rows["MATIC"] == 0.5
    assert [s for s, *_ in ranking(matrix, n_obs, min_obs=20)][-1] == "GLD"


def test_no_btc_in_the_matrix_gives_an_empty_ranking_and_says_so():
    matrix = pd.DataFrame(np.eye(2), index=["ETH", "SOL"], columns=["ETH", "SOL"])
    assert ranking(matrix, matrix, min_obs=20) == []
    assert "BTC has no price series" in str(correlation_list(matrix, matrix, min_obs=20))


def test_bar_colour_follows_the_heatmap_scale():
    ends = dict(figures.DIVERGING)
    assert bar_colour(-1.0) == ends[0.0] and bar_colour(1.0) == ends[1.0]
    assert bar_colour(0.0) == ends[0.5] and bar_colour(0.5) == ends[0.75]
    assert bar_colour(-7.0) == bar_colour(-1.0)  # clamped to the scale
    # Half way between two stops: each channel half way (rounded).
    lo, hi = ends[0.5], ends[0.75]
    mid = bar_colour(0.25)
    for i in (1, 3, 5):
        a, b, m = int(lo[i:i + 2], 16), int(hi[i:i + 2], 16), int(mid[i:i + 2], 16)
        assert abs(m - (a + b) / 2) <= 0.5


def test_list_rows_carry_symbol_bar_and_typeset_number():
    matrix, n_obs = _matrix({"ETH": 0.8, "GLD": -0.06, "MATIC": np.nan, "USDC": 0.1},
                            {"MATIC": 3})
    panel = correlation_list(matrix, n_obs, min_obs=20, lookback_days=90)
    assert LIST_CLASS in panel.className
    assert panel.children[0].children == "Correlation to BTC over 90 d, lowest first"
    rows = panel.children[1].children
    assert [r.children[0].children for r in rows] == ["GLD", "USDC", "ETH", "MATIC"]
    assert [r.children[2].children for r in rows] == ["\u22120.06", "+0.10", "+0.80", "n/a"]
    gld_fill = rows[0].children[1].children.style
    assert gld_fill["width"] == "3.0%" and gld_fill["right"] == "50%"  # left of the zero line
    eth_fill = rows[2].children[1].children.style
    assert eth_fill["width"] == "40.0%" and eth_fill["left"] == "50%"
    assert rows[3].children[1].children is None  # no number, no bar


def _history():
    days = pd.date_range("2025-01-01", periods=5, freq="D", tz="UTC")
    return pd.DataFrame({"value_btc": [1.0, 1.1, 1.2, 1.1, 1.0], "held_btc": 1.0}, index=days)


@pytest.mark.parametrize("build", [
    lambda: figures.history_figure(_history()),
    lambda: figures.allocation_figure({"BTC": 0.6, "ETH": 0.4}, title="By asset"),
    lambda: optimize_figures.backtest_figure({"current": _history()["value_btc"]}),
    lambda: optimize_figures.drift_figure(_history()[["value_btc"]], window_days=90),
    lambda: performance.performance_figure({"series": [
        {"date": "2025-01-01", "value_btc": 1.0, "hodl_btc": 1.0},
        {"date": "2025-01-02", "value_btc": 1.1, "hodl_btc": 1.0}]}),
])
def test_legends_sit_at_the_bottom_of_the_figure_never_over_the_plot(build):
    legend = build().layout.legend
    assert (legend.orientation, legend.yref, legend.y, legend.yanchor) == (
        "h", "container", 0, "bottom")


def test_thin_donut_slices_hide_their_label_rather_than_shrink_it():
    fig = figures.allocation_figure({"BTC": 0.98, "ETH": 0.02}, title="By asset")
    assert fig.layout.uniformtext.minsize >= 10 and fig.layout.uniformtext.mode == "hide"
