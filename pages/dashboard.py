"""The dashboard at /portfolio/dashboard: the portfolio's value in BTC, read from the store."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import html

from components import ids
from components.format import fmt_btc, fmt_pct, fmt_usd
from data.errors import DataError
from webapi.common import current_valuation

dash.register_page(__name__, path="/portfolio/dashboard", title="btcfolio — dashboard")


def layout(**_kwargs):
    """Header with the value in BTC and one row per holding."""
    try:
        val = current_valuation()
    except (DataError, ValueError) as exc:
        return dbc.Alert(f"Cannot value the portfolio: {exc}", color="danger")
    rows = [html.Tr([html.Td(r.symbol), html.Td(f"{r.quantity:g}"), html.Td(fmt_btc(r.value_btc)),
                     html.Td(fmt_pct(r.weight))]) for r in val.assets.itertuples()]
    return dbc.Container([
        html.H1("btcfolio"),
        html.Div([html.Span("Portfolio value "),
                  html.Strong(fmt_btc(val.total_btc), id=ids.PORTFOLIO_VALUE_BTC),
                  html.Span(f" ≈ {fmt_usd(val.total_btc * val.btc_usd)}")]),
        html.Div(f"Prices as of {val.as_of:%Y-%m-%d %H:%M} UTC", id=ids.LAST_UPDATED),
        dbc.Table([html.Thead(html.Tr([html.Th(h) for h in ("Asset", "Quantity", "Value", "Weight")])),
                   html.Tbody(rows)], id=ids.DASHBOARD_ASSETS),
    ])
