"""The live view: display model, partial updates (deltas), card pages and the 24 h change."""

from __future__ import annotations

import json
from dataclasses import replace

import plotly.utils
import pytest

from components import dashboard_view as view_mod
from components.cards import DOWN, FLAT, STALE_OFF, STALE_ON, UP
from components.dashboard_view import (
    apply_delta,
    build_view,
    live_update,
    page_count,
    portfolio_change_24h,
    view_delta,
)
from queries.dashboard import DashboardData
from tests.unit.components.conftest import NOW

NAMES = {"BTC": "Bitcoin", "ETH": "Ethereum", "SPY": "S&P 500"}
CATS = {"BTC": "stable_crypto", "ETH": "stable_crypto", "SPY": "stocks"}


def _data(valuation, prices_24h=None, **extra):
    return DashboardData(valuation=valuation, now=NOW, names=NAMES, categories=CATS,
                         prices_btc_24h=prices_24h or {}, **extra)


def _serialise(component):
    return json.loads(json.dumps(component, cls=plotly.utils.PlotlyJSONEncoder))


def _apply(tree, delta):
    """Write a delta's card texts/classes into a serialised grid (as assets/live.js does)."""
    count = 0
    for symbol, fields in delta.get("cards", {}).items():
        for field, items in fields.items():
            props = _find(tree, symbol, field)
            for index, value in items.items():
                props["children" if index == "0" else "className"] = value
                count += 1
    return count


def _find(tree, symbol, field):
    if isinstance(tree, dict):
        if tree.get("props", {}).get("id") == {"type": "asset-field", "symbol": symbol,
                                               "field": field}:
            return tree["props"]
        children = tree.get("props", {}).get("children")
        return _find(children, symbol, field) if children is not None else None
    if isinstance(tree, list):
        for child in tree:
            hit = _find(child, symbol, field)
            if hit is not None:
                return hit
    return None


def test_build_view_header_and_cards_in_btc(valuation):
    view = build_view(_data(valuation), None, sats=False)
    assert view["order"] == ["BTC", "ETH", "SPY"]
    # 1 + 5 x 0.04 + 40 x 0.005 = 1.4 BTC; 1.4 x 100,000 USD.
    assert view["header"]["value"] == "₿1.40000000"
    assert view["header"]["usd"] == "$140,000.00"
    assert view["header"]["alloc"] == "71.4%"
    eth = view["cards"]["ETH"]
    assert eth["value"][0] == "₿0.20000000"
    assert eth["price"][0] == "₿0.04000000"
    assert eth["weight"][0] == "14.29%"
    assert eth["change"][0] == "—"  # first refresh: nothing to compare with
    assert eth["source"][0] == "sample · 12 h old"


def test_build_view_sats_toggle(valuation):
    view = build_view(_data(valuation), None, sats=True)
    assert view["header"]["value"] == "140,000,000 sats"
    assert view["cards"]["SPY"]["price"][0] == "500,000 sats"


def test_build_view_changes_are_coloured(valuation):
    previous = {"prices_btc": {"ETH": 0.05, "SPY": 0.004, "BTC": 1.0}}
    view = build_view(_data(valuation, {"ETH": 0.04, "SPY": 0.01}), previous, sats=False)
    assert view["cards"]["ETH"]["change"] == ["-20.000%", f"font-monospace {DOWN}"]
    assert view["cards"]["SPY"]["change"] == ["+25.000%", f"font-monospace {UP}"]
    assert view["cards"]["BTC"]["change"] == ["0.000%", f"font-monospace {FLAT}"]
    assert view["cards"]["SPY"]["change_24h"][0] == "-50.00%"
    assert view["cards"]["ETH"]["change_24h"][0] == "0.00%"


def test_stale_badge_follows_the_staleness_flag(valuation):
    view = build_view(_data(valuation), None, sats=False)
    stale = dict(zip(valuation.assets["symbol"], valuation.assets["stale"], strict=True))
    for symbol, flag in stale.items():
        assert view["cards"][symbol]["stale"][1] == (STALE_ON if flag else STALE_OFF)


def test_portfolio_change_24h_hand_computed(valuation):
    # 24 h ago: 1 + 5 x 0.05 + 40 x 0.005 = 1.45 BTC; now 1.4 -> 1.4 / 1.45 - 1.
    change, left_out = portfolio_change_24h(valuation, {"BTC": 1.0, "ETH": 0.05, "SPY": 0.005})
    assert change == pytest.approx(1.4 / 1.45 - 1) and left_out == ()


def test_portfolio_change_24h_is_over_the_priced_holdings_and_names_the_rest(valuation):
    # No reference for ETH and SPY: the change is BTC's alone (0) and says so.
    assert portfolio_change_24h(valuation, {"BTC": 1.0}) == (0.0, ("ETH", "SPY"))
    # ETH's price now is stale: left out even with a reference. 24 h ago: 1 + 40 x 0.004.
    frame = valuation.assets.assign(stale=valuation.assets["symbol"] == "ETH")
    stale_eth = replace(valuation, assets=frame)
    change, left_out = portfolio_change_24h(stale_eth, {"BTC": 1.0, "ETH": 0.05, "SPY": 0.004})
    assert change == pytest.approx((1 + 40 * 0.005) / (1 + 40 * 0.004) - 1)
    assert left_out == ("ETH",)
    assert portfolio_change_24h(valuation, {}) == (None, ("BTC", "ETH", "SPY"))


