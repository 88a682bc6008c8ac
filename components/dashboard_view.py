"""The dashboard's live view (pure): data -> display model -> partial update of the page.

A refresh builds a JSON-friendly model of every text on the page (the view) and compares it
with the model of the previous refresh, kept in the browser (a dcc.Store). When the set of
cards is the same, only the changed leaves are sent (``view_delta``, a few hundred bytes at
10 assets) and the browser applies them to the card fields, the header and the stored model
(assets/live.js). The card grid is rendered and sent whole only when the holdings changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from copy import deepcopy
from typing import TYPE_CHECKING

import pandas as pd
from dash import no_update
from dash.development.base_component import Component

from analytics.portfolio_value import PortfolioValuation
from components import cards
from components.format import fmt_amount, fmt_pct, fmt_signed_pct, fmt_usd
from components.status import describe_status, status_alert

if TYPE_CHECKING:
    from queries.dashboard import DashboardData


def portfolio_change_24h(valuation: PortfolioValuation, prices_btc_24h: Mapping[str, float]
                         ) -> tuple[float | None, tuple[str, ...]]:
    """Change of the BTC value over 24 h at constant quantities, over the priced holdings.

    A holding counts when its price now is fresh and it has a reference price 24 h earlier;
    the others are left out and named (a stale holding never blanks the change).

    Returns:
        (change or None when no holding counts, symbols left out).
    """
    assets = valuation.assets
    counted = [(s, q, v) for s, q, v, stale in zip(
        assets["symbol"], assets["quantity"], assets["value_btc"], assets["stale"], strict=True)
        if not stale and s in prices_btc_24h]
    left_out = tuple(s for s in assets["symbol"] if s not in {c[0] for c in counted})
    if not counted:
        return None, left_out
    before = float(sum(q * prices_btc_24h[s] for s, q, _ in counted))
    return cards.relative_change(float(sum(v for *_, v in counted)), before), left_out


def change_text(change: float | None, left_out: tuple[str, ...]) -> str:
    """'+1.23%', '+1.23% excl. MATIC' or 'n/a' (the header's 24 h change)."""
    text = fmt_signed_pct(change)
    return f"{text} excl. {', '.join(left_out)}" if change is not None and left_out else text


def build_view(data: DashboardData, previous: Mapping | None, *, sats: bool) -> dict:
    """Display model of the whole live part of the page (JSON-friendly, stored between ticks)."""
    val, prev_prices = data.valuation, (previous or {}).get("prices_btc", {})
    card_models = {row["symbol"]: cards.card_fields(
        row, now=data.now, sats=sats, previous_price_btc=prev_prices.get(row["symbol"]),
        price_btc_24h=data.prices_btc_24h.get(row["symbol"]),
        cost_btc=data.cost_btc.get(row["symbol"]))
        for row in val.assets.to_dict("records")}
    for symbol, (quantity, state) in data.pending.items():
        card_models[symbol] = cards.pending_fields(quantity, state)
    change, left_out = portfolio_change_24h(val, data.prices_btc_24h)
    banner = describe_status(now=data.now, **vars(data.status)) if data.status else None
    return {
        "order": sorted(card_models),
        "cards": card_models,
        "prices_btc": dict(zip(val.assets["symbol"], val.assets["price_btc"], strict=True)),
        "header": {
            "value": fmt_amount(val.total_btc, sats),
            "usd": fmt_usd(val.total_btc * val.btc_usd),
            "alloc": fmt_pct(val.btc_allocation, 1),
            "change": [change_text(change, left_out), cards.change_class(change)],
            "updated": (f"Updated {pd.Timestamp(data.now):%H:%M:%S} UTC · "
                        f"BTC price as of {pd.Timestamp(val.as_of):%Y-%m-%d %H:%M} UTC"),
        },
        "banner": list(banner) if banner else None,
        "meta": {"names": {s: data.names.get(s, s) for s in card_models},
                 "categories": {s: data.categories.get(s, "") for s in card_models}},
    }


def render_cards(view: Mapping) -> list[Component]:
    """The whole card grid of a view."""
    meta = view["meta"]
    return [cards.card_column(cards.asset_card(
        s, name=meta["names"][s], category=meta["categories"][s], fields=view["cards"][s]))
        for s in view["order"]]


def view_delta(new: Mapping, old: Mapping) -> dict | None:
    """The changed leaves of the display model ``new`` against ``old`` (None when equal).

    Dicts are compared key by key, lists of equal length item by item (sent as
    ``{"index": value}``), anything else is replaced whole. ``apply_delta`` (and the browser's
    ``btcfolio.applyDelta``) turn ``old`` into ``new`` with it.

    Raises:
        KeyError: a key of ``old`` is missing from ``new`` (a delta cannot remove keys).
    """
    missing = old.keys() - new.keys()
    if missing:
        raise KeyError(f"keys removed: {sorted(missing)}")
    out = {}
    for key, value in new.items():
        before = old.get(key)
        if key not in old:
            out[key] = value
        elif isinstance(value, Mapping) and isinstance(before, Mapping):
            inner = view_delta(value, before)
            if inner is not None:
                out[key] = inner
        elif (isinstance(value, list) and isinstance(before, list)
              and len(value) == len(before)):
            items = {str(i): v for i, (v, b) in enumerate(zip(value, before, strict=True))
                     if v != b}
            if items:
                out[key] = items
        elif value != before:
            out[key] = value
    return out or None


def apply_delta(old: Mapping, delta: Mapping) -> dict:
    """``old`` with ``delta`` applied: what ``btcfolio.applyDelta`` does in the browser."""
    out = deepcopy(dict(old))

    def merge(target, patch: Mapping) -> None:  # noqa: ANN001 - dict or list
        for key, value in patch.items():
            slot = int(key) if isinstance(target, list) else key
            current = target[slot] if isinstance(target, list) or slot in target else None
            if isinstance(value, Mapping) and isinstance(current, (dict, list)):
                merge(current, value)
            else:
                target[slot] = deepcopy(value)

    merge(out, delta)
    return out


def page_update(view: dict, previous: Mapping | None) -> dict:
    """Callback outputs for a refresh: only what differs from ``previous`` is sent.

    A new set of cards (or the first refresh) re-renders the grid and sends the view as the
    new snapshot. Otherwise only ``delta`` is sent, the changed leaves of the view (a few
    hundred bytes): the browser applies it to the card fields, the header texts and the
    snapshot itself (clientside callback ``btcfolio.applyDelta`` in assets/live.js).
    """
    delta = None
    full = not previous or previous.get("order") != view["order"]
    if not full:
        try:
            delta = view_delta(view, previous)
        except KeyError:
            full = True
    header = view["header"]
    old_header = (previous or {}).get("header", {}) if full else header

    def changed(key: str, value):  # noqa: ANN001, ANN202 - value is any JSON
        return value if old_header.get(key) != header[key] else no_update

    banner_changed = previous is None or previous.get("banner") != view["banner"]
    return {
        "cards": render_cards(view) if full else no_update,
        "value": changed("value", header["value"]),
        "usd": changed("usd", header["usd"]),
        "alloc": changed("alloc", header["alloc"]),
        "change": changed("change", header["change"][0]),
        "change_class": changed("change", header["change"][1]),
        "updated": changed("updated", header["updated"]),
        "banner": status_alert(view["banner"]) if banner_changed else no_update,
        "snapshot": view if full else no_update,
        "delta": delta if delta is not None else no_update,
    }


def error_update(message: str) -> dict:
    """Callback outputs when the portfolio cannot be valued: say so, keep the rest as is."""
    outputs = dict.fromkeys(("cards", "value", "usd", "alloc", "change", "change_class",
                             "updated", "snapshot", "delta"), no_update)
    outputs["banner"] = status_alert(("danger", message))
    return outputs
