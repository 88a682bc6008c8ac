"""The dashboard's live view (pure): data -> display model -> partial update of the page.

A refresh builds a JSON-friendly model of every text on the page, compares it with the
model of the previous refresh (kept in a dcc.Store) and sends only what changed: changed
header texts, and a dash ``Patch`` touching only the changed card fields. The card grid is
re-sent whole only when the set of holdings changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

import pandas as pd
from dash import Patch, no_update
from dash.development.base_component import Component

from analytics.portfolio_value import PortfolioValuation
from components import cards, ids
from components.format import fmt_amount, fmt_pct, fmt_signed_pct, fmt_usd
from components.status import status_alert


@dataclass(frozen=True)
class DashboardData:
    """Everything one refresh shows, read from the store by the page's glue."""

    valuation: PortfolioValuation
    now: datetime
    names: Mapping[str, str]
    categories: Mapping[str, str]
    prices_btc_24h: Mapping[str, float]
    pending: Mapping[str, tuple[float, str]] = field(default_factory=dict)  # symbol -> qty, state
    banner: tuple[str, str] | None = None  # (bootstrap colour, text)


def portfolio_change_24h(valuation: PortfolioValuation,
                         prices_btc_24h: Mapping[str, float]) -> float | None:
    """Change of the portfolio's BTC value over 24 h at constant quantities (None if unknown)."""
    assets = valuation.assets
    if assets.empty or any(s not in prices_btc_24h for s in assets["symbol"]):
        return None
    before = float(sum(q * prices_btc_24h[s] for s, q in zip(assets["symbol"], assets["quantity"],
                                                                strict=True)))
    return cards.relative_change(valuation.total_btc, before)


def build_view(data: DashboardData, previous: Mapping | None, *, sats: bool) -> dict:
    """Display model of the whole live part of the page (JSON-friendly, stored between ticks)."""
    val, prev_prices = data.valuation, (previous or {}).get("prices_btc", {})
    card_models = {row["symbol"]: cards.card_fields(
        row, now=data.now, sats=sats, previous_price_btc=prev_prices.get(row["symbol"]),
        price_btc_24h=data.prices_btc_24h.get(row["symbol"]))
        for row in val.assets.to_dict("records")}
    for symbol, (quantity, state) in data.pending.items():
        card_models[symbol] = cards.pending_fields(quantity, state)
    change = portfolio_change_24h(val, data.prices_btc_24h)
    return {
        "order": sorted(card_models),
        "cards": card_models,
        "prices_btc": dict(zip(val.assets["symbol"], val.assets["price_btc"], strict=True)),
        "header": {
            "value": fmt_amount(val.total_btc, sats),
            "usd": fmt_usd(val.total_btc * val.btc_usd),
            "alloc": fmt_pct(val.btc_allocation, 1),
            "change": [fmt_signed_pct(change), cards.change_class(change)],
            "updated": (f"Updated {pd.Timestamp(data.now):%H:%M:%S} UTC · "
                        f"BTC price as of {pd.Timestamp(val.as_of):%Y-%m-%d %H:%M} UTC"),
        },
        "banner": list(data.banner) if data.banner else None,
        "meta": {"names": {s: data.names.get(s, s) for s in card_models},
                 "categories": {s: data.categories.get(s, "") for s in card_models}},
    }


def render_cards(view: Mapping) -> list[Component]:
    """The whole card grid of a view."""
    meta = view["meta"]
    return [cards.card_column(cards.asset_card(
        s, name=meta["names"][s], category=meta["categories"][s], fields=view["cards"][s]))
        for s in view["order"]]


def field_paths(component: Component, path: tuple = ()) -> dict[str, tuple]:
    """JSON path (as Dash serialises the tree) of every asset-field component, by field name."""
    out: dict[str, tuple] = {}
    cid = getattr(component, "id", None)
    if isinstance(cid, dict) and cid.get("type") == ids.ASSET_FIELD_TYPE:
        out[cid["field"]] = path
    children = getattr(component, "children", None)
    if isinstance(children, Component):
        out.update(field_paths(children, (*path, "props", "children")))
    elif isinstance(children, (list, tuple)):
        for i, child in enumerate(children):
            if isinstance(child, Component):
                out.update(field_paths(child, (*path, "props", "children", i)))
    return out


@lru_cache(maxsize=8)
def card_field_paths(fields: tuple[str, ...]) -> dict[str, tuple]:
    """Paths of the field components inside a card column, for a card with these fields.

    A card's tree has the same shape whatever its symbol and texts, so it is rendered once
    per set of field names rather than once per changed card and refresh.
    """
    column = cards.card_column(cards.asset_card(
        "X", name="", category="", fields={f: ["", ""] for f in fields}))
    return field_paths(column)


def patch_cards(view: Mapping, previous: Mapping) -> Patch | None:
    """A Patch of the card grid with only the changed field texts/classes (None: nothing changed).

    Both views must have the same card order (else re-render the grid).
    """
    patch, changed = Patch(), False
    for index, symbol in enumerate(view["order"]):
        new, old = view["cards"][symbol], previous["cards"][symbol]
        diffs = [k for k in new if new[k] != old.get(k)]
        if not diffs:
            continue
        paths = card_field_paths(tuple(new))
        for key in diffs:
            # One Patch node at the field's props (chained [] would build one per step).
            props = Patch(location=[index, *paths[key], "props"], parent=patch)
            if new[key][0] != old[key][0]:
                props["children"] = new[key][0]
            if new[key][1] != old[key][1]:
                props["className"] = new[key][1]
            changed = True
    return patch if changed else None


def json_patch(new: Mapping, old: Mapping, patch: Patch | None = None) -> Patch | None:
    """A Patch turning the JSON dict ``old`` into ``new`` (None when equal); lists are leaves."""
    patch = Patch() if patch is None else patch
    changed = False
    for key, value in new.items():
        if isinstance(value, Mapping) and isinstance(old.get(key), Mapping):
            changed |= json_patch(value, old[key], patch[key]) is not None
        elif key not in old or old[key] != value:
            patch[key] = value
            changed = True
    for key in old.keys() - new.keys():
        del patch[key]
        changed = True
    return patch if changed else None


def page_update(view: dict, previous: Mapping | None) -> dict:
    """Callback outputs for a refresh: only what differs from ``previous`` is sent."""
    if not previous or previous.get("order") != view["order"]:
        grid = render_cards(view)
    else:
        grid = patch_cards(view, previous) or no_update
    old_header = (previous or {}).get("header", {})
    header = view["header"]

    def changed(key: str, value):  # noqa: ANN001, ANN202 - value is any JSON
        return value if old_header.get(key) != header[key] else no_update

    banner_changed = previous is None or previous.get("banner") != view["banner"]
    return {
        "cards": grid,
        "value": changed("value", header["value"]),
        "usd": changed("usd", header["usd"]),
        "alloc": changed("alloc", header["alloc"]),
        "change": changed("change", header["change"][0]),
        "change_class": changed("change", header["change"][1]),
        "updated": changed("updated", header["updated"]),
        "banner": status_alert(view["banner"]) if banner_changed else no_update,
        "snapshot": view if not previous else (json_patch(view, previous) or no_update),
    }


def error_update(message: str) -> dict:
    """Callback outputs when the portfolio cannot be valued: say so, keep the rest as is."""
    outputs = dict.fromkeys(("cards", "value", "usd", "alloc", "change", "change_class",
                             "updated", "snapshot"), no_update)
    outputs["banner"] = status_alert(("danger", message))
    return outputs
