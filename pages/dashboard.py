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
from dash.exceptions import PreventUpdate

import services
from analytics.correlation import MIN_OBS
from components import dashboard_view, diversifiers, figures, ids, performance, status, tables
from components.correlation_list import correlation_list
from components.layout import page_layout
from data.store.holdings import deposit_holding, remove_holding
from errors import DataError, InvalidInputError
from pages import _dashboard_assets
from pages import _optimize_panels as mix
from pages._panel_cache import cached_panel
from queries.dashboard import (
    HEATMAP_LIMIT,
    heatmap_symbols,
    load_dashboard,
    performance_and_allocation,
)
from queries.diversification import diversification
from queries.export import export_csv
from queries.history_fill import history_fill
from queries.rebalance import rebalance_now, rebalance_valued

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


@callback(Output(ids.LIVE_UPDATE, "data"),
          Input(ids.REFRESH_INTERVAL, "n_intervals"), Input(ids.SATS_TOGGLE, "value"),
          Input(ids.HOLDINGS_VERSION, "data"), Input(ids.CARDS_PAGE, "active_page"),
          State(ids.VIEW_KEY, "data"), State(ids.REBALANCE_PARAMS, "data"),
          State(ids.REBALANCE_KEY, "data"))
def update_dashboard(_tick, sats, _version, page, key, params, rebalance_key):
    """Each refresh, ONE request: value once, send what differs from the session's last view.

    ``key`` names the view the browser shows, kept on the server (``data.view_state``): an
    unknown, expired or forged key gets a full render. The history-fill line and the rebalance
    table come from the same valuation (no second request, no second valuation per tick).
    """
    states = services.view_states()
    previous = states.load(key)
    ctx = services.read_context()
    try:
        data = load_dashboard(ctx)
    except (DataError, ValueError) as exc:
        # The next tick renders in full: the banner shown is no longer the stored view's.
        return {**dashboard_view.error_update(f"Cannot value the portfolio: {exc}"), "key": None}
    old = previous.state if previous is not None else None
    view = dashboard_view.build_view(data, old, sats=bool(sats), page=_page(page),
                                     fill=_fill_text(ctx))
    live = dashboard_view.live_update(view, old) or {}
    rebalance = _rebalance(params, rebalance_key, ctx, data.valuation)
    if rebalance is not None:
        live["rebalance"] = rebalance
    if not live:
        raise PreventUpdate  # nothing changed: dash answers 204, the key stays valid
    live["key"] = states.save(previous, view).key if live.keys() - {"rebalance"} else key
    return live


def _page(page: object) -> int:
    """The pager's page (1 for anything that is not a positive int: a forged value)."""
    return page if isinstance(page, int) and not isinstance(page, bool) and page > 0 else 1


def _fill_text(ctx) -> str | None:  # untyped: queries.context.ReadContext
    """"filling history: 9 of 12 assets, 74 %" while gaps are healed; the gaps left after."""
    try:
        fill = history_fill(ctx.repo, sorted(ctx.universe()))
    except DataError:
        return None  # the status strip already says when the store cannot be read
    return status.history_fill_text(filling=fill.filling, complete=fill.complete,
                                    total=fill.total, pct=fill.pct, unfilled=fill.unfilled)


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
    except InvalidInputError as exc:
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
    except InvalidInputError as exc:  # a forged callback request: not a configured asset
        return dash.no_update, str(exc)
    if removed is None:
        return dash.no_update, "that asset is not held"
    return services.now().isoformat(), f"{removed} removed"


@callback(Output(ids.HISTORY_CHART, "figure"), Output(ids.PERFORMANCE_STATS, "children"),
          Output(ids.ALLOCATION_ASSET_CHART, "figure"),
          Output(ids.ALLOCATION_CATEGORY_CHART, "figure"),
          Input(ids.HOLDINGS_VERSION, "data"), Input(ids.THEME_STORE, "data"),
          Input(ids.HISTORY_RANGE, "value"))
