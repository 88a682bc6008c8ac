"""The refresh protocol in headless chromium (issue 17): the server keeps each tab's last view;
a tab whose server state expired, or that sends an unknown or forged key, gets a full render
with the right values, never an error."""

from __future__ import annotations

import functools
import time
from datetime import datetime, timezone

import pytest

import services
from app import create_app
from components import ids
from components.format import fmt_btc
from data.models import Quote
from data.view_state import ViewStates, make_view_backend
from queries.valuation import current_valuation
from settings import RefreshSettings
from tests.support.browser import wait_until

pytestmark = pytest.mark.browser
CARD = ".asset-card"
MARK = "window.__btcfolioGrid"


def _start(dash_duo, settings, repo):
    fast = settings.model_copy(update={"refresh": RefreshSettings(interval_seconds=2)})
    dash_duo.start_server(create_app(fast, repo))
    # One script call per look: until the first answers settle, the grid may be replaced
    # between two element reads (a tick's answer is dropped when the next tick fires first).
    _wait(lambda: dash_duo.driver.execute_script(
        f"const c = document.querySelector('{CARD} strong'); return c && c.textContent;")
        == "AAPL", timeout=30)
    _steady(dash_duo)
    return dash_duo


def _steady(dash_duo, quiet: float = 5.0, timeout: float = 60.0) -> None:
    """Wait until the grid stays in place for ``quiet`` seconds (the tab is on deltas)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _mark_grid(dash_duo)
        time.sleep(quiet)
        if not _grid_replaced(dash_duo):
            return
    raise AssertionError("the grid never settled: every tick rendered in full")


_wait = functools.partial(wait_until, timeout=20.0)


def _mark_grid(dash_duo) -> None:
    """Remember the first card element: a full render replaces it, a delta does not."""
    dash_duo.driver.execute_script(f"{MARK} = document.querySelector('{CARD}');")


def _grid_replaced(dash_duo) -> bool:
    return dash_duo.driver.execute_script(
        f"return !document.body.contains({MARK}) && !!document.querySelector('{CARD}');")


def _header(dash_duo) -> str:
    return dash_duo.find_element(f"#{ids.PORTFOLIO_VALUE_BTC}").text


def _move_eth(repo, factor: float) -> str:
    """Store a new ETH quote; the portfolio value the page must show afterwards."""
    now = datetime.now(timezone.utc)
    eth = current_valuation(services.read_context()).assets.set_index("symbol").loc["ETH"]
    repo.upsert_quotes([Quote("ETH", float(eth["price_usd"]) * factor, now, "coingecko")],
                       fetched_at=now)
    return fmt_btc(current_valuation(services.read_context()).total_btc)


def test_refresh_keeps_the_grid_and_applies_deltas(dash_duo, settings, repo):
    _start(dash_duo, settings, repo)
    _mark_grid(dash_duo)
    expected = _move_eth(repo, 1.5)
    _wait(lambda: _header(dash_duo) == expected)
    time.sleep(4)
    assert not _grid_replaced(dash_duo)  # steady ticks: the same grid, texts patched in place
    assert dash_duo.get_logs() == []


def test_refresh_after_the_server_state_expired_shows_the_right_values(dash_duo, settings,
                                                                      repo, tmp_path):
    _start(dash_duo, settings, repo)
    _mark_grid(dash_duo)
    # Every session's state gone (the same as 10 minutes without a tick, or an eviction).
    services.set_view_states(ViewStates(make_view_backend(str(tmp_path / "empty"))))
    expected = _move_eth(repo, 0.5)
    _wait(lambda: _grid_replaced(dash_duo))  # a full render, not an error
    _wait(lambda: _header(dash_duo) == expected)
    eth = dash_duo.driver.execute_script(
        "return [...document.querySelectorAll('.asset-card')].find("
        "c => c.querySelector('strong').textContent === 'ETH').innerText;")
    value = current_valuation(services.read_context()).assets.set_index("symbol")
    assert fmt_btc(float(value.loc["ETH", "value_btc"])) in eth
    _steady(dash_duo)  # and the tab is back on deltas: the new grid stays
    assert dash_duo.get_logs() == []


@pytest.mark.parametrize("forged", [
    "{sid: '../../quote:BTC', v: 1}", "{sid: 'a'.repeat(22), v: 999}", "'not a key'",
    "[1, 2, 3]"])
def test_an_unknown_or_forged_key_gets_a_full_render(dash_duo, settings, repo, forged):
    _start(dash_duo, settings, repo)
    _mark_grid(dash_duo)
    dash_duo.driver.execute_script(
        f"window.dash_clientside.set_props('{ids.VIEW_KEY}', {{data: {forged}}});")
    _wait(lambda: _grid_replaced(dash_duo))
    expected = fmt_btc(current_valuation(services.read_context()).total_btc)
    _wait(lambda: _header(dash_duo) == expected)
    assert dash_duo.find_element(f"#{ids.STATUS_BANNER}").text  # the status strip is back
    assert dash_duo.get_logs() == []
