"""The refresh protocol of issue 17: a key instead of the snapshot, one request and one
valuation per tick, a full render for any key the server cannot use."""

from __future__ import annotations

import pytest

import services
from app import create_app
from components import ids
from data.view_state import KEEP_VERSIONS, ViewStates, make_view_backend, new_sid
from tests.unit.pages.dashboard_support import header, page_params, refresh


@pytest.fixture
def page(settings, repo, now):
    create_app(settings, repo, clock=lambda: now)
    import pages.dashboard as dashboard
    return dashboard


def test_a_refresh_with_the_key_gets_only_the_changes(page, settings):
    first = refresh(page)
    assert first["full"] is True and len(first["cards"]) == len(settings.portfolio.holdings)
    second = refresh(page, first["key"], tick=1)
    # "since refresh" goes from "—" to "0.000%": card texts only, no grid, no header, same
    # session, new version.
    assert "cards" not in second and set(second["delta"]) == {"cards"}
    assert second["key"]["sid"] == first["key"]["sid"]
    assert second["key"]["v"] != first["key"]["v"]
    # Nothing changed since: dash answers 204 (PreventUpdate), the key stays valid.
    with pytest.raises(page.PreventUpdate):
        refresh(page, second["key"], tick=2)
    assert "cards" not in (refresh(page, second["key"], tick=3, sats=True))


@pytest.mark.parametrize("forged", [
    "not a key", 7, ["x"], {"sid": "../../quote:BTC", "v": 1}, {"sid": "a" * 22},
    {"sid": "a" * 22, "v": True}, {"sid": "a" * 22, "v": -3}, {"sid": "a" * 22, "v": 1, "x": 1},
    {"sid": None, "v": None}, {"sid": "a" * 500, "v": 1},
])
def test_a_forged_or_malformed_key_gets_a_full_render(page, forged):
    out = refresh(page, forged)
    assert out["full"] is True and header(out)["value"].startswith("₿")
    assert out["key"]["sid"] != (forged.get("sid") if isinstance(forged, dict) else None)


def test_an_unknown_or_superseded_key_gets_a_full_render(page):
    assert refresh(page, {"sid": new_sid(), "v": 12345})["full"] is True
    first = refresh(page)
    refresh(page, first["key"], tick=1)
    second = refresh(page, first["key"], tick=2)  # the browser dropped tick 1's answer
    assert "cards" not in second  # the view before is still kept: a delta
    key = second["key"]
    for n in range(KEEP_VERSIONS):  # sats on, off, on: every tick is a new view
        key = refresh(page, key, tick=3 + n, sats=n % 2 == 0)["key"]
    assert refresh(page, first["key"], tick=9)["full"] is True  # long superseded


def test_an_expired_view_gets_a_full_render_with_the_right_values(page, settings, tmp_path):
    first = refresh(page)
    services.set_view_states(ViewStates(make_view_backend(str(tmp_path / "other")), ttl=1))
    # A new (empty) cache: the same as every entry having expired.
    again = refresh(page, first["key"], tick=5)
    assert again["full"] is True and header(again) == header(first)
    assert len(again["cards"]) == len(settings.portfolio.holdings)


def test_one_valuation_and_one_price_read_per_tick(page, repo, monkeypatch):
    import queries.valuation as valuation

    calls = {"value": 0, "read": 0}
    real_value, real_read = valuation.value_portfolio, repo.load_latest_prices

    def value(*args, **kwargs):
        calls["value"] += 1
        return real_value(*args, **kwargs)

    def read(*args, **kwargs):
        calls["read"] += 1
        return real_read(*args, **kwargs)

    monkeypatch.setattr(valuation, "value_portfolio", value)
    monkeypatch.setattr(repo, "load_latest_prices", read)
    params = page_params(50)
    first = refresh(page, params=params)
    assert calls == {"value": 1, "read": 1}
    assert "sell" in str(first["rebalance"][0]) and first["fill"] is None
    calls.update(value=0, read=0)
    second = refresh(page, first["key"], tick=1, params=params,
                     rebalance_key=first["rebalance"][1])
    assert calls == {"value": 1, "read": 1}
    assert "rebalance" not in second  # same trades: the table is not sent again
    other = refresh(page, second["key"], tick=2, params=page_params(80),
                    rebalance_key=first["rebalance"][1])
    assert other["rebalance"][1] != first["rebalance"][1]


def test_the_rebalance_table_on_a_tick_is_the_one_the_panel_shows(page):
    params = page_params(30)
    ticked = refresh(page, params=params)["rebalance"]
    table, key = page.update_rebalance(params, None)
    assert key == ticked[1] and str(table) == str(ticked[0])


def test_only_the_refresh_callback_listens_to_the_interval(settings, repo):
    from app import setup_before_serving

    app = setup_before_serving(create_app(settings, repo))
    listening = [spec for spec in app.callback_map.values()
                 if any(i["id"] == ids.REFRESH_INTERVAL for i in spec["inputs"])]
    assert len(listening) == 1
    assert str(listening[0]["output"]) == f"{ids.LIVE_UPDATE}.data"
    state = {s["id"] for s in listening[0]["state"]}
    assert state == {ids.VIEW_KEY, ids.REBALANCE_PARAMS, ids.REBALANCE_KEY}


def test_a_store_that_cannot_be_read_says_so_and_forgets_the_view(page, repo, monkeypatch):
    from data.errors import DataError

    first = refresh(page)

    def broken(*args, **kwargs):
        raise DataError("store is gone")

    monkeypatch.setattr(repo, "load_latest_prices", broken)
    out = refresh(page, first["key"], tick=1)
    assert "store is gone" in str(out["banner"]) and out["key"] is None
    monkeypatch.undo()
    assert refresh(page, out["key"], tick=2)["full"] is True  # the banner is re-sent


@pytest.mark.parametrize("forged", ["2", -1, 0, True, None, 10**9])
def test_a_forged_page_shows_a_page_that_exists(page, forged):
    out = refresh(page, cards_page=forged)
    assert out["full"] is True and out["pages"] == 1 and out["cards"]
