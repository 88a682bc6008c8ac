"""/api/correlation and /api/rebalance on a store seeded from the sample, checked from the CSV."""

from __future__ import annotations

import csv
import json
import math
from datetime import date, timedelta

import flask
import pytest

import services
from queries.valuation import current_valuation
from tests.support.sample import SAMPLE
from webapi import register_api
from webapi.payloads import portfolio_payload

ACCEPTANCE_ASSETS = ["BTC", "ETH", "SOL", "SPY", "QQQ", "GLD", "USDC"]


@pytest.fixture
def client(settings, repo, now):
    app = flask.Flask(__name__)
    register_api(app)  # every /api blueprint with the shared query-string and error handling
    services.init(settings, repo, clock=lambda: now)
    return app.test_client()


def _closes_from_csv() -> dict[str, dict[date, float]]:
    out: dict[str, dict[date, float]] = {}
    with open(SAMPLE, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            out.setdefault(row["symbol"], {})[date.fromisoformat(row["date"])] = float(row["close"])
    return out


def _plain_correlation(a: dict[date, float], b: dict[date, float], as_of: date,
                       lookback: int) -> tuple[float | None, int]:
    """Dates both have inside (as_of - lookback, as_of], consecutive log returns, Pearson."""
    days = sorted(d for d in a.keys() & b.keys() if as_of - timedelta(days=lookback) < d <= as_of)
    xs = [math.log(a[d2] / a[d1]) for d1, d2 in zip(days, days[1:], strict=False)]
    ys = [math.log(b[d2] / b[d1]) for d1, d2 in zip(days, days[1:], strict=False)]
    n = len(xs)
    if n < 20:
        return None, n
    mx, my = sum(xs) / n, sum(ys) / n
    cov = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    vx = sum((x - mx) ** 2 for x in xs)
    vy = sum((y - my) ** 2 for y in ys)
    return cov / math.sqrt(vx * vy), n


@pytest.mark.parametrize("lookback", [90, 365])
def test_api_correlation_equals_plain_pairwise_computation_from_csv(client, lookback):
    resp = client.get(f"/api/correlation?assets={','.join(ACCEPTANCE_ASSETS)}"
                      f"&lookback_days={lookback}")
    assert resp.status_code == 200
    body = resp.get_json()
    closes = _closes_from_csv()
    as_of = max(closes["BTC"])
    assert body["as_of"] == f"{as_of.isoformat()}T00:00:00+00:00"
    assert body["lookback_days"] == lookback
    assert body["assets"] == ACCEPTANCE_ASSETS
    for i, a in enumerate(ACCEPTANCE_ASSETS):
        for j, b in enumerate(ACCEPTANCE_ASSETS):
            want, n = _plain_correlation(closes[a], closes[b], as_of, lookback)
            assert body["n_obs"][i][j] == n, (a, b)
            if want is None:
                assert body["matrix"][i][j] is None
            else:
                assert body["matrix"][i][j] == pytest.approx(want, abs=1e-9), (a, b)
    # Stock/crypto pairs use only common (weekday) dates: about 5/7 of the crypto count.
    spy, btc = ACCEPTANCE_ASSETS.index("SPY"), ACCEPTANCE_ASSETS.index("BTC")
    assert body["n_obs"][spy][btc] < 0.75 * body["n_obs"][btc][btc]


def test_api_correlation_defaults_to_btc_and_held_assets_with_null_for_no_number(client, repo):
    repo.set_holding("MATIC", 100.0)          # MATIC's series ends 2025-03-24
    resp = client.get("/api/correlation")
    assert resp.status_code == 200
    assert "NaN" not in resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["lookback_days"] == 90
    assert body["assets"][0] == "BTC"
    assert set(body["assets"]) == {"BTC", *repo.load_holdings()}
    k = body["assets"].index("MATIC")
    assert body["matrix"][k] == [None] * len(body["assets"])
    assert body["n_obs"][k] == [0] * len(body["assets"])


@pytest.mark.parametrize("query", [
    "assets=BTC,XYZ", "assets=BTC,,ETH", "assets=", "assets=BTC,btc", "lookback_days=1",
    "lookback_days=3651", "lookback_days=90.0", "lookback_days=abc", "lookback_days=-5",
    "lookback_days=90&lookback_days=30", "window=90",
])
def test_api_correlation_rejects_bad_query_with_json_400(client, query):
    resp = client.get(f"/api/correlation?{query}")
    assert resp.status_code == 400
    assert set(resp.get_json()) == {"error"}


def test_api_correlation_symbols_are_case_insensitive(client):
    body = client.get("/api/correlation?assets=btc,eth&lookback_days=30").get_json()
    assert body["assets"] == ["BTC", "ETH"]
    assert body["matrix"][0][0] == 1.0


def _sample_values() -> tuple[dict[str, float], float]:
    closes = _closes_from_csv()
    last = max(closes["BTC"])
    btc_usd = closes["BTC"][last]
    return {s: c[last] / btc_usd for s, c in closes.items() if last in c}, btc_usd


@pytest.mark.parametrize("target", [0.2, 0.5, 0.8])
def test_api_rebalance_conserves_value_and_reaches_target(client, settings, target):
    resp = client.get(f"/api/rebalance?target_btc_pct={target}")
    assert resp.status_code == 200
    body = resp.get_json()
    price_btc, _ = _sample_values()
    holdings = settings.portfolio.holdings
    total = sum(q * price_btc[s] for s, q in holdings.items())
    before, after = body["before"], body["after"]
    assert before["portfolio_value_btc"] == pytest.approx(total, rel=1e-12)
    assert before["btc_allocation"] == pytest.approx(
        holdings["BTC"] / total, rel=1e-12)
    assert after["portfolio_value_btc"] == pytest.approx(before["portfolio_value_btc"], abs=1e-9)
    # The target holds up to the rounding, which is reported: ETFs and stocks trade in whole
    # shares (config lot_size 1) and legs under rebalance.min_trade_usd are skipped.
    rounding = body["rounding"]
    assert after["btc_allocation"] == pytest.approx(target + rounding["target_gap"], abs=1e-12)
    assert abs(rounding["target_gap"]) * after["portfolio_value_btc"] <= (
        rounding["untraded_btc"] * 1.001 + 1e-12)
    lots = settings.lot_sizes()
    for t in body["trades"]:
        if t["symbol"] in lots:
            assert t["quantity"] == pytest.approx(round(t["quantity"]), abs=1e-9), t
        if t["symbol"] != "BTC":
            assert t["value_usd"] >= settings.rebalance.min_trade_usd
    for s in body["skipped"]:
        assert s["reason"]
    assert all(a["quantity"] >= 0 for a in after["assets"])
    # The trades turn the before quantities into the after quantities.
    qty = {a["symbol"]: a["quantity"] for a in before["assets"]}
    for t in body["trades"]:
        qty[t["symbol"]] += t["quantity"] if t["side"] == "buy" else -t["quantity"]
        assert t["value_sats"] == round(t["value_btc"] * 1e8)
    for a in after["assets"]:
        assert a["quantity"] == pytest.approx(qty[a["symbol"]], rel=1e-9, abs=1e-12)
    assert {"portfolio_value_btc", "btc_allocation", "assets", "holdings"} <= set(after)


def test_api_rebalance_at_current_share_and_with_fees(client):
    current = client.get("/api/rebalance?target_btc_pct=0.5").get_json()["before"]["btc_allocation"]
    body = client.get(f"/api/rebalance?target_btc_pct={current!r}&band=0.01").get_json()
    assert body["trades"] == []
    fee = client.get("/api/rebalance?target_btc_pct=0.8&fee_bps=30").get_json()
    assert fee["after"]["btc_allocation"] == pytest.approx(
        0.8 + fee["rounding"]["target_gap"], abs=1e-12)
    lost = fee["before"]["portfolio_value_btc"] - fee["after"]["portfolio_value_btc"]
    assert lost == pytest.approx(fee["fees_btc"], rel=1e-9)
    assert fee["fees_btc"] > 0


@pytest.mark.parametrize("query", [
    "target_btc_pct=nan", "target_btc_pct=inf", "target_btc_pct=-inf", "target_btc_pct=1.5",
    "target_btc_pct=-0.1", "target_btc_pct=abc", "target_btc_pct=", "target_btc_pct=1_0",
    "target_btc_pct=0.5&target_btc_pct=0.6", "fee_bps=10000", "band=-1", "target=0.5",
])
def test_api_rebalance_rejects_bad_query_with_json_400(client, query):
    resp = client.get(f"/api/rebalance?{query}")
    assert resp.status_code == 400
    assert "error" in json.loads(resp.get_data(as_text=True))


def test_api_rebalance_only_btc_held_cannot_sell_btc_into_nothing(client, repo):
    for symbol in list(repo.load_holdings()):
        if symbol != "BTC":
            repo.remove_holding(symbol)
    resp = client.get("/api/rebalance?target_btc_pct=0.5")
    assert resp.status_code == 422
    assert "target_weights" in resp.get_json()["error"]
    assert client.get("/api/rebalance?target_btc_pct=1").get_json()["trades"] == []


def test_api_rebalance_before_and_after_have_the_portfolio_shape(client):
    body = client.get("/api/rebalance?target_btc_pct=0.5").get_json()
    portfolio = portfolio_payload(current_valuation(services.read_context()))
    for side in ("before", "after"):
        assert set(body[side]) == set(portfolio)
        assert set(body[side]["assets"][0]) <= set(portfolio["assets"][0])
    assert body["before"]["portfolio_value_btc"] == pytest.approx(
        portfolio["portfolio_value_btc"], rel=1e-12)
    assert body["before"]["btc_allocation"] == pytest.approx(portfolio["btc_allocation"])


def test_api_rebalance_min_trade_usd_skips_small_legs_with_reason(client):
    # Target just above the current share: every leg is small; a high minimum skips them all.
    current = client.get("/api/rebalance").get_json()["before"]["btc_allocation"]
    body = client.get(f"/api/rebalance?target_btc_pct={current + 0.001!r}"
                      "&min_trade_usd=1000").get_json()
    assert body["trades"] == []
    assert body["skipped"] and all(
        s["reason"].startswith(("below the minimum trade", "less than one lot"))
        for s in body["skipped"])
    assert sum(s["value_btc"] for s in body["skipped"]) == pytest.approx(
        body["rounding"]["untraded_btc"], rel=1e-9)
    assert body["after"] == body["before"]
    no_min = client.get(f"/api/rebalance?target_btc_pct={current + 0.001!r}"
                        "&min_trade_usd=0").get_json()
    assert no_min["trades"]
    assert client.get("/api/rebalance?min_trade_usd=-5").status_code == 400
