"""Holdings write path: validate, store, request a backfill for an asset with no history."""

from __future__ import annotations

import json

import pytest

from data.store.backfills import backfill_state
from data.store.holdings import add_holding, remove_holding
from errors import InvalidInputError
from settings import AssetSettings


def test_add_holding_stores_the_quantity_without_backfill_when_history_exists(repo, settings,
                                                                               now):
    change = add_holding(repo, settings, "slv", 10, now=now)
    assert (change.symbol, change.quantity, change.backfill_requested) == ("SLV", 10.0, False)
    assert repo.load_holdings(settings.portfolio.name)["SLV"] == 10.0
    assert backfill_state(repo, "SLV") is None


def test_add_holding_requests_a_backfill_for_an_asset_without_history(repo, settings, now):
    doge = AssetSettings(name="Dogecoin", category="high_vol_crypto", kind="crypto",
                         symbols={"coingecko": "dogecoin"}, sources=["coingecko"])
    wider = settings.model_copy(update={"assets": {**settings.assets, "DOGE": doge}})
    change = add_holding(repo, wider, "DOGE", 1000, now=now)
    assert change.backfill_requested
    state = backfill_state(repo, "DOGE")
    assert state.state == "requested"
    assert state.at == now.isoformat()
    assert json.loads(repo.get_meta("backfill:DOGE"))["state"] == "requested"


@pytest.mark.parametrize(("symbol", "quantity"), [("SLV", -1), ("SLV", 0), ("SLV", "ten"),
                                                  ("DOGE", 1), ("SLV", float("nan"))])
def test_add_holding_invalid_input_stores_nothing(repo, settings, now, symbol, quantity):
    before = repo.load_holdings(settings.portfolio.name)
    with pytest.raises(InvalidInputError):
        add_holding(repo, settings, symbol, quantity, now=now)
    assert repo.load_holdings(settings.portfolio.name) == before


def test_remove_holding(repo, settings):
    assert remove_holding(repo, settings, "eth") == "ETH"
    assert "ETH" not in repo.load_holdings(settings.portfolio.name)
    assert remove_holding(repo, settings, "ETH") is None
    with pytest.raises(InvalidInputError):
        remove_holding(repo, settings, "DOGE")
