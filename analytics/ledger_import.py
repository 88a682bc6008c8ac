"""Parse a transactions file into ledger entries (pure): generic CSV or Ghostfolio export JSON.

Generic CSV columns (case-insensitive; Ghostfolio's and Wealthfolio's names accepted too):
``date,type,account,asset,quantity,price,price_currency,fee,fee_asset,counter_asset,
counter_quantity,to_account,external_id,note`` plus the optional ``subtype`` and
``trade_date`` that btcfolio's own export writes (so export -> import is an identity).

Every row is checked; the result carries either entries or every bad row's number (1 = the
first row after the header / the first activity), field and reason. Nothing is half-parsed.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, time
from datetime import timezone as dt_timezone
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from analytics.ledger import (
    ADJUSTMENT_SUBTYPES,
    CASH,
    DEFAULT_ACCOUNT,
    INCOME_SUBTYPES,
    TRANSFER_SUBTYPES,
    TYPES,
    Entry,
)

MAX_QUANTITY = Decimal("1e12")
MAX_PLACES = 18
MAX_TEXT = {"note": 500, "external_id": 128, "account": 64, "to_account": 64}
ALIASES = {
    "date": "date", "datetime": "date", "timestamp": "date",
    "type": "type", "action": "type", "activitytype": "type",
    "account": "account", "accountid": "account", "account_id": "account",
    "asset": "asset", "code": "asset", "symbol": "asset", "ticker": "asset",
    "quantity": "quantity", "qty": "quantity", "shares": "quantity",
    "price": "price", "unitprice": "price", "unit_price": "price",
    "price_currency": "price_currency", "currency": "price_currency",
    "fee": "fee", "commission": "fee", "fees": "fee",
    "fee_asset": "fee_asset", "fee_currency": "fee_asset",
    "counter_asset": "counter_asset", "counter_quantity": "counter_quantity",
    "to_account": "to_account", "external_id": "external_id", "id": "external_id",
    "note": "note", "comment": "note", "notes": "note", "description": "note",
    "subtype": "subtype", "trade_date": "trade_date",
}
# Other trackers' type names -> (ledger type, subtype).
TYPE_ALIASES = {
    "BUY": ("TRADE", "buy"), "SELL": ("TRADE", "sell"),
    "DIVIDEND": ("INCOME", "dividend"), "INTEREST": ("INCOME", "interest"),
    "STAKING": ("INCOME", "staking"), "REWARD": ("INCOME", "staking"),
    "MINING": ("INCOME", "mining"), "AIRDROP": ("INCOME", "airdrop"),
    "TRANSFER_IN": ("DEPOSIT", None), "ADD_HOLDING": ("DEPOSIT", None),
    "TRANSFER_OUT": ("WITHDRAWAL", None), "REMOVE_HOLDING": ("WITHDRAWAL", None),
    "TAX": ("FEE", None), "SPLIT": ("ADJUSTMENT", "split"),
    **{t: (t, None) for t in TYPES},
}


@dataclass(frozen=True)
class RowError:
    """Why one row cannot be stored."""

    row: int
    field: str
    reason: str


@dataclass
class ParsedImport:
    """Entries of a file (in file order) or the errors of its bad rows."""

    entries: list[Entry] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)


class _Bad(ValueError):
    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field_name


def zone(name: str | None) -> ZoneInfo:
    """The named IANA time zone (default UTC).

    Raises:
        ValueError: not a known Area/City zone.
    """
    if not name:
        return ZoneInfo("UTC")
    if not name.isprintable() or len(name) > 64 or ".." in name or name.startswith("/"):
        raise ValueError("timezone must be an IANA name such as Europe/Zurich")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown timezone {name[:64]!r} (use Area/City)") from exc


def _text(row: dict, name: str, *, required: bool = False) -> str | None:
    """The field's stripped text; None when absent or blank (a ``missing`` error if required)."""
    value = row.get(name)
    text = "" if value is None else str(value).strip()
    if not text:
        if required:
            raise _Bad(name, "missing")
        return None
    if not text.isprintable():
        raise _Bad(name, "contains control characters")
    if len(text) > MAX_TEXT.get(name, 64):
        raise _Bad(name, f"longer than {MAX_TEXT.get(name, 64)} characters")
    return text


def _decimal(row: dict, name: str, *, required: bool = False, signed: bool = False
             ) -> Decimal | None:
    text = _text(row, name, required=required)
    if text is None:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise _Bad(name, f"not a number: {text[:32]!r}") from None
    if not value.is_finite():
        raise _Bad(name, "must be a finite number")
    if abs(value) > MAX_QUANTITY:
        raise _Bad(name, f"larger than {MAX_QUANTITY:,.0f}")
    if value.normalize().as_tuple().exponent < -MAX_PLACES:
        raise _Bad(name, f"more than {MAX_PLACES} decimal places")
    if value < 0 and not signed:
        raise _Bad(name, "must not be negative")
    return value


