"""Asset cards: a display model per holding (pure) and the card layout built from it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from components import ids
from components.format import (
    fmt_age,
    fmt_amount,
    fmt_pct,
    fmt_quantity,
    fmt_signed_pct,
    fmt_usd,
)

# field -> (label, kept in the card body). Order is the display order of the body rows.
BODY_FIELDS = {
    "quantity": "Quantity",
    "price": "Price",
    "weight": "Weight",
    "change": "Since refresh",
    "change_24h": "24 h (BTC)",
    "cost": "Cost basis",
    "source": "Source",
}
UP, DOWN, FLAT = "text-success", "text-danger", "text-body-secondary"
STALE_ON, STALE_OFF = "badge text-bg-warning ms-1", "d-none"

Field = list  # [text, className]: JSON-friendly so it can live in a dcc.Store


def change_class(change: float | None, digits: int = 2) -> str:
    """Green up, red down, grey for no number or a change that rounds to 0 at ``digits``."""
    if change is None or change != change or abs(change * 100) < 0.5 * 10 ** -digits:
        return FLAT
    return UP if change > 0 else DOWN


def relative_change(new: float, old: float | None) -> float | None:
    """The relative change new / old - 1, or None when there is no usable old value."""
    if old is None or not old or old != old:
        return None
    return new / old - 1.0


def cost_field(value_btc: float, cost_btc: float | None, sats: bool) -> Field:
    """'cost ₿0.01230000 · +12.0% in BTC' (the remaining lots' cost and the gain on it)."""
    if cost_btc is None or cost_btc <= 0:
        return ["—", "small font-monospace"]
    gain = value_btc / cost_btc - 1.0
    return [f"cost {fmt_amount(cost_btc, sats)} · {fmt_signed_pct(gain, 1)} in BTC",
            f"small font-monospace {change_class(gain, 1)}"]


def card_fields(row: Mapping, *, now: datetime, sats: bool, previous_price_btc: float | None,
                price_btc_24h: float | None, cost_btc: float | None = None) -> dict[str, Field]:
    """Display texts of one valued holding (a row of PortfolioValuation.assets).

    ``previous_price_btc`` is the price at the last refresh (None on the first one);
    ``price_btc_24h`` the price in BTC 24 h before the valuation time; ``cost_btc`` the
    cost basis of the holding's lots in BTC (None when unknown).
    """
    change = relative_change(row["price_btc"], previous_price_btc)
    change_24h = relative_change(row["price_btc"], price_btc_24h)
    age = (pd.Timestamp(now) - pd.Timestamp(row["price_ts"])).total_seconds()
    return {
        "value": [fmt_amount(row["value_btc"], sats), "fs-4 fw-semibold font-monospace"],
        "value_usd": [fmt_usd(row["value_usd"]), "small text-body-secondary"],
        "quantity": [fmt_quantity(row["quantity"]), "font-monospace"],
        "price": [fmt_amount(row["price_btc"], sats), "font-monospace"],
        "weight": [fmt_pct(row["weight"]), "font-monospace"],
        # A 30 s move is often a few thousandths of a percent: one more digit shows it.
        "change": [fmt_signed_pct(change, 3), f"font-monospace {change_class(change, 3)}"],
        "change_24h": [fmt_signed_pct(change_24h), f"font-monospace {change_class(change_24h)}"],
        "cost": cost_field(row["value_btc"], cost_btc, sats),
        "source": [f"{row['source']} · {fmt_age(age)} old", "small"],
        "stale": ["stale", STALE_ON if row["stale"] else STALE_OFF],
    }


def pending_fields(quantity: float, backfill: str) -> dict[str, Field]:
    """Display texts of a holding with no stored price yet (backfill state in the source row)."""
    return {
        "value": ["—", "fs-4 fw-semibold font-monospace"],
        "value_usd": ["no history yet", "small text-body-secondary"],
        "quantity": [fmt_quantity(quantity), "font-monospace"],
        "price": ["—", "font-monospace"], "weight": ["—", "font-monospace"],
        "change": ["—", f"font-monospace {FLAT}"], "change_24h": ["—", f"font-monospace {FLAT}"],
        "cost": ["—", "small font-monospace"],
        "source": [f"backfill {backfill}", "small text-warning-emphasis"],
        "stale": ["no data", STALE_ON],
    }


def _field(symbol: str, name: str, fields: Mapping[str, Field]) -> html.Span:
    text, cls = fields[name]
    return html.Span(text, id=ids.asset_field(symbol, name), className=cls)


def asset_card(symbol: str, *, name: str, category: str, fields: Mapping[str, Field]) -> dbc.Card:
    """One holding's card (class ``asset-card``) with a remove button (class ``remove-asset``)."""
    header = dbc.CardHeader(html.Div([
        html.Div([html.Strong(symbol, className="me-2"), _field(symbol, "stale", fields),
                  html.Div(name, className="small text-body-secondary text-truncate")],
                 className="min-w-0"),
        html.Div([dbc.Badge(category.replace("_", " "), color="secondary", className="me-2"),
                  dbc.Button(html.I(className="bi bi-x-lg"), id=ids.remove_asset(symbol),
                             className="remove-asset", color="link", size="sm",
                             title=f"Remove {symbol}", n_clicks=0)],
                 className="d-flex align-items-center"),
    ], className="d-flex justify-content-between align-items-start"))
    rows = [html.Tr([html.Th(label, className="fw-normal text-body-secondary"),
                     html.Td(_field(symbol, key, fields), className="text-end")])
            for key, label in BODY_FIELDS.items()]
    body = dbc.CardBody([
        html.Div(_field(symbol, "value", fields)),
        html.Div(_field(symbol, "value_usd", fields), className="mb-2"),
        html.Table(html.Tbody(rows), className="table table-sm mb-0 asset-card-table"),
    ])
    return dbc.Card([header, body], className="asset-card h-100 shadow-sm",
                    id={"type": ids.ASSET_CARD_TYPE, "symbol": symbol})


def card_column(card: dbc.Card) -> dbc.Col:
    """Grid cell of a card: 1 per row on phones, 2 on tablets, 4 on wide screens."""
    return dbc.Col(card, xs=12, md=6, xl=3, className="mb-3")


def placeholder_cards(count: int = 4) -> list[dbc.Col]:
    """Skeleton cards shown until the first refresh fills the grid (never an empty box)."""
    def one() -> dbc.Card:
        return dbc.Card(dbc.CardBody([
            html.Span(className="placeholder col-4 mb-2"), html.Br(),
            html.Span(className="placeholder placeholder-lg col-8 mb-2"), html.Br(),
            html.Span(className="placeholder col-6"), html.Br(),
            html.Span(className="placeholder col-7"),
        ], className="placeholder-glow"), className="h-100")
    return [card_column(one()) for _ in range(count)]
