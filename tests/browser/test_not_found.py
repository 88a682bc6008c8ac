"""An unknown address shows the 404 page, whose link leads back to the dashboard."""

from __future__ import annotations

import pytest

from app import create_app

pytestmark = pytest.mark.browser


def test_nf001_unknown_page_links_back_to_dashboard(dash_duo, settings, repo):
    dash_duo.start_server(create_app(settings, repo))
    dash_duo.driver.get(dash_duo.server_url + "/portfolio/nope")
    dash_duo.wait_for_text_to_equal("h1", "Page not found", timeout=15)
    dash_duo.find_element("#not-found-back").click()
    dash_duo.wait_for_element(".asset-card", timeout=15)
    assert dash_duo.driver.current_url.endswith("/portfolio/dashboard")
    assert dash_duo.get_logs() == [] or all(
        "404" in entry["message"] for entry in dash_duo.get_logs())
