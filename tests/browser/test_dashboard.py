"""The dashboard in headless chromium (dash_duo) over a temporary store seeded from the sample."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from app import create_app
from components import ids
from data.providers.demo import with_demo
from data.scheduling.jobs import JobSet
from data.scheduling.runner import SchedulerRunner
from queries.export import CSV_COLUMNS
from settings import AssetSettings, RefreshSettings
from tests.support.browser import CARD, card_symbols, choose, wait_until

pytestmark = pytest.mark.browser


def _start(dash_duo, settings, repo):
    dash_duo.start_server(create_app(settings, repo))
    # One script call per look: with a fast refresh the grid may be re-rendered between two
    # element reads until the first answers settle.
    wait_until(lambda: dash_duo.driver.execute_script(
        f"const c = document.querySelector('{CARD} strong'); return c && c.textContent;")
        == "AAPL", timeout=60)
    return dash_duo


def test_dash001_loads_header_cards_heatmap_without_console_errors(dash_duo, settings, repo):
    _start(dash_duo, settings, repo)
    held = repo.load_holdings(settings.portfolio.name)
    wait_until(lambda: dash_duo.find_element("#portfolio-value-btc").text.startswith("₿"))
    assert dash_duo.find_element("#portfolio-value-btc").text.startswith("₿0.")
    assert sorted(card_symbols(dash_duo)) == sorted(held) and len(held) >= 5
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
    assert "SLV" not in card_symbols(dash_duo)
    choose(dash_duo, "SLV", "10")
    wait_until(lambda: "SLV" in card_symbols(dash_duo))
    assert repo.load_holdings(settings.portfolio.name)["SLV"] == 10.0
    button = dash_duo.driver.find_element(By.XPATH, (
        "//div[contains(@class,'asset-card')][.//strong[text()='SLV']]"
        "//button[contains(@class,'remove-asset')]"))
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
    wait_until(lambda: button.is_displayed())
    dash_duo.driver.execute_script("arguments[0].click();", button)
    wait_until(lambda: "SLV" not in card_symbols(dash_duo))
    assert "SLV" not in repo.load_holdings(settings.portfolio.name)
    assert dash_duo.get_logs() == []


def test_dash002b_add_one_eth_to_four_leaves_five(dash_duo, settings, repo):
    # Issue 14: "+ Add" adds (a deposit), in the page, in the store and in /api/portfolio.
    _start(dash_duo, settings, repo)
    assert repo.load_holdings(settings.portfolio.name)["ETH"] == 4.0
    choose(dash_duo, "ETH", "1")
    wait_until(lambda: "ETH 4 → 5" in dash_duo.find_element("#asset-form-status").text)
    field = '[id=\'{"field":"quantity","symbol":"ETH","type":"asset-field"}\']'
    wait_until(lambda: dash_duo.find_element(field).text == "5")
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
    choose(dash_duo, "SLV", typed)
    wait_until(lambda: message in dash_duo.find_element("#asset-form-error").text)
    assert "is-invalid" in dash_duo.find_element("#asset-quantity").get_attribute("class")
    assert repo.load_holdings(settings.portfolio.name) == before


def test_dash004_csv_export_downloads_one_row_per_holding(dash_duo, settings, repo):
    _start(dash_duo, settings, repo)
    dash_duo.find_element("#export-csv").click()
    folder = Path(dash_duo.download_path)
    wait_until(lambda: any(p.suffix == ".csv" for p in folder.iterdir()))
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
    wait_until(lambda: dash_duo.find_element("#portfolio-value-btc").text.startswith("₿"))
    first = dash_duo.find_element("#portfolio-value-btc").text
    field_id = json.dumps(ids.asset_field("ETH", "value"), sort_keys=True, separators=(",", ":"))
    eth = f"//*[@id='{field_id}']"

    def eth_value() -> str:
        return dash_duo.driver.find_element(By.XPATH, eth).text

    eth_first = eth_value()
    wait_until(lambda: dash_duo.find_element("#portfolio-value-btc").text != first, timeout=15)
    # Steady ticks send only deltas: the card fields change in place (assets/live.js).
    wait_until(lambda: eth_value() != eth_first, timeout=15)
    # Simulated ticks are stored as demo quotes, never in the price history.
    assert set(repo.load_prices()["source"]) == {"sample"}
    assert set(repo.load_quotes()["source"]) == {"demo"}
    assert dash_duo.get_logs() == []


def test_dash006_sats_toggle_and_dark_mode(dash_duo, settings, repo):
    _start(dash_duo, settings, repo)
    wait_until(lambda: dash_duo.find_element("#portfolio-value-btc").text.startswith("₿"))
    dash_duo.find_element("label[for='dashboard-sats-toggle']").click()
    wait_until(lambda: dash_duo.find_element("#portfolio-value-btc").text.endswith("sats"))
    dash_duo.find_element("label[for='dashboard-dark-toggle']").click()
    wait_until(lambda: dash_duo.driver.execute_script(
        "return document.documentElement.getAttribute('data-bs-theme')") == "dark")
    assert dash_duo.get_logs() == []


def test_dash007_asset_without_history_shows_backfill_pending(dash_duo, settings, repo):
    doge = AssetSettings(name="Dogecoin", category="high_vol_crypto", kind="crypto",
                         symbols={"coingecko": "dogecoin"}, sources=["coingecko"])
    wider = settings.model_copy(update={"assets": {**settings.assets, "DOGE": doge}})
    _start(dash_duo, wider, repo)
    choose(dash_duo, "DOGE", "1000")
    wait_until(lambda: "DOGE" in card_symbols(dash_duo))
    wait_until(lambda: "backfill requested" in dash_duo.find_element("body").text)
    assert "backfill requested" in dash_duo.find_element("#asset-form-status").text
    assert repo.get_meta("backfill:DOGE") is not None
    assert dash_duo.get_logs() == []