def _asset(row: dict, name: str, universe: Collection[str], *, required: bool = True
           ) -> str | None:
    text = _text(row, name, required=required)
    if text is None:
        return None
    symbol = text.upper()
    if symbol != CASH and symbol not in universe:
        raise _Bad(name, f"{symbol[:32]} is not an asset of the configured universe (or USD)")
    return symbol


def _when(row: dict, tz: ZoneInfo) -> tuple[datetime, date]:
    text = _text(row, "date", required=True)
    try:
        if len(text) == 10:
            local = datetime.combine(date.fromisoformat(text), time(0), tz)
        else:
            local = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _Bad("date", f"not an ISO date: {text[:40]!r}") from None
    if local.tzinfo is None:
        local = local.replace(tzinfo=tz)
    trade = _text(row, "trade_date")
    try:
        # The trade date is the day in the user's zone (Ghostfolio writes 23:00Z for a
        # Central European midnight); a plain date is that date as written.
        day = date.fromisoformat(trade) if trade else local.astimezone(tz).date()
    except ValueError:
        raise _Bad("trade_date", f"not an ISO date: {trade[:20]!r}") from None
    return local.astimezone(dt_timezone.utc), day


def _kind(row: dict) -> tuple[str, str | None]:
    text = _text(row, "type", required=True)
    key = text.upper().replace(" ", "_")
    if key not in TYPE_ALIASES:
        raise _Bad("type", f"unsupported type {text[:32]!r}")
    kind, implied = TYPE_ALIASES[key]
    return kind, _text(row, "subtype") or implied


def _shape(kind: str, sub: str | None, row: dict, universe: Collection[str]) -> dict:
    """Asset, quantity and counter side of a row by its type."""
    price = _decimal(row, "price")
    currency = _asset(row, "price_currency", universe, required=False) or CASH
    signed = kind == "ADJUSTMENT" and sub in ("opening", "correction", None)
    qty = _decimal(row, "quantity", required=kind != "FEE", signed=signed)
    if kind == "FEE" and not qty:
        # Ghostfolio: a fee activity has quantity 0, its amount in ``fee`` and free-text symbol.
        fee = _decimal(row, "fee", required=True)
        if not fee:
            raise _Bad("fee", "a fee needs a quantity or a fee amount")
        return {"asset": _asset(row, "fee_asset", universe, required=False) or currency,
                "quantity": fee, "fee_used": True}
    asset = _asset(row, "asset", universe)
    if kind == "TRADE":
        return _trade(sub, asset, qty, price, currency, row, universe)
    if kind == "INCOME" and sub in ("dividend", "interest") and price is not None:
        # Ghostfolio/Wealthfolio: a dividend is quantity x unit price, paid in the currency.
        return {"asset": currency, "quantity": qty * price,
                "note": _text(row, "note") or f"{sub} of {asset}"}
    if qty == 0:
        raise _Bad("quantity", "must not be zero")
    return {"asset": asset, "quantity": qty}


def _trade(sub, asset, qty, price, currency, row, universe) -> dict:
    counter = _asset(row, "counter_asset", universe, required=False)
    counter_qty = _decimal(row, "counter_quantity")
    if counter is None or counter_qty is None:
        if price is None:
            raise _Bad("price", "a trade needs a price or counter_asset and counter_quantity")
        counter, counter_qty = currency, qty * price
    if qty == 0 or counter_qty == 0:
        raise _Bad("quantity", "a trade must move a non-zero quantity on both sides")
    if sub == "sell":  # SELL asset: receive the currency, spend the asset
        return {"asset": counter, "quantity": counter_qty, "counter_asset": asset,
                "counter_quantity": qty, "subtype": None}
    return {"asset": asset, "quantity": qty, "counter_asset": counter,
            "counter_quantity": counter_qty, "subtype": None}


def _subtype(kind: str, sub: str | None, shaped: dict) -> str | None:
    if "subtype" in shaped:  # a trade consumed buy/sell
        return shaped["subtype"]
    allowed = {"ADJUSTMENT": ADJUSTMENT_SUBTYPES, "TRANSFER": TRANSFER_SUBTYPES,
               "INCOME": INCOME_SUBTYPES}.get(kind, ())
    if sub is None:
        return {"ADJUSTMENT": "correction", "TRANSFER": "fee_on_top"}.get(kind)
    sub = sub.lower()
    if sub not in allowed:
        raise _Bad("subtype", f"{sub[:24]!r} is not a subtype of {kind}"
                   + (f" ({', '.join(allowed)})" if allowed else ""))
    if sub == "split" and shaped["quantity"] <= 0:
        raise _Bad("quantity", "a split's quantity is its ratio and must be positive")
    return sub


