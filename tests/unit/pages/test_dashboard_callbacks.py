"""Dashboard callbacks and their glue, called as plain functions over a seeded store."""

from __future__ import annotations

import csv
import io
from contextvars import copy_context

import pandas as pd
import pytest
from dash._callback_context import context_value
from dash._utils import AttributeDict

from analytics.portfolio_value import value_portfolio
from app import create_app
from tests.conftest import SAMPLE


@pytest.fixture
def page(settings, repo):
    create_app(settings, repo)  # register_page needs an app; services point at this store
    import pages.dashboard as dashboard
    return dashboard


@pytest.fixture
def data(page):
    from pages import _dashboard_data
    return _dashboard_data


def _sample_last_closes():
    raw = pd.read_csv(SAMPLE)
    return raw[raw.date == raw.date.max()].set_index("symbol")["close"]


def test_update_dashboard_header_is_the_hand_computed_btc_value(page, settings):
    last = _sample_last_closes()
    total = sum(q * last[s] / last["BTC"] for s, q in settings.portfolio.holdings.items())
    out = page.update_dashboard(0, False, None, None)
    assert out["value"] == f"₿{total:,.8f}"
    assert len(out["cards"]) == len(settings.portfolio.holdings)
    assert out["updated"].endswith("BTC price as of 2025-08-13 00:00 UTC")


def test_update_add_asset_stores_a_valid_holding(page, repo, settings):
    error, invalid, status, version = page.update_add_asset(1, "SLV", 10)
    assert (error, invalid) == ("", False)
    assert status.startswith("SLV: 10 saved")
    assert version is not None
    assert repo.load_holdings(settings.portfolio.name)["SLV"] == 10.0


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
    table, key = page.update_rebalance(150, None, 0, False, None, None, None, None)
    assert "between 0 and 100" in str(table) and key is None


def test_update_rebalance_resends_the_table_only_when_trades_change(page):
    table, key = page.update_rebalance(50, None, 0, False, None, None, None, None)
    assert "sell" in str(table) and key
    assert page.update_rebalance(50, None, 1, False, None, None, None, key) == (page.dash.no_update, page.dash.no_update)
    other, other_key = page.update_rebalance(80, None, 2, False, None, None, None, key)
    assert other_key != key


def test_update_correlation_builds_the_heatmap_of_the_universe(page, settings):
    fig, _low, _note = page.update_correlation(90, "light")
    assert list(fig.data[0].x) == list(settings.assets)


def _valuation():
    ts = pd.Timestamp("2025-08-13", tz="UTC")
    latest = pd.DataFrame({"symbol": ["BTC", "ETH", "SPY"],
                           "price_usd": [100_000.0, 4_000.0, 500.0], "ts": [ts] * 3,
                           "source": ["sample"] * 3, "kind": ["close"] * 3})
    return value_portfolio({"BTC": 1.0, "ETH": 5.0, "SPY": 40.0}, latest,
                           asset_kinds={"SPY": "equity"}, now=ts)


def test_rebalance_trades_hand_computed(data):
    # Total 1.4 BTC; 50 % BTC -> BTC 0.7 (sell 0.3); ETH and SPY scaled by 0.7 / 0.4.
    trades = data.rebalance_trades(_valuation(), 0.5).set_index("symbol")
    assert (trades.loc["BTC", "side"], trades.loc["BTC", "value_btc"]) == ("sell", pytest.approx(0.3))
    assert trades.loc["ETH", "value_btc"] == pytest.approx(0.15)
    assert trades.loc["SPY", "quantity"] == pytest.approx(30.0)
    assert trades.loc["ETH", "value_usd"] == pytest.approx(15_000.0)


def test_update_rebalance_only_btc_held_says_why(page, repo, settings):
    for symbol in list(repo.load_holdings(settings.portfolio.name)):
        if symbol != "BTC":
            repo.remove_holding(symbol, settings.portfolio.name)
    assert "No rebalance" in str(page.update_rebalance(50, None, 0, False, None, None, None, None)[0])


def test_header_24h_change_is_hand_computed_from_the_csv(page, settings):
    # 24 h before the newest BTC close (2025-08-13) is 2025-08-12: every sample asset has a
    # close that day. Change = value at 08-13 prices / value at 08-12 prices - 1, in BTC.
    raw = pd.read_csv(SAMPLE)
    day = {d: raw[raw.date == d].set_index("symbol")["close"]
           for d in ("2025-08-12", "2025-08-13")}
    value = {d: sum(q * c[s] / c["BTC"] for s, q in settings.portfolio.holdings.items())
             for d, c in day.items()}
    change = value["2025-08-13"] / value["2025-08-12"] - 1
    out = page.update_dashboard(0, False, None, None)
    assert out["change"] == f"{change * 100:+.2f}%"
    assert out["change_class"] == ("text-success" if change > 0 else "text-danger")


def test_history_starts_on_the_first_day_every_holding_has_a_price(data, settings):
    history = data.value_history(dict(settings.portfolio.holdings))
    raw = pd.read_csv(SAMPLE)
    first_common = max(raw[raw.symbol == s].date.min() for s in settings.portfolio.holdings)
    assert history.index[0] == pd.Timestamp(first_common, tz="UTC")
    assert (history["held_btc"] == history["value_btc"].iloc[0]).all()


@pytest.mark.parametrize(("state", "text"), [
    (None, "not requested"), ({"state": "requested"}, "requested"),
    ({"state": "running", "progress": 0.4}, "running 40%"), ({}, "not requested"),
])
def test_backfill_text(data, state, text):
    assert data.backfill_text(state) == text
