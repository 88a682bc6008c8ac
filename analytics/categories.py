"""Asset categories (config-driven, the spec's defaults) and category weights in BTC terms.

Category map: ``{symbol: category}``, normally built from ``settings.assets`` with
:func:`categories_from_assets`. Category-weight frame (output)::

    category str, value_btc float, weight float (share of the portfolio's BTC value), n_assets int
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

# The spec's default categories, in display order (config.yaml `categories` repeats them).
DEFAULT_CATEGORIES: tuple[str, ...] = (
    "stable_crypto",
    "high_vol_crypto",
    "stablecoins",
    "stocks",
    "commodities",
)
# Where a held symbol without a configured category is counted (it is shown, not dropped).
UNCATEGORIZED = "uncategorized"


def categories_from_assets(assets: Mapping[str, object]) -> dict[str, str]:
    """Map each symbol to its category.

    Args:
        assets: ``{symbol: asset}`` where an asset has a ``category`` attribute (the settings
            model) or key (a plain mapping).

    Returns:
        ``{symbol: category}``.

    Raises:
        ValueError: an asset has no category.
    """
    out: dict[str, str] = {}
    for symbol, asset in assets.items():
        category = asset.get("category") if isinstance(asset, Mapping) else getattr(
            asset, "category", None)
        if not category:
            raise ValueError(f"asset {symbol} has no category")
        out[symbol] = str(category)
    return out


# No page or API reads it yet: kept for issue 15 (category weights of the diversification view).
def category_weights(assets: pd.DataFrame, categories: Mapping[str, str], *,
                     order: Sequence[str] = DEFAULT_CATEGORIES) -> pd.DataFrame:
    """Sum the BTC value of the holdings per category.

    Every category of ``order`` appears (value 0 when nothing is held in it), in that order;
    categories not in ``order`` follow, ``uncategorized`` last.

    Args:
        assets: per-asset frame with columns ``symbol`` and ``value_btc`` (e.g. the ``assets``
            frame of ``value_portfolio``).
        categories: ``{symbol: category}``.
        order: categories to always list, in display order.

    Returns:
        Frame ``category, value_btc, weight, n_assets`` (weights sum to 1 unless the total is 0).

    Raises:
        ValueError: missing columns or a negative / non-finite value.
    """
    missing = {"symbol", "value_btc"} - set(assets.columns)
    if missing:
        raise ValueError(f"assets frame lacks columns {sorted(missing)}")
    values = assets["value_btc"].astype("float64")
    if not (np.isfinite(values) & (values >= 0)).all():
        raise ValueError("value_btc must be finite and non-negative")
    cats = assets["symbol"].map(lambda s: categories.get(s, UNCATEGORIZED))
    if (cats == UNCATEGORIZED).any():
        logger.info("symbols without category: %s", sorted(assets["symbol"][cats == UNCATEGORIZED]))
    grouped = pd.DataFrame({"category": cats, "value_btc": values}).groupby(
        "category", sort=False)["value_btc"].agg(["sum", "count"])
    extra = [c for c in grouped.index if c not in order and c != UNCATEGORIZED]
    names = [*order, *extra, *([UNCATEGORIZED] if UNCATEGORIZED in grouped.index else [])]
    grouped = grouped.reindex(names, fill_value=0)
    total = float(grouped["sum"].sum())
    return pd.DataFrame({
        "category": names,
        "value_btc": grouped["sum"].to_numpy(dtype="float64"),
        "weight": (grouped["sum"] / total).to_numpy(dtype="float64") if total > 0 else 0.0,
        "n_assets": grouped["count"].to_numpy(dtype="int64"),
    })
