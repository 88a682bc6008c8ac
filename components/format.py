"""Number formatting shared by every view: BTC to 8 decimals, sats with separators."""

from __future__ import annotations

from analytics.portfolio_value import SATS_PER_BTC


def fmt_btc(value: float) -> str:
    """'₿0.12345678'."""
    return f"₿{value:,.8f}"


def fmt_sats(value_btc: float) -> str:
    """'12,345,678 sats'."""
    return f"{round(value_btc * SATS_PER_BTC):,} sats"


def fmt_usd(value: float) -> str:
    """'$1,234.56'."""
    return f"${value:,.2f}"


def fmt_pct(value: float, digits: int = 2) -> str:
    """'12.34%' from a fraction."""
    return f"{value * 100:.{digits}f}%"
