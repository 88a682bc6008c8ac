"""The transactions page (pure builders): grid, per-type form, import preview, flags."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from components import ids

TYPES = ("DEPOSIT", "WITHDRAWAL", "BUY", "SELL", "TRADE", "TRANSFER", "INCOME", "FEE",
         "ADJUSTMENT")
# The fields each type asks for (date and type always); everything else stays hidden.
TYPE_FIELDS = {
    "DEPOSIT": ("account", "asset", "quantity", "fee", "note"),
    "WITHDRAWAL": ("account", "asset", "quantity", "fee", "note"),
    "BUY": ("account", "asset", "quantity", "price", "fee", "note"),
    "SELL": ("account", "asset", "quantity", "price", "fee", "note"),
    "TRADE": ("account", "asset", "quantity", "counter_asset", "counter_quantity", "fee", "note"),
    "TRANSFER": ("account", "asset", "quantity", "to_account", "subtype", "fee", "note"),
    "INCOME": ("account", "asset", "quantity", "subtype", "note"),
    "FEE": ("account", "asset", "quantity", "note"),
    "ADJUSTMENT": ("account", "asset", "quantity", "subtype", "note"),
}
FORM_FIELDS = ("account", "asset", "quantity", "price", "counter_asset", "counter_quantity",
               "to_account", "subtype", "fee", "note")
LABELS = {"account": "Account", "asset": "Asset", "quantity": "Quantity",
          "price": "Price (USD)", "counter_asset": "Paid with", "counter_quantity": "Paid",
          "to_account": "To account", "subtype": "Kind", "fee": "Fee (in the price currency "
          "or the asset)", "note": "Note"}
SUBTYPES = {"TRANSFER": ("fee_on_top", "fee_from_amount"),
            "INCOME": ("interest", "dividend", "staking", "mining", "airdrop", "other"),
            "ADJUSTMENT": ("correction", "opening", "split")}
COLUMNS = ("id", "trade_date", "type", "subtype", "account", "asset", "quantity",
           "counter_asset", "counter_quantity", "fee_asset", "fee_quantity", "to_account",
           "note", "external_id")


def grid(rows: Sequence[Mapping]) -> dag.AgGrid:
    """Sortable, filterable table of entries (one row selectable for delete)."""
    defs = [{"field": c, "headerName": c.replace("_", " "), "filter": True, "sortable": True}
            for c in COLUMNS]
    defs[0].update(width=80)
    return dag.AgGrid(id=ids.TX_GRID, rowData=list(rows), columnDefs=defs,
                      defaultColDef={"resizable": True, "floatingFilter": True},
                      dashGridOptions={"rowSelection": "single", "pagination": True,
                                       "paginationPageSize": 50, "animateRows": False},
                      getRowId="params.data.id", className="ag-theme-alpine",
                      style={"height": "520px"})


def _input(name: str, universe: Sequence[str]) -> dbc.Col:
    if name in ("asset", "counter_asset"):
        control = dcc.Dropdown(options=["USD", *universe], id=ids.tx_field(name),
                               placeholder=LABELS[name], clearable=True)
    elif name == "subtype":
        control = dcc.Dropdown(options=[], id=ids.tx_field(name), placeholder=LABELS[name])
    else:
        numeric = name in ("quantity", "price", "counter_quantity", "fee")
        control = dbc.Input(id=ids.tx_field(name), placeholder=LABELS[name],
                            type="text", inputMode="decimal" if numeric else "text")
    return dbc.Col([dbc.Label(LABELS[name], className="small mb-0"), control],
                   id=ids.tx_field_wrap(name), xs=12, md=4, className="mb-2")


def entry_form(universe: Sequence[str]) -> dbc.Card:
    """Type and date, then only the fields the chosen type needs."""
    head = [
        dbc.Col([dbc.Label("Type", className="small mb-0"),
                 dcc.Dropdown(options=list(TYPES), value="DEPOSIT", id=ids.TX_TYPE,
                              clearable=False)], xs=12, md=4, className="mb-2"),
        dbc.Col([dbc.Label("Date (YYYY-MM-DD, UTC)", className="small mb-0"),
                 dbc.Input(id=ids.tx_field("date"), placeholder="2024-01-31", type="text")],
                xs=12, md=4, className="mb-2"),
    ]
    return dbc.Card(dbc.CardBody([
        dbc.Row(head + [_input(n, universe) for n in FORM_FIELDS], className="g-2"),
        dbc.Button([html.I(className="bi bi-plus-lg me-1"), "Add entry"], id=ids.TX_ADD,
                   color="success", size="sm"),
        html.Div(id=ids.TX_FORM_STATUS, className="small mt-2"),
    ]), className="mb-3")


def field_styles(kind: str) -> list[dict]:
    """Display style of each form field (FORM_FIELDS order) for a type."""
    wanted = TYPE_FIELDS.get(kind, ())
    return [{} if name in wanted else {"display": "none"} for name in FORM_FIELDS]


def import_panel() -> dbc.Card:
    """Upload (CSV or Ghostfolio JSON) -> dry-run preview -> confirm; export buttons."""
    return dbc.Card(dbc.CardBody([
        dbc.Row([
            dbc.Col(dcc.Upload(html.Div(["Drop a CSV or Ghostfolio JSON here, or ",
                                         html.A("choose a file")]),
                               id=ids.TX_UPLOAD, multiple=False, max_size=8 * 1024 * 1024,
                               className="border border-2 border-dashed rounded p-3 "
                                         "text-center small"), md=6, className="mb-2"),
            dbc.Col([dbc.Label("Time zone of dates without offset", className="small mb-0"),
                     dbc.Input(id=ids.TX_TIMEZONE, value="UTC", type="text")], md=3),
            dbc.Col([dbc.Button("Export CSV", id=ids.TX_EXPORT_CSV, color="light", size="sm",
                                className="me-2 mb-1"),
                     dbc.Button("Export Ghostfolio JSON", id=ids.TX_EXPORT_GHOSTFOLIO,
                                color="light", size="sm", className="mb-1")], md=3),
        ], className="g-2 align-items-end"),
        html.Div(id=ids.TX_PREVIEW, className="mt-2"),
        dbc.Button("Import", id=ids.TX_CONFIRM, color="primary", size="sm", className="d-none"),
    ]), className="mb-3")


def preview(result: Mapping) -> html.Div:
    """Dry-run summary: rows, new entries, duplicates (the confirm button sits below it)."""
    text = (f"Dry run: {result['rows']} rows: {result['new']} new, {result['duplicates']} "
            "already stored (skipped).")
    return html.Div([dbc.Alert(text, color="info", className="py-2 mb-2 small")])


def import_errors(errors: Sequence[Mapping]) -> html.Div:
    """Every bad row of a refused file (nothing was stored)."""
    rows = [html.Tr([html.Td(e["row"]), html.Td(e["field"]), html.Td(e["reason"])])
            for e in errors[:200]]
    return dbc.Alert([
        html.Div(f"{len(errors)} bad row(s): nothing was imported.", className="fw-semibold"),
        html.Table([html.Thead(html.Tr([html.Th("row"), html.Th("field"), html.Th("reason")])),
                    html.Tbody(rows)], className="table table-sm mb-0"),
    ], color="danger", className="py-2 mb-0 small")


def negative_flags(flags: Sequence[Mapping]) -> html.Div:
    """Missing buys or deposits, never hidden."""
    if not flags:
        return html.Div()
    return dbc.Alert([html.Div(f["message"]) for f in flags], color="warning",
                     className="py-2 small")
