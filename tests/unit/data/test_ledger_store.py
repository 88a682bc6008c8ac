"""Ledger store: migration 0003 (holdings -> opening entries), exact decimals, holdings edits.

Both backends: SQLite always, PostgreSQL through TEST_DATABASE_URL (private schema).
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from analytics.ledger import Entry, dedupe_hash, replay
from data import ledger_store
from data.seed import init_portfolio, seed_store
from data.storage import _MIGRATIONS, Repository, create_engine
from tests.backends import pg_schema
from tests.conftest import NOW, SAMPLE


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'l.db'}"
        return
    with pg_schema() as pg:
        yield pg


def _upgrade(engine, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def test_ledger_migration_turns_holdings_into_opening_entries(url):
    # A store as revision 0002 left it: prices from 2021-01-01 and float holdings.
    engine = create_engine(url)
    _upgrade(engine, "0002")
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO prices VALUES ('BTC', '1d', 1609459200, 1, 1, 1, "
                             "29374.15, 1, 'sample'), ('BTC', '1d', 1609545600, 1, 1, 1, "
                             "32127.27, 1, 'sample'), ('USDC', '1d', 1609459200, 1, 1, 1, "
                             "1.0, 1, 'sample'), ('SOL', '1d', 1609459200, 1, 1, 1, "
                             "1.5, 1, 'sample'), ('ETH', '1d', 1609545600, 1, 1, 1, "
                             "774.5, 1, 'sample')"))
        conn.execute(sa.text("INSERT INTO holdings VALUES ('default', 'ETH', 4.0), "
                             "('default', 'USDC', 0.1), ('default', 'BTC', 0.123456789012345), "
                             "('other', 'SOL', 40.0)"))
    _upgrade(engine, "head")
    repo = Repository(engine)
    # Without loss: every float reads back as the same float, now an exact decimal.
    assert repo.load_holdings("default") == {"BTC": 0.123456789012345, "ETH": 4.0, "USDC": 0.1}
    assert repo.load_holdings("other") == {"SOL": 40.0}
    entries = ledger_store.load_entries(repo, "default")
    assert {e.type for e in entries} == {"ADJUSTMENT"}
    assert {e.subtype for e in entries} == {"opening"}
    # Dated at the first day every held asset has a close (ETH's first is 2 January).
    assert {e.trade_date for e in entries} == {date(2021, 1, 2)}
    assert {e.trade_date for e in ledger_store.load_entries(repo, "other")} == {date(2021, 1, 1)}
    assert next(e for e in entries if e.asset == "USDC").quantity == Decimal("0.1")
    # The inline hash in the migration is the application's formula (re-import dedupes it).
    eth = next(e for e in entries if e.asset == "ETH")
    assert eth.dedupe_hash == dedupe_hash(eth, "default")
    with engine.connect() as conn:
        assert "holdings" not in sa.inspect(conn).get_table_names()


def test_ledger_fresh_store_sample_portfolio_opens_at_the_start_of_the_sample(settings,
                                                                             tmp_path):
    repo = Repository.from_url(settings.store.url)
    seed_store(repo, SAMPLE, now=NOW)
    init_portfolio(repo, settings.portfolio.holdings, settings.portfolio.name)
    entries = ledger_store.load_entries(repo, settings.portfolio.name)
    # The sample starts on 1 January 2021; its stocks on the first trading day, 4 January.
    assert {e.trade_date for e in entries} == {date(2021, 1, 4)}
    assert repo.load_holdings(settings.portfolio.name) == {
        s: float(q) for s, q in sorted(settings.portfolio.holdings.items())}
    # An empty configured portfolio (holdings: {}) starts empty.
    other = Repository.from_url(f"sqlite:///{tmp_path / 'empty.db'}")
    seed_store(other, SAMPLE, now=NOW)
    assert init_portfolio(other, {}, "default") is True
    assert other.load_holdings("default") == {}
    assert ledger_store.load_entries(other, "default") == []


def test_ledger_quantities_are_exact_decimals_in_the_store(url):
    repo = Repository.from_url(url)
    at = datetime(2024, 1, 1, tzinfo=timezone.utc)
    tiny = Decimal("0.000000000000000001")   # 1e-18: below float resolution next to 1e6
    big = Decimal("1000000")
    entries = [ledger_store.with_identity(Entry(type="DEPOSIT", ts=at, trade_date=at.date(),
                                                asset="ETH", quantity=q), "p")
               for q in (big, tiny)]
    ledger_store.insert_entries(repo, "p", entries)
    with repo.engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT quantity FROM ledger_entries ORDER BY id")).all()
    assert [r[0] for r in stored] == ["1000000", "0.000000000000000001"]
    assert replay(ledger_store.load_entries(repo, "p")).holdings() == {
        "ETH": Decimal("1000000.000000000000000001")}


def test_ledger_holdings_edits_write_matching_entries(url):
    repo = Repository.from_url(url)
    at = datetime(2024, 5, 1, 12, tzinfo=timezone.utc)
    ledger_store.deposit(repo, "p", "ETH", 4, now=at)
    ledger_store.deposit(repo, "p", "ETH", 1, now=at)      # same second, same amount: kept
    ledger_store.deposit(repo, "p", "ETH", 1, now=at)
    assert repo.load_holdings("p") == {"ETH": 6.0}
    ledger_store.set_quantity(repo, "p", "ETH", 2.5, now=at)
    assert repo.load_holdings("p") == {"ETH": 2.5}
    assert ledger_store.set_quantity(repo, "p", "ETH", 2.5, now=at) is None  # nothing to change
    removed = ledger_store.withdraw_all(repo, "p", "ETH", now=at)
    assert removed.type == "WITHDRAWAL" and removed.quantity == Decimal("2.5")
    assert repo.load_holdings("p") == {}
    assert ledger_store.withdraw_all(repo, "p", "ETH", now=at) is None
    kinds = [(e.type, e.subtype) for e in ledger_store.load_entries(repo, "p")]
    assert kinds == [("DEPOSIT", None)] * 3 + [("ADJUSTMENT", "correction"), ("WITHDRAWAL", None)]


def test_ledger_delete_entry_and_negative_balance_is_flagged(url):
    repo = Repository.from_url(url)
    at = datetime(2024, 5, 1, tzinfo=timezone.utc)
    buy = Entry(type="TRADE", ts=at, trade_date=at.date(), asset="ETH", quantity=Decimal(2),
                counter_asset="USD", counter_quantity=Decimal(6000))
    stored = ledger_store.insert_entries(repo, "p", [ledger_store.with_identity(buy, "p")])
    flags = replay(ledger_store.load_entries(repo, "p")).negative
    # Spending USD that was never deposited: a missing deposit, shown, not hidden.
    assert [(f.asset, f.balance) for f in flags] == [("USD", Decimal(-6000))]
    assert ledger_store.delete_entry(repo, "p", stored[0].id) is True
    assert ledger_store.delete_entry(repo, "p", stored[0].id) is False
    assert ledger_store.load_entries(repo, "p") == []


def test_ledger_reads_for_performance_equal_the_full_reads(url):
    """``load_columns`` is ``load_entries`` as columns in replay order; ``load_daily_closes``
    is ``Repository.load_closes`` (both backends)."""
    import numpy as np
    import pandas as pd

    from analytics.ledger_arrays import columns_from_entries

    repo = Repository.from_url(url)
    day = datetime(2024, 5, 1, tzinfo=timezone.utc)
    # Stored out of replay order: a later day first, and two entries of one day whose times
    # run against their ids.
    ledger = [Entry(type="DEPOSIT", ts=day.replace(day=3), trade_date=date(2024, 5, 3),
                    asset="USD", quantity=Decimal("100.25"), note="later day"),
              Entry(type="TRADE", ts=day.replace(hour=15), trade_date=day.date(), asset="ETH",
                    quantity=Decimal("0.5"), counter_asset="USD",
                    counter_quantity=Decimal("1500"), fee_asset="USD",
                    fee_quantity=Decimal("1.5")),
              Entry(type="TRANSFER", subtype="fee_from_amount", ts=day.replace(hour=9),
                    trade_date=day.date(), asset="BTC", quantity=Decimal("0.1"),
                    to_account="cold", fee_asset="BTC", fee_quantity=Decimal("0.0001"))]
    ledger_store.insert_entries(repo, "p", [ledger_store.with_identity(e, "p") for e in ledger])
    full = columns_from_entries(ledger_store.load_entries(repo, "p"))
    cols = ledger_store.load_columns(repo, "p")
    assert [cols.entry(i).id for i in range(len(cols))] == list(full.ids) == [3, 2, 1]
    for name in ("day", "type", "quantity", "counter_quantity", "fee_quantity"):
        assert np.array_equal(getattr(cols, name), getattr(full, name)), name
    for name in ("subtype", "account", "asset", "counter_asset", "fee_asset", "to_account"):
        assert list(getattr(cols, name)) == list(getattr(full, name)), name
    # The exact record of a row: the replay fields as stored (no note, id and time kept).
    stored = ledger_store.load_entries(repo, "p")[0]
    assert cols.entry(2).content()[:-2] == stored.content()[:-2] and cols.entry(2).id == 1
    assert len(ledger_store.load_columns(repo, "nobody")) == 0

    frame = pd.DataFrame({
        "ts": pd.to_datetime(["2024-05-01", "2024-05-02", "2024-05-03", "2024-05-01",
                              "2024-05-03"], utc=True),
        "symbol": ["BTC", "BTC", "BTC", "ETH", "ETH"], "open": 1.0, "high": 1.0, "low": 1.0,
        "close": [60_000.5, 61_000.25, 59_999.75, 3_000.125, 2_950.0], "volume": 1.0,
        "source": "test"})
    repo.upsert_prices(frame)
    pd.testing.assert_frame_equal(ledger_store.load_daily_closes(repo, ["ETH", "BTC", "SOL"]),
                                  repo.load_closes(["ETH", "BTC", "SOL"]), check_names=False)
    assert ledger_store.load_daily_closes(repo, ["SOL"]).empty