def test_header_change_names_what_it_left_out(valuation):
    view = build_view(_data(valuation, {"BTC": 1.0, "SPY": 0.004}), None, sats=False)
    assert view["header"]["change"][0] == "+3.45% excl. ETH"  # 1.2 / 1.16 - 1 over BTC + SPY
    assert build_view(_data(valuation), None, sats=False)["header"]["change"][0] == "—"


def test_pending_holding_gets_a_backfill_card(valuation):
    view = build_view(_data(valuation, pending={"SLV": (10.0, "requested")}), None, sats=False)
    assert view["order"] == ["BTC", "ETH", "SLV", "SPY"]
    assert view["cards"]["SLV"]["source"][0] == "backfill requested"
    assert view["cards"]["SLV"]["value_usd"][0] == "no history yet"


def test_first_update_sends_everything(valuation):
    view = build_view(_data(valuation), None, sats=False, fill="filling history: 1 of 3")
    out = live_update(view, None)
    assert out["full"] is True and len(out["cards"]) == 3 and out["pages"] == 1
    assert out["delta"] == {"header": view["header"]}  # the whole header
    assert out["delta"]["header"]["value"] == "₿1.40000000"
    assert "filling history: 1 of 3" in str(out["fill"]) and out["banner"] is not None


def test_unchanged_refresh_sends_nothing(valuation):
    view = build_view(_data(valuation), None, sats=False)
    again = build_view(_data(valuation), view, sats=False)
    first_tick = live_update(again, view)  # change texts go from "—" to "0.000%"
    settled = live_update(build_view(_data(valuation), again, sats=False), again)
    assert "cards" not in first_tick and first_tick["delta"]["cards"]
    assert "banner" not in first_tick and "fill" not in first_tick
    assert settled is None


def test_changed_price_sends_only_that_cards_changed_texts(valuation):
    base = build_view(_data(valuation), None, sats=False)
    previous = build_view(_data(valuation), base, sats=False)
    moved = valuation.assets.copy()
    moved.loc[moved["symbol"] == "ETH", ["price_btc", "value_btc"]] = [0.05, 0.25]
    bumped = type(valuation)(**{**valuation.__dict__, "assets": moved})
    view = build_view(_data(bumped), previous, sats=False)
    out = live_update(view, previous)
    assert "cards" not in out and not out.get("full")
    grid = _serialise(view_mod.render_cards(previous))
    count = _apply(grid, out["delta"])
    # ETH value, price and change (text + class) changed; nothing else was sent.
    assert count == 4 and set(out["delta"]["cards"]) == {"ETH"}
    assert _find(grid, "ETH", "value")["children"] == "₿0.25000000"
    assert _find(grid, "ETH", "price")["children"] == "₿0.05000000"
    assert _find(grid, "ETH", "change")["className"].endswith(UP)
    assert _find(grid, "SPY", "value")["children"] == "₿0.20000000"
    # The updated grid is exactly what a full re-render would have sent.
    assert grid == _serialise(view_mod.render_cards(view))
    shown = {"cards": previous["cards"], "header": previous["header"]}
    assert apply_delta(shown, out["delta"]) == {"cards": view["cards"], "header": view["header"]}


def test_new_holding_rerenders_the_grid(valuation):
    previous = build_view(_data(valuation), None, sats=False)
    view = build_view(_data(valuation, pending={"SLV": (1.0, "requested")}), previous, sats=False)
    out = live_update(view, previous)
    assert out["full"] is True and len(out["cards"]) == 4


def test_a_stored_view_of_another_shape_gets_a_full_render(valuation):
    view = build_view(_data(valuation), None, sats=False)
    out = live_update(view, {"order": view["order"], "cards": "garbage", "header": None})
    assert out["full"] is True and len(out["cards"]) == 3


def test_cards_are_paged_and_totals_are_over_every_holding(valuation):
    everything = build_view(_data(valuation), None, sats=False)
    first = build_view(_data(valuation), None, sats=False, page=1, per_page=2)
    second = build_view(_data(valuation), first, sats=False, page=2, per_page=2)
    assert (first["order"], second["order"]) == (["BTC", "ETH"], ["SPY"])
    assert first["pages"] == second["pages"] == 2 and set(second["cards"]) == {"SPY"}
    assert first["header"] == second["header"] == everything["header"]
    # Every holding's price is kept for the next "since refresh", whichever page is shown.
    assert set(second["prices_btc"]) == {"BTC", "ETH", "SPY"}
    # A page past the end shows the last one; another page re-renders the grid.
    assert build_view(_data(valuation), None, sats=False, page=9, per_page=2)["page"] == 2
    assert live_update(second, first)["full"] is True
    assert [page_count(n, 24) for n in (0, 1, 24, 25, 1000)] == [1, 1, 1, 2, 42]


def test_view_delta_sends_changed_leaves_and_list_items_by_index():
    old = {"a": {"b": 1, "c": ["x", "y"]}, "d": [1], "e": 4}
    new = {"a": {"b": 1, "c": ["x", "z"]}, "d": [1, 2], "e": 4, "f": None}
    delta = view_delta(new, old)
    assert delta == {"a": {"c": {"1": "z"}}, "d": [1, 2], "f": None}
    assert apply_delta(old, delta) == new
    assert view_delta(new, new) is None
    with pytest.raises(KeyError):
        view_delta({"a": 1}, {"a": 1, "b": 2})
