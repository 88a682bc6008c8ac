"""Storage: idempotent upserts, seeding rules, holdings, quotes (SQLite; PostgreSQL via TEST_DATABASE_URL)."""

from __future__ import annotations

from datetime import datetime, timezone

import pandas as pd
import pytest

from data.models import Quote
from data.store.repository import PRICES_VERSION_KEY, Repository
from data.store.seed import SEED_KEY, read_sample, seed_store
from tests.support.sample import NOW, SAMPLE


def _bars(closes: list[float], source: str = "coingecko", symbol: str = "BTC") -> pd.DataFrame:
    ts = pd.date_range("2025-01-01", periods=len(closes), freq="D", tz="UTC")
    return pd.DataFrame({"ts": ts, "symbol": symbol, "open": closes, "high": closes,
                         "low": closes, "close": closes, "volume": 1.0, "source": source})


@pytest.mark.postgres
def test_storage_upsert_same_rows_twice_changes_nothing(store):
    assert store.upsert_prices(_bars([1.0, 2.0, 3.0])) == 3
    assert store.upsert_prices(_bars([1.0, 2.0, 3.0])) == 0
    assert store.count_prices() == {"1d": 3}


@pytest.mark.postgres
def test_storage_upsert_changed_row_is_updated(store):
    store.upsert_prices(_bars([1.0, 2.0, 3.0]))
    assert store.upsert_prices(_bars([1.0, 2.5, 3.0])) == 1
    assert store.load_prices(["BTC"])["close"].tolist() == [1.0, 2.5, 3.0]


@pytest.mark.postgres
def test_storage_seed_never_overwrites_provider_rows(store):
    store.upsert_prices(_bars([111.0], source="coingecko"))
    seed = _bars([999.0, 5.0], source="sample")
    assert store.upsert_prices(seed, overwrite=False) == 1
    got = store.load_prices(["BTC"])
    assert got["close"].tolist() == [111.0, 5.0]
    assert got["source"].tolist() == ["coingecko", "sample"]


@pytest.mark.postgres
def test_storage_timestamps_round_trip_as_utc(store):
    store.upsert_prices(_bars([1.0, 2.0]))
    got = store.load_prices(["BTC"])
    assert str(got["ts"].dt.tz) == "UTC"
    assert got["ts"].tolist() == list(pd.date_range("2025-01-01", periods=2, freq="D", tz="UTC"))


@pytest.mark.postgres
def test_storage_quotes_older_quote_never_replaces_newer(store):
    new = Quote("BTC", 100.0, datetime(2025, 1, 2, tzinfo=timezone.utc), "coingecko")
    old = Quote("BTC", 90.0, datetime(2025, 1, 1, tzinfo=timezone.utc), "yahoo")
    store.upsert_quotes([new], fetched_at=NOW)
    store.upsert_quotes([old], fetched_at=NOW)
    q = store.load_quotes()
    assert q["price_usd"].tolist() == [100.0] and q["source"].tolist() == ["coingecko"]


@pytest.mark.postgres
def test_storage_holdings_set_replace_remove(store):
    store.set_holding("BTC", 1.5)
    store.set_holding("BTC", 2.0)
    store.set_holding("SPY", 3.0)
    assert store.load_holdings() == {"BTC": 2.0, "SPY": 3.0}
    assert store.remove_holding("SPY") is True
    assert store.remove_holding("SPY") is False
    with pytest.raises(ValueError):
        store.set_holding("BTC", float("nan"))
    assert store.load_holdings() == {"BTC": 2.0}


@pytest.mark.postgres
def test_storage_seed_runs_once_and_matches_csv(store):
    inserted = seed_store(store, SAMPLE, now=NOW)
    raw = pd.read_csv(SAMPLE)
    assert inserted == len(raw)
    assert seed_store(store, SAMPLE, now=NOW) == 0
    assert store.get_meta(SEED_KEY) is not None
    closes = store.load_closes(["BTC", "SPY"])
    btc = raw[raw.symbol == "BTC"].set_index("date")["close"]
    assert closes["BTC"].iloc[-1] == btc.iloc[-1]
    # Stocks have no weekend rows: no forward fill happened on the way in.
    assert closes["SPY"].notna().sum() == (raw.symbol == "SPY").sum()


