"""Reject bad provider data before it is stored (pure functions, no IO).

A bar is rejected when its close (or a present open/high/low) is non-positive, NaN or infinite,
its volume is negative or infinite, its timestamp is in the future, its OHLC values contradict
each other (high below open/close/low, low above them), or its close jumps by more than
``max_jump_factor`` (up or down) from the previous accepted close (the last stored close for
the first bar). Every rejection is logged with the symbol, time and reason.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from data.models import Quote

logger = logging.getLogger(__name__)

_SKEW = timedelta(seconds=60)  # clock skew tolerated before a timestamp counts as future
_EPS = 1e-9


@dataclass(frozen=True)
class Rejection:
    """One rejected row: symbol, timestamp and the reason."""

    symbol: str
    ts: pd.Timestamp
    reason: str


def _row_problem(row: pd.Series, now: pd.Timestamp) -> str | None:
    close = row["close"]
    if not (isinstance(close, float) and math.isfinite(close)) or close <= 0:
        return f"close {close} is not a positive finite number"
    for col in ("open", "high", "low"):
        value = row[col]
        if not pd.isna(value) and (not math.isfinite(value) or value <= 0):
            return f"{col} {value} is not a positive finite number"
    volume = row["volume"]
    if not pd.isna(volume) and (not math.isfinite(volume) or volume < 0):
        return f"volume {volume} is negative or infinite"
    if row["ts"] > now + _SKEW:
        return f"timestamp {row['ts']} is in the future"
    o, h, low, c = row["open"], row["high"], row["low"], close
    if not pd.isna(h) and h * (1 + _EPS) < max(v for v in (o, low, c) if not pd.isna(v)):
        return f"high {h} below open/low/close"
    if not pd.isna(low) and low * (1 - _EPS) > min(v for v in (o, h, c) if not pd.isna(v)):
        return f"low {low} above open/high/close"
    return None


def clean_prices(frame: pd.DataFrame, *, now: datetime, max_jump_factor: float = 5.0,
                 last_close: float | None = None) -> tuple[pd.DataFrame, list[Rejection]]:
    """Split a price frame (one symbol, sorted by ts) into accepted rows and rejections.

    Args:
        frame: PRICE_COLUMNS frame.
        now: current time (UTC); later timestamps are rejected.
        max_jump_factor: largest accepted ratio between consecutive closes (> 1).
        last_close: the stored close before the frame's first bar, for the first jump check.

    Returns:
        (accepted rows, rejections) with accepted rows in the input order.
    """
    stamp_now = pd.Timestamp(now)
    keep = np.zeros(len(frame), dtype=bool)
    rejected: list[Rejection] = []
    previous = last_close if last_close and math.isfinite(last_close) and last_close > 0 else None
    for i, (_, row) in enumerate(frame.iterrows()):
        problem = _row_problem(row, stamp_now)
        if problem is None and previous is not None:
            ratio = row["close"] / previous
            if ratio > max_jump_factor or ratio < 1 / max_jump_factor:
                problem = (f"close {row['close']:g} jumps x{ratio:.3g} from previous "
                           f"{previous:g} (limit x{max_jump_factor:g})")
        if problem is None:
            keep[i] = True
            previous = row["close"]
            continue
        rejected.append(Rejection(str(row["symbol"]), row["ts"], problem))
        logger.warning("rejected %s bar %s from %s: %s", row["symbol"], row["ts"],
                       row["source"], problem)
    return frame[keep].reset_index(drop=True), rejected


def clean_quotes(quotes: Iterable[Quote], *, now: datetime) -> tuple[list[Quote], list[Rejection]]:
    """Split quotes into accepted ones and rejections (bad price, future timestamp)."""
    good, bad = [], []
    for q in quotes:
        problem = None
        if not math.isfinite(q.price_usd) or q.price_usd <= 0:
            problem = f"price {q.price_usd} is not a positive finite number"
        elif pd.Timestamp(q.ts) > pd.Timestamp(now) + _SKEW:
            problem = f"timestamp {q.ts} is in the future"
        if problem is None:
            good.append(q)
        else:
            bad.append(Rejection(q.symbol, pd.Timestamp(q.ts), problem))
            logger.warning("rejected %s quote from %s: %s", q.symbol, q.source, problem)
    return good, bad
