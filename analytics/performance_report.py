"""The performance report of a ledger over a period (pure): the ``/api/performance`` body.

Conventions: ``analytics.performance`` and docs/performance.md.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date

import numpy as np
import pandas as pd

from analytics.ledger import Entry
from analytics.ledger_arrays import LedgerColumns
from analytics.lots import cost_basis
from analytics.performance import (
    SATS,
    Grid,
    annualise,
    build_grid,
    daily_twr,
    max_drawdown,
    period_days,
    previous_day,
    xirr_rate,
)


def _num(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _money(grid: Grid, rows: slice, start: date, *, usd: bool) -> dict:
    """TWR, annualised TWR, XIRR, values and net flows in BTC or (usd) in USD."""
    scale = grid.btc_usd if usd else np.ones(len(grid.days))
    values = grid.values_btc() * scale
    f_in, f_out = grid.flow_in_btc * scale, grid.flow_out_btc * scale
    before = rows.start - 1
    start_value = float(values[before]) if before >= 0 else 0.0
    v, fi, fo = values[rows], f_in[rows], f_out[rows]
    r = daily_twr(v, fi, fo, start_value)
    twr = float(np.prod(1.0 + r) - 1.0)
    first = grid.days[rows.start].date().toordinal()
    flows = fo - fi
    moved = np.flatnonzero(flows)  # XIRR drops zero amounts: no date for the other days
    dates = [previous_day(start), *(date.fromordinal(first + int(i)) for i in moved),
             date.fromordinal(first + len(v) - 1)]
    amounts = [-start_value, *flows[moved].tolist(), float(v[-1])]
    return {"start": start_value, "end": float(v[-1]), "net_flows": float(fi.sum() - fo.sum()),
            "twr": twr, "twr_annualised": annualise(twr, len(v)),
            "mwr": xirr_rate(dates, amounts), "returns": r}


def _assets(grid: Grid, last: int, method: str) -> dict:
    positions = cost_basis(grid, method=method, upto=last)
    col = {a: i for i, a in enumerate(grid.assets)}
    out = {}
    for asset, pos in sorted(positions.items()):
        qty = float(grid.holdings[last, col[asset]])
        value = qty * grid.price_btc[last, col[asset]] if qty else 0.0
        cost_btc = sum(lot.cost_btc for lot in pos.lots)
        cost_usd = sum(lot.cost_usd for lot in pos.lots)
        out[asset] = {"quantity": qty, "value_btc": _num(value), "cost_basis_btc": cost_btc,
                      "cost_basis_usd": cost_usd, "unrealised_btc": _num(value - cost_btc),
                      "realised_btc": pos.realised_btc, "realised_usd": pos.realised_usd}
    return out


def _series(days: pd.DatetimeIndex, values: np.ndarray, index: np.ndarray,
            hodl: np.ndarray) -> list[dict]:
    iso = np.datetime_as_string(days.tz_localize(None).to_numpy(dtype="datetime64[D]"))
    return [{"date": d, "value_btc": v, "twr_index_btc": i, "hodl_btc": h}
            for d, v, i, h in zip(iso.tolist(), values.tolist(), index.tolist(), hodl.tolist(),
                                  strict=True)]


def performance_report(entries: Sequence[Entry] | LedgerColumns, closes: pd.DataFrame, *,
                       end: date, start: date | None = None, method: str = "fifo") -> dict:
    """Performance of the ledger over [start, end] (start: the first entry's day).

    Raises:
        MissingPriceError: a held asset or BTC has no close when it must be valued.
        ValueError: empty ledger, start after end, unknown cost basis method.
    """
    if start is not None and start > end:
        raise ValueError("start must not be after end")
    grid = build_grid(entries, closes, end=end, first=previous_day(start) if start else None)
    start = start or grid.days[0].date()
    rows = period_days(grid, start, end)
    btc, usd = _money(grid, rows, start, usd=False), _money(grid, rows, start, usd=True)
    index = pd.Series(np.cumprod(1.0 + btc["returns"]), index=grid.days[rows])
    hodl = btc["start"] + np.cumsum(grid.flow_in_btc[rows] - grid.flow_out_btc[rows])
    vs_hodl = btc["end"] - float(hodl[-1])
    values = grid.values_btc()[rows]
    returns = btc["returns"]
    volatility = float(np.std(returns, ddof=1) * math.sqrt(365)) if len(returns) > 1 else None
    report = {"start": start.isoformat(), "end": end.isoformat(), "cost_basis_method": method}
    for unit, part in (("btc", btc), ("usd", usd)):
        report.update({f"value_{unit}_start": part["start"], f"value_{unit}_end": part["end"],
                       f"net_flows_{unit}": part["net_flows"], f"twr_{unit}": part["twr"],
                       f"twr_{unit}_annualised": _num(part["twr_annualised"]),
                       f"mwr_{unit}": _num(part["mwr"])})
    report.update({
        "hodl_btc": float(hodl[-1]), "vs_hodl_btc": vs_hodl, "vs_hodl_sats": round(vs_hodl * SATS),
        "value_sats_end": round(btc["end"] * SATS),
        "volatility_btc_365": _num(volatility), "max_drawdown_btc": max_drawdown(index),
        "assets": _assets(grid, rows.stop - 1, method),
        "negative_balances": [
            {"account": n.account, "asset": n.asset, "date": n.trade_date.isoformat(),
             "balance": str(n.balance), "entry_id": n.entry_id}
            for n in grid.negative],
        "series": _series(grid.days[rows], values, index.to_numpy(), hodl)})
    return report
