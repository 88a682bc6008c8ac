"""Diversifiers, Suggested mix and "rebalance to this mix" on the dashboard, over a seeded store."""

from __future__ import annotations

import re

import flask
import pytest

import services
from analytics.categories import categories_from_assets
from analytics.selection import select_low_btc_correlation
from app import create_app
from components import tables
from queries.diversification import universe_correlation
from tests.support.dashboard_page import page_params
from webapi import register_api


@pytest.fixture
def page(settings, repo, now):
    create_app(settings, repo, clock=lambda: now)  # the sample's clock: prices are fresh
    import pages.dashboard as dashboard
    return dashboard


def _texts(component) -> list[str]:
    """Every text in a component tree, in display order."""
    if isinstance(component, str):
        return [component]
    children = getattr(component, "children", None)
    out: list[str] = []
    for child in children if isinstance(children, list) else [children]:
        out += _texts(child) if child is not None else []
    return out


def _why_symbols(component) -> list[str]:
    """Symbols of the panel's why lines, in display order."""
    return [re.match(r"([A-Z]+): ", t).group(1) for t in _texts(component)
            if " to BTC over " in t]


def test_diversifiers_panel_api_and_selection_give_the_same_list(page, settings, repo):
    _fig, panel, _note, _ranking = page.update_correlation(90, "light")
    selection = select_low_btc_correlation(universe_correlation(repo, settings, 90),
                                           categories_from_assets(settings.assets), threshold=0.5)
    app = flask.Flask(__name__)
    register_api(app)
    services.init(settings, repo)
    api = app.test_client().get("/api/diversification?lookback_days=90&threshold=0.5").get_json()
    groups: dict[str, list[str]] = {}
    for c in api["candidates"]:
        groups.setdefault(c["category"], []).append(c["symbol"])
    assert groups == api["by_category"]
    assert sorted(_why_symbols(panel)) == sorted(selection.picks["symbol"])
    assert [c["symbol"] for c in api["candidates"]] == list(selection.picks["symbol"])
    # The panel groups by category in order of first appearance.
    assert _why_symbols(panel) == [s for symbols in groups.values() for s in symbols]
    assert "GLD: \u22120.06 to BTC over 90 d, commodities" in _texts(panel)


def test_correlation_note_names_matic_whose_series_ended(page, repo, settings):
    repo.set_holding("MATIC", 10.0, settings.portfolio.name)
    _fig, _panel, note, _ranking = page.update_correlation(90, "light")
    assert "MATIC: series ended 2025-03-24" in " ".join(_texts(note))


def test_suggested_mix_shows_proposal_and_current_mix(page):
    from pages import _optimize_panels as mix
    view = _texts(mix.update_suggested_mix(50, "min_variance", 25, 40, None))
    assert {"Proposal", "Now", "Div. ratio", "BTC", "50.0%"} <= set(view)
    bad = " ".join(_texts(mix.update_suggested_mix(50, "min_variance", 1, 40, None)))
    assert "max_per_asset" in bad
    assert "Pick an optimization method" in str(mix.update_suggested_mix(50, "x", 25, 40, None))


def test_rebalance_switch_shows_the_trades_to_the_suggested_mix(page):
    from pages import _optimize_panels as mix
    plain, _ = page.update_rebalance(page_params(50, False, "risk_parity", 25, 40), None)
    to_mix, _ = page.update_rebalance(page_params(50, True, "risk_parity", 25, 40), None)
    plan = mix.mix_rebalance(50, "risk_parity", 25, 40)
    assert str(to_mix) != str(plain)
    assert _texts(to_mix) == _texts(tables.rebalance_table(
        plan.trades, skipped=plan.plan.skipped, share_after=plan.plan.btc_share_after,
        excluded=plan.excluded))
    # One two-sided plan: some non-BTC asset is sold and another bought.
    sides = plan.trades[plan.trades["symbol"] != "BTC"].groupby("side").size()
    assert sides.get("sell", 0) >= 1 and sides.get("buy", 0) >= 1


def test_backtest_panel_draws_each_strategy_and_its_summary(page):
    from pages import _optimize_panels as panels
    fig, table = panels.update_backtest("quarterly", 50, None, "light")
    assert [t.name for t in fig.data] == ["Current mix", "Optimized (walk-forward)",
                                          "BTC at target"]
    assert len(fig.data[0].x) == 1096
    assert "Turnover" in _texts(table) and "BTC at target" in _texts(table)
    bad, none = panels.update_backtest("weekly", 50, None, "light")
    assert none is None and "Pick a rebalance frequency" in str(bad.layout)


def test_drift_panel_has_a_line_per_held_asset(page, repo, settings):
    from pages import _optimize_panels as panels
    fig = panels.update_drift(None, "dark")
    held = set(repo.load_holdings(settings.portfolio.name)) - {"BTC"}
    assert {t.name for t in fig.data} == held
    # A year of days thinned to at most 120 points per line, the newest day kept (issue 17).
    from queries.correlation_drift import correlation_drift
    newest = correlation_drift(repo, settings).frame.index[-1]
    assert all(60 < len(t.x) <= 120 and t.x[-1] == f"{newest:%Y-%m-%d}" for t in fig.data)
