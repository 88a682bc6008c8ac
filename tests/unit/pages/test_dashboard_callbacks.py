"""Dashboard callbacks and their glue, called as plain functions over a seeded store."""

from __future__ import annotations

import csv
import io
import re
from contextvars import copy_context

import pandas as pd
import pytest
from dash._callback_context import context_value
from dash._utils import AttributeDict

from analytics.portfolio_value import value_portfolio
from app import create_app
from data.store.backfills import REQUEST, Backfill
from queries.dashboard import backfill_text, performance_and_allocation
from queries.rebalance import plan_rebalance
from tests.support.dashboard_page import header, page_params, refresh
from tests.support.sample import SAMPLE


@pytest.fixture
def page(settings, repo, now):
    # register_page needs an app; services point at this store, read at the fixed NOW.
    create_app(settings, repo, clock=lambda: now)
    import pages.dashboard as dashboard
    return dashboard


@pytest.fixture
def ctx(page):
    import services
    return services.read_context()


def _sample_last_closes():
    raw = pd.read_csv(SAMPLE)
    return raw[raw.date == raw.date.max()].set_index("symbol")["close"]


def test_update_dashboard_header_is_the_hand_computed_btc_value(page, settings):
    last = _sample_last_closes()
    total = sum(q * last[s] / last["BTC"] for s, q in settings.portfolio.holdings.items())
    out = refresh(page)
    assert header(out)["value"] == f"₿{total:,.8f}"
    assert len(out["cards"]) == len(settings.portfolio.holdings)
    assert header(out)["updated"].endswith("BTC price as of 2025-08-13 00:00 UTC")


def test_update_add_asset_stores_a_valid_holding(page, repo, settings):
    error, invalid, status, version = page.update_add_asset(1, "SLV", 10)
    assert (error, invalid) == ("", False)
    assert status.startswith("SLV 0 → 10")
    assert version is not None
    assert repo.load_holdings(settings.portfolio.name)["SLV"] == 10.0


def test_update_add_asset_adds_to_the_position_and_says_so(page, repo, settings):
    # The bug of issue 14: "+ Add" of 1 ETH while holding 4 replaced the position with 1.
    assert repo.load_holdings(settings.portfolio.name)["ETH"] == 4.0
    _error, _invalid, status, _version = page.update_add_asset(1, "ETH", 1)
    assert status.startswith("ETH 4 → 5")
    assert repo.load_holdings(settings.portfolio.name)["ETH"] == 5.0


@pytest.mark.parametrize(("symbol", "quantity", "invalid"), [
    ("SLV", -2, True), ("SLV", None, True), ("SLV", 1e15, True), (None, 3, False),
])
def test_update_add_asset_invalid_input_shows_an_error_and_stores_nothing(
        page, repo, settings, symbol, quantity, invalid):
    before = repo.load_holdings(settings.portfolio.name)
    error, is_invalid, _status, version = page.update_add_asset(1, symbol, quantity)
    assert error and is_invalid is invalid
    assert version is page.dash.no_update
    assert repo.load_holdings(settings.portfolio.name) == before


def test_update_remove_asset_removes_the_clicked_card(page, repo, settings):
    def run():
        context_value.set(AttributeDict(triggered_inputs=[
            {"prop_id": '{"symbol":"ETH","type":"remove-asset"}.n_clicks', "value": 1}]))
        return page.update_remove_asset([0, 1, 0])

    _version, status = copy_context().run(run)
    assert status == "ETH removed"
    assert "ETH" not in repo.load_holdings(settings.portfolio.name)


def test_update_export_sends_one_csv_row_per_holding(page, settings):
    out = page.update_export(1)
    rows = list(csv.reader(io.StringIO(out["content"])))
    assert out["filename"].endswith(".csv")
    assert len(rows) == 1 + len(settings.portfolio.holdings)


def test_update_rebalance_rejects_targets_outside_0_100(page):
    table, key = page.update_rebalance(page_params(150, False, None, None, None), None)
    assert "between 0 and 100" in str(table) and key is None


def test_update_rebalance_resends_the_table_only_when_trades_change(page):
    table, key = page.update_rebalance(page_params(50, False, None, None, None), None)
    assert "sell" in str(table) and key
    assert page.update_rebalance(page_params(50, False, None, None, None), key) == (page.dash.no_update, page.dash.no_update)
    other, other_key = page.update_rebalance(page_params(80, False, None, None, None), key)
    assert other_key != key