@cached_panel
def update_history_charts(_version, theme, window="all"):
    """Performance in BTC against just holding BTC, and the allocation donuts.

    For the 24 h / 7 d windows the performance chart shows the hourly value instead.
    """
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
          Input(ids.CORRELATION_LOOKBACK, "value"), Input(ids.THEME_STORE, "data"),
          Input(ids.HEATMAP_ALL, "value"))
@cached_panel
def update_correlation(lookback, theme, show_all=False):
    """Correlation heatmap, its ranked correlation-to-BTC form for phones, and diversifiers.

    The heatmap shows the held assets (or the whole universe on demand); the category-aware
    diversifiers are selected over the whole universe.
    """
    # Only the offered windows: a forged value must not become an unbounded store read.
    lookback = lookback if lookback in LOOKBACKS and not isinstance(lookback, bool) else 90
    view = diversification(services.repository(), services.settings(), lookback_days=lookback,
                           threshold=LOW_CORRELATION)
    panel = diversifiers.diversifiers(
        view.selection.picks.to_dict("records"), lookback_days=lookback,
        threshold=LOW_CORRELATION, held=view.held,
        bets_current=view.effective_bets_current, bets_proposal=view.effective_bets_proposal)
    matrix, shown = view.result.matrix, list(view.result.matrix.index)
    if show_all is not True:
        shown = _heatmap_assets(view.held, shown)
    matrix = matrix.loc[shown, shown]
    return (figures.correlation_heatmap(matrix, view.result.n_obs, min_obs=MIN_OBS,
                                        dark=theme == "dark"), panel,
            diversifiers.no_number_note(view.no_number),
            correlation_list(matrix, view.result.n_obs, min_obs=MIN_OBS, lookback_days=lookback))


def _heatmap_assets(held, universe: list[str]) -> list[str]:  # untyped: frozenset
    """The held assets by value (BTC first, at most 30).

    The first 30 of the universe when fewer than two are held or they cannot be valued.
    """
    try:
        ranked = [s for s in heatmap_symbols(services.read_context(), held) if s in universe]
    except (DataError, ValueError):
        ranked = []
    return ranked if len(ranked) >= 2 else universe[:HEATMAP_LIMIT]


@callback(Output(ids.REBALANCE_TABLE, "children"), Output(ids.REBALANCE_KEY, "data"),
          Input(ids.REBALANCE_PARAMS, "data"), State(ids.REBALANCE_KEY, "data"))
def update_rebalance(params, previous_key):
    """The trades that bring BTC to the target share, when the target or the mix changes.

    Each refresh tick recomputes them in ``update_dashboard`` (same valuation, same request).
    """
    out = _rebalance(params, previous_key, services.read_context(), None)
    return (dash.no_update, dash.no_update) if out is None else tuple(out)


def rebalance_params(params: object) -> dict | str:
    """The rebalance panel's inputs (``btcfolio.rebalanceParams``), or what is wrong with them."""
    if not isinstance(params, dict):
        return "Enter a target BTC share between 0 and 100 %."
    target = params.get("target")
    if (not isinstance(target, (int, float)) or isinstance(target, bool)
            or not 0 <= target <= 100):  # also refuses NaN and a forged string
        return "Enter a target BTC share between 0 and 100 %."
    return {"target": target, "mix": params.get("mix") is True, "method": params.get("method"),
            "asset_cap": params.get("asset_cap"), "category_cap": params.get("category_cap")}


