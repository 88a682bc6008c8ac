"""The heavy panels are reused while their inputs and the store's data version are unchanged."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from app import create_app
from data.models import Quote
from errors import StorageError
from queries.store_cache import data_version


@pytest.fixture
def clock(now):
    return {"now": now}


@pytest.fixture
def page(settings, repo, clock):
    create_app(settings, repo, clock=lambda: clock["now"])
    import pages.dashboard as dashboard
    return dashboard


def _close(repo, symbol: str, factor: float) -> None:
    """Correct the newest stored close of ``symbol`` by ``factor`` (a provider's revision)."""
    bars = repo.load_prices([symbol]).tail(1).copy()
    bars["close"] *= factor
    assert repo.upsert_prices(bars) == 1


def test_panel_cache_same_inputs_same_version_is_one_computation(page):
    first = page.update_correlation(90, "light", False)
    assert page.update_correlation(90, "light", False) is first
    assert page.update_correlation(90, "dark", False) is not first  # another input


def test_panel_cache_a_corrected_close_is_shown_at_once(page, repo):
    before = page.update_correlation(90, "light", False)
    _close(repo, "SPY", 1.5)
    after = page.update_correlation(90, "light", False)
    assert after is not before
    assert not after[0].data[0].z.tolist() == before[0].data[0].z.tolist()


def test_panel_cache_a_ledger_write_and_a_new_quote_change_the_version(repo, settings, now):
    portfolio = settings.portfolio.name
    start = data_version(repo, portfolio)
    assert data_version(repo, portfolio) == start
    repo.set_holding("SPY", 3.0, portfolio)
    after_ledger = data_version(repo, portfolio)
    assert after_ledger != start
    repo.upsert_quotes([Quote("BTC", 1.0, now, "coingecko")], fetched_at=now)
    assert data_version(repo, portfolio) != after_ledger


def test_panel_cache_the_next_minute_recomputes(page, clock):
    first = page.update_history_charts(None, "light", "all")
    clock["now"] += timedelta(seconds=59)  # the pinned now is 12:00:00: still 12:00
    assert page.update_history_charts(None, "light", "all") is first
    clock["now"] += timedelta(minutes=1)
    assert page.update_history_charts(None, "light", "all") is not first


def test_panel_cache_an_unreadable_store_is_never_memoized(page, monkeypatch):
    import pages._panel_cache as panel_cache

    def unreadable(*_args):
        raise StorageError("store error (sqlite): disk I/O error")

    monkeypatch.setattr(panel_cache, "data_version", unreadable)
    first = page.update_correlation(90, "light", False)
    assert page.update_correlation(90, "light", False) is not first


def test_panel_cache_history_follows_a_price_write(page, repo):
    before = page.update_history_charts(None, "light", "all")
    _close(repo, "BTC", 0.5)  # BTC halves: everything else doubles in BTC
    after = page.update_history_charts(None, "light", "all")
    assert pd.Series(after[0].data[0].y).iloc[-1] != pd.Series(before[0].data[0].y).iloc[-1]
