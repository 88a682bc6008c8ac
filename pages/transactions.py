"""The ledger at /portfolio/transactions: table, per-type form, import with preview, export.

Thin callbacks: store reads through ``queries.ledger``, writes through ``data.store.ledger_io`` /
``data.store.ledger_store``, parsing and display in pure modules.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime, timezone

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, ctx, dcc, html

import services
from analytics.ledger_import import parse_row, zone
from components import ids
from components import transactions_view as view
from data.store import ledger_store
from data.store.ledger_io import LedgerImportError, export_text, import_text
from errors import DataError
from queries.ledger import transactions

dash.register_page(__name__, path="/portfolio/transactions", title="btcfolio — transactions")


def layout(**_kwargs):
    """Header, form, import panel and the table (filled by the first callback)."""
    universe = list(services.settings().assets)
    return dbc.Container([
        dcc.Store(id=ids.TX_VERSION, data=0), dcc.Store(id=ids.TX_PENDING),
        dcc.Download(id=ids.TX_DOWNLOAD),
        html.Div([html.H1("Transactions", className="h3 mb-0"),
                  dcc.Link("← Dashboard", href="/portfolio/dashboard", className="small")],
                 className="d-flex justify-content-between align-items-center my-3"),
        html.Div(id=ids.TX_FLAGS),
        view.entry_form(universe), view.import_panel(),
        dbc.Button("Delete selected", id=ids.TX_DELETE, color="outline-danger", size="sm",
                   className="mb-2"),
        html.Div(view.grid([]), className="mb-4"),
    ], fluid="xl")


@callback(Output(ids.TX_GRID, "rowData"), Output(ids.TX_FLAGS, "children"),
          Input(ids.TX_VERSION, "data"))
def update_grid(_version):
    """Every entry, newest first, and the negative-balance flags."""
    try:
        body = transactions(services.repository(), services.settings().portfolio.name)
    except DataError as exc:
        return [], dbc.Alert(f"Cannot read the ledger: {exc}", color="danger")
    return body["transactions"], view.negative_flags(body["negative_balances"])


@callback(Output({"type": ids.TX_FIELD_WRAP_TYPE, "field": ALL}, "style"),
          Output(ids.tx_field("subtype"), "options"), Input(ids.TX_TYPE, "value"))
def update_form_fields(kind):
    """Show only the fields the chosen type needs."""
    return view.field_styles(kind), list(view.SUBTYPES.get(kind, ()))


def _form_row(kind: str, values: list, states: list) -> dict:
    wanted = set(view.TYPE_FIELDS.get(kind, ())) | {"date"}
    row = {s["id"]["field"]: v for s, v in zip(states, values, strict=True)
           if s["id"]["field"] in wanted and v not in (None, "")}
    return {**row, "type": kind}


@callback(Output(ids.TX_FORM_STATUS, "children"), Output(ids.TX_VERSION, "data"),
          Input(ids.TX_ADD, "n_clicks"), State(ids.TX_TYPE, "value"),
          State({"type": ids.TX_FIELD_TYPE, "field": ALL}, "value"),
          State(ids.TX_VERSION, "data"), prevent_initial_call=True)
def update_add_entry(_clicks, kind, values, version):
    """Validate the form as one import row and store it; a bad field stores nothing."""
    settings = services.settings()
    row = _form_row(str(kind), values, ctx.states_list[1])
    try:
        entry = parse_row(row, universe=settings.assets.keys(), tz=zone(None))
        stored = ledger_store.insert_entries(services.repository(), settings.portfolio.name, [
            ledger_store.with_identity(entry, settings.portfolio.name)])
    except (ValueError, DataError) as exc:
        field = getattr(exc, "field", None)
        return html.Span(f"{field}: {exc}" if field else str(exc), className="text-danger"), \
            dash.no_update
    return html.Span(f"Stored #{stored[0].id}: {entry.type} {entry.quantity} {entry.asset}",
                     className="text-success"), (version or 0) + 1


@callback(Output(ids.TX_FORM_STATUS, "children", allow_duplicate=True),
          Output(ids.TX_VERSION, "data", allow_duplicate=True),
          Input(ids.TX_DELETE, "n_clicks"), State(ids.TX_GRID, "selectedRows"),
          State(ids.TX_VERSION, "data"), prevent_initial_call=True)
def update_delete(_clicks, selected, version):
    """Delete the selected entry."""
    if not selected or not isinstance(selected, list) or not isinstance(selected[0], dict):
        return "Select a row first.", dash.no_update
    entry_id = selected[0].get("id")
    if not isinstance(entry_id, int) or isinstance(entry_id, bool):
        return "Select a row first.", dash.no_update
    settings = services.settings()
    if not ledger_store.delete_entry(services.repository(), settings.portfolio.name, entry_id):
        return "That entry no longer exists.", (version or 0) + 1
    return f"Deleted #{entry_id}.", (version or 0) + 1


def _decode(contents: str) -> str:
    """Text of a dcc.Upload data URL.

    Raises:
        ValueError: not base64 UTF-8 text.
    """
    try:
        return base64.b64decode(contents.split(",", 1)[1], validate=True).decode("utf-8")
    except (IndexError, binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError("the file must be UTF-8 text (CSV or JSON)") from exc


HIDDEN = "d-none"


@callback(Output(ids.TX_PREVIEW, "children"), Output(ids.TX_PENDING, "data"),
          Output(ids.TX_CONFIRM, "className"), Output(ids.TX_CONFIRM, "children"),
          Input(ids.TX_UPLOAD, "contents"), State(ids.TX_TIMEZONE, "value"),
          prevent_initial_call=True)
def update_preview(contents, tz):
    """Dry run of the uploaded file: what would be stored, duplicates, every bad row."""
    if not isinstance(contents, str):
        raise dash.exceptions.PreventUpdate
    try:
        text = _decode(contents)
        result = import_text(services.repository(), services.settings(), text, tz=tz or None,
                             dry_run=True)
    except LedgerImportError as exc:
        errors = [{"row": e.row, "field": e.field, "reason": e.reason} for e in exc.errors]
        return view.import_errors(errors), None, HIDDEN, ""
    except (ValueError, DataError) as exc:
        return dbc.Alert(str(exc), color="danger", className="py-2 small"), None, HIDDEN, ""
    summary = {"rows": result.rows, "new": len(result.entries), "duplicates": result.duplicates}
    shown = "" if summary["new"] else HIDDEN
    return view.preview(summary), {"text": text, "tz": tz or None}, shown, \
        f"Import {summary['new']} entries"


@callback(Output(ids.TX_PREVIEW, "children", allow_duplicate=True),
          Output(ids.TX_CONFIRM, "className", allow_duplicate=True),
          Output(ids.TX_VERSION, "data", allow_duplicate=True),
          Input(ids.TX_CONFIRM, "n_clicks"), State(ids.TX_PENDING, "data"),
          State(ids.TX_VERSION, "data"), prevent_initial_call=True)
def update_confirm(_clicks, pending, version):
    """Store the previewed file (all or nothing; duplicates skipped again)."""
    if not isinstance(pending, dict) or not isinstance(pending.get("text"), str):
        raise dash.exceptions.PreventUpdate
    try:
        result = import_text(services.repository(), services.settings(), pending["text"],
                             tz=pending.get("tz"))
    except (LedgerImportError, ValueError, DataError) as exc:
        return dbc.Alert(str(exc), color="danger", className="py-2 small"), HIDDEN, \
            dash.no_update
    return dbc.Alert(f"Imported {len(result.entries)} entries ({result.duplicates} duplicates "
                     "skipped).", color="success", className="py-2 small"), HIDDEN, \
        (version or 0) + 1


@callback(Output(ids.TX_DOWNLOAD, "data"), Input(ids.TX_EXPORT_CSV, "n_clicks"),
          Input(ids.TX_EXPORT_GHOSTFOLIO, "n_clicks"), prevent_initial_call=True)
def update_export(_csv, _ghostfolio):
    """Download the ledger (generic CSV, or Ghostfolio JSON)."""
    fmt = "ghostfolio" if ctx.triggered_id == ids.TX_EXPORT_GHOSTFOLIO else "csv"
    text = export_text(services.repository(), services.settings().portfolio.name, fmt)
    stamp = f"{datetime.now(timezone.utc):%Y%m%d-%H%M%S}"
    ext = "csv" if fmt == "csv" else "json"
    return dcc.send_string(text, f"btcfolio-ledger-{stamp}.{ext}")
