"""Helpers of the headless-chromium tests (dash_duo)."""

from __future__ import annotations

import time

from selenium.webdriver.common.by import By

CARD = ".asset-card"


def card_symbols(dash_duo) -> list[str]:
    """Symbols of the asset cards, in page order (one script call: the grid may re-render
    between two element reads)."""
    return dash_duo.driver.execute_script(
        f"return [...document.querySelectorAll('{CARD} .card-header strong')]"
        ".map(e => e.textContent)")


def wait_until(predicate, timeout: float = 10.0) -> None:
    """Poll ``predicate`` every 0.2 s until it is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def choose(dash_duo, symbol: str, quantity: str) -> None:
    """Pick ``symbol`` in the asset dropdown, type ``quantity`` and press "+ Add"."""
    dash_duo.find_element("#asset-dropdown").click()
    dash_duo.driver.find_element(
        By.XPATH, f"//label[contains(@class,'dash-dropdown-option')][.//input[@value='{symbol}']]",
    ).click()
    box = dash_duo.find_element("#asset-quantity")
    dash_duo.clear_input(box)
    box.send_keys(quantity)
    dash_duo.find_element("#add-asset-button").click()