def test_update_correlation_builds_the_heatmap_of_the_universe_on_demand(page, settings):
    fig, _low, _note, ranking = page.update_correlation(90, "light", True)
    assert list(fig.data[0].x) == list(settings.assets)
    # The phone form of the same matrix: every asset but BTC, ranked by its BTC row.
    symbols = [li.children[0].children for li in ranking.children[1].children]
    assert sorted(symbols) == sorted(s for s in settings.assets if s != "BTC")
    btc_row = dict(zip(fig.data[0].x, fig.data[0].z[list(fig.data[0].y).index("BTC")], strict=True))
    numbered = [s for s in symbols if btc_row[s] == btc_row[s]]  # NaN last (no number)
    assert symbols[:len(numbered)] == sorted(numbered, key=lambda s: (btc_row[s], s))


def test_heatmap_shows_the_held_assets_by_value_btc_first(page, ctx, settings):
    from queries.valuation import current_valuation

    fig, _low, _note, _ranking = page.update_correlation(90, "light", False)
    assets = current_valuation(ctx).assets.sort_values("value_btc", ascending=False)
    ranked = [s for s in assets["symbol"] if s != "BTC"]
    assert list(fig.data[0].x) == list(fig.data[0].y) == ["BTC", *ranked]
    assert set(ranked) == set(settings.portfolio.holdings) - {"BTC"}


def _valuation():
    ts = pd.Timestamp("2025-08-13", tz="UTC")
    latest = pd.DataFrame({"symbol": ["BTC", "ETH", "SPY"],
                           "price_usd": [100_000.0, 4_000.0, 500.0], "ts": [ts] * 3,
                           "source": ["sample"] * 3, "kind": ["close"] * 3})
    return value_portfolio({"BTC": 1.0, "ETH": 5.0, "SPY": 40.0}, latest,
                           asset_kinds={"SPY": "equity"}, now=ts)


def test_rebalance_trades_hand_computed():
    # Total 1.4 BTC; 50 % BTC -> BTC 0.7 (sell 0.3); ETH and SPY scaled by 0.7 / 0.4.
    trades = plan_rebalance(_valuation(), 0.5).trades.set_index("symbol")
    assert (trades.loc["BTC", "side"], trades.loc["BTC", "value_btc"]) == ("sell", pytest.approx(0.3))
    assert trades.loc["ETH", "value_btc"] == pytest.approx(0.15)
    assert trades.loc["SPY", "quantity"] == pytest.approx(30.0)
    assert trades.loc["ETH", "value_usd"] == pytest.approx(15_000.0)


def test_update_rebalance_only_btc_held_says_why(page, repo, settings):
    for symbol in list(repo.load_holdings(settings.portfolio.name)):
        if symbol != "BTC":
            repo.remove_holding(symbol, settings.portfolio.name)
    assert "No rebalance" in str(page.update_rebalance(page_params(50, False, None, None, None), None)[0])


def test_header_24h_change_is_hand_computed_from_the_csv(page, settings):
    # 24 h before the newest BTC close (2025-08-13) is 2025-08-12: every sample asset has a
    # close that day. Change = value at 08-13 prices / value at 08-12 prices - 1, in BTC.
    raw = pd.read_csv(SAMPLE)
    day = {d: raw[raw.date == d].set_index("symbol")["close"]
           for d in ("2025-08-12", "2025-08-13")}
    value = {d: sum(q * c[s] / c["BTC"] for s, q in settings.portfolio.holdings.items())
             for d, c in day.items()}
    change = value["2025-08-13"] / value["2025-08-12"] - 1
    out = refresh(page)
    assert header(out)["change"] == [f"{change * 100:+.2f}%",
                                     "text-success" if change > 0 else "text-danger"]


def test_performance_starts_on_the_first_day_every_holding_has_a_price(ctx, settings):
    # The sample's opening balances are dated on its first day with a close of every holding.
    report, by_asset, _ = performance_and_allocation(ctx)
    raw = pd.read_csv(SAMPLE)
    first_common = max(raw[raw.symbol == s].date.min() for s in settings.portfolio.holdings)
    assert report["series"][0]["date"] == first_common
    # No flow after the opening balances: the HODL line is flat at the opening value.
    opening = report["series"][0]["value_btc"]
    assert all(row["hodl_btc"] == pytest.approx(opening, rel=1e-12) for row in report["series"])
    assert sum(by_asset.values()) == pytest.approx(1.0)


