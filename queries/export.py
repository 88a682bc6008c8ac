"""CSV export of the holdings valued now, safe to open in a spreadsheet.

Same valuation as ``/api/portfolio`` and the page (``queries.valuation.current_valuation``),
including the ``stale`` flag of each price.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping

import pandas as pd

from analytics.portfolio_value import PortfolioValuation
from analytics.units import SATS_PER_BTC
from queries.context import ReadContext
from queries.valuation import current_valuation

CSV_COLUMNS = ("symbol", "name", "category", "quantity", "price_usd", "price_btc", "value_btc",
               "value_sats", "weight", "source", "price_ts", "stale")
# OWASP's list: a leading tab or CR is skipped by some spreadsheets, which then see the "=".
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(text: str) -> str:
    """Prefix a text cell that a spreadsheet would run as a formula (CSV injection)."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _plain(value: float) -> str:
    """A number without exponent or separators: 0.00001 -> '0.00001', 5000.0 -> '5000'."""
    return f"{value:.10f}".rstrip("0").rstrip(".") or "0"


def holdings_csv(valuation: PortfolioValuation, *, names: Mapping[str, str],
                 categories: Mapping[str, str]) -> str:
    """One row per holding, plain numbers (no separators, BTC to 8 decimals, sats as integers)."""
    out = io.StringIO()
    # CRLF (RFC 4180) also makes the writer quote a bare CR inside a cell, which would otherwise
    # end the row in a spreadsheet (row injection through a name).
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in valuation.assets.to_dict("records"):
        symbol = row["symbol"]
        writer.writerow([
            escape_cell(symbol), escape_cell(names.get(symbol, symbol)),
            escape_cell(categories.get(symbol, "")), _plain(row["quantity"]),
            f"{row['price_usd']:.8f}", _plain(row["price_btc"]), f"{row['value_btc']:.8f}",
            str(round(row["value_btc"] * SATS_PER_BTC)), f"{row['weight']:.6f}",
            escape_cell(str(row["source"])), pd.Timestamp(row["price_ts"]).isoformat(),
            "true" if row["stale"] else "false",
        ])
    return out.getvalue()


def export_csv(ctx: ReadContext) -> str:
    """The holdings CSV of the portfolio valued now."""
    return holdings_csv(current_valuation(ctx), names=ctx.names(), categories=ctx.categories())
