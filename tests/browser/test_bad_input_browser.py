"""The holdings form in headless chromium: out-of-range quantities are refused in the page."""

from __future__ import annotations

import pytest

from app import create_app
from tests.support.browser import CARD, card_symbols, choose, wait_until

pytestmark = pytest.mark.browser


def test_dash_bad_input_form_refuses_and_the_page_keeps_working(dash_duo, settings, repo):
    dash_duo.start_server(create_app(settings, repo, environ={}))
    dash_duo.wait_for_text_to_equal(f"{CARD} strong", "AAPL", timeout=15)
    before = repo.load_holdings(settings.portfolio.name)
    for quantity, message in (("-5", "greater than zero"), ("1e13", "at most"),
                              ("0.0000000000001", "at least")):
        choose(dash_duo, "SLV", quantity)
        wait_until(lambda m=message: m in dash_duo.find_element("#asset-form-error").text)
        assert "SLV" not in card_symbols(dash_duo)
    assert repo.load_holdings(settings.portfolio.name) == before
    choose(dash_duo, "SLV", "3")  # the same form still works after the refusals
    wait_until(lambda: "SLV" in card_symbols(dash_duo))
    assert dash_duo.find_element("#asset-form-error").text == ""
    assert dash_duo.get_logs() == []
