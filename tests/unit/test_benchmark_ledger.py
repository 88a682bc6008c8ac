"""The ledger benchmark's baselines compute what the measured paths compute (no timings)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import pandas as pd
import pytest

from benchmarks.ledger import ledger_csv, naive_import, naive_twr
from data.store import ledger_store
from data.store.ledger_io import import_text
from queries.performance import performance
from tests.support.sample import SAMPLE


def test_naive_twr_equals_the_report_on_a_generated_ledger(settings, repo):
    frame = pd.read_csv(SAMPLE)
    frame["ts"] = pd.to_datetime(frame["date"], utc=True)
    text = ledger_csv(frame, ["BTC", "ETH", "SOL", "SPY", "GLD"], date(2024, 1, 5), n=400)
    import_text(repo, settings, text)
    entries = ledger_store.load_entries(repo, settings.portfolio.name)
    closes: dict = defaultdict(dict)
    for row in frame.itertuples():
        closes[row.symbol][row.ts.date()] = row.close
    first = entries[0].trade_date
    report = performance(repo, settings, start=None, end=date(2025, 8, 13))
    assert naive_twr(entries, closes, first, date(2025, 8, 13)) == pytest.approx(
        report["twr_btc"], abs=1e-9)


def test_naive_import_stores_what_import_text_stores(settings, repo):
    frame = pd.read_csv(SAMPLE)
    frame["ts"] = pd.to_datetime(frame["date"], utc=True)
    text = ledger_csv(frame, ["BTC", "ETH"], date(2024, 1, 5), n=50)
    assert naive_import(repo, settings, text) == 50
    ours = import_text(repo, settings, text)
    naive = ledger_store.load_entries(repo, "naive")
    assert [e.content()[:-1] for e in naive] == [e.content()[:-1] for e in ours.entries]
