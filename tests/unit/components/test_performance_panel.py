"""Performance panel and cost basis on the cards (pure builders)."""

from __future__ import annotations

from components.cards import cost_field
from components.performance import performance_figure, performance_stats, stat_text

REPORT = {
    "start": "2024-01-01", "end": "2024-12-31", "twr_btc": -0.431111, "mwr_btc": -0.5,
    "twr_usd": 0.28, "mwr_usd": None, "vs_hodl_sats": -13_666_667, "volatility_btc_365": 0.42,
    "max_drawdown_btc": {"depth": -0.2, "peak": "2024-01-01", "trough": "2024-06-30",
                         "recovered": None},
    "series": [{"date": "2024-01-01", "value_btc": 0.25, "twr_index_btc": 1.0, "hodl_btc": 0.25},
               {"date": "2024-12-31", "value_btc": 0.2133, "twr_index_btc": 0.57,
                "hodl_btc": 0.35}],
}


def test_cost_field_shows_cost_and_gain_in_btc():
    assert cost_field(0.3, 0.25, False) == ["cost ₿0.25000000 · +20.0% in BTC",
                                            "small font-monospace text-success"]
    assert cost_field(0.2, 0.25, True)[0] == "cost 25,000,000 sats · -20.0% in BTC"
    assert cost_field(0.2, None, False)[0] == "—"


def test_performance_stats_texts():
    assert stat_text("twr_btc", REPORT) == ("-43.1%", "text-danger")
    assert stat_text("vs_hodl_sats", REPORT) == ("−13,666,667 sats", "text-danger")
    assert stat_text("mwr_usd", REPORT) == ("—", "")
    assert stat_text("max_drawdown_btc", REPORT)[0] == "-20.0% (2024-01-01 → 2024-06-30)"
    assert "2024-01-01 → 2024-12-31" in str(performance_stats(REPORT))


def test_performance_figure_draws_value_against_the_hodl_line():
    fig = performance_figure(REPORT)
    assert [t.name for t in fig.data] == ["Portfolio (BTC)", "Just holding BTC"]
    assert list(fig.data[1].y) == [0.25, 0.35]
