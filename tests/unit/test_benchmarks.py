"""The benchmark harness: its results file, its data, and that each baseline computes what the
measured path computes (no timing assertions: timings are the harness's output, not a test)."""

from __future__ import annotations

import json
import math
import sqlite3

import numpy as np
import pandas as pd
import pytest

from benchmarks import __main__ as cli
from benchmarks import correlation, dataset, ingest, naive, refresh
from benchmarks.common import RESULT_KEYS


@pytest.fixture(scope="module")
def series():
    return dataset.real_series()


def test_quick_harness_writes_every_figure_with_the_result_schema(tmp_path):
    out = tmp_path / "results.json"
    assert cli.main(["--quick", "--only", "refresh", "correlation", "ingest",
                     "--out", str(out)]) == 0
    rows = json.loads(out.read_text())
    names = [r["name"] for r in rows]
    assert len(names) == len(set(names))
    assert {"refresh p50, 10 assets", "refresh p50, 200 assets",
            "bytes per refresh, 10 assets"} <= set(names)
    assert any(n.startswith("correlation") for n in names)
    assert any(n.startswith("ingest") for n in names)
    for row in rows:
        assert tuple(row) == RESULT_KEYS
        assert isinstance(row["value"], (int, float)) and math.isfinite(row["value"])
        assert isinstance(row["met"], bool)
        if row["baseline"] is not None:
            assert row["ratio"] == pytest.approx(row["value"] / row["baseline"], rel=1e-2)


def test_universe_replays_real_returns_and_copies_are_time_shifted(series):
    assets = dataset.universe(30, series)
    assert len({a.symbol for a in assets}) == 30
    assert [a.symbol for a in assets].count("BTC") == 1
    end = dataset.today()
    frame = dataset.history(assets, series, end=end, days=400)
    eth = frame[frame.symbol == "ETH"]["close"].to_numpy()
    real = series["ETH"]["close"].to_numpy()
    # The first returns of ETH are the sample's first returns, in order.
    assert np.allclose(np.diff(np.log(eth))[:50], np.diff(np.log(real))[:50])
    copy = next(a for a in assets if a.base == "ETH" and a.symbol != "ETH")
    shifted = frame[frame.symbol == copy.symbol]["close"].to_numpy()
    assert np.allclose(np.diff(np.log(shifted))[:50],
                       np.diff(np.log(real))[copy.offset:copy.offset + 50])
    spy = frame[frame.symbol == "SPY"]["ts"]
    assert (spy.dt.day_of_week < 5).all() and frame["ts"].max() == end


def test_naive_and_real_refresh_compute_the_same_values(tmp_path):
    session = refresh.Session(dataset.build_store(tmp_path, 24))
    session.refresh()
    session.refresh()
    assert refresh.agreement(session) < 1e-9


def test_naive_conversion_is_the_spec_formula(tmp_path):
    store = dataset.build_store(tmp_path, 10)
    last = store.frame.groupby("symbol")["close"].last()
    with store.repo.engine.connect() as conn:
        got = naive.to_btc(conn, 2.0, "SPY", dataset.today().to_pydatetime(), quotes=False)
    assert got == pytest.approx(2.0 * last["SPY"] / last["BTC"])


def test_steady_state_refresh_sends_less_than_the_full_render(tmp_path):
    session = refresh.Session(dataset.build_store(tmp_path, 10))
    _ms, full, _request = session.refresh()
    _ms, steady, _request = session.refresh()
    assert 0 < steady < full
    # The tab applied both answers as a browser does: it shows the portfolio's value.
    assert session.tab.value().startswith("₿")


def test_correlation_equals_corrcoef_on_an_aligned_panel():
    closes = correlation.panel(n_assets=40, days=120)
    assert closes.isna().any().any()  # mixed calendars: equities miss weekends
    assert correlation.check(closes) < 1e-9


def test_ingest_paths_store_the_same_rows(tmp_path):
    frame = ingest.minute_bars(5000)
    assert len(frame) == 5000 and frame["ts"].is_unique is False  # several symbols
    assert ingest.check(frame, tmp_path)
    with sqlite3.connect(tmp_path / "check_ours.db") as conn:
        assert conn.execute("SELECT count(*) FROM prices WHERE interval = '1m'").fetchone()[0] \
            == 5000


def test_gap_heal_figure_stores_what_its_floor_stores(tmp_path):
    from benchmarks import gaps

    m = gaps.measure(tmp_path, runs=1)
    healed, floor = gaps.stored(m["heal_store"]), gaps.stored(m["floor_store"])
    assert len(healed) > 12 * 250
    pd.testing.assert_frame_equal(healed, floor)
    assert m["floor_calls"] == 7 * 2 + 5  # crypto: CoinGecko's window + Yahoo before it
    assert m["floor_calls"] <= m["heal_calls"] <= 1.5 * m["floor_calls"]
