"""The transactions page in headless chromium: table, per-type form, upload preview + confirm."""

from __future__ import annotations

import time

import pytest
from selenium.webdriver.common.by import By

from app import create_app
from data.store import ledger_store
from tests.support.ledger import LEDGER_CSV

pytestmark = pytest.mark.browser


def _wait(predicate, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except Exception:  # an element re-rendered between reads: retry
            pass
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def _rows(dash_duo) -> int:
    return len(dash_duo.driver.find_elements(
        By.CSS_SELECTOR, "#transactions-grid .ag-center-cols-container .ag-row"))


def _field(dash_duo, name: str):
    return dash_duo.driver.find_element(
        By.CSS_SELECTOR, f'[id=\'{{"field":"{name}","type":"transactions-field"}}\']')


def test_tx001_page_lists_entries_adds_one_and_imports_a_file(dash_duo, settings, repo,
                                                             tmp_path):
    dash_duo.start_server(create_app(settings, repo))
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/portfolio/transactions")
    opening = len(settings.portfolio.holdings)
    _wait(lambda: _rows(dash_duo) == opening)
    # The form asks only what a deposit needs: no price, no counter side.
    assert not _field(dash_duo, "price").is_displayed()
    date = _field(dash_duo, "date")
    date.send_keys("2025-08-01")
    dash_duo.find_element('[id=\'{"field":"asset","type":"transactions-field"}\']').click()
    dash_duo.driver.find_element(
        By.XPATH, "//label[contains(@class,'dash-dropdown-option')][.//input[@value='ETH']]",
    ).click()
    _field(dash_duo, "quantity").send_keys("1.5")
    dash_duo.find_element("#transactions-add").click()
    _wait(lambda: "Stored" in dash_duo.find_element("#transactions-form-status").text)
    _wait(lambda: _rows(dash_duo) == opening + 1)
    assert repo.load_holdings(settings.portfolio.name)["ETH"] == 5.5
    # Upload: a dry-run preview first, nothing stored until the confirm.
    path = tmp_path / "ledger.csv"
    path.write_text(LEDGER_CSV)
    dash_duo.find_element("#transactions-upload input[type=file]").send_keys(str(path))
    _wait(lambda: "8 new" in dash_duo.find_element("#transactions-preview").text)
    assert len(ledger_store.load_entries(repo, settings.portfolio.name)) == opening + 1
    confirm = dash_duo.find_element("#transactions-confirm")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", confirm)
    dash_duo.driver.execute_script("arguments[0].click();", confirm)
    _wait(lambda: "Imported 8 entries" in dash_duo.find_element("#transactions-preview").text)
    assert len(ledger_store.load_entries(repo, settings.portfolio.name)) == opening + 9
    assert dash_duo.get_logs() == []


def test_tx002_bad_file_names_its_rows_and_stores_nothing(dash_duo, settings, repo, tmp_path):
    dash_duo.start_server(create_app(settings, repo))
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/portfolio/transactions")
    before = ledger_store.load_entries(repo, settings.portfolio.name)
    path = tmp_path / "bad.csv"
    path.write_text(LEDGER_CSV.replace(",ETH,3,", ",DOGE,3,"))
    dash_duo.find_element("#transactions-upload input[type=file]").send_keys(str(path))
    _wait(lambda: "nothing was imported" in dash_duo.find_element("#transactions-preview").text)
    assert "DOGE" in dash_duo.find_element("#transactions-preview").text
    assert "d-none" in dash_duo.find_element("#transactions-confirm").get_attribute("class")
    assert ledger_store.load_entries(repo, settings.portfolio.name) == before
    assert dash_duo.get_logs() == []
