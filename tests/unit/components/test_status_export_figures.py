"""Status strip, CSV export, heatmap figure and tables (pure builders)."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest

from components.figures import correlation_heatmap, history_figure
from components.status import describe_status
from components.tables import rebalance_table
from queries.export import CSV_COLUMNS, escape_cell, holdings_csv

NOW = datetime(2025, 8, 20, 12, 0, tzinfo=timezone.utc)
LIMIT = timedelta(minutes=5)


def _latest(ts):
    return pd.DataFrame({"symbol": ["BTC"], "price_usd": [1.0], "ts": [pd.Timestamp(ts)],
                         "source": ["sample"], "kind": ["close"]})


def test_status_offline_says_how_old_the_newest_price_is():
    colour, text = describe_status(quotes_fetched_at=None, latest=_latest("2025-08-13T00:00Z"),
                                   health=[], now=NOW, quote_limit=LIMIT, demo=False)
    assert colour == "warning"
    assert text.startswith("Offline")
    assert "8 days old" in text  # 7.5 days, rounded


def test_status_stale_when_the_last_fetch_is_past_the_limit():
    colour, text = describe_status(quotes_fetched_at=NOW - timedelta(minutes=12),
                                   latest=_latest(NOW), now=NOW, quote_limit=LIMIT, demo=False,
                                   health=[{"source": "coingecko", "healthy": False}])
    assert colour == "warning"
    assert "12 min ago" in text and "coingecko" in text


def test_status_fresh_quotes_need_no_banner():
    assert describe_status(quotes_fetched_at=NOW - timedelta(seconds=20), latest=_latest(NOW),
                           health=[{"source": "yahoo", "healthy": True}], now=NOW,
                           quote_limit=LIMIT, demo=False) is None


def test_status_demo_is_labelled():
    colour, text = describe_status(quotes_fetched_at=None, latest=_latest(NOW), health=[], now=NOW,
                                   quote_limit=LIMIT, demo=True)
    assert (colour, text[:4]) == ("info", "DEMO")


@pytest.mark.parametrize(("text", "escaped"), [
    ("=HYPERLINK()", "'=HYPERLINK()"), ("+1", "'+1"), ("-2", "'-2"), ("@SUM", "'@SUM"),
    ("BTC", "BTC"), ("a=b", "a=b"),
])
def test_escape_cell(text, escaped):
    assert escape_cell(text) == escaped


def test_holdings_csv_header_rows_and_plain_numbers(valuation):
    text = holdings_csv(valuation, names={"BTC": "Bitcoin", "ETH": "=cmd|' /C calc'!A0"},
                        categories={"BTC": "stable_crypto", "ETH": "stable_crypto",
                                    "SPY": "stocks"})
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(text.splitlines()[0].split(",")) == CSV_COLUMNS
    assert [r["symbol"] for r in rows] == ["BTC", "ETH", "SPY"]
    eth = rows[1]
    assert eth["name"].startswith("'=")  # formula injection neutralised
    assert (eth["quantity"], eth["price_btc"], eth["value_btc"], eth["value_sats"]) == (
        "5", "0.04", "0.20000000", "20000000")
    assert rows[2]["name"] == "SPY"  # no configured name: the symbol
    assert float(rows[0]["weight"]) == pytest.approx(1 / 1.4, abs=1e-6)


def test_heatmap_is_centred_at_zero_and_marks_missing_cells():
    matrix = pd.DataFrame([[1.0, np.nan], [np.nan, 1.0]], index=["BTC", "SPY"],
                          columns=["BTC", "SPY"])
    n_obs = pd.DataFrame([[60, 5], [5, 40]], index=matrix.index, columns=matrix.columns)
    trace = correlation_heatmap(matrix, n_obs, min_obs=20).data[0]
    assert (trace.zmin, trace.zmax, trace.zmid) == (-1, 1, 0)
    assert trace.text.tolist() == [["1.00", "n/a"], ["n/a", "1.00"]]
    assert trace.texttemplate == "%{text}"


def test_history_figure_has_the_flat_held_btc_line():
    idx = pd.date_range("2025-01-01", periods=3, tz="UTC")
    fig = history_figure(pd.DataFrame({"value_btc": [1.0, 1.2, 0.9], "held_btc": 1.0},
                                      index=idx))
    assert [t.name for t in fig.data] == ["Portfolio (BTC)", "Held BTC"]
    assert list(fig.data[1].y) == [1.0, 1.0, 1.0]


def test_rebalance_table_lists_buys_and_sells():
    trades = pd.DataFrame({"symbol": ["BTC", "ETH"], "side": ["buy", "sell"],
                           "quantity": [0.2, 2.5], "value_btc": [0.2, 0.1],
                           "value_sats": [20_000_000, 10_000_000],
                           "value_usd": [20_000.0, 10_000.0]})
    rows = rebalance_table(trades).children[1].children
    assert len(rows) == 2
    assert rows[1].children[1].children.children == "sell"
    assert rows[0].children[4].children == "20,000,000 sats"
    assert rows[1].children[5].children == "$10,000.00"
    assert "no trade" in str(rebalance_table(trades.iloc[:0]))


def test_history_figure_draws_missing_days_as_a_gap_not_a_line():
    days = pd.to_datetime(["2025-08-12", "2025-08-13", "2026-08-20", "2026-08-21"], utc=True)
    fig = history_figure(pd.DataFrame({"value_btc": [1.0, 1.1, 1.3, 1.2], "held_btc": 1.0},
                                      index=days))
    trace = fig.data[0]
    assert trace.connectgaps is False
    ys = list(trace.y)
    assert len(ys) == 375  # every calendar day of the range is on the axis
    assert ys[0] == 1.0 and ys[1] == 1.1 and ys[-2:] == [1.3, 1.2]
    assert all(v != v for v in ys[2:-2])  # NaN: plotly breaks the line over the year


def test_history_fill_line_says_progress_then_the_gaps_left():
    from components.status import history_fill_line, history_fill_text

    assert history_fill_text(filling=True, complete=9, total=12, pct=74.2,
                             unfilled={}) == "filling history: 9 of 12 assets, 74 %"
    left = history_fill_text(filling=False, complete=10, total=12, pct=60.0,
                             unfilled={"SOL": 372, "MATIC": 514})
    assert left == ("history gaps no source could fill (shown as gaps): MATIC 514 days, "
                    "SOL 372 days")
    assert history_fill_text(filling=False, complete=12, total=12, pct=100.0,
                             unfilled={}) is None
    assert history_fill_line(None) is None and "74 %" in str(history_fill_line(
        "filling history: 9 of 12 assets, 74 %"))
