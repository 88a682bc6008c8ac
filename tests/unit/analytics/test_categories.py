"""Categories from config and category weights in BTC terms."""

from __future__ import annotations

import pandas as pd
import pytest

from analytics.categories import DEFAULT_CATEGORIES, categories_from_assets, category_weights


def test_categories_from_settings_match_the_spec_defaults(settings):
    cats = categories_from_assets(settings.assets)
    assert cats["BTC"] == "stable_crypto" and cats["SOL"] == "high_vol_crypto"
    assert cats["USDC"] == "stablecoins" and cats["AAPL"] == "stocks"
    assert cats["GLD"] == "commodities"
    assert tuple(settings.categories) == DEFAULT_CATEGORIES


def test_categories_from_plain_mapping_and_missing_category():
    assert categories_from_assets({"X": {"category": "stocks"}}) == {"X": "stocks"}
    with pytest.raises(ValueError):
        categories_from_assets({"X": {"name": "no category"}})


def test_category_weights_sum_btc_values_per_category():
    assets = pd.DataFrame({"symbol": ["BTC", "ETH", "SPY", "XYZ"],
                           "value_btc": [0.5, 0.2, 0.25, 0.05]})
    cats = {"BTC": "stable_crypto", "ETH": "stable_crypto", "SPY": "stocks"}
    out = category_weights(assets, cats).set_index("category")
    assert list(out.index) == [*DEFAULT_CATEGORIES, "uncategorized"]
    assert out.loc["stable_crypto", "value_btc"] == pytest.approx(0.7)
    assert out.loc["stable_crypto", "weight"] == pytest.approx(0.7)
    assert out.loc["stocks", "weight"] == pytest.approx(0.25)
    assert out.loc["uncategorized", "weight"] == pytest.approx(0.05)
    assert out.loc["commodities", "value_btc"] == 0 and out.loc["commodities", "n_assets"] == 0
    assert out.loc["stable_crypto", "n_assets"] == 2


def test_category_weights_rejects_negative_or_missing_values():
    with pytest.raises(ValueError):
        category_weights(pd.DataFrame({"symbol": ["BTC"], "value_btc": [-1.0]}), {})
    with pytest.raises(ValueError):
        category_weights(pd.DataFrame({"symbol": ["BTC"]}), {})
