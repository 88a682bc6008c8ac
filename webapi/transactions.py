"""/api/transactions: list, add, delete, import (CSV / Ghostfolio JSON) and export the ledger."""

from __future__ import annotations

import json
from decimal import Decimal

from flask import Blueprint, Response, jsonify, request

import services
from analytics.ledger_import import RowError, parse_row, zone
from data.store import ledger_store
from data.store.ledger_io import FORMATS, LedgerImportError, export_text, import_text
from errors import DataError
from queries.ledger import entry_json, transactions
from webapi.common import json_error, query_params

bp = Blueprint("api_transactions", __name__)
MAX_ENTRY_BYTES = 8192
MAX_IMPORT_BYTES = 8 * 1024 * 1024  # a 10,000-row CSV is about 1 MB
FIELDS = {"date", "type", "account", "asset", "quantity", "price", "price_currency", "fee",
          "fee_asset", "counter_asset", "counter_quantity", "to_account", "external_id", "note",
          "subtype", "trade_date"}


def _body(limit: int, mimetypes: tuple[str, ...]) -> tuple[bytes | None, tuple | None]:
    """The raw body, or an error response: 415 wrong type, 413 too large."""
    # Only non-"simple" content types: a cross-site form cannot send them without a CORS
    # preflight, so another web page cannot write to the ledger through the user's browser.
    if request.mimetype not in mimetypes:
        return None, json_error(f"the body must be {' or '.join(mimetypes)}", 415)
    if request.content_length is not None and request.content_length > limit:
        return None, json_error(f"request body larger than {limit} bytes", 413)
    raw = request.stream.read(limit + 1)  # also bounds chunked bodies
    if len(raw) > limit:
        return None, json_error(f"request body larger than {limit} bytes", 413)
    return raw, None


def _unique(pairs):
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("a key is given twice in the JSON body")
    return dict(pairs)


def _row_from_json(raw: bytes) -> dict:
    """A JSON object of generic fields as a row of text (numbers read exactly).

    Raises:
        ValueError: not a JSON object of known fields with scalar values.
    """
    try:
        body = json.loads(raw, object_pairs_hook=_unique, parse_float=Decimal)
    except (UnicodeDecodeError, RecursionError, json.JSONDecodeError) as exc:
        raise ValueError("the body must be a JSON object") from exc
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    unknown = sorted(set(body) - FIELDS)
    if unknown:
        raise ValueError(f"unknown field(s): {', '.join(k[:32] for k in unknown)}")
    row = {}
    for key, value in body.items():
        if isinstance(value, bool) or not isinstance(value, (str, int, Decimal, type(None))):
            raise ValueError(f"{key}: must be a string or a number")
        row[key] = None if value is None else str(value)
    return row


@bp.get("/api/transactions")
@query_params()
def get_transactions():
    """Every ledger entry (newest first), balances and negative-balance flags."""
    try:
        return jsonify(transactions(services.repository(), services.settings().portfolio.name))
    except DataError as exc:
        return json_error(str(exc), 503)


@bp.post("/api/transactions")
@query_params()
def post_transaction():
    """Add one entry: {"date", "type", "asset", "quantity", ...} -> 201 with the stored entry."""
    raw, error = _body(MAX_ENTRY_BYTES, ("application/json",))
    if error:
        return error
    settings = services.settings()
    try:
        row = _row_from_json(raw)
        entry = parse_row(row, universe=settings.assets.keys(), tz=zone(None))
    except ValueError as exc:
        field = getattr(exc, "field", None)
        return json_error(f"{field}: {exc}" if field else str(exc), 400)
    portfolio = settings.portfolio.name
    try:
        stored = ledger_store.insert_entries(
            services.repository(), portfolio, [ledger_store.with_identity(entry, portfolio)])
    except DataError as exc:
        return json_error(str(exc), 503)
    if not stored:
        return json_error(f"an entry with external_id {entry.external_id[:64]!r} is already "
                          "stored", 409)
    return jsonify({"transaction": entry_json(stored[0])}), 201


@bp.delete("/api/transactions/<entry_id>")
@query_params()
def delete_transaction(entry_id: str):
    """Delete one entry by id -> 200; 404 when there is no such entry."""
    if not entry_id.isdigit() or len(entry_id) > 12:
        return json_error("no such transaction", 404)
    try:
        deleted = ledger_store.delete_entry(services.repository(),
                                            services.settings().portfolio.name, int(entry_id))
    except DataError as exc:
        return json_error(str(exc), 503)
    return jsonify({"deleted": int(entry_id)}) if deleted else json_error(
        "no such transaction", 404)


def _flag(name: str) -> bool:
    raw = request.args.get(name, "false")
    if raw not in ("true", "false"):
        raise ValueError(f"{name} must be true or false")
    return raw == "true"


def _errors_json(errors: list[RowError]) -> list[dict]:
    return [{"row": e.row, "field": e.field, "reason": e.reason} for e in errors]


@bp.post("/api/transactions/import")
@query_params("dry_run", "timezone")
def import_transactions():
    """Import a generic CSV or Ghostfolio JSON, all or nothing (``?dry_run=true``: preview)."""
    try:
        dry_run = _flag("dry_run")
        tz = request.args.get("timezone")
        if tz is not None:
            if not tz.strip():  # zone("") would mean UTC: an empty parameter is a mistake
                raise ValueError("timezone must be an IANA name such as Europe/Zurich")
            zone(tz)
    except ValueError as exc:
        return json_error(str(exc), 400)
    raw, error = _body(MAX_IMPORT_BYTES, ("text/csv", "application/json"))
    if error:
        return error
    try:
        content = raw.decode("utf-8")
        result = import_text(services.repository(), services.settings(), content, tz=tz,
                             dry_run=dry_run)
    except UnicodeDecodeError:
        return json_error("the file must be UTF-8 text", 400)
    except LedgerImportError as exc:
        return jsonify({"error": str(exc), "errors": _errors_json(exc.errors)}), 400
    except DataError as exc:
        return json_error(str(exc), 503)
    body = {"dry_run": dry_run, "rows": result.rows, "new": len(result.entries),
            "duplicates": result.duplicates, "batch": None if dry_run else result.batch,
            "ignored_columns": result.ignored_columns,
            "entries": [entry_json(e) for e in result.entries]}
    return jsonify(body), 200 if dry_run else 201


@bp.get("/api/transactions/export")
@query_params("format")
def export_transactions():
    """The ledger as generic CSV (``?format=csv``, default) or Ghostfolio JSON."""
    fmt = request.args.get("format", "csv")
    if fmt not in FORMATS:
        return json_error(f"format must be one of {', '.join(FORMATS)}", 400)
    try:
        text = export_text(services.repository(), services.settings().portfolio.name, fmt)
    except DataError as exc:
        return json_error(str(exc), 503)
    kind, ext = ("text/csv", "csv") if fmt == "csv" else ("application/json", "json")
    return Response(text, mimetype=kind, headers={
        "Content-Disposition": f"attachment; filename=btcfolio-ledger.{ext}"})
