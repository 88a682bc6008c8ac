"""Tables (pure): the rebalance trade list and the low-correlation list."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import dash_bootstrap_components as dbc
import numpy as np
import pandas as pd
from dash import html

from components import ids
from components.format import fmt_btc, fmt_quantity, fmt_usd

WIDE = "d-none d-md-table-cell"  # the sats column repeats the BTC one: from md up only


REBALANCE_ROWS = 25  # trades shown, largest first; the rest in one summary row
# A shown trade is re-sent when its BTC value moves by more than the larger of these: a share of
# the portfolio's total BTC value, or a share of the trade's own value (docs/dashboard.md).
MATERIAL_OF_TOTAL = 0.001
MATERIAL_OF_TRADE = 0.005


def rebalance_rows(trades: pd.DataFrame, skipped: pd.DataFrame | None = None,
                   excluded: Mapping[str, str] | None = None, *,
                   limit: int = REBALANCE_ROWS, total_btc: float = 0.0) -> dict:
    """What the rebalance table shows, as plain values.

    The ``limit`` largest trades, the count and BTC total of the others, the skipped legs and
    the holdings not traded, and ``total_btc`` (the portfolio's value, the scale of a material
    change).
    """
    # On arrays (this runs every tick): the order of sort_values(ascending=False, "stable").
    values = trades["value_btc"].to_numpy(dtype="float64")
    order = np.arange(len(values))[::-1][values[::-1].argsort(kind="stable")][::-1]
    shown, hidden = order[:limit], order[limit:]
    symbols, sides = trades["symbol"].to_numpy(), trades["side"].to_numpy()
    quantities = trades["quantity"].to_numpy(dtype="float64")
    skipped_rows = ([] if skipped is None or skipped.empty
                    else list(zip(skipped["symbol"].tolist(), skipped["reason"].tolist(),
                                  strict=True)))
    return {"rows": [(str(symbols[i]), str(sides[i]), float(quantities[i]), float(values[i]))
                     for i in shown.tolist()],
            "hidden": len(hidden), "hidden_btc": float(values[hidden].sum()),
            "skipped": skipped_rows, "excluded": sorted((excluded or {}).items()),
            "total_btc": float(total_btc), "trades": _trade_set(symbols, sides)}


def _trade_set(symbols: np.ndarray, sides: np.ndarray) -> str:
    """A digest of every trade's symbol and side (shown or not)."""
    pairs = sorted(f"{s}\t{d}" for s, d in zip(symbols.tolist(), sides.tolist(), strict=True))
    return hashlib.sha1("\n".join(pairs).encode()).hexdigest()[:16]


def rebalance_key(shown: Mapping) -> str:
    """A short digest of the shown table (``rebalance_rows``) as sent to the browser."""
    return hashlib.sha1(repr(sorted(shown.items())).encode()).hexdigest()[:16]


def _moved(before: float, now: float, total_btc: float) -> bool:
    """A BTC value moved by more than 0.1 % of the portfolio or 0.5 % of itself (the larger)."""
    allowed = max(MATERIAL_OF_TOTAL * abs(total_btc),
                  MATERIAL_OF_TRADE * max(abs(before), abs(now)))
    return abs(now - before) > allowed + 1e-12


def same_table(before: Mapping, now: Mapping) -> bool:
    """True when ``now`` shows what ``before`` shows, up to an immaterial move.

    The rule of docs/dashboard.md: the same trades and sides (all of them, shown or not),
    counts, skipped legs (their reasons quote amounts) and excluded assets; no shown trade (nor
    the summary row)
    whose BTC value moved by more than 0.1 % of the portfolio's total BTC value or 0.5 % of its
    own value, whichever is larger. Trades of near-equal size may swap places, also across the
    last shown row: a trade now among the largest but not shown is not materially larger than
    the smallest one shown. Quantities follow the values at moving prices: not compared.
    """
    try:
        rows0 = {(s, d): v for s, d, _q, v in before["rows"]}
        rows1 = {(s, d): v for s, d, _q, v in now["rows"]}
        total = float(now["total_btc"])
        if (before["trades"] != now["trades"] or len(rows0) != len(rows1)
                or before["hidden"] != now["hidden"]
                or {r[0] for r in before["skipped"]} != {r[0] for r in now["skipped"]}
                or list(before["excluded"]) != list(now["excluded"])
                or _moved(before["hidden_btc"], now["hidden_btc"], total)):
            return False
        if any(_moved(v0, rows1[k], total) for k, v0 in rows0.items() if k in rows1):
            return False
        entered = [rows1[k] for k in rows1.keys() - rows0.keys()]
        smallest = min(rows0.values(), default=0.0)
        return not any(v > smallest and _moved(smallest, v, total) for v in entered)
    except (KeyError, TypeError, ValueError, IndexError):  # another shape: re-send
        return False


