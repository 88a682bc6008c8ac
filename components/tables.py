"""Tables (pure): the rebalance trade list and the low-correlation list."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from components import ids
from components.format import fmt_btc, fmt_quantity, fmt_usd

WIDE = "d-none d-md-table-cell"  # the sats column repeats the BTC one: from md up only


def rebalance_key(trades: pd.DataFrame, skipped: pd.DataFrame | None = None,
                  excluded: Mapping[str, str] | None = None) -> str:
    """A short digest of the displayed trade list (to skip re-sending an unchanged table)."""
    shown = trades[["symbol", "side", "quantity", "value_btc"]].round(8).to_json(orient="values")
    if skipped is not None and not skipped.empty:
        shown += skipped[["symbol", "reason"]].to_json(orient="values")
    shown += repr(sorted((excluded or {}).items()))
    return hashlib.sha1(shown.encode()).hexdigest()[:16]


def skipped_list(skipped: pd.DataFrame) -> html.Ul:
    """Legs the rebalance does not propose, each with its reason (lot size, minimum trade)."""
    return html.Ul([html.Li([html.Strong(r["symbol"]), f" {r['side']} {fmt_usd(r['value_usd'])}"
                             f" skipped: {r['reason']}"])
                    for r in skipped.to_dict("records")],
                   className="small text-body-secondary mb-0 mt-2 ps-3")


def rebalance_table(trades: pd.DataFrame, *, skipped: pd.DataFrame | None = None,
                    share_after: float | None = None,
                    excluded: Mapping[str, str] | None = None) -> dbc.Table | html.Div:
    """Trades to reach a target BTC share, the legs skipped and why, and the untraded holdings.

    Args:
        trades: ``analytics.rebalancing`` trades: symbol, side ("buy"/"sell"), quantity,
            value_btc, value_sats, value_usd (amounts positive).
        skipped: ``analytics.trade_rounding`` SKIPPED_COLUMNS (symbol, side, value_usd, reason).
        share_after: BTC share after the trades (shown when something was skipped, since the
            share then lands near the target rather than on it).
        excluded: symbol -> why it is not traded (e.g. a stale price).
    """
    parts = [_trades_table(trades)]
    if skipped is not None and not skipped.empty:
        parts.append(skipped_list(skipped))
        if share_after is not None:
            parts.append(html.Div(f"BTC share after these trades: {share_after:.2%}",
                                  className="small text-body-secondary mt-2"))
    if excluded:
        parts.append(html.Div(
            [html.I(className="bi bi-slash-circle me-1"), "Not traded: ",
             "; ".join(f"{s} ({why})" for s, why in sorted(excluded.items()))],
            className="small text-body-secondary mt-1", id=ids.REBALANCE_EXCLUDED))
    return parts[0] if len(parts) == 1 else html.Div(parts)


def _trades_table(trades: pd.DataFrame) -> dbc.Table | html.Div:
    if trades.empty:
        return html.Div("Already at the target: no trade needed.", className="text-body-secondary")
    rows = [html.Tr([
        html.Td(html.Strong(r["symbol"])),
        html.Td(dbc.Badge(r["side"], color="success" if r["side"] == "buy" else "danger")),
        html.Td(fmt_quantity(r["quantity"]), className="text-end font-monospace"),
        html.Td(fmt_btc(r["value_btc"]), className="text-end font-monospace"),
        html.Td(f"{int(r['value_sats']):,} sats", className=f"text-end font-monospace {WIDE}"),
        html.Td(fmt_usd(r["value_usd"]), className="text-end font-monospace"),
    ]) for r in trades.to_dict("records")]
    head = html.Thead(html.Tr([html.Th(h, className=c) for h, c in (
        ("Asset", ""), ("", ""), ("Quantity", "text-end"), ("BTC", "text-end"),
        ("Sats", f"text-end {WIDE}"), ("USD", "text-end"))]))
    return dbc.Table([head, html.Tbody(rows)], size="sm", hover=True, responsive=True,
                     className="mb-0")