def parse_row(row: dict, *, universe: Collection[str], tz: ZoneInfo) -> Entry:
    """One row (generic column names) as an entry.

    Raises:
        _Bad: the first problem found, with its field.
    """
    ts, day = _when(row, tz)
    kind, sub = _kind(row)
    shaped = _shape(kind, sub, row, universe)
    subtype = _subtype(kind, sub, shaped)
    account = _text(row, "account") or DEFAULT_ACCOUNT
    to_account = _text(row, "to_account")
    if kind == "TRANSFER" and (to_account is None or to_account == account):
        raise _Bad("to_account", "a transfer needs a to_account other than its account")
    fee = None if shaped.get("fee_used") else _decimal(row, "fee")
    fee_asset = _asset(row, "fee_asset", universe, required=False)
    if fee is not None and fee_asset is None:
        # The fee is in the price currency when the row names one (a SELL's fee is in USD,
        # not in the asset sold); else in what a trade spends, else in the asset itself.
        fee_asset = (_asset(row, "price_currency", universe, required=False)
                     or (shaped.get("counter_asset") if kind == "TRADE" else shaped["asset"]))
    if not fee:
        fee, fee_asset = None, None
    return Entry(type=kind, ts=ts, trade_date=day, asset=shaped["asset"],
                 quantity=shaped["quantity"], account=account, subtype=subtype,
                 counter_asset=shaped.get("counter_asset"),
                 counter_quantity=shaped.get("counter_quantity"), fee_asset=fee_asset,
                 fee_quantity=fee, to_account=to_account if kind == "TRANSFER" else None,
                 note=shaped.get("note") or _text(row, "note"),
                 external_id=_text(row, "external_id"))


def _parse_rows(rows: list[dict], universe: Collection[str], tz: ZoneInfo) -> ParsedImport:
    out = ParsedImport()
    for number, row in enumerate(rows, start=1):
        try:
            out.entries.append(parse_row(row, universe=universe, tz=tz))
        except _Bad as exc:
            out.errors.append(RowError(number, exc.field, str(exc)))
    return out


def parse_csv(text: str, *, universe: Collection[str], tz: ZoneInfo) -> ParsedImport:
    """Rows of a generic (or Ghostfolio/Wealthfolio) CSV."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if not header:
        return ParsedImport(errors=[RowError(0, "file", "empty file: no header row")])
    names = [ALIASES.get(h.strip().lower().replace(" ", "_")) for h in header]
    if len(set(n for n in names if n)) != len([n for n in names if n]):
        return ParsedImport(errors=[RowError(0, "header", "a column is given twice")])
    missing = {"date", "type", "asset"} - set(names)
    if missing:
        return ParsedImport(errors=[RowError(0, "header", f"missing column(s): "
                                             f"{', '.join(sorted(missing))}")])
    rows = []
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue  # a blank line is not a row
        rows.append({n: c for n, c in zip(names, cells, strict=False) if n})
    parsed = _parse_rows(rows, universe, tz)
    parsed.ignored_columns = [h for h, n in zip(header, names, strict=True) if n is None]
    if not rows:
        parsed.errors.append(RowError(0, "file", "no rows after the header"))
    return parsed


def ghostfolio_symbol(symbol: object, universe: Collection[str],
                      aliases: dict[str, str] | None = None) -> object:
    """Ghostfolio's symbol as ours: ``BTCUSD``/``BTC-USD`` (Yahoo), ``bitcoin`` (CoinGecko id)."""
    if not isinstance(symbol, str):
        return symbol
    text = symbol.strip()
    if aliases and text.lower() in aliases:
        return aliases[text.lower()]
    upper = text.upper().replace("-", "")
    if upper.endswith("USD") and upper[:-3] in universe:
        return upper[:-3]
    return text


def parse_ghostfolio(text: str, *, universe: Collection[str], tz: ZoneInfo,
                     aliases: dict[str, str] | None = None) -> ParsedImport:
    """Activities of a Ghostfolio export (``activities[]``; numbers read exactly)."""
    try:
        body = json.loads(text, parse_float=Decimal, parse_int=Decimal)
    except (ValueError, RecursionError):
        return ParsedImport(errors=[RowError(0, "file", "not valid JSON")])
    acts = body.get("activities") if isinstance(body, dict) else None
    if not isinstance(acts, list) or not acts:
        return ParsedImport(errors=[RowError(0, "activities", "expected a non-empty "
                                             "activities list (Ghostfolio export)")])
    rows = []
    for act in acts:
        if not isinstance(act, dict):
            rows.append({})
            continue
        rows.append({"date": act.get("date"), "type": act.get("type"),
                     "asset": ghostfolio_symbol(act.get("symbol"), universe, aliases),
                     "quantity": act.get("quantity"),
                     "price": act.get("unitPrice"), "fee": act.get("fee"),
                     "price_currency": act.get("currency"), "note": act.get("comment"),
                     "account": act.get("accountId"), "external_id": act.get("id")})
    return _parse_rows(rows, universe, tz)


def parse_import(content: str, *, universe: Collection[str], timezone: str | None = None,
                 aliases: dict[str, str] | None = None) -> ParsedImport:
    """A transactions file (CSV, or Ghostfolio JSON when it starts with ``{``) as entries.

    ``aliases``: provider ids (lower case, e.g. CoinGecko's ``bitcoin``) -> our symbols.

    Raises:
        ValueError: unknown timezone.
    """
    tz = zone(timezone)
    if content.lstrip("\ufeff \r\n\t").startswith("{"):
        return parse_ghostfolio(content, universe=universe, tz=tz, aliases=aliases)
    return parse_csv(content, universe=universe, tz=tz)
