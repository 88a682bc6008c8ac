"""The diversification panels in headless chromium: they render, the switch swaps the trades."""

from __future__ import annotations

import functools

import pytest

from app import create_app
from tests.support.browser import wait_until

pytestmark = pytest.mark.browser


# The page fires its slow panels (backtest, optimizer) together on load, on a 2-core machine
# shared with other test runs: generous limits, the test is about behaviour, not speed.
LIMIT = 120


_wait = functools.partial(wait_until, timeout=LIMIT)


def test_opt001_panels_render_and_switch_rebalances_to_the_mix(dash_duo, settings, repo,
                                                               tmp_path, now):
    # At the sample's last day: a month later every price is stale and nothing is traded.
    dash_duo.start_server(create_app(settings, repo, clock=lambda: now))
    dash_duo.wait_for_contains_text("#dashboard-low-correlation", "to BTC over 90 d",
                                    timeout=LIMIT)
    dash_duo.wait_for_contains_text("#dashboard-mix-table", "Div. ratio", timeout=LIMIT)
    dash_duo.wait_for_contains_text("#dashboard-backtest-table", "BTC at target", timeout=LIMIT)
    _wait(lambda: dash_duo.driver.execute_script(
        "return document.querySelectorAll('#dashboard-drift-chart .scatterlayer .trace').length"
    ) >= 5)
    _wait(lambda: "sell" in dash_duo.find_element("#dashboard-rebalance-table").text)
    before = dash_duo.find_element("#dashboard-rebalance-table").text
    # The label overlays the input in Bootstrap's switch: click it the way a user's tap lands.
    dash_duo.driver.execute_script("document.getElementById('dashboard-mix-switch').click()")
    _wait(lambda: dash_duo.find_element("#dashboard-rebalance-table").text != before)
    dash_duo.driver.set_window_size(1400, 3400)
    dash_duo.driver.save_screenshot(str(tmp_path / "dashboard.png"))
    assert dash_duo.get_logs() == []
