"""The dashboard page's static layout (pure): navbar, header, form, grid and panels."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import dash_bootstrap_components as dbc
from dash import dcc, html

from components import ids
from components.asset_admin import custom_asset_form, dropdown_options, first_run_panel
from components.cards import placeholder_cards
from components.info import panel_info
from components.suggested_mix import backtest_body, history_range, mix_controls


def _placeholder(width: str = "col-8") -> html.Span:
    return html.Span(className=f"placeholder {width}")


def navbar(*, demo: bool, dark: bool = False) -> dbc.Navbar:
    """Brand, demo label, sats / dark switches and the CSV export button."""
    demo_badge = dbc.Badge("DEMO — simulated prices", color="warning", text_color="dark",
                           className="ms-2", id=ids.DEMO_BADGE) if demo else None
    controls = html.Div([
        dcc.Link([html.I(className="bi bi-journal-text me-1"), "Transactions"],
                 href="/portfolio/transactions", className="text-white small me-3",
                 id="dashboard-transactions-link"),
        dbc.Switch(id=ids.SATS_TOGGLE, label="sats", value=False, className="mb-0 me-3",
                   persistence=True, persistence_type="local"),
        dbc.Switch(id=ids.DARK_TOGGLE, label="dark", value=dark, className="mb-0 me-3",
                   persistence=True, persistence_type="local"),
        dbc.Button([html.I(className="bi bi-download me-1"), "CSV"], id=ids.EXPORT_CSV,
                   color="light", outline=True, size="sm"),
    ], className="d-flex align-items-center flex-wrap text-white")
    return dbc.Navbar(dbc.Container([
        html.Div([html.Span("₿", className="brand-mark me-2"),
                  html.Span("btcfolio", className="navbar-brand mb-0 h1"), demo_badge],
                 className="d-flex align-items-center"),
        controls,
    ], fluid=True, className="d-flex justify-content-between flex-wrap gap-2"),
        color="primary", dark=True, className="mb-3")


def _stat(label: str, value_id: str, *, big: bool = False, cls: str = "") -> dbc.Col:
    value = html.Div(_placeholder(), id=value_id,
                     className=("fs-3 fw-bold font-monospace " if big else "fs-5 font-monospace ")
                     + cls)
    return dbc.Col(dbc.Card(dbc.CardBody([html.Div(label, className="small text-body-secondary"),
                                          value], className="placeholder-glow py-2")),
                   xs=12 if big else 6, md=12 if big else 4, lg=3, className="mb-2")


def header() -> html.Div:
    """Total in BTC (id portfolio-value-btc), USD, BTC allocation, 24 h change, last update."""
    return html.Div([
        html.Div(id=ids.STATUS_BANNER, className="mb-2",
                 children=html.Div("Loading prices…", className="small text-body-secondary")),
        html.Div(id=ids.HISTORY_FILL_STATUS),  # gap healing progress, when there is any
        dbc.Row([
            _stat("Portfolio value", ids.PORTFOLIO_VALUE_BTC, big=True),
            _stat("In USD (secondary)", ids.HEADER_VALUE_USD),
            _stat("BTC allocation", ids.HEADER_BTC_ALLOCATION),
            _stat("24 h change, in BTC", ids.HEADER_CHANGE_24H),
        ], className="g-2"),
        html.Div("Loading…", id=ids.LAST_UPDATED, className="small text-body-secondary mb-3"),
    ])


def asset_form(universe: Mapping[str, str], categories: Sequence[str] = ()) -> dbc.Card:
    """Dropdown of the universe, quantity, add button, inline error; custom assets below."""
    options = dropdown_options(universe)
    return dbc.Card(dbc.CardBody([dbc.Row([
        dbc.Col(dcc.Dropdown(options=options, id=ids.ASSET_DROPDOWN, placeholder="Asset",
                             clearable=False), xs=12, md=5, className="mb-2 mb-md-0"),
        # No min/max here: out-of-range values must reach the validator to get a clear error.
        dbc.Col(dbc.Input(id=ids.ASSET_QUANTITY, type="number", placeholder="Quantity",
                          step="any"), xs=7, md=4),
        dbc.Col(dbc.Button([html.I(className="bi bi-plus-lg me-1"), "Add"],
                           id=ids.ADD_ASSET_BUTTON, color="success", className="w-100"),
                xs=5, md=3),
    ], className="g-2 align-items-center"),
        html.Div(id=ids.ASSET_FORM_ERROR, className="invalid-feedback d-block"),
        html.Div(id=ids.ASSET_FORM_STATUS, className="small text-success mt-1"),
        custom_asset_form(categories),
    ]), className="mb-3")


def _panel(title: str, body, *, icon: str) -> dbc.Card:  # untyped: any Dash children
    return dbc.Card([dbc.CardHeader([html.I(className=f"bi {icon} me-2"), title,
                                     panel_info(title)]),
                     dbc.CardBody(body)], className="mb-3 h-100")


def _graph(graph_id: str) -> dcc.Loading:
    return dcc.Loading(dcc.Graph(id=graph_id, config={"displaylogo": False, "responsive": True},
                                 className="dash-graph"), type="dot", delay_show=300)


def panels(lookbacks: Sequence[int]) -> list:
    """History, allocation, correlation and rebalance panels."""
    lookback = dbc.RadioItems(id=ids.CORRELATION_LOOKBACK, value=90, inline=True,
                              options=[{"label": f"{d} d", "value": d} for d in lookbacks],
                              className="small mb-2")
    rebalance = [
        dbc.InputGroup([dbc.InputGroupText("Target BTC share"),
                        dbc.Input(id=ids.REBALANCE_TARGET, type="number", min=0, max=100,
                                  step=1, value=50),
                        dbc.InputGroupText("%")], size="sm", className="mb-2"),
        dcc.Loading(html.Div(id=ids.REBALANCE_TABLE), type="dot", delay_show=300),
    ]
    return [
        dbc.Row([
            dbc.Col(_panel("Performance: value in BTC vs. just holding BTC",
                           [history_range(), html.Div(id=ids.PERFORMANCE_STATS),
                            _graph(ids.HISTORY_CHART)],
                           icon="bi-graph-up"), lg=8, className="mb-3"),
            dbc.Col(_panel("Allocation", [_graph(ids.ALLOCATION_ASSET_CHART)],
                           icon="bi-pie-chart"), lg=4, className="mb-3"),
        ]),
        dbc.Row([
            dbc.Col(_panel("Correlation of daily returns",
                           [html.Div([lookback, dbc.Switch(
                               id=ids.HEATMAP_ALL, value=False, className="small mb-2",
                               label="all assets (full matrix)")],
                               className="d-flex flex-wrap gap-3"),
                            # Below md: the ranked list, and the heatmap without cell text.
                            html.Div(id=ids.CORRELATION_RANKING, className="d-md-none"),
                            html.Div(_graph(ids.CORRELATION_HEATMAP),
                                     className="correlation-heatmap-wrap"),
                            html.Div(id=ids.CORRELATION_NOTE)], icon="bi-grid-3x3"),
                    lg=8, className="mb-3"),
            dbc.Col([_panel("Diversifiers", dcc.Loading(html.Div(id=ids.LOW_CORRELATION_LIST),
                                                        type="dot", delay_show=300),
                            icon="bi-shuffle")], lg=4, className="mb-3"),
        ]),
        dbc.Row([
            dbc.Col(_panel("Rebalance to a BTC target", rebalance, icon="bi-arrow-left-right"),
                    lg=7, className="mb-3"),
            dbc.Col(_panel("Suggested mix", [*mix_controls(), dcc.Loading(
                html.Div(id=ids.MIX_TABLE), type="dot", delay_show=300)], icon="bi-sliders"),
                    lg=5, className="mb-3"),
        ]),
        dbc.Row([
            dbc.Col(_panel("By category", [_graph(ids.ALLOCATION_CATEGORY_CHART)],
                           icon="bi-diagram-3"), lg=4, className="mb-3"),
            dbc.Col(_panel("Correlation drift", [_graph(ids.DRIFT_CHART)],
                           icon="bi-activity"), lg=8, className="mb-3"),
        ]),
        dbc.Row(dbc.Col(_panel("Backtest in BTC (3 years)", backtest_body(_graph),
                               icon="bi-clock-history"), className="mb-3")),
    ]


def card_pager() -> html.Div:
    """Pages of the card grid (hidden while every card fits on one page)."""
    return html.Div(dbc.Pagination(id=ids.CARDS_PAGE, max_value=1, active_page=1,
                                   fully_expanded=False, first_last=True, size="sm",
                                   className="mb-3"),
                    id=ids.CARDS_PAGER, hidden=True)


def page_layout(*, universe: Mapping[str, str], interval_ms: int, demo: bool,
                lookbacks: Sequence[int], dark: bool = False,
                categories: Sequence[str] = ()) -> html.Div:
    """The whole page; live values start as placeholders and fill on the first refresh."""
    return html.Div([
        dcc.Interval(id=ids.REFRESH_INTERVAL, interval=interval_ms, n_intervals=0),
        dcc.Store(id=ids.VIEW_KEY, storage_type="memory"),
        dcc.Store(id=ids.LIVE_UPDATE, storage_type="memory"),
        dcc.Store(id=ids.REBALANCE_PARAMS, storage_type="memory"),
        dcc.Store(id=ids.HOLDINGS_VERSION, data=None),
        dcc.Store(id=ids.THEME_STORE, data="light"),
        dcc.Store(id=ids.REBALANCE_KEY, storage_type="memory"),
        dcc.Download(id=ids.EXPORT_DOWNLOAD),
        navbar(demo=demo, dark=dark),
        dbc.Container([
            header(),
            asset_form(universe, categories),
            first_run_panel(),  # right above the cards it is about (the form stays in place)
            dbc.Row(placeholder_cards(), id=ids.DASHBOARD_ASSETS, className="g-3 mb-1"),
            card_pager(),
            *panels(lookbacks),
            html.Footer("Values in BTC at the newest BTC price; USD is secondary. "
                        "Prices come from the local store, never fetched by the page.",
                        className="small text-body-secondary py-3"),
        ], fluid="xl"),
    ])
