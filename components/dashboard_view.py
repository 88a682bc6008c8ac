"""The dashboard's live view (pure): data -> display model -> partial update of the page.

A refresh builds a JSON-friendly model of every text on the page (the view: the header, the
status lines and the cards of the page shown, 24 per page) and compares it with the model of
the previous refresh, which the server keeps for the session (``data.view_state``; the browser
only holds a small key). When the page of cards is the same, only the changed leaves are sent
(``view_delta``, a few hundred bytes) and the browser writes them into the card fields and the
header (assets/live.js, ``btcfolio.applyLive``). The card grid is rendered and sent whole only
when the cards shown changed (holdings, page) or the server had no previous view.
"""

from __future__ import annotations

from collections.abc import Mapping
from copy import deepcopy
from typing import TYPE_CHECKING

import pandas as pd
from dash.development.base_component import Component

from analytics.portfolio_value import PortfolioValuation
from components import cards
from components.format import fmt_amount, fmt_pct, fmt_signed_pct, fmt_usd
from components.status import describe_status, history_fill_line, status_alert

if TYPE_CHECKING:
    from queries.dashboard import DashboardData

PER_PAGE = 24  # cards per page: 6 rows of 4 on a wide screen


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
    counted_symbols = {c[0] for c in counted}
    left_out = tuple(s for s in assets["symbol"] if s not in counted_symbols)
    if not counted:
        return None, left_out
    before = float(sum(q * prices_btc_24h[s] for s, q, _ in counted))
    return cards.relative_change(float(sum(v for *_, v in counted)), before), left_out


def change_text(change: float | None, left_out: tuple[str, ...]) -> str:
    """'+1.23%', '+1.23% excl. MATIC' or 'n/a' (the header's 24 h change)."""
    text = fmt_signed_pct(change)
    return f"{text} excl. {', '.join(left_out)}" if change is not None and left_out else text


def page_count(n_cards: int, per_page: int = PER_PAGE) -> int:
    """Pages of ``per_page`` cards (at least 1)."""
    return max(1, -(-n_cards // per_page))


def build_view(data: DashboardData, previous: Mapping | None, *, sats: bool, page: int = 1,
               per_page: int = PER_PAGE, fill: str | None = None) -> dict:
    """Display model of the live part of the page (JSON-friendly, kept between ticks).

    Totals are over every holding; cards only for ``page`` (1-based, clamped to the pages
    there are). ``prices_btc`` keeps every holding's price for the next "since refresh".
    """
    val, prev_prices = data.valuation, (previous or {}).get("prices_btc", {})
    symbols = sorted({*val.assets["symbol"], *data.pending})
    pages = page_count(len(symbols), per_page)
    page = min(max(1, page), pages)
    shown = symbols[(page - 1) * per_page:page * per_page]
    rows = val.assets[val.assets["symbol"].isin(shown)].to_dict("records")
    card_models = {row["symbol"]: cards.card_fields(
        row, now=data.now, sats=sats, previous_price_btc=prev_prices.get(row["symbol"]),
        price_btc_24h=data.prices_btc_24h.get(row["symbol"]),
        cost_btc=data.cost_btc.get(row["symbol"]))
        for row in rows}
    for symbol in shown:
        if symbol in data.pending:
            quantity, state = data.pending[symbol]
            card_models[symbol] = cards.pending_fields(quantity, state)
    change, left_out = portfolio_change_24h(val, data.prices_btc_24h)
    banner = describe_status(now=data.now, **vars(data.status)) if data.status else None
    return {
        "order": shown,
        "page": page,
        "pages": pages,
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
        "fill": fill,
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

    def merge(target, patch: Mapping) -> None:  # untyped: dict or list
        for key, value in patch.items():
            slot = int(key) if isinstance(target, list) else key
            current = target[slot] if isinstance(target, list) or slot in target else None
            if isinstance(value, Mapping) and isinstance(current, (dict, list)):
                merge(current, value)
            else:
                target[slot] = deepcopy(value)

    merge(out, delta)
    return out


def live_update(view: Mapping, previous: Mapping | None) -> dict | None:
    """What one refresh sends to the browser (``btcfolio.applyLive``), None when nothing changed.

    ``previous``: the view the browser shows (the session's stored view), None when unknown.
    A different page of cards (or no previous view) re-renders the grid (``full``) and sends the
    whole header; otherwise only ``delta``, the changed leaves of the header and the cards shown.
    The status lines are sent when they changed; ``key`` is added by the caller.
    """
    full = (not isinstance(previous, Mapping) or previous.get("order") != view["order"]
            or not isinstance(previous.get("cards"), Mapping)
            or not isinstance(previous.get("header"), Mapping))
    shown = {"cards": view["cards"], "header": view["header"]}
    out: dict = {}
    if full:
        out.update(full=True, cards=render_cards(view), pages=view["pages"], page=view["page"],
                   delta={"header": view["header"]})
    else:
        try:
            delta = view_delta(shown, {"cards": previous["cards"], "header": previous["header"]})
        except KeyError:  # a stored view of another shape
            return live_update(view, None)
        if delta is not None:
            out["delta"] = delta
    if full or previous.get("banner") != view["banner"]:
        out["banner"] = status_alert(view["banner"])
    if full or previous.get("fill") != view["fill"]:
        out["fill"] = history_fill_line(view["fill"])
    return out or None


def error_update(message: str) -> dict:
    """The live update when the portfolio cannot be valued: say so, keep the rest as is."""
    return {"banner": status_alert(("danger", message))}
