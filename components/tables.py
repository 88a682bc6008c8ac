"""Tables (pure): the rebalance trade list and the low-correlation list."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from components import ids
from components.format import fmt_btc, fmt_quantity, fmt_usd


def rebalance_key(trades: pd.DataFrame, excluded: Mapping[str, str] | None = None) -> str:
    """A short digest of the displayed trade list (to skip re-sending an unchanged table)."""
    shown = trades[["symbol", "side", "quantity", "value_btc"]].round(8)
    text = shown.to_json(orient="values") + repr(sorted((excluded or {}).items()))
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def rebalance_table(trades: pd.DataFrame, excluded: Mapping[str, str] | None = None
                    ) -> dbc.Table | html.Div:
    """Trades to reach a target BTC share, and the holdings the plan does not trade.

    Args:
        trades: ``analytics.rebalancing`` trades: symbol, side ("buy"/"sell"), quantity,
            value_btc, value_sats, value_usd (amounts positive).
        excluded: symbol -> why it is not traded (e.g. a stale price).
    """
    table = _trades_table(trades)
    if not excluded:
        return table
    note = html.Div([html.I(className="bi bi-slash-circle me-1"), "Not traded: ",
                     "; ".join(f"{s} ({why})" for s, why in sorted(excluded.items()))],
                    className="small text-body-secondary mt-1", id=ids.REBALANCE_EXCLUDED)
    return html.Div([table, note])


def _trades_table(trades: pd.DataFrame) -> dbc.Table | html.Div:
    if trades.empty:
        return html.Div("Already at the target: no trade needed.", className="text-body-secondary")
    rows = [html.Tr([
        html.Td(html.Strong(r["symbol"])),
        html.Td(dbc.Badge(r["side"], color="success" if r["side"] == "buy" else "danger")),
        html.Td(fmt_quantity(r["quantity"]), className="text-end font-monospace"),
        html.Td(fmt_btc(r["value_btc"]), className="text-end font-monospace"),
        html.Td(f"{int(r['value_sats']):,} sats", className="text-end font-monospace"),
        html.Td(fmt_usd(r["value_usd"]), className="text-end font-monospace"),
    ]) for r in trades.to_dict("records")]
    head = html.Thead(html.Tr([html.Th(h, className=c) for h, c in (
        ("Asset", ""), ("", ""), ("Quantity", "text-end"), ("BTC", "text-end"),
        ("Sats", "text-end"), ("USD", "text-end"))]))
    return dbc.Table([head, html.Tbody(rows)], size="sm", hover=True, responsive=True,
                     className="mb-0")


def low_correlation_list(correlations: Mapping[str, float], *, threshold: float) -> html.Div:
    """Assets whose correlation to BTC is below ``threshold``, lowest first."""
    picks = sorted((v, s) for s, v in correlations.items() if v < threshold)
    if not picks:
        return html.Div(f"No asset has a correlation to BTC below {threshold:.1f} "
                        "over this lookback.", className="text-body-secondary small")
    return html.Div([
        html.Div(f"Correlation to BTC below {threshold:.1f}", className="small fw-semibold mb-2"),
        dbc.ListGroup([dbc.ListGroupItem(
            [html.Span(s, className="fw-semibold"),
             html.Span(f"{v:+.2f}", className="float-end font-monospace")], className="py-1")
            for v, s in picks], flush=True),
    ])
