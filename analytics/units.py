"""The units every module counts in, defined once: the BTC symbol, USD and sats per BTC."""

from __future__ import annotations

BTC = "BTC"                # the unit of account (and the symbol of bitcoin in every frame)
USD = "USD"                # the pseudo-symbol of US dollars (price 1 at all times, cash)
SATS_PER_BTC = 100_000_000  # 1 BTC = 100,000,000 satoshis
