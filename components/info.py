"""Short in-app explanations (pure): an info icon with a tooltip per dashboard panel."""

from __future__ import annotations

import re

import dash_bootstrap_components as dbc
from dash import html

# Keyed by panel title. One or two sentences: what it shows and how to read it in BTC terms.
PANEL_INFO = {
    "Performance: value in BTC vs. just holding BTC": (
        "Daily value of your ledger's actual holdings in BTC, each day at that day's closes, "
        "against the BTC you would hold had every deposit bought BTC that day. TWR and XIRR "
        "in BTC are your excess over just holding BTC."),
    "Allocation": "Share of the portfolio's BTC value in each asset, at the newest prices.",
    "Correlation of daily returns": (
        "Pearson correlation of daily USD returns for each pair, on the days both traded "
        "(crypto trades 7 days, stocks 5). n/a: fewer than 20 common days in the window."),
    "Diversifiers": (
        "Assets whose correlation to BTC is below 0.5 over the chosen window: they tend to "
        "move independently of BTC, so they diversify a BTC-heavy portfolio."),
    "Suggested mix": (
        "A mix of your assets that lowers risk in BTC terms (scipy optimizer on shrunk "
        "covariance of BTC-denominated returns), BTC fixed at the target, caps per asset and "
        "category. Switch it on to see the trades to get there."),
    "Correlation drift": (
        "Rolling 90-day correlation of each held asset to BTC over the last year: a "
        "diversifier whose line climbs toward 1 is diversifying less."),
    "Backtest in BTC (3 years)": (
        "Each strategy replayed on past closes in BTC terms, rebalanced monthly or quarterly "
        "with fees; the optimized mix is refitted on data before each date only."),
    "By category": "Share of the portfolio's BTC value per category from config.yaml.",
    "Rebalance to a BTC target": (
        "Swaps against BTC that bring BTC to the target share. Stocks and ETFs trade in whole "
        "shares (lot_size) and trades under rebalance.min_trade_usd are skipped, with the "
        "reason listed, so the share lands near the target, not exactly on it."),
}


def info_id(title: str) -> str:
    """The id of a panel's info icon, derived from its title ("info-allocation")."""
    return "info-" + re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def info_tip(title: str, text: str) -> html.Span:
    """An info icon (focusable, labelled for screen readers) with ``text`` as its tooltip."""
    target = info_id(title)
    return html.Span([
        html.I(className="bi bi-info-circle ms-2 text-body-secondary", id=target, tabIndex="0",
               role="img", **{"aria-label": f"About {title}: {text}"}),
        dbc.Tooltip(text, target=target, placement="bottom"),
    ])


def panel_info(title: str) -> html.Span | None:
    """The info tip of a dashboard panel, or None when it has none."""
    text = PANEL_INFO.get(title)
    return info_tip(title, text) if text else None