def test_storage_read_sample_is_utc_and_tagged():
    frame = read_sample(SAMPLE)
    assert str(frame["ts"].dt.tz) == "UTC"
    assert set(frame["source"]) == {"sample"}
    assert frame["close"].gt(0).all()


def test_storage_sqlite_uses_wal(tmp_path):
    repo = Repository.from_url(f"sqlite:///{tmp_path / 'w.db'}")
    with repo.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000


def test_storage_migration_keeps_data_on_restart(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    Repository.from_url(url).upsert_prices(_bars([1.0]))
    again = Repository.from_url(url)  # runs the migration step again
    assert again.count_prices() == {"1d": 1}


@pytest.mark.postgres
def test_storage_source_status_counts_consecutive_failures(store):
    t0 = datetime(2025, 1, 1, tzinfo=timezone.utc)
    store.record_source_status("yahoo", ok=False, now=t0, error="timeout")
    store.record_source_status("yahoo", ok=False, now=t0, error="HTTP 503")
    (row,) = store.load_source_health()
    assert (row["healthy"], row["failures"], row["last_error"]) == (False, 2, "HTTP 503")
    store.record_source_status("yahoo", ok=True, now=t0)
    (row,) = store.load_source_health()
    assert (row["healthy"], row["failures"]) == (True, 0)
    assert row["last_ok"] == "2025-01-01T00:00:00+00:00"
    assert row["last_error"] == "HTTP 503"  # the last error stays visible after recovery


@pytest.mark.postgres
def test_storage_latest_closes_walk_every_symbol_and_respect_the_window(store):
    store.upsert_prices(pd.concat([_bars([1.0, 2.0, 3.0]), _bars([10.0, 20.0], symbol="ETH"),
                                   _bars([5.0, 6.0, 7.0, 8.0], symbol="SPY")]))
    store.upsert_prices(_bars([9.0], symbol="SOL"), interval="1h")  # another interval only
    latest = store.load_latest_prices().set_index("symbol")
    assert latest["price_usd"].to_dict() == {"BTC": 3.0, "ETH": 20.0, "SPY": 8.0}
    assert set(latest["kind"]) == {"close"}
    at = datetime(2025, 1, 2, tzinfo=timezone.utc)
    window = store.load_closes_asof(at, ["BTC", "SPY", "SOL"],
                                    since=datetime(2025, 1, 2, tzinfo=timezone.utc))
    assert window.set_index("symbol")["price_usd"].to_dict() == {"BTC": 2.0, "SPY": 6.0}
    assert (window["ts"] == pd.Timestamp(at)).all()
    before = store.load_closes_asof(datetime(2024, 12, 31, tzinfo=timezone.utc), ["BTC"],
                                    since=datetime(2024, 12, 1, tzinfo=timezone.utc))
    assert before.empty


@pytest.mark.postgres
def test_storage_newest_quote_fetch(store):
    assert store.newest_quote_fetch() is None
    quote = Quote(symbol="BTC", price_usd=1.0, ts=NOW, source="coingecko")
    store.upsert_quotes([quote], fetched_at=NOW)
    assert store.newest_quote_fetch() == pd.Timestamp(NOW)


@pytest.mark.postgres
def test_storage_prices_version_changes_with_every_price_write_and_only_then(store):
    daily, hourly = PRICES_VERSION_KEY + "1d", PRICES_VERSION_KEY + "1h"
    assert store.meta_values([daily, hourly]) == {}
    store.upsert_prices(_bars([1.0, 2.0]))
    first = store.meta_values([daily])[daily]
    store.upsert_prices(_bars([1.0, 2.0]))  # the same rows: nothing written, same version
    assert store.meta_values([daily])[daily] == first
    store.upsert_prices(_bars([1.0, 2.5]))  # a corrected close
    second = store.meta_values([daily])[daily]
    assert second != first
    assert store.delete_prices_before("1d", datetime(2025, 1, 2, tzinfo=timezone.utc)) == 1
    assert store.meta_values([daily])[daily] not in (first, second)
    assert store.meta_values([hourly]) == {}  # other intervals keep their own version
