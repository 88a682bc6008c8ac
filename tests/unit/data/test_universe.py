"""The effective universe: config + custom assets, seen by every process, removal rules."""

from __future__ import annotations

import json

import pytest

from data.store.repository import Repository
from data.store.universe import (
    AssetConflictError,
    AssetNotFoundError,
    delete_custom_asset,
    effective_universe,
    save_custom_asset,
)
from settings import AssetSettings
from tests.support.sample import NOW

DOGE = AssetSettings(name="Dogecoin", category="high_vol_crypto", kind="crypto",
                     symbols={"coingecko": "dogecoin", "yahoo": "DOGE-USD"},
                     sources=["coingecko", "yahoo"])


def test_universe_is_config_then_custom_with_origins(settings, repo):
    save_custom_asset(repo, "DOGE", DOGE, status="unchecked", now=NOW)
    universe = effective_universe(settings, repo)
    assert list(universe) == [*settings.assets, "DOGE"]
    assert universe["DOGE"] == DOGE
    assert universe.origin("BTC") == "config" and universe.origin("DOGE") == "custom"
    assert universe.status("DOGE") == "unchecked" and universe.status("BTC") is None
    assert universe.custom == ["DOGE"]


def test_universe_change_reaches_another_process_after_its_check_interval(settings, repo):
    # Another worker: its own engine on the same store, with a universe already cached.
    other = Repository.from_url(settings.store.url)
    assert "DOGE" not in effective_universe(settings, other)
    save_custom_asset(repo, "DOGE", DOGE, status="verified", now=NOW)
    assert "DOGE" in effective_universe(settings, repo)  # the writer sees it at once
    # Within the check interval the other worker still serves what it read...
    assert "DOGE" not in effective_universe(settings, other, max_age=3600)
    # ...and once it is due, one version read tells it to re-read.
    assert "DOGE" in effective_universe(settings, other, max_age=0)
    delete_custom_asset(repo, settings, "DOGE")
    assert "DOGE" not in effective_universe(settings, other, max_age=0)


def test_universe_survives_a_restart(settings, repo):
    save_custom_asset(repo, "DOGE", DOGE, status="verified", now=NOW)
    repo.engine.dispose()
    reopened = Repository.from_url(settings.store.url)
    assert effective_universe(settings, reopened)["DOGE"].symbols == DOGE.symbols


def test_universe_configured_symbol_wins_over_a_stored_custom_one(settings, repo):
    save_custom_asset(repo, "DOGE", DOGE, status="verified", now=NOW)
    wider = settings.model_copy(update={"assets": {
        **settings.assets, "DOGE": DOGE.model_copy(update={"name": "Doge (config)"})}})
    universe = effective_universe(wider, repo)
    assert universe.origin("DOGE") == "config" and universe["DOGE"].name == "Doge (config)"


def test_custom_asset_saved_twice_is_a_conflict(settings, repo):
    save_custom_asset(repo, "DOGE", DOGE, status="verified", now=NOW)
    with pytest.raises(AssetConflictError):
        save_custom_asset(repo, "DOGE", DOGE, status="verified", now=NOW)


def test_custom_asset_delete_rules(settings, repo):
    save_custom_asset(repo, "DOGE", DOGE, status="verified", now=NOW)
    repo.claim_meta("backfill:DOGE", json.dumps({"state": "requested"}))
    repo.set_holding("DOGE", 5.0, "someone-else")  # held in any portfolio blocks removal
    with pytest.raises(AssetConflictError, match="held"):
        delete_custom_asset(repo, settings, "DOGE")
    assert "DOGE" in effective_universe(settings, repo)
    repo.remove_holding("DOGE", "someone-else")
    delete_custom_asset(repo, settings, "DOGE")
    assert repo.get_meta("backfill:DOGE") is None
    with pytest.raises(AssetNotFoundError):
        delete_custom_asset(repo, settings, "DOGE")
    with pytest.raises(AssetConflictError, match="config.yaml"):
        delete_custom_asset(repo, settings, "SLV")


def test_universe_on_postgresql_two_workers_and_the_held_check(settings):
    from tests.support.backends import pg_schema

    with pg_schema() as url:
        pg = settings.model_copy(update={"store": settings.store.model_copy(update={"url": url})})
        writer, worker = Repository.from_url(url), Repository.from_url(url)
        try:
            assert "DOGE" not in effective_universe(pg, worker)
            save_custom_asset(writer, "DOGE", DOGE, status="verified", now=NOW)
            with pytest.raises(AssetConflictError):
                save_custom_asset(writer, "DOGE", DOGE, status="verified", now=NOW)
            assert effective_universe(pg, worker, max_age=0)["DOGE"] == DOGE
            writer.set_holding("DOGE", 1.0, pg.portfolio.name)
            with pytest.raises(AssetConflictError, match="held"):
                delete_custom_asset(writer, pg, "DOGE")
            writer.remove_holding("DOGE", pg.portfolio.name)
            delete_custom_asset(writer, pg, "DOGE")
            assert "DOGE" not in effective_universe(pg, worker, max_age=0)
        finally:
            writer.engine.dispose()
            worker.engine.dispose()
