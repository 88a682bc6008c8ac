"""Builders (pure) for the custom-asset form and the first-run choices of the dashboard."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import dash_bootstrap_components as dbc
from dash import html

from components import ids

TRANSACTIONS_PATH = "/portfolio/transactions"


def dropdown_options(universe: Mapping[str, str]) -> list[dict[str, str]]:
    """Options of the asset dropdown: ``{symbol: name}`` -> "SYM — Name" entries."""
    return [{"label": f"{s} — {name}", "value": s} for s, name in universe.items()]


def form_body(symbol: object, coingecko: object, yahoo: object, name: object, kind: object,
              category: object) -> dict:
    """The ``POST /api/assets`` body the form's fields stand for (empty fields left out)."""
    def given(value: object) -> object:
        return None if value is None or (isinstance(value, str) and not value.strip()) else value

    symbols = {p: v for p, v in (("coingecko", given(coingecko)), ("yahoo", given(yahoo)))
               if v is not None}
    body = {"symbol": symbol, "symbols": symbols, "name": given(name), "kind": given(kind),
            "category": given(category)}
    return {k: v for k, v in body.items() if v is not None or k == "symbol"}


def _field(component_id: str, placeholder: str, *, md: int = 4) -> dbc.Col:
    return dbc.Col(dbc.Input(id=component_id, type="text", placeholder=placeholder,
                             maxLength=120, autoComplete="off"), xs=12, md=md)


def custom_asset_form(categories: Sequence[str]) -> html.Details:
    """"Asset not in the list?": symbol, provider ids, optional name/kind/category, add."""
    kinds = [{"label": "kind: look it up", "value": ""},
             {"label": "crypto (7 days a week)", "value": "crypto"},
             {"label": "stock / ETF (trading days)", "value": "equity"}]
    cats = [{"label": "category: by kind", "value": ""}] + [
        {"label": c.replace("_", " "), "value": c} for c in categories]
    return html.Details([
        html.Summary("Asset not in the list? Add it by its provider ids", className="small"),
        html.Div([
            dbc.Row([
                _field(ids.CUSTOM_SYMBOL, "Symbol, e.g. DOGE", md=2),
                _field(ids.CUSTOM_COINGECKO, "CoinGecko id, e.g. dogecoin", md=3),
                _field(ids.CUSTOM_YAHOO, "Yahoo ticker, e.g. DOGE-USD", md=3),
                _field(ids.CUSTOM_NAME, "Name (optional: looked up)", md=4),
            ], className="g-2 mb-2"),
            dbc.Row([
                dbc.Col(dbc.Select(id=ids.CUSTOM_KIND, options=kinds, value=""), xs=12, md=4),
                dbc.Col(dbc.Select(id=ids.CUSTOM_CATEGORY, options=cats, value=""), xs=12,
                        md=4),
                dbc.Col(dbc.Button([html.I(className="bi bi-search me-1"), "Check and add"],
                                   id=ids.CUSTOM_ADD_BUTTON, color="primary", outline=True,
                                   className="w-100"), xs=12, md=4),
            ], className="g-2"),
            html.Div(id=ids.CUSTOM_ERROR, className="invalid-feedback d-block"),
            html.Div(id=ids.CUSTOM_STATUS, className="small text-success mt-1"),
        ], className="pt-2"),
    ], id=ids.CUSTOM_ASSET_FORM, className="mt-2")


def first_run_panel() -> html.Div:
    """Empty portfolio: sample / import / add. Sample portfolio: its label and clear/keep."""
    empty = html.Div(dbc.Card(dbc.CardBody([
        html.H2("Your portfolio is empty", className="h5"),
        html.P("Start from the sample portfolio to look around, import your transactions, or "
               "add your holdings one by one.", className="small text-body-secondary mb-2"),
        html.Div([
            dbc.Button("Start from the sample portfolio", id=ids.FIRST_RUN_START_SAMPLE,
                       color="primary", size="sm"),
            html.A("Import transactions", href=TRANSACTIONS_PATH,
                   className="btn btn-outline-primary btn-sm"),
            html.A("Add holdings", href="#asset-dropdown",
                   className="btn btn-outline-primary btn-sm"),
        ], className="d-flex flex-wrap gap-2"),
    ])), id=ids.FIRST_RUN_EMPTY, hidden=True, className="mb-3")
    sample = html.Div(dbc.Alert([
        dbc.Badge("SAMPLE", color="dark", className="me-2"),
        html.Span("These holdings are a sample portfolio (config.yaml), not yours. "),
        html.Div([
            dbc.Button("Clear the sample", id=ids.FIRST_RUN_CLEAR_SAMPLE, color="dark",
                       size="sm"),
            # A light button: a dark outline on the info blue was barely readable (screenshot).
            dbc.Button("Keep as mine", id=ids.FIRST_RUN_KEEP_SAMPLE, color="light", size="sm"),
        ], className="d-inline-flex flex-wrap gap-2 ms-md-2 mt-2 mt-md-0"),
    ], color="info", className="py-2 mb-3 small"), id=ids.FIRST_RUN_SAMPLE, hidden=True)
    return html.Div([empty, sample, html.Div(id=ids.FIRST_RUN_STATUS,
                                             className="small text-body-secondary mb-2")])
