"""Each dashboard panel's info icon shows its explanation on hover and on keyboard focus."""

from __future__ import annotations

import time

import pytest
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.action_chains import ActionChains

from app import create_app
from components.info import PANEL_INFO, info_id

pytestmark = pytest.mark.browser


def _wait_single_tooltip(dash_duo, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while len(dash_duo.find_elements(".tooltip.show")) != 1:
        assert time.monotonic() < deadline, "more than one tooltip stays open"
        time.sleep(0.1)


def _hover_until_shown(dash_duo, title: str, text: str, attempts: int = 3) -> None:
    """Rest the pointer on a panel's info icon until its tooltip shows ``text``.

    Panels below may still be drawing (a chart filling in moves the page), which can slide the
    icon from under a pointer that has not moved: then the pointer leaves and comes back.
    """
    for attempt in range(attempts):
        icon = dash_duo.find_element(f"#{info_id(title)}")
        dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", icon)
        ActionChains(dash_duo.driver).move_to_element(icon).perform()
        try:
            dash_duo.wait_for_text_to_equal(".tooltip.show .tooltip-inner", text, timeout=5)
            return
        except TimeoutException:
            if attempt == attempts - 1:
                raise
            body = dash_duo.find_element("body")
            ActionChains(dash_duo.driver).move_to_element_with_offset(body, 0, 0).perform()


def test_info001_panel_info_tooltips_show_on_hover_and_focus(dash_duo, settings, repo):
    dash_duo.start_server(create_app(settings, repo))
    dash_duo.wait_for_element(".asset-card", timeout=15)
    for title, text in PANEL_INFO.items():
        _hover_until_shown(dash_duo, title, text)
        # The previous icon's tooltip closes when the pointer leaves it: one shown at a time.
        _wait_single_tooltip(dash_duo)
    title = "Allocation"
    dash_duo.driver.execute_script(f"document.getElementById('{info_id(title)}').focus()")
    dash_duo.wait_for_text_to_equal(".tooltip.show .tooltip-inner", PANEL_INFO[title], timeout=5)
    assert dash_duo.get_logs() == []
