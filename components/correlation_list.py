"""Correlation to BTC as a ranked list (pure): the heatmap's readable form on a phone.

At 390 px a 12 × 12 heatmap with numbers is an unreadable block. Below the ``md`` breakpoint the
dashboard shows this list (one row per asset: symbol, a bar from 0, the number) above a
text-free heatmap whose cells show their value on tap; from ``md`` up the list is hidden and
the heatmap carries its numbers. The switch is CSS only (assets/style.css), no round trip.
"""

from __future__ import annotations

import math

import pandas as pd
from dash import html

from analytics.units import BTC
from components.figures import DIVERGING

LIST_CLASS = "correlation-ranking"  # shown below md, hidden from md up (assets/style.css)


def ranking(matrix: pd.DataFrame, n_obs: pd.DataFrame, *, min_obs: int
            ) -> list[tuple[str, float | None, int]]:
    """(symbol, correlation to BTC or None, common returns) per asset, lowest correlation first.

    Assets without a number (fewer than ``min_obs`` common returns, or no series) come last,
    in symbol order. BTC itself is left out (its correlation to itself is 1 by definition).
    """
    if BTC not in matrix.index:
        return []
    row = matrix.loc[BTC]
    counts = n_obs.reindex(index=matrix.index, columns=matrix.columns).loc[BTC]
    rows = []
    for symbol in matrix.columns:
        if symbol == BTC:
            continue
        value = float(row[symbol])
        count = int(counts[symbol]) if pd.notna(counts[symbol]) else 0
        number = None if math.isnan(value) or count < min_obs else value
        rows.append((str(symbol), number, count))
    with_number = sorted((r for r in rows if r[1] is not None), key=lambda r: (r[1], r[0]))
    without = sorted(r for r in rows if r[1] is None)
    return with_number + without


def _hex(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def bar_colour(value: float) -> str:
    """The heatmap's colour of ``value`` (−1 … 1 on the diverging scale), as '#rrggbb'."""
    position = (min(max(value, -1.0), 1.0) + 1.0) / 2.0
    for (lo, lo_colour), (hi, hi_colour) in zip(DIVERGING, DIVERGING[1:], strict=False):
        if position <= hi:
            t = 0.0 if hi == lo else (position - lo) / (hi - lo)
            pairs = zip(_hex(lo_colour), _hex(hi_colour), strict=True)
            mixed = [round(a + (b - a) * t) for a, b in pairs]
            return "#{:02x}{:02x}{:02x}".format(*mixed)
    return DIVERGING[-1][1]


def _bar(value: float) -> html.Div:
    """A bar from the centre line: right for positive, left for negative correlation."""
    half = f"{abs(value) * 50:.1f}%"
    side = {"left": "50%"} if value >= 0 else {"right": "50%"}
    return html.Div(html.Div(className="correlation-bar-fill",
                             style={"width": half, "backgroundColor": bar_colour(value), **side}),
                    className="correlation-bar", **{"aria-hidden": "true"})


def _item(symbol: str, value: float | None, count: int, min_obs: int) -> html.Li:
    if value is None:
        number = html.Span("n/a", className="correlation-value text-body-secondary",
                           title=f"{count} common returns (min {min_obs})")
        bar = html.Div(className="correlation-bar", **{"aria-hidden": "true"})
    else:
        number = html.Span(f"{value:+.2f}".replace("-", "\u2212"),
                           className="correlation-value font-monospace",
                           title=f"{count} common returns")
        bar = _bar(value)
    return html.Li([html.Span(symbol, className="correlation-symbol fw-semibold"), bar, number],
                   className="correlation-row", **{"data-symbol": symbol})


def correlation_list(matrix: pd.DataFrame, n_obs: pd.DataFrame, *, min_obs: int,
                     lookback_days: int | None = None) -> html.Div:
    """The ranked list of every asset's correlation to BTC (class ``correlation-ranking``)."""
    rows = ranking(matrix, n_obs, min_obs=min_obs)
    window = f" over {lookback_days} d" if lookback_days else ""
    if not rows:
        body = html.Div("No correlation to BTC: BTC has no price series in this window.",
                        className="small text-body-secondary")
    else:
        body = html.Ol([_item(s, v, n, min_obs) for s, v, n in rows],
                       className="list-unstyled mb-0")
    return html.Div([
        html.Div(f"Correlation to BTC{window}, lowest first", className="small fw-semibold mb-1"),
        body,
        html.Div("Tap a heatmap cell below for any pair.", className="small text-body-secondary "
                 "mt-1"),
    ], className=f"{LIST_CLASS} mb-2")
