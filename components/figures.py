"""Plotly figures (pure): correlation heatmap, BTC value history, allocation donuts."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from analytics.units import BTC

# Diverging, centred at 0: red for negative, white at 0, blue for positive correlation.
DIVERGING = [[0.0, "#b2182b"], [0.25, "#ef8a62"], [0.5, "#f7f7f7"], [0.75, "#67a9cf"],
             [1.0, "#2166ac"]]
BTC_ORANGE = "#f7931a"
# Distinct hues (three teals and two greys used to share the legend), each 3:1 against the
# card in light and dark mode (tests/unit/components/test_contrast.py); orange is BTC's only.
PALETTE = ["#4e79a7", "#59a14f", "#e15759", "#b07aa1", "#9c755f", "#17a2b8", "#d37295",
           "#8c8c8c", "#9467bd", "#1f9e89", "#6b8e23"]


# Legends sit under the plot, at the bottom of the figure (its own strip: Plotly grows the
# bottom margin to fit it), never over the data; the top margin is the modebar's strip. Tested
# in a browser at 390 and 1280 px (tests/browser/test_responsive.py).
LEGEND_BELOW = {"orientation": "h", "x": 0, "xanchor": "left", "y": 0, "yanchor": "bottom",
                "yref": "container", "font": {"size": 11}}
TOP_MARGIN = 30  # px above the plot area: the modebar (about 25 px) fits in it


# The trace types the app draws: a template's defaults for the other 21 types were 4.5 KB of
# every figure's JSON and most of its build time (a named template is rebuilt and deep-copied
# on every figure: 15 ms against 2 ms; benchmarks.load's page-load figure).
TRACE_TYPES = ("scatter", "heatmap", "pie")


@lru_cache(maxsize=2)
def theme_template(dark: bool) -> go.layout.Template:
    """Plotly's ``plotly_dark``/``plotly_white`` cut to its layout and the app's trace types."""
    full = pio.templates["plotly_dark" if dark else "plotly_white"]
    data = full.data.to_plotly_json()
    return go.layout.Template(layout=full.layout,
                              data={kind: data[kind] for kind in TRACE_TYPES if kind in data})


def _base_layout(fig: go.Figure, *, dark: bool, height: int) -> go.Figure:
    fig.update_layout(template=theme_template(dark), height=height,
                      margin={"l": 10, "r": 10, "t": TOP_MARGIN, "b": 10},
                      paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
                      font={"size": 12}, legend=LEGEND_BELOW)
    return fig


def correlation_heatmap(matrix: pd.DataFrame, n_obs: pd.DataFrame, *, min_obs: int,
                        dark: bool = False, max_labelled: int = 40) -> go.Figure:
    """Heatmap of a correlation matrix; cells without enough data read 'n/a' (and stay blank).

    Beyond ``max_labelled`` assets (the full matrix of a large universe) cells carry no text
    and no observation counts, and values are rounded to 3 decimals: the figure stays a few
    bytes per cell instead of a few dozen.
    """
    z = matrix.to_numpy(dtype="float64")
    labelled = len(matrix) <= max_labelled
    cells = dict(
        text=np.where(np.isnan(z), "n/a", np.char.mod("%.2f", np.nan_to_num(z))),
        customdata=n_obs.reindex(index=matrix.index, columns=matrix.columns).to_numpy(),
        texttemplate="%{text}", textfont={"size": 10},
        hovertemplate=("%{y} × %{x}: %{text}<br>%{customdata} common returns"
                       f" (min {min_obs})<extra></extra>"),
    ) if labelled else dict(hovertemplate="%{y} × %{x}: %{z:.2f}<extra></extra>")
    fig = go.Figure(go.Heatmap(
        z=z if labelled else np.round(z, 3), x=list(matrix.columns), y=list(matrix.index),
        colorscale=DIVERGING, zmin=-1, zmax=1, zmid=0,
        colorbar={"thickness": 10, "len": 0.9}, xgap=1 if labelled else 0,
        ygap=1 if labelled else 0, **cells))
    fig.update_yaxes(autorange="reversed")
    return _base_layout(fig, dark=dark, height=430 if labelled else 800)


def history_figure(history: pd.DataFrame, *, dark: bool = False, freq: str = "D") -> go.Figure:
    """Portfolio value in BTC per day against the flat 'held BTC' line.

    Days missing from ``history`` (a stretch of history no provider could fill) are drawn as a
    break in the line, never as a straight line across them.

    Args:
        history: index date (UTC), columns ``value_btc`` and ``held_btc``.
        dark: colours for the dark theme.
        freq: the step of the series ("D" daily, "h" hourly): a missing step is a gap.
    """
    history = with_gaps(history, freq=freq)
    times = axis_times(history.index, freq=freq)
    fig = go.Figure([
        go.Scatter(x=times, y=history["value_btc"].to_numpy(), name="Portfolio (BTC)",
                   line={"color": "#18bc9c", "width": 2}, connectgaps=False,
                   hovertemplate="%{x|%Y-%m-%d}: ₿%{y:.8f}<extra>portfolio</extra>"),
        go.Scatter(x=times, y=history["held_btc"].to_numpy(), name="Held BTC",
                   line={"color": "#f7931a", "width": 1.5, "dash": "dash"},
                   hovertemplate="₿%{y:.8f}<extra>held BTC</extra>"),
    ])
    fig.update_layout(hovermode="x unified")
    fig.update_yaxes(title_text="BTC", tickformat=".4f")
    return _base_layout(fig, dark=dark, height=320)


def axis_times(index: pd.Index, *, freq: str = "D") -> list[str]:
    """Times of a date axis as UTC text: "2025-08-13" per day, "2025-08-13 14:00" per hour.

    Plotly draws both as dates; handing it Timestamps instead made it encode each one on its
    own (a 3-line backtest: 23 ms and 25 bytes a point, against 2 ms and 12).
    """
    times = pd.DatetimeIndex(index)
    if times.tz is not None:
        times = times.tz_convert("UTC").tz_localize(None)
    return list(times.strftime("%Y-%m-%d" if freq == "D" else "%Y-%m-%d %H:%M"))


def with_gaps(daily: pd.DataFrame, *, freq: str = "D") -> pd.DataFrame:
    """A frame on every step (calendar day by default) of its range: steps it lacks are NaN."""
    if len(daily) < 2:
        return daily
    full = pd.date_range(daily.index.min(), daily.index.max(), freq=freq, name=daily.index.name)
    return daily.reindex(full)


def allocation_figure(weights: Mapping[str, float], *, title: str, dark: bool = False) -> go.Figure:
    """Donut of weights (fractions) by asset or by category."""
    labels = [k.replace("_", " ") for k in weights]
    others = iter(PALETTE * 2)
    # BTC (and the category holding it) is always bitcoin orange; others from the palette.
    colours = [BTC_ORANGE if k in (BTC, "stable_crypto") else next(others) for k in weights]
    fig = go.Figure(go.Pie(labels=labels, values=list(weights.values()), hole=0.55, sort=False,
                           marker={"colors": colours}, textinfo="percent",
                           textposition="inside", insidetextorientation="horizontal",
                           hovertemplate="%{label}: %{percent}<extra></extra>"))
    # A slice too thin for a legible label shows none (its share is in the hover / tap).
    fig.update_layout(title={"text": title, "x": 0.5, "font": {"size": 13}}, showlegend=True,
                      uniformtext={"minsize": 10, "mode": "hide"})
    return _base_layout(fig, dark=dark, height=320)


def empty_figure(message: str, *, dark: bool = False) -> go.Figure:
    """A blank figure carrying a message (no data for this view)."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _base_layout(fig, dark=dark, height=200)
