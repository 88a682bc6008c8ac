"""Number formatting shared by every view: BTC to 8 decimals, sats with separators."""

from __future__ import annotations

from analytics.units import SATS_PER_BTC


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


def fmt_amount(value_btc: float, sats: bool) -> str:
    """BTC with 8 decimals, or sats with separators when the sats toggle is on."""
    return fmt_sats(value_btc) if sats else fmt_btc(value_btc)


def fmt_signed_pct(value: float | None, digits: int = 2) -> str:
    """'+1.23%' / '-0.40%' from a fraction; '—' when there is no number."""
    if value is None or value != value:  # NaN check without importing math
        return "—"
    if abs(value * 100) < 0.5 * 10 ** -digits:  # never '-0.00%'
        return f"{0:.{digits}f}%"
    return f"{value * 100:+.{digits}f}%"


def fmt_quantity(value: float) -> str:
    """Quantity with separators and no trailing zeros: '5,000', '0.5', '12.345'."""
    text = f"{value:,.8f}".rstrip("0").rstrip(".")
    return text or "0"


def fmt_age(seconds: float) -> str:
    """A price age in words: '45 s', '12 min', '3 h', '5 days'."""
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:,.0f} days"
