"""Call the dashboard's refresh and rebalance callbacks as the browser would."""

from __future__ import annotations


def page_params(target, mix=False, method=None, asset_cap=None, category_cap=None) -> dict:
    """The rebalance panel's inputs as ``btcfolio.rebalanceParams`` sends them."""
    return {"target": target, "mix": mix, "method": method, "asset_cap": asset_cap,
            "category_cap": category_cap}


def refresh(page, key=None, *, tick=0, sats=False, cards_page=1, params=None,
            rebalance_key=None) -> dict:
    """One refresh of a browser showing the view ``key`` (None: a new tab): the live update."""
    return page.update_dashboard(tick, sats, None, cards_page, key, params, rebalance_key)


def header(live: dict) -> dict:
    """The header texts a live update writes (a full render sends them all)."""
    return live["delta"]["header"]
