"""The Diversifiers panel (pure): low-correlation picks grouped by category, one line of why."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import dash_bootstrap_components as dbc
from dash import html


def why_line(symbol: str, corr_btc: float, lookback_days: int, category: str) -> str:
    """'GLD: −0.06 to BTC over 90 d, commodities' (a real minus sign, as typeset)."""
    number = f"{corr_btc:.2f}".replace("-", "\u2212")
    return f"{symbol}: {number} to BTC over {lookback_days} d, {category}"


def _bets(current: float | None, proposal: float) -> html.Div:
    now = "n/a" if current is None else f"{current:.1f}"
    return html.Div(f"Effective bets: {now} held → {proposal:.1f} with these",
                    className="small text-body-secondary mb-2", title=(
                        "Participation ratio of the correlation matrix: N for unrelated "
                        "assets, 1 for assets that move together"))


def diversifiers(picks: Sequence[Mapping], *, lookback_days: int, threshold: float,
                 held: Collection[str], bets_current: float | None,
                 bets_proposal: float | None) -> html.Div:
    """Picks (rank order) grouped by category in the order a category first appears.

    Args:
        picks: rows with ``symbol``, ``category``, ``corr_btc`` (``analytics.selection``).
        lookback_days: the correlation window, for the why line.
        threshold: the correlation bound, for the heading.
        held: symbols the user holds (badged "held").
        bets_current: effective bets of BTC + held assets (None: no number).
        bets_proposal: effective bets of BTC + the picks.
    """
    if not picks:
        return html.Div(f"No asset has a correlation to BTC below {threshold:.1f} "
                        "over this lookback.", className="text-body-secondary small")
    groups: dict[str, list[Mapping]] = {}
    for row in picks:
        groups.setdefault(str(row["category"]), []).append(row)
    sections = []
    for category, rows in groups.items():
        items = [dbc.ListGroupItem([
            html.Span(why_line(r["symbol"], r["corr_btc"], lookback_days, category),
                      className="diversifier-why", **{"data-symbol": r["symbol"]}),
            dbc.Badge("held", color="secondary", className="ms-2")
            if r["symbol"] in held else None,
        ], className="py-1 small") for r in rows]
        sections += [html.Div(category.replace("_", " "), className="small fw-semibold mt-2"),
                     dbc.ListGroup(items, flush=True)]
    head = html.Div(f"Correlation to BTC below {threshold:.1f}, spread over categories",
                    className="small fw-semibold mb-1")
    bets = _bets(bets_current, bets_proposal) if bets_proposal is not None else None
    return html.Div([head, bets, *sections])


def no_number_note(reasons: Mapping[str, str]) -> html.Div | None:
    """Under the heatmap: the assets shown without numbers and why ('MATIC: series ended …')."""
    if not reasons:
        return None
    return html.Div([html.Span("No correlation shown for ", className="fw-semibold"),
                     "; ".join(f"{s}: {why}" for s, why in sorted(reasons.items()))],
                    className="small text-body-secondary mt-1")