def skipped_list(skipped: pd.DataFrame, limit: int = REBALANCE_ROWS) -> html.Ul:
    """Legs the rebalance does not propose, each with its reason (lot size, minimum trade).

    Beyond ``limit`` one line says how many more.
    """
    items = [html.Li([html.Strong(r["symbol"]), f" {r['side']} {fmt_usd(r['value_usd'])}"
                      f" skipped: {r['reason']}"])
             for r in skipped.iloc[:limit].to_dict("records")]
    if len(skipped) > limit:
        items.append(html.Li(f"and {len(skipped) - limit:,} more legs skipped"))
    return html.Ul(items, className="small text-body-secondary mb-0 mt-2 ps-3")


def rebalance_table(trades: pd.DataFrame, *, skipped: pd.DataFrame | None = None,
                    share_after: float | None = None,
                    excluded: Mapping[str, str] | None = None,
                    limit: int = REBALANCE_ROWS) -> dbc.Table | html.Div:
    """Trades to reach a target BTC share, the legs skipped and why, and the untraded holdings.

    Args:
        trades: ``analytics.rebalancing`` trades: symbol, side ("buy"/"sell"), quantity,
            value_btc, value_sats, value_usd (amounts positive).
        skipped: ``analytics.trade_rounding`` SKIPPED_COLUMNS (symbol, side, value_usd, reason).
        share_after: BTC share after the trades (shown when something was skipped, since the
            share then lands near the target rather than on it).
        excluded: symbol -> why it is not traded (e.g. a stale price).
        limit: trades listed, largest (in BTC) first; the others are one summary row (their
            count and BTC total), listed in full by ``GET /api/rebalance``.
    """
    parts = [_trades_table(trades, limit)]
    if skipped is not None and not skipped.empty:
        parts.append(skipped_list(skipped, limit))
        if share_after is not None:
            parts.append(html.Div(f"BTC share after these trades: {share_after:.2%}",
                                  className="small text-body-secondary mt-2"))
    if excluded:
        parts.append(html.Div(
            [html.I(className="bi bi-slash-circle me-1"), "Not traded: ",
             "; ".join(f"{s} ({why})" for s, why in sorted(excluded.items()))],
            className="small text-body-secondary mt-1", id=ids.REBALANCE_EXCLUDED))
    return parts[0] if len(parts) == 1 else html.Div(parts)


def _trades_table(trades: pd.DataFrame, limit: int = REBALANCE_ROWS) -> dbc.Table | html.Div:
    if trades.empty:
        return html.Div("Already at the target: no trade needed.", className="text-body-secondary")
    ranked = trades.sort_values("value_btc", ascending=False, kind="stable")
    rows = [html.Tr([
        html.Td(html.Strong(r["symbol"])),
        html.Td(dbc.Badge(r["side"], color="success" if r["side"] == "buy" else "danger")),
        html.Td(fmt_quantity(r["quantity"]), className="text-end font-monospace"),
        html.Td(fmt_btc(r["value_btc"]), className="text-end font-monospace"),
        html.Td(f"{int(r['value_sats']):,} sats", className=f"text-end font-monospace {WIDE}"),
        html.Td(fmt_usd(r["value_usd"]), className="text-end font-monospace"),
    ]) for r in ranked.iloc[:limit].to_dict("records")]
    if len(ranked) > limit:
        rows.append(_smaller_trades_row(ranked.iloc[limit:]))
    head = html.Thead(html.Tr([html.Th(h, className=c) for h, c in (
        ("Asset", ""), ("", ""), ("Quantity", "text-end"), ("BTC", "text-end"),
        ("Sats", f"text-end {WIDE}"), ("USD", "text-end"))]))
    return dbc.Table([head, html.Tbody(rows)], size="sm", hover=True, responsive=True,
                     className="mb-0")


def _smaller_trades_row(rest: pd.DataFrame) -> html.Tr:
    """'975 smaller trades (₿0.12345678 total)': the trades the table does not list."""
    total = float(rest["value_btc"].sum())
    return html.Tr([
        html.Td([f"{len(rest):,} smaller trades ({fmt_btc(total)} total); full list: ",
                 html.Code("GET /api/rebalance")], colSpan=3,
                className="text-body-secondary small", id=ids.REBALANCE_MORE),
        html.Td(fmt_btc(total), className="text-end font-monospace"),
        html.Td(f"{int(rest['value_sats'].sum()):,} sats",
                className=f"text-end font-monospace {WIDE}"),
        html.Td(fmt_usd(float(rest["value_usd"].sum())), className="text-end font-monospace"),
    ])
