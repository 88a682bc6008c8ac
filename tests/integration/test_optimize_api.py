"""/api/diversification and /api/optimize on a store seeded from the sample."""

from __future__ import annotations

import flask
import numpy as np
import pytest

import services
from analytics.categories import categories_from_assets
from analytics.optimizer import Caps
from analytics.selection import select_low_btc_correlation
from queries.diversification import universe_correlation
from queries.optimize import OptimizeRequest, optimize_portfolio
from tests.conftest import NOW
from webapi import register_api


@pytest.fixture
def client(settings, repo, now):
    app = flask.Flask(__name__)
    register_api(app)
    services.init(settings, repo, clock=lambda: now)  # the sample's clock: prices are fresh
    return app.test_client()


def test_api_diversification_is_the_selection_with_held_flags(client, repo, settings):
    body = client.get("/api/diversification?lookback_days=90&threshold=0.5").get_json()
    result = universe_correlation(repo, settings, 90)
    want = select_low_btc_correlation(result, categories_from_assets(settings.assets),
                                      threshold=0.5)
    assert [c["symbol"] for c in body["candidates"]] == list(want.picks["symbol"])
    assert [c["corr_btc"] for c in body["candidates"]] == pytest.approx(
        list(want.picks["corr_btc"]), abs=1e-12)
    held = set(repo.load_holdings(settings.portfolio.name))
    assert {c["symbol"]: c["held"] for c in body["candidates"]} == {
        s: s in held for s in want.picks["symbol"]}
    assert all(c["corr_btc"] < 0.5 and c["n_obs"] >= 20 for c in body["candidates"])
    # Round robin: the first picks cover every category that has a candidate.
    cats = {c["category"] for c in body["candidates"]}
    assert {c["category"] for c in body["candidates"][:len(cats)]} == cats
    assert body["effective_bets"]["proposal"] == pytest.approx(want.effective_bets)
    assert body["effective_bets"]["current"] > 1


def test_api_diversification_threshold_changes_the_list(client):
    low = client.get("/api/diversification?threshold=0").get_json()["candidates"]
    assert low and all(c["corr_btc"] < 0 for c in low)
    none = client.get("/api/diversification?threshold=-0.99").get_json()
    assert none["candidates"] == [] and none["by_category"] == {}


def _check(weights: dict, categories: dict, target: float, asset_cap: float, cat_cap: float):
    assert weights["BTC"] == target
    assert abs(sum(weights.values()) - 1.0) <= 1e-9
    others = {s: w for s, w in weights.items() if s != "BTC"}
    assert all(-1e-9 <= w <= asset_cap + 1e-9 for w in others.values())
    for cat in set(categories.values()):
        assert sum(w for s, w in others.items() if categories[s] == cat) <= cat_cap + 1e-9


@pytest.mark.parametrize("method", ["min_variance", "max_diversification", "risk_parity"])
@pytest.mark.parametrize("universe", ["held", "all"])
def test_api_optimize_weights_meet_every_constraint(client, settings, method, universe):
    resp = client.get(f"/api/optimize?method={method}&universe={universe}&target_btc_pct=0.4"
                      "&max_per_asset=0.2&max_per_category=0.3&lookback_days=365")
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    _check(body["weights"], categories_from_assets(settings.assets), 0.4, 0.2, 0.3)
    assert body["excluded"].get("MATIC", "series ended").startswith("series ended")
    assert "MATIC" not in body["weights"]
    assert body["trades"] and {"symbol", "side", "quantity", "value_btc", "value_sats",
                               "value_usd", "fee_btc"} <= set(body["trades"][0])
    # BTC lands on the target: what the lots left untraded went to an asset without lots.
    assert body["after"]["btc_allocation"] == pytest.approx(0.4, abs=1e-9)
    assert body["rounding"]["target_gap"] == pytest.approx(0.0, abs=1e-9)


def test_optimize_min_variance_beats_current_and_equal_weight_mixes(repo, settings):
    """Acceptance: in-sample BTC volatility <= the current mix's and 1/N's under the same caps."""
    target = 0.5
    res = optimize_portfolio(repo, settings, OptimizeRequest(), now=NOW)
    est = res.estimate
    cov = est.cov.to_numpy()
    current = np.array([res.current_weights.get(s, 0.0) for s in est.symbols])
    current *= (1 - target) / current.sum()                  # BTC at the target
    equal = np.full(len(est.symbols), (1 - target) / len(est.symbols))
    cats = categories_from_assets(settings.assets)
    # Caps loose enough that both reference mixes are feasible, so the claim is a real test.
    per_cat = {c: max(current[[cats[s] == c for s in est.symbols]].sum(),
                      equal[[cats[s] == c for s in est.symbols]].sum()) for c in set(cats.values())}
    asset_cap, cat_cap = float(max(current.max(), equal.max())), float(max(per_cat.values()))
    loose = optimize_portfolio(repo, settings, OptimizeRequest(
        caps=Caps(target, asset_cap, cat_cap)), now=NOW)
    _check(loose.mix.weights, cats, target, asset_cap, cat_cap)
    x = np.array([loose.mix.weights[s] for s in est.symbols])
    vol = float(np.sqrt(x @ cov @ x))
    assert vol <= float(np.sqrt(current @ cov @ current)) + 1e-12
    assert vol <= float(np.sqrt(equal @ cov @ equal)) + 1e-12


@pytest.mark.parametrize(("query", "constraint"), [
    ("max_per_asset=0.01", "max_per_asset"),
    ("max_per_category=0.05", "max_per_category"),
])
def test_api_optimize_infeasible_caps_are_400_naming_the_constraint(client, repo, settings,
                                                                      query, constraint):
    before = repo.load_holdings(settings.portfolio.name)
    resp = client.get(f"/api/optimize?{query}")
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["constraint"] == constraint and constraint in body["error"]
    assert repo.load_holdings(settings.portfolio.name) == before


def test_api_optimize_target_one_sells_everything_into_btc(client):
    body = client.get("/api/optimize?target_btc_pct=1").get_json()
    assert body["weights"]["BTC"] == 1.0
    assert all(w == 0 for s, w in body["weights"].items() if s != "BTC")
    assert body["expected_volatility_btc"] == 0.0
    assert {t["side"] for t in body["trades"] if t["symbol"] != "BTC"} == {"sell"}


def test_api_optimize_fee_and_minimum_trade_rules_are_the_rebalance_ones(client):
    free = client.get("/api/optimize?fee_bps=0").get_json()
    paid = client.get("/api/optimize?fee_bps=50").get_json()
    assert free["fees_btc"] == 0 and paid["fees_btc"] > 0
    big = max(t["value_btc"] for t in free["trades"] if t["symbol"] != "BTC")
    few = client.get(f"/api/optimize?min_trade_btc={big}").get_json()
    assert all(t["value_btc"] >= big for t in few["trades"] if t["symbol"] != "BTC")


def test_api_optimize_min_variance_is_no_riskier_than_todays_mix_at_the_same_target(client):
    body = client.get("/api/optimize?max_per_asset=1&max_per_category=1").get_json()
    like = body["current_at_target"]
    assert like["weights"]["BTC"] == 0.5
    assert sum(like["weights"].values()) == pytest.approx(1.0, abs=1e-12)
    assert body["expected_volatility_btc"] <= like["expected_volatility_btc"] + 1e-12
