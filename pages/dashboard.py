"""The dashboard at /portfolio/dashboard: the portfolio in BTC terms, refreshed from the store.

Every callback is thin: read through ``queries`` (store only, never a provider) -> pure
builders in ``components``. The live refresh sends only what changed. Time comes from the
app's one clock (``services.now``), never from this module.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import (
    ALL,
    ClientsideFunction,
    Input,
    Output,
    State,
    callback,
    clientside_callback,
    ctx,
    dcc,
)

import services
from analytics.correlation import MIN_OBS
from analytics.holding_input import HoldingInputError
from components import dashboard_view, diversifiers, figures, ids, performance, status, tables
from components.correlation_list import correlation_list
from components.layout import page_layout
from data.errors import DataError
from data.holdings import deposit_holding, remove_holding
from pages import _dashboard_assets
from pages import _optimize_panels as mix
from queries.dashboard import load_dashboard, performance_and_allocation
from queries.diversification import diversification
from queries.export import export_csv
from queries.history_fill import history_fill
from queries.rebalance import rebalance_now

dash.register_page(__name__, path="/portfolio/dashboard", title="btcfolio — dashboard")
mix.register_callbacks()  # Suggested mix, backtest and drift panels (pages/_optimize_panels.py)
LOOKBACKS = (30, 90, 180, 365)
LOW_CORRELATION = 0.5
_dashboard_assets.register_callbacks()  # custom assets and first run (issue 16)


def layout(theme: str | None = None, **_kwargs):
    """The page shell: placeholders everywhere, filled by the first refresh (no IO here).

    ``?theme=dark`` opens the page in dark mode (the switch then remembers the choice).
    """
    settings = services.settings()
    try:  # custom assets too (one cached read); the store down must not break the page shell
        universe = services.read_context().universe()
    except DataError:
        universe = settings.assets
    return page_layout(universe={s: a.name for s, a in universe.items()},
                       interval_ms=settings.refresh.interval_seconds * 1000,
                       demo=settings.demo, lookbacks=LOOKBACKS, dark=theme == "dark",
                       categories=settings.categories)


@callback(
    output={"cards": Output(ids.DASHBOARD_ASSETS, "children"),
            "value": Output(ids.PORTFOLIO_VALUE_BTC, "children"),
            "usd": Output(ids.HEADER_VALUE_USD, "children"),
            "alloc": Output(ids.HEADER_BTC_ALLOCATION, "children"),
            "change": Output(ids.HEADER_CHANGE_24H, "children"),
            "change_class": Output(ids.HEADER_CHANGE_24H, "className"),
            "updated": Output(ids.LAST_UPDATED, "children"),
            "banner": Output(ids.STATUS_BANNER, "children"),
            "snapshot": Output(ids.SNAPSHOT_STORE, "data"),
            "delta": Output(ids.LIVE_DELTA, "data")},
    inputs=[Input(ids.REFRESH_INTERVAL, "n_intervals"), Input(ids.SATS_TOGGLE, "value"),
            Input(ids.HOLDINGS_VERSION, "data")],
    state=[State(ids.SNAPSHOT_STORE, "data")],
)
def update_dashboard(_tick, sats, _version, previous):
    """Each refresh: re-read the store, rebuild the display model, send only the differences."""
    try:
        snapshot = load_dashboard(services.read_context())
    except (DataError, ValueError) as exc:
        return dashboard_view.error_update(f"Cannot value the portfolio: {exc}")
    view = dashboard_view.build_view(snapshot, previous, sats=bool(sats))
    return dashboard_view.page_update(view, previous)


@callback(Output(ids.HISTORY_FILL_STATUS, "children"), Input(ids.REFRESH_INTERVAL, "n_intervals"))
def update_history_fill(_tick):
    """"filling history: 9 of 12 assets, 74 %" while gaps are healed; the gaps left after."""
    try:
        ctx = services.read_context()
        fill = history_fill(ctx.repo, sorted(ctx.universe()))
    except DataError:
        return None  # the status strip already says when the store cannot be read
    return status.history_fill_line(status.history_fill_text(
        filling=fill.filling, complete=fill.complete, total=fill.total, pct=fill.pct,
        unfilled=fill.unfilled))


@callback(Output(ids.ASSET_FORM_ERROR, "children"), Output(ids.ASSET_QUANTITY, "invalid"),
          Output(ids.ASSET_FORM_STATUS, "children"),
          Output(ids.HOLDINGS_VERSION, "data", allow_duplicate=True),
          Input(ids.ADD_ASSET_BUTTON, "n_clicks"),
          State(ids.ASSET_DROPDOWN, "value"), State(ids.ASSET_QUANTITY, "value"),
          prevent_initial_call=True)
def update_add_asset(_clicks, symbol, quantity):
    """Add to a holding from the form (a deposit); an invalid entry stores nothing."""
    try:
        change = deposit_holding(services.repository(), services.settings(), symbol, quantity,
                                 now=services.now())
    except HoldingInputError as exc:
        return str(exc), exc.field == "quantity", "", dash.no_update
    note = " — no history yet: backfill requested" if change.backfill_requested else ""
    return ("", False, f"{change.describe()} (deposit added){note}",
            services.now().isoformat())


@callback(Output(ids.HOLDINGS_VERSION, "data", allow_duplicate=True),
          Output(ids.ASSET_FORM_STATUS, "children", allow_duplicate=True),
          Input({"type": ids.REMOVE_ASSET_TYPE, "symbol": ALL}, "n_clicks"),
          prevent_initial_call=True)
def update_remove_asset(clicks):
    """Remove the holding whose card button was clicked (ignores cards just rendered)."""
    trigger = ctx.triggered_id
    if not trigger or not any(clicks) or not ctx.triggered[0]["value"]:
        raise dash.exceptions.PreventUpdate
    try:
        removed = remove_holding(services.repository(), services.settings(), trigger["symbol"])
    except HoldingInputError as exc:  # a forged callback request: not a configured asset
        return dash.no_update, str(exc)
    if removed is None:
        return dash.no_update, "that asset is not held"
    return services.now().isoformat(), f"{removed} removed"


@callback(Output(ids.HISTORY_CHART, "figure"), Output(ids.PERFORMANCE_STATS, "children"),
          Output(ids.ALLOCATION_ASSET_CHART, "figure"),
          Output(ids.ALLOCATION_CATEGORY_CHART, "figure"),
          Input(ids.HOLDINGS_VERSION, "data"), Input(ids.THEME_STORE, "data"),
          Input(ids.HISTORY_RANGE, "value"))
def update_history_charts(_version, theme, window="all"):
    """Performance in BTC against just holding BTC (or the hourly value for 24 h / 7 d), and
    the allocation donuts."""
    dark = theme == "dark"
    try:
        report, by_asset, by_category = performance_and_allocation(services.read_context())
    except (DataError, ValueError) as exc:
        empty = figures.empty_figure(str(exc), dark=dark)
        return empty, "", empty, empty
    stats = performance.performance_stats(report)
    figure = (mix.hourly_history_figure(window, dark=dark) if window in mix.HOURLY_RANGES else
              performance.performance_figure(report, dark=dark))
    return (figure, stats,
            figures.allocation_figure(by_asset, title="By asset", dark=dark),
            figures.allocation_figure(by_category, title="By category", dark=dark))


@callback(Output(ids.CORRELATION_HEATMAP, "figure"), Output(ids.LOW_CORRELATION_LIST, "children"),
          Output(ids.CORRELATION_NOTE, "children"), Output(ids.CORRELATION_RANKING, "children"),
          Input(ids.CORRELATION_LOOKBACK, "value"), Input(ids.THEME_STORE, "data"))
def update_correlation(lookback, theme):
    """Correlation heatmap of the universe and the category-aware diversifiers (selection)."""
    # Only the offered windows: a forged value must not become an unbounded store read.
    lookback = lookback if lookback in LOOKBACKS and not isinstance(lookback, bool) else 90
    view = diversification(services.repository(), services.settings(), lookback_days=lookback,
                           threshold=LOW_CORRELATION)
    panel = diversifiers.diversifiers(
        view.selection.picks.to_dict("records"), lookback_days=lookback,
        threshold=LOW_CORRELATION, held=view.held,
        bets_current=view.effective_bets_current, bets_proposal=view.effective_bets_proposal)
    matrix, n_obs = view.result.matrix, view.result.n_obs
    return (figures.correlation_heatmap(matrix, n_obs, min_obs=MIN_OBS, dark=theme == "dark"),
            panel, diversifiers.no_number_note(view.no_number),
            correlation_list(matrix, n_obs, min_obs=MIN_OBS, lookback_days=lookback))


@callback(Output(ids.REBALANCE_TABLE, "children"), Output(ids.REBALANCE_KEY, "data"),
          Input(ids.REBALANCE_TARGET, "value"), Input(ids.HOLDINGS_VERSION, "data"),
          Input(ids.REFRESH_INTERVAL, "n_intervals"), Input(ids.MIX_SWITCH, "value"),
          Input(ids.MIX_METHOD, "value"), Input(ids.MIX_ASSET_CAP, "value"),
          Input(ids.MIX_CATEGORY_CAP, "value"), State(ids.REBALANCE_KEY, "data"))
def update_rebalance(target_pct, _version, _tick, to_mix, method, asset_cap, category_cap,
                     previous_key):
    """The trades that bring BTC to the target share; re-sent only when they change."""
    if (not isinstance(target_pct, (int, float)) or isinstance(target_pct, bool)
            or not 0 <= target_pct <= 100):  # also refuses NaN and a forged string
        return dbc.Alert("Enter a target BTC share between 0 and 100 %.", color="warning",
                         className="py-2 mb-0 small"), None
    try:
        if to_mix:  # the trades to the optimizer's suggested mix
            trades, skipped, share_after, excluded = (
                mix.mix_trades(target_pct, method, asset_cap, category_cap), None, None, {})
        else:
            plan = rebalance_now(services.read_context(), target_pct / 100)
            trades, skipped, share_after, excluded = (
                plan.trades, plan.plan.skipped, plan.plan.btc_share_after, plan.excluded)
    except (DataError, ValueError) as exc:
        return dbc.Alert(f"No rebalance: {exc}", color="warning", className="py-2 mb-0 small"), None
    key = tables.rebalance_key(trades, skipped, excluded)
    return (dash.no_update, dash.no_update) if key == previous_key else (
        tables.rebalance_table(trades, skipped=skipped, share_after=share_after,
                               excluded=excluded), key)


@callback(Output(ids.EXPORT_DOWNLOAD, "data"), Input(ids.EXPORT_CSV, "n_clicks"),
          prevent_initial_call=True)
def update_export(_clicks):
    """Download the holdings as CSV."""
    ctx = services.read_context()
    return dcc.send_string(export_csv(ctx), f"btcfolio-holdings-{ctx.now:%Y%m%d-%H%M%S}.csv",
                           type="text/csv")


# A steady refresh sends only the changed leaves of the view (LIVE_DELTA): the browser writes
# them into the card fields and the header and merges them into the snapshot (assets/live.js),
# so a 30 s tick costs a few hundred bytes instead of a patch of the whole card grid.
clientside_callback(
    ClientsideFunction(namespace="btcfolio", function_name="applyDelta"),
    Output({"type": ids.ASSET_FIELD_TYPE, "symbol": ALL, "field": ALL}, "children"),
    Output({"type": ids.ASSET_FIELD_TYPE, "symbol": ALL, "field": ALL}, "className"),
    Output(ids.PORTFOLIO_VALUE_BTC, "children", allow_duplicate=True),
    Output(ids.HEADER_VALUE_USD, "children", allow_duplicate=True),
    Output(ids.HEADER_BTC_ALLOCATION, "children", allow_duplicate=True),
    Output(ids.HEADER_CHANGE_24H, "children", allow_duplicate=True),
    Output(ids.HEADER_CHANGE_24H, "className", allow_duplicate=True),
    Output(ids.LAST_UPDATED, "children", allow_duplicate=True),
    Output(ids.SNAPSHOT_STORE, "data", allow_duplicate=True),
    Input(ids.LIVE_DELTA, "data"), State(ids.SNAPSHOT_STORE, "data"),
    prevent_initial_call=True,
)

# Dark mode is a Bootstrap 5.3 colour mode: flip the attribute in the browser, no round trip.
clientside_callback(
    """function(dark) {
        const mode = dark ? 'dark' : 'light';
        document.documentElement.setAttribute('data-bs-theme', mode);
        return mode;
    }""",
    Output(ids.THEME_STORE, "data"), Input(ids.DARK_TOGGLE, "value"),
)
