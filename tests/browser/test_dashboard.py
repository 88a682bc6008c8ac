"""The dashboard in headless chromium (dash_duo) over a temporary store seeded from the sample."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from app import create_app
from components import ids
from data.demo import with_demo
from data.jobs import JobSet
from data.scheduler import SchedulerRunner
from queries.export import CSV_COLUMNS
from settings import AssetSettings, RefreshSettings

pytestmark = pytest.mark.browser
CARD = ".asset-card"


def _start(dash_duo, settings, repo):
    dash_duo.start_server(create_app(settings, repo))
    # One script call per look: with a fast refresh the grid may be re-rendered between two
    # element reads until the first answers settle.
    _wait(lambda: dash_duo.driver.execute_script(
        f"const c = document.querySelector('{CARD} strong'); return c && c.textContent;")
        == "AAPL", timeout=60)
    return dash_duo


def _card_symbols(dash_duo) -> list[str]:
    # One script call: the grid may be re-rendered between two element reads.
    return dash_duo.driver.execute_script(
        f"return [...document.querySelectorAll('{CARD} .card-header strong')]"
        ".map(e => e.textContent)")


def _wait(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def _choose(dash_duo, symbol: str, quantity: str) -> None:
    dash_duo.find_element("#asset-dropdown").click()
    dash_duo.driver.find_element(
        By.XPATH, f"//label[contains(@class,'dash-dropdown-option')][.//input[@value='{symbol}']]",
    ).click()
    box = dash_duo.find_element("#asset-quantity")
    dash_duo.clear_input(box)
    box.send_keys(quantity)
    dash_duo.find_element("#add-asset-button").click()


def test_dash001_loads_header_cards_heatmap_without_console_errors(dash_duo, settings, repo):
    _start(dash_duo, settings, repo)
    held = repo.load_holdings(settings.portfolio.name)
    _wait(lambda: dash_duo.find_element("#portfolio-value-btc").text.startswith("₿"))
    assert dash_duo.find_element("#portfolio-value-btc").text.startswith("₿0.")
    assert sorted(_card_symbols(dash_duo)) == sorted(held) and len(held) >= 5
    assert "Updated" in dash_duo.find_element("#last-updated").text
    # Offline on a sample store: the status strip says how old the prices are.
    assert "Offline" in dash_duo.find_element("#dashboard-status-banner").text
    # The sample's closes are far past their staleness limits today: every card says so.
    badges = [e.text for e in dash_duo.find_elements(f"{CARD} .badge.text-bg-warning")]
    assert badges == ["stale"] * len(held)
    assert "sample ·" in dash_duo.find_element(CARD).text
    dash_duo.wait_for_element("#correlation-heatmap .hm", timeout=15)
    dash_duo.wait_for_element("#dashboard-history-chart .scatterlayer .trace", timeout=15)
    assert "Diversifiers" in dash_duo.find_element("body").text
    assert dash_duo.get_logs() == []


def test_dash002_add_then_remove_an_asset(dash_duo, settings, repo):
    _start(dash_duo, settings, repo)
    assert "SLV" not in _card_symbols(dash_duo)
    _choose(dash_duo, "SLV", "10")
    _wait(lambda: "SLV" in _card_symbols(dash_duo))
    assert repo.load_holdings(settings.portfolio.name)["SLV"] == 10.0
    button = dash_duo.driver.find_element(By.XPATH, (
        "//div[contains(@class,'asset-card')][.//strong[text()='SLV']]"
        "//button[contains(@class,'remove-asset')]"))
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
    _wait(lambda: button.is_displayed())
    dash_duo.driver.execute_script("arguments[0].click();", button)
    _wait(lambda: "SLV" not in _card_symbols(dash_duo))
    assert "SLV" not in repo.load_holdings(settings.portfolio.name)
    assert dash_duo.get_logs() == []


def test_dash002b_add_one_eth_to_four_leaves_five(dash_duo, settings, repo):
    # Issue 14: "+ Add" adds (a deposit), in the page, in the store and in /api/portfolio.
    _start(dash_duo, settings, repo)
    assert repo.load_holdings(settings.portfolio.name)["ETH"] == 4.0
    _choose(dash_duo, "ETH", "1")
    _wait(lambda: "ETH 4 → 5" in dash_duo.find_element("#asset-form-status").text)
    field = '[id=\'{"field":"quantity","symbol":"ETH","type":"asset-field"}\']'
    _wait(lambda: dash_duo.find_element(field).text == "5")
    assert repo.load_holdings(settings.portfolio.name)["ETH"] == 5.0
    api = dash_duo.driver.execute_script(
        "return fetch('/api/portfolio').then(r => r.json())")
    eth = next(a for a in api["assets"] if a["symbol"] == "ETH")
    assert eth["quantity"] == 5.0
    assert dash_duo.get_logs() == []


@pytest.mark.parametrize(("typed", "message"), [
    ("-5", "greater than zero"), ("0", "greater than zero"), ("1e13", "at most"),
    ("abc", "enter a quantity"),  # a number input keeps no letters: the value is empty
])
def test_dash003_invalid_quantity_shows_an_inline_error_and_stores_nothing(
        dash_duo, settings, repo, typed, message):
    _start(dash_duo, settings, repo)
    before = repo.load_holdings(settings.portfolio.name)
    _choose(dash_duo, "SLV", typed)
    _wait(lambda: message in dash_duo.find_element("#asset-form-error").text)
    assert "is-invalid" in dash_duo.find_element("#asset-quantity").get_attribute("class")
    assert repo.load_holdings(settings.portfolio.name) == before


def test_dash004_csv_export_downloads_one_row_per_holding(dash_duo, settings, repo):
    _start(dash_duo, settings, repo)
    dash_duo.find_element("#export-csv").click()
    folder = Path(dash_duo.download_path)
    _wait(lambda: any(p.suffix == ".csv" for p in folder.iterdir()))
    with next(p for p in folder.iterdir() if p.suffix == ".csv").open(newline="") as fh:
        rows = list(csv.reader(fh))
    assert tuple(rows[0]) == CSV_COLUMNS
    held = repo.load_holdings(settings.portfolio.name)
    assert len(rows) - 1 == len(held)
    assert sorted(r[0] for r in rows[1:]) == sorted(held)


def test_dash005_demo_feed_changes_the_page_on_its_own(dash_duo, settings, repo):
    fast = settings.model_copy(update={"demo": True,
                                       "refresh": RefreshSettings(interval_seconds=1)})
    # The scheduler writes the demo quotes (only the quote job matters here).
    idle = JobSet(quotes=print, history=print, backfill=print, health=print)
    runner = SchedulerRunner(fast, repo, with_demo(idle, fast, repo))
    runner.start()
    try:
        _check_demo_page(dash_duo, fast, repo)
    finally:
        runner.stop()


def _check_demo_page(dash_duo, fast, repo):
    _start(dash_duo, fast, repo)
    assert "DEMO" in dash_duo.find_element("#dashboard-status-banner").text
    _wait(lambda: dash_duo.find_element("#portfolio-value-btc").text.startswith("₿"))
    first = dash_duo.find_element("#portfolio-value-btc").text
    field_id = json.dumps(ids.asset_field("ETH", "value"), sort_keys=True, separators=(",", ":"))
    eth = f"//*[@id='{field_id}']"

    def eth_value() -> str:
        return dash_duo.driver.find_element(By.XPATH, eth).text

    eth_first = eth_value()
    _wait(lambda: dash_duo.find_element("#portfolio-value-btc").text != first, timeout=15)
    # Steady ticks send only deltas: the card fields change in place (assets/live.js).
    _wait(lambda: eth_value() != eth_first, timeout=15)
    # Simulated ticks are stored as demo quotes, never in the price history.
    assert set(repo.load_prices()["source"]) == {"sample"}
    assert set(repo.load_quotes()["source"]) == {"demo"}
    assert dash_duo.get_logs() == []


def test_dash006_sats_toggle_and_dark_mode(dash_duo, settings, repo):
    _start(dash_duo, settings, repo)
    _wait(lambda: dash_duo.find_element("#portfolio-value-btc").text.startswith("₿"))
    dash_duo.find_element("label[for='dashboard-sats-toggle']").click()
    _wait(lambda: dash_duo.find_element("#portfolio-value-btc").text.endswith("sats"))
    dash_duo.find_element("label[for='dashboard-dark-toggle']").click()
    _wait(lambda: dash_duo.driver.execute_script(
        "return document.documentElement.getAttribute('data-bs-theme')") == "dark")
    assert dash_duo.get_logs() == []


def test_dash007_asset_without_history_shows_backfill_pending(dash_duo, settings, repo):
    doge = AssetSettings(name="Dogecoin", category="high_vol_crypto", kind="crypto",
                         symbols={"coingecko": "dogecoin"}, sources=["coingecko"])
    wider = settings.model_copy(update={"assets": {**settings.assets, "DOGE": doge}})
    _start(dash_duo, wider, repo)
    _choose(dash_duo, "DOGE", "1000")
    _wait(lambda: "DOGE" in _card_symbols(dash_duo))
    _wait(lambda: "backfill requested" in dash_duo.find_element("body").text)
    assert "backfill requested" in dash_duo.find_element("#asset-form-status").text
    assert repo.get_meta("backfill:DOGE") is not None
    assert dash_duo.get_logs() == []