def _rebalance(params, previous_key, ctx, valuation) -> list | None:
    """[table, key] of the rebalance panel, None when the table shown is still right.

    ``valuation``: the refresh's valuation (None: value now); the mix path runs the optimizer.
    """
    if params is None and valuation is not None:
        return None  # the panel's inputs have not reached the page yet (first tick)
    checked = rebalance_params(params)
    if isinstance(checked, str):
        return [dbc.Alert(checked, color="warning", className="py-2 mb-0 small"), None]
    target = checked["target"]
    try:
        if checked["mix"]:  # the two-sided trades to the optimizer's suggested mix
            plan = mix.mix_rebalance(target, checked["method"], checked["asset_cap"],
                                     checked["category_cap"])
        else:
            plan = (rebalance_now(ctx, target / 100) if valuation is None
                    else rebalance_valued(ctx, valuation, target / 100))
        trades, skipped, share_after, excluded = (
            plan.trades, plan.plan.skipped, plan.plan.btc_share_after, plan.excluded)
    except (DataError, ValueError) as exc:
        return [dbc.Alert(f"No rebalance: {exc}", color="warning", className="py-2 mb-0 small"),
                None]
    shown = tables.rebalance_rows(trades, skipped, excluded, total_btc=plan.before.total_btc)
    key = tables.rebalance_key(shown)
    if key == previous_key:
        return None
    # Prices move every tick: the table is re-sent when the trades or a side change, or a shown
    # trade's BTC value moves materially compared with the table the browser shows (kept on
    # the server under its key; the rule in tables.same_table and docs/dashboard.md).
    states = services.view_states()
    before = states.recall("rebalance", previous_key)
    if before is not None and tables.same_table(before, shown):
        return None
    states.remember("rebalance", key, shown)
    return [tables.rebalance_table(trades, skipped=skipped, share_after=share_after,
                                   excluded=excluded), key]


@callback(Output(ids.EXPORT_DOWNLOAD, "data"), Input(ids.EXPORT_CSV, "n_clicks"),
          prevent_initial_call=True)
def update_export(_clicks):
    """Download the holdings as CSV."""
    ctx = services.read_context()
    return dcc.send_string(export_csv(ctx), f"btcfolio-holdings-{ctx.now:%Y%m%d-%H%M%S}.csv",
                           type="text/csv")


# The refresh's answer is applied in the browser (assets/live.js): the card grid or the changed
# texts, the status lines, the rebalance table and the new view key. No second request.
clientside_callback(
    ClientsideFunction(namespace="btcfolio", function_name="applyLive"),
    Output({"type": ids.ASSET_FIELD_TYPE, "symbol": ALL, "field": ALL}, "children"),
    Output({"type": ids.ASSET_FIELD_TYPE, "symbol": ALL, "field": ALL}, "className"),
    Output(ids.PORTFOLIO_VALUE_BTC, "children"), Output(ids.HEADER_VALUE_USD, "children"),
    Output(ids.HEADER_BTC_ALLOCATION, "children"), Output(ids.HEADER_CHANGE_24H, "children"),
    Output(ids.HEADER_CHANGE_24H, "className"), Output(ids.LAST_UPDATED, "children"),
    Output(ids.DASHBOARD_ASSETS, "children"), Output(ids.CARDS_PAGE, "max_value"),
    Output(ids.CARDS_PAGER, "hidden"), Output(ids.STATUS_BANNER, "children"),
    Output(ids.HISTORY_FILL_STATUS, "children"),
    Output(ids.REBALANCE_TABLE, "children", allow_duplicate=True),
    Output(ids.REBALANCE_KEY, "data", allow_duplicate=True), Output(ids.VIEW_KEY, "data"),
    Input(ids.LIVE_UPDATE, "data"), prevent_initial_call=True,
)

# The rebalance panel's five inputs as one small value: the refresh carries it as State.
clientside_callback(
    ClientsideFunction(namespace="btcfolio", function_name="rebalanceParams"),
    Output(ids.REBALANCE_PARAMS, "data"),
    Input(ids.REBALANCE_TARGET, "value"), Input(ids.MIX_SWITCH, "value"),
    Input(ids.MIX_METHOD, "value"), Input(ids.MIX_ASSET_CAP, "value"),
    Input(ids.MIX_CATEGORY_CAP, "value"),
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
