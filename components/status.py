"""The status strip: live, stale, offline or demo, and how old the prices are (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from components.format import fmt_age

DEMO_TEXT = ("DEMO — simulated prices (a random walk seeded from the stored history), "
             "not market data")


def describe_status(*, quotes_fetched_at: datetime | None, latest: pd.DataFrame,
                    health: Sequence[dict], now: datetime, quote_limit: timedelta,
                    demo: bool) -> tuple[str, str] | None:
    """(colour, text) of the status strip, or None when live quotes are fresh.

    Args:
        quotes_fetched_at: when the newest stored quote was fetched (None: no quotes).
        latest: latest-price candidates (symbol, price_usd, ts, source, kind).
        health: source-health rows (source, healthy, failures, last_error, ...).
        now: the current time (UTC).
        quote_limit: age after which quotes count as stale.
        demo: the simulated feed is on.
    """
    now_ts = pd.Timestamp(now)
    failing = sorted(row["source"] for row in health if not row.get("healthy", True))
    failing_text = f" Failing sources: {', '.join(failing)}." if failing else ""
    if demo:
        return "info", DEMO_TEXT + "." + failing_text
    if quotes_fetched_at is None:
        if latest.empty:
            return "danger", "Offline — no prices stored yet." + failing_text
        newest = pd.Timestamp(latest["ts"].max())
        return "warning", (f"Offline — no live quotes; showing stored closes. Newest price is "
                           f"{fmt_age((now_ts - newest).total_seconds())} old "
                           f"({newest:%Y-%m-%d %H:%M} UTC)." + failing_text)
    fetched = pd.Timestamp(quotes_fetched_at)
    age = now_ts - fetched
    if age > pd.Timedelta(quote_limit):
        return "warning", (f"Stale — providers unreachable; the last quotes were fetched "
                           f"{fmt_age(age.total_seconds())} ago ({fetched:%Y-%m-%d %H:%M} UTC)."
                           + failing_text)
    if failing:
        return "secondary", "Live quotes." + failing_text
    return None


def status_alert(banner: Sequence[str] | None) -> html.Div:
    """The strip for a (colour, text) pair; a small 'Live' line when there is nothing to say."""
    if not banner:
        return html.Div([html.I(className="bi bi-broadcast me-1"), "Live — quotes are fresh"],
                        className="small text-success py-1")
    colour, text = banner
    icon = {"info": "bi-joystick", "danger": "bi-wifi-off"}.get(colour, "bi-exclamation-triangle")
    return dbc.Alert([html.I(className=f"bi {icon} me-2"), text], color=colour,
                     className="py-2 mb-0 small")


def history_fill_text(*, filling: bool, complete: int, total: int, pct: float,
                      unfilled: dict[str, int]) -> str | None:
    """One line on gap healing: progress while it runs, then what no source could fill."""
    if filling:
        return f"filling history: {complete} of {total} assets, {pct:.0f} %"
    if unfilled:
        gaps = ", ".join(f"{s} {d} days" for s, d in sorted(unfilled.items()))
        return f"history gaps no source could fill (shown as gaps): {gaps}"
    return None


def history_fill_line(text: str | None) -> html.Div | None:
    """The small line under the status strip (nothing when history is complete)."""
    if not text:
        return None
    return html.Div([html.I(className="bi bi-hourglass-split me-1"), text],
                    className="small text-body-secondary py-1")