def test_update_history_charts_shows_the_performance_panel(page):
    fig, stats, _, _ = page.update_history_charts(None, "light")
    assert [t.name for t in fig.data] == ["Portfolio (BTC)", "Just holding BTC"]
    text = str(stats)
    for label in ("TWR in BTC", "XIRR in BTC", "TWR in USD", "vs. just holding BTC",
                  "Volatility in BTC", "Max drawdown in BTC"):
        assert label in text


@pytest.mark.parametrize(("stored", "text"), [
    (None, "not requested"), ('{"state": "requested", "requested_at": "2026-08-21"}', "requested"),
    ('{"state": "failed", "error": "yahoo: 404"}', "failed"), ("not json", "unknown"),
])
def test_backfill_text(stored, text):
    record = None if stored is None else Backfill.from_json(REQUEST, stored)
    assert backfill_text(record) == text


def test_update_rebalance_names_the_stale_holding_it_does_not_trade(page, repo, settings):
    repo.set_holding("MATIC", 20_000.0, settings.portfolio.name)  # series ended 2025-03-24
    table, key = page.update_rebalance(page_params(30, False, None, None, None), None)
    text = str(table)
    assert "Not traded: " in text and "MATIC (stale price from 2025-03-24" in text
    assert "'MATIC'" not in text.split("Not traded")[0]  # no trade row for it
    repo.remove_holding("MATIC", settings.portfolio.name)
    assert page.update_rebalance(page_params(30, False, None, None, None), key)[1] != key


def test_rebalance_plan_whole_shares_and_small_legs_listed(ctx, settings):
    # BTC share 1/1.4 = 0.71429; target 0.714 sells 0.0004 BTC into ETH and SPY, 0.0002 each:
    # ETH $20 is traded, SPY 0.04 shares ($20) is less than one share and is listed instead.
    plan = plan_rebalance(_valuation(), 0.714, lot_sizes=settings.lot_sizes(),
                          min_trade_usd=settings.rebalance.min_trade_usd).plan
    skipped = plan.skipped.set_index("symbol")
    assert "SPY" in skipped.index and skipped.loc["SPY", "reason"].startswith("less than one lot")
    assert set(plan.trades["symbol"]) == {"BTC", "ETH"}
    assert plan.rounding_btc > 0


def test_update_rebalance_shows_skipped_legs_with_reason(page):
    table, _ = page.update_rebalance(page_params(50.01, False, None, None, None), None)
    assert "skipped: less than one lot" in str(table)
    shown = re.search(r"BTC share after these trades: (\d+\.\d\d)%", str(table))
    assert shown and abs(float(shown.group(1)) - 50.01) < 2    # near the target, not on it


def test_update_history_fill_says_progress_from_the_stored_rows(page, repo):
    from datetime import datetime, timezone

    from data.store.backfills import progress_record, save_progress

    now = datetime(2026, 8, 21, 22, tzinfo=timezone.utc)
    assert refresh(page).get("fill") is None  # nothing healed yet: no line
    for symbol in ("BTC", "ETH", "SPY"):
        save_progress(repo, symbol, progress_record(state="done", missing_days=372, filled=372,
                                                    unfillable=[], now=now))
    save_progress(repo, "SOL", progress_record(state="filling", missing_days=372, filled=93,
                                               unfillable=[], now=now))
    line = refresh(page).get("fill")
    # 3 assets done of 12 (the 8 not reached yet are not); (3 x 372 + 93) of 4 x 372 = 81 %.
    assert "filling history: 3 of 12 assets, 81 %" in str(line)
    save_progress(repo, "SOL", progress_record(
        state="done", missing_days=372, filled=0, now=now,
        unfillable=[["2025-08-14", "2026-08-20", 372, "coingecko: no 1d bars"]]))
    assert "SOL 372 days" in str(refresh(page).get("fill"))


def test_cards_show_cost_basis_in_btc(page, settings):
    # Opening balances are lots bought at the close of the sample's first full day (2021-01-04).
    raw = pd.read_csv(SAMPLE)
    first = raw[raw.date == "2021-01-04"].set_index("symbol")["close"]
    last = _sample_last_closes()
    out = refresh(page)
    text = str(out["cards"])
    eth_cost = 4 * first["ETH"] / first["BTC"]
    gain = (4 * last["ETH"] / last["BTC"]) / eth_cost - 1
    assert f"cost ₿{eth_cost:,.8f} · {gain * 100:+.1f}% in BTC" in text
