"""Issue 17: what a refresh and the first render send is bounded at 1,000 assets.

The rebalance table lists the largest trades and one summary row for the rest; its re-send
check ignores price noise but not a material change; the drift chart draws a bounded number of
points per line, rounded.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from components import optimize_figures, tables


def _trades(n: int) -> pd.DataFrame:
    """n sells of different sizes (not sorted) and one BTC buy of their sum."""
    values = [0.001 * ((i * 37) % n + 1) for i in range(n)]
    symbols = [f"A{i:04d}" for i in range(n)]
    frame = pd.DataFrame({"symbol": [*symbols, "BTC"], "side": ["sell"] * n + ["buy"],
                          "value_btc": [*values, sum(values)]})
    frame["quantity"] = frame["value_btc"] * 10
    frame["value_sats"] = (frame["value_btc"] * 1e8).round().astype("int64")
    frame["value_usd"] = frame["value_btc"] * 60_000
    return frame


def _body_rows(table) -> list:
    return table.children[1].children


def test_table_lists_the_largest_trades_then_one_row_with_the_rest():
    trades = _trades(1000)
    rows = _body_rows(tables.rebalance_table(trades, limit=25))
    assert len(rows) == 26
    listed = [r.children[0].children.children for r in rows[:25]]
    ranked = trades.sort_values("value_btc", ascending=False)
    assert listed == list(ranked["symbol"][:25])  # BTC's leg first: the largest
    rest = ranked.iloc[25:]
    summary = str(rows[25])
    assert f"{len(rest):,} smaller trades" in summary
    assert rows[25].children[1].children == f"₿{rest['value_btc'].sum():,.8f}"
    assert rows[25].children[2].children == f"{int(rest['value_sats'].sum()):,} sats"


def test_a_short_plan_has_no_summary_row():
    trades = _trades(5)
    rows = _body_rows(tables.rebalance_table(trades, limit=25))
    assert len(rows) == 6 and "smaller trades" not in str(rows)


def test_skipped_legs_are_capped_too():
    skipped = pd.DataFrame({"symbol": [f"S{i}" for i in range(40)], "side": "sell",
                            "value_usd": 1.0, "reason": "below the minimum trade"})
    items = tables.skipped_list(skipped, limit=25).children
    assert len(items) == 26 and "15 more" in str(items[-1])


def test_shown_rows_carry_the_remainder_and_the_key_follows_them():
    trades = _trades(100)
    shown = tables.rebalance_rows(trades, limit=10)
    assert len(shown["rows"]) == 10 and shown["hidden"] == 91
    total = float(trades["value_btc"].sum())
    listed = sum(v for *_, v in shown["rows"])
    assert abs(listed + shown["hidden_btc"] - total) < 1e-9
    moved = trades.assign(value_btc=trades["value_btc"] * 1.0001)
    assert tables.rebalance_key(tables.rebalance_rows(moved, limit=10)) != tables.rebalance_key(
        shown)


def test_price_noise_is_not_a_material_change_but_a_move_or_a_new_trade_is():
    trades = _trades(100)
    total = 10 * float(trades["value_btc"].sum())
    shown = tables.rebalance_rows(trades, limit=10, total_btc=total)
    noise = trades.assign(value_btc=trades["value_btc"] * 1.004,  # under 0.5 % of each trade
                          quantity=trades["quantity"] * 0.97)     # quantities are not compared
    assert tables.same_table(shown, tables.rebalance_rows(noise, limit=10, total_btc=total))
    close = trades.copy()  # the two largest sells within 0.1 %: they may change places
    top2 = close[close["side"] == "sell"].nlargest(2, "value_btc").index
    close.loc[top2, "value_btc"] = [0.1, 0.1001]
    swapped = close.copy()
    swapped.loc[top2, "value_btc"] = [0.1001, 0.1]
    before = tables.rebalance_rows(close, limit=10, total_btc=total)
    after = tables.rebalance_rows(swapped, limit=10, total_btc=total)
    assert before["rows"][1][0] != after["rows"][1][0] and tables.same_table(before, after)
    fewer = trades.iloc[1:]
    assert not tables.same_table(shown, tables.rebalance_rows(fewer, limit=10, total_btc=total))
    assert not tables.same_table(shown, tables.rebalance_rows(trades, excluded={"X": "stale"},
                                                           limit=10, total_btc=total))
    flipped = trades.assign(side=trades["side"].where(trades["symbol"] != "BTC", "sell"))
    assert not tables.same_table(shown, tables.rebalance_rows(flipped, limit=10, total_btc=total))
    assert not tables.same_table({"rows": "forged"}, shown)


def _moved_leg(trades: pd.DataFrame, symbol: str, by_btc: float) -> pd.DataFrame:
    out = trades.copy()
    out.loc[out["symbol"] == symbol, "value_btc"] += by_btc
    return out


def test_a_leg_is_re_sent_past_a_tenth_of_a_percent_of_the_portfolio_or_half_a_percent_of_itself():
    trades = _trades(5)  # all shown: sells of 0.001 to 0.005 BTC, a BTC buy of 0.015
    total = 0.05
    shown = tables.rebalance_rows(trades, limit=10, total_btc=total)
    ranked = trades.sort_values("value_btc")
    small, large = ranked["symbol"].iloc[0], ranked["symbol"].iloc[-1]
    small_value = float(ranked["value_btc"].iloc[0])
    large_value = float(ranked["value_btc"].iloc[-1])
    assert 0.005 * small_value < 0.001 * total < 0.005 * large_value  # the two rules differ

    def same(symbol: str, by_btc: float) -> bool:
        moved = _moved_leg(trades, symbol, by_btc)
        return tables.same_table(shown, tables.rebalance_rows(moved, limit=10, total_btc=total))

    # A small leg: the 0.1 %-of-portfolio rule is the larger, even a move of half of it stays.
    assert same(small, min(0.5 * small_value, 0.0009 * total))
    assert not same(small, 0.0011 * total)
    # A large leg: 0.5 % of its own value is the larger allowance.
    assert same(large, 0.0049 * large_value) and same(large, -0.0049 * large_value)
    assert not same(large, 0.0051 * large_value)
    # The smaller-trades row follows the same rule on its total.
    many, total = _trades(30), 10.0  # 20 hidden trades worth 0.21 BTC of a 10 BTC portfolio
    rows = tables.rebalance_rows(many, limit=10, total_btc=total)
    tail = many.sort_values("value_btc").iloc[0]["symbol"]
    assert tables.same_table(rows, tables.rebalance_rows(
        _moved_leg(many, tail, 0.0009 * total), limit=10, total_btc=total))
    assert not tables.same_table(rows, tables.rebalance_rows(
        _moved_leg(many, tail, 0.0011 * total), limit=10, total_btc=total))


def _drift(n_assets: int, days: int) -> pd.DataFrame:
    index = pd.date_range("2024-08-01", periods=days, freq="D", tz="UTC")
    rng = np.random.default_rng(7)
    return pd.DataFrame(np.tanh(rng.normal(size=(days, n_assets))), index=index,
                        columns=[f"A{i}" for i in range(n_assets)])


def test_drift_lines_have_a_bounded_number_of_points_ending_today_rounded():
    frame = _drift(3, 365)
    fig = optimize_figures.drift_figure(frame, window_days=90, max_points=120)
    assert len(fig.data) == 3
    for trace, symbol in zip(fig.data, frame.columns, strict=True):
        assert 60 < len(trace.y) <= 120
        # the newest day is drawn, as its UTC date
        assert pd.Timestamp(trace.x[-1], tz="UTC") == frame.index[-1]
        assert np.allclose(trace.y[-1], frame[symbol].iloc[-1], atol=5e-4)
        assert all(round(float(v), 3) == float(v) for v in trace.y)


def test_drift_chart_title_counts_the_assets_left_out():
    fig = optimize_figures.drift_figure(_drift(2, 30), window_days=90, left_out=("X", "Y", "Z"))
    assert len(fig.data) == 2 and "3 more" in fig.layout.title.text
    assert len(fig.data[0].y) == 30  # short series are not thinned


def test_near_equal_trades_may_swap_across_the_last_shown_row_but_a_larger_one_is_re_sent():
    trades = _trades(30)  # sells of 0.001 to 0.030 BTC, one BTC buy (the largest)
    total = 10.0  # 0.1 % of it (0.01 BTC) is the allowance of every trade here
    ranked = trades[trades["side"] == "sell"].sort_values("value_btc", ascending=False)
    last_shown, first_hidden = ranked.index[9], ranked.index[10]  # 0.021 and 0.020
    close = trades.copy()
    close.loc[[last_shown, first_hidden], "value_btc"] = [0.0205, 0.02049]
    shown = tables.rebalance_rows(close, limit=11, total_btc=total)

    def now(first_hidden_value: float, last_shown_value: float = 0.0205) -> dict:
        moved = close.copy()
        moved.loc[[last_shown, first_hidden], "value_btc"] = [last_shown_value, first_hidden_value]
        return tables.rebalance_rows(moved, limit=11, total_btc=total)

    swapped = now(0.0205, 0.02049)
    assert {r[0] for r in swapped["rows"]} != {r[0] for r in shown["rows"]}
    assert tables.same_table(shown, swapped)
    assert tables.same_table(shown, now(0.0205 + 0.009))  # shown now, not materially larger
    assert not tables.same_table(shown, now(0.0205 + 0.011))  # larger than the smallest shown
    renamed = close.copy()  # a hidden trade replaced by another: the set of trades changed
    renamed.loc[ranked.index[-1], "symbol"] = "NEW"
    assert not tables.same_table(shown, tables.rebalance_rows(renamed, limit=11, total_btc=total))
