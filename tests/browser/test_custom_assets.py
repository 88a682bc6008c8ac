"""Issue 16 acceptance in headless chromium: DOGE added from the page, backfilled, valued in BTC,
still there after a restart; the first-run choices on an empty portfolio.

Providers are a local CoinGecko + Yahoo stand-in (tests/support/provider_standin.py) whose DOGE (and
today's BTC quote) prices are synthetic: real DOGE prices are not in /work/shared/data.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import threading

import pytest
from selenium.webdriver.common.by import By

from app import create_app
from components import ids
from data.store.repository import Repository
from data.store.seed import init_portfolio, seed_store
from settings import RefreshSettings, load_settings
from tests.support.browser import wait_until
from tests.support.provider_standin import ProviderStandIn
from tests.support.sample import ROOT, SAMPLE

pytestmark = pytest.mark.browser
CARD = ".asset-card"


@pytest.fixture
def standin():
    server = ProviderStandIn().start()
    yield server
    server.stop()


SCHEDULER_RUN = """
from datetime import datetime, timezone
from data.scheduling.jobs import build_jobs
from data.store.seed import open_store
from settings import load_settings
import os
settings = load_settings(None, os.environ)
jobs = build_jobs(settings, open_store(settings), os.environ)
now = datetime.now(timezone.utc)
report = jobs.backfill(now)
jobs.quotes(now)
print(next(a.rows for a in report.assets if a.symbol == "DOGE"))
"""


def _env(tmp_path, extra):
    return {"BTCFOLIO__STORE__URL": f"sqlite:///{tmp_path / 'store.db'}",
            "BTCFOLIO__CACHE__DIR": str(tmp_path / "cache"), **extra}


def _settings(tmp_path, env):
    settings = load_settings(ROOT / "config.yaml", _env(tmp_path, env))
    # A fast refresh, so the page shows the backfilled prices without a reload.
    return settings.model_copy(update={"refresh": RefreshSettings(interval_seconds=2)})


_wait = functools.partial(wait_until, timeout=15.0)


def _cards(dash_duo) -> list[str]:
    return dash_duo.driver.execute_script(
        f"return [...document.querySelectorAll('{CARD} .card-header strong')]"
        ".map(e => e.textContent)")


def _field_text(dash_duo, symbol: str, field: str) -> str:
    field_id = json.dumps(ids.asset_field(symbol, field), sort_keys=True, separators=(",", ":"))
    found = dash_duo.driver.find_elements(By.XPATH, f"//*[@id='{field_id}']")
    return found[0].text if found else ""


def _click(dash_duo, selector: str) -> None:
    # The grid and charts re-render while the page fills (the layout shifts): bring the
    # element to the middle of the viewport and click it where it is now.
    element = dash_duo.find_element(selector)
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
    dash_duo.driver.execute_script("arguments[0].click();", element)


def _type(dash_duo, selector: str, text: str) -> None:
    box = dash_duo.find_element(selector)
    dash_duo.clear_input(box)
    box.send_keys(text)


def test_asset001_doge_from_the_page_backfilled_valued_in_btc_survives_restart(
        dash_duo, tmp_path, standin):
    before = set(threading.enumerate())
    env = _env(tmp_path, standin.env())
    settings = _settings(tmp_path, standin.env())
    repo = Repository.from_url(settings.store.url)
    seed_store(repo, SAMPLE)
    init_portfolio(repo, settings.portfolio.holdings, settings.portfolio.name)
    dash_duo.start_server(create_app(settings, repo, environ={}))
    dash_duo.wait_for_text_to_equal(f"{CARD} strong", "AAPL", timeout=15)
    _click(dash_duo, f"#{ids.CUSTOM_ASSET_FORM} summary")
    _type(dash_duo, f"#{ids.CUSTOM_SYMBOL}", "doge")
    _type(dash_duo, f"#{ids.CUSTOM_COINGECKO}", "dogecoin")
    _type(dash_duo, f"#{ids.CUSTOM_YAHOO}", "DOGE-USD")
    _click(dash_duo, f"#{ids.CUSTOM_ADD_BUTTON}")
    _wait(lambda: "DOGE — Dogecoin added" in dash_duo.find_element(f"#{ids.CUSTOM_STATUS}").text)
    assert dash_duo.find_element(f"#{ids.CUSTOM_ERROR}").text == ""
    # The new asset is selected in the dropdown: a quantity and "Add" make it a holding.
    _type(dash_duo, f"#{ids.ASSET_QUANTITY}", "20000")
    _click(dash_duo, f"#{ids.ADD_ASSET_BUTTON}")
    _wait(lambda: "DOGE" in _cards(dash_duo))
    _wait(lambda: "backfill" in _field_text(dash_duo, "DOGE", "source"))
    assert repo.load_holdings(settings.portfolio.name)["DOGE"] == 20000.0

    # The scheduler, as its own process (as with gunicorn): it sees the custom asset through
    # the store, backfills DOGE's year of history, then fetches quotes (today's BTC).
    proc = subprocess.run([sys.executable, "-c", SCHEDULER_RUN], cwd=ROOT, env={
        "PATH": "/usr/bin:/bin", **env}, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert int(proc.stdout.split()[-1]) >= 360  # DOGE rows written by the backfill
    assert len(repo.load_closes(["DOGE"])) >= 360
    _wait(lambda: _field_text(dash_duo, "DOGE", "value").startswith("₿"))
    shown = _field_text(dash_duo, "DOGE", "value")
    assert dash_duo.get_logs() == []

    # Restart: the server stops; a new store handle and app on the same file. The add's rate
    # limiter was closed; its leak thread ends on its next tick (dash's runner would kill it).
    _wait(lambda: not [t for t in threading.enumerate() if t not in before
                       and t.name == "PyrateLimiter's Leaker" and t.is_alive()], timeout=30)
    dash_duo.driver.get("about:blank")  # no refresh may hit the server while it is down
    assert dash_duo.get_logs() == []
    dash_duo.server.stop()
    repo.engine.dispose()
    again = Repository.from_url(settings.store.url)
    dash_duo.start_server(create_app(settings, again, environ={}))
    _wait(lambda: "DOGE" in _cards(dash_duo))
    _wait(lambda: _field_text(dash_duo, "DOGE", "value") == shown)
    assert dash_duo.get_logs() == []


def test_asset002_empty_portfolio_offers_sample_import_and_add(dash_duo, tmp_path):
    settings = _settings(tmp_path, {})
    repo = Repository.from_url(settings.store.url)
    seed_store(repo, SAMPLE)  # prices, but no holdings: config.yaml's sample is not written
    dash_duo.start_server(create_app(settings, repo, environ={}))
    _wait(lambda: dash_duo.find_element(f"#{ids.FIRST_RUN_EMPTY}").is_displayed())
    panel = dash_duo.find_element(f"#{ids.FIRST_RUN_EMPTY}")
    link = panel.find_element(By.LINK_TEXT, "Import transactions")
    assert link.get_attribute("href").endswith("/portfolio/transactions")
    assert panel.find_element(By.LINK_TEXT, "Add holdings").get_attribute(
        "href").endswith("#asset-dropdown")
    assert not dash_duo.find_element(f"#{ids.FIRST_RUN_SAMPLE}").is_displayed()

    _click(dash_duo, f"#{ids.FIRST_RUN_START_SAMPLE}")
    _wait(lambda: sorted(_cards(dash_duo)) == sorted(settings.portfolio.holdings))
    _wait(lambda: dash_duo.find_element(f"#{ids.FIRST_RUN_SAMPLE}").is_displayed())
    assert "sample portfolio" in dash_duo.find_element(f"#{ids.FIRST_RUN_SAMPLE}").text
    assert not dash_duo.find_element(f"#{ids.FIRST_RUN_EMPTY}").is_displayed()

    _click(dash_duo, f"#{ids.FIRST_RUN_CLEAR_SAMPLE}")
    _wait(lambda: dash_duo.find_element(f"#{ids.FIRST_RUN_EMPTY}").is_displayed())
    assert repo.load_holdings(settings.portfolio.name) == {}
    assert dash_duo.get_logs() == []
