"""Import/export of the ledger on a clean store, checked against an independent computation.

The independent computation reads the bundled closes with the csv module and applies
Portfolio Performance's daily formula and XIRR (actual/365, scipy's brentq) written out
plainly here: it shares no code with analytics.performance.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
from scipy.optimize import brentq

from data.store import ledger_store
from data.store.ledger_io import LedgerImportError, export_text, import_text, main
from data.store.repository import Repository
from data.store.seed import init_portfolio, seed_store
from queries.performance import performance
from settings import load_settings
from tests.support.ledger import LEDGER_CSV
from tests.support.sample import NOW, ROOT, SAMPLE

# Deposits (cash and a coin), trades (a buy with fee, a crypto swap, a sell, a stock buy on a
# Friday), a transfer with a fee between own accounts and a withdrawal.
END = date(2024, 12, 31)


@pytest.fixture
def store(tmp_path):
    """A clean clone's store: bundled closes seeded, an empty portfolio (holdings: {})."""
    settings = load_settings(ROOT / "config.yaml", {
        "BTCFOLIO__STORE__URL": f"sqlite:///{tmp_path / 'store.db'}",
        "BTCFOLIO__CACHE__DIR": str(tmp_path / "cache")})
    settings = settings.model_copy(update={"portfolio": settings.portfolio.model_copy(
        update={"holdings": {}})})
    repo = Repository.from_url(settings.store.url)
    seed_store(repo, SAMPLE, now=NOW)
    init_portfolio(repo, {}, settings.portfolio.name)
    return settings, repo


def _bundled_closes() -> dict[str, dict[date, float]]:
    closes: dict[str, dict[date, float]] = defaultdict(dict)
    with SAMPLE.open(newline="") as fh:
        for row in csv.DictReader(fh):
            closes[row["symbol"]][date.fromisoformat(row["date"])] = float(row["close"])
    return closes


def _independent(end: date) -> dict:
    """Holdings, daily TTWROR in BTC and XIRR from the bundled closes, by hand."""
    closes = _bundled_closes()

    def usd(symbol, day):  # as-of close: walk back to the last trading day
        if symbol == "USD":
            return 1.0
        while day not in closes[symbol]:
            day -= timedelta(days=1)
        return closes[symbol][day]

    # (day, asset, signed quantity, external flow?) written from LEDGER_CSV by hand.
    moves = [
        (date(2024, 1, 2), "USD", 20000, True),
        (date(2024, 1, 3), "ETH", 3, False), (date(2024, 1, 3), "USD", -6600, False),
        (date(2024, 1, 3), "USD", -5, False),
        (date(2024, 2, 1), "SOL", 40, False), (date(2024, 2, 1), "ETH", -1, False),
        (date(2024, 3, 1), "BTC", 0.1, True),
        (date(2024, 4, 1), "BTC", -0.0001, False),    # the transfer's fee; the 0.1 only moved
        (date(2024, 5, 3), "SPY", 10, False), (date(2024, 5, 3), "USD", -5100, False),
        (date(2024, 6, 3), "USD", -2000, True),
        (date(2024, 9, 2), "USD", 1300, False), (date(2024, 9, 2), "SOL", -10, False),
        (date(2024, 9, 2), "USD", -1, False),
    ]
    held: dict[str, float] = defaultdict(float)
    index, prev_value, day = 1.0, 0.0, date(2024, 1, 2)
    xirr_flows = []
    while day <= end:
        inflow = outflow = 0.0
        for when, asset, qty, flow in moves:
            if when == day:
                held[asset] += qty
                if flow:
                    value = qty * usd(asset, day) / usd("BTC", day)
                    inflow += max(value, 0.0)
                    outflow += max(-value, 0.0)
                    xirr_flows.append((day, -value))
        value = sum(q * usd(a, day) / usd("BTC", day) for a, q in held.items() if q)
        index *= (value + outflow) / (prev_value + inflow)
        prev_value, day = value, day + timedelta(days=1)
    xirr_flows.append((end, prev_value))

    def npv(rate):
        return sum(a / (1 + rate) ** ((d - xirr_flows[0][0]).days / 365) for d, a in xirr_flows)

    return {"holdings": {a: q for a, q in held.items() if abs(q) > 1e-12},
            "twr": index - 1, "xirr": brentq(npv, -0.99, 10), "value": prev_value}


def test_ledger_import_matches_an_independent_computation(store):
    settings, repo = store
    result = import_text(repo, settings, LEDGER_CSV)
    assert (result.rows, len(result.entries), result.duplicates) == (8, 8, 0)
    expected = _independent(END)
    assert repo.load_holdings(settings.portfolio.name) == pytest.approx(expected["holdings"],
                                                                        abs=1e-9)
    report = performance(repo, settings, start=None, end=END)
    assert report["twr_btc"] == pytest.approx(expected["twr"], abs=1e-6)
    assert report["mwr_btc"] == pytest.approx(expected["xirr"], abs=1e-6)
    assert report["value_btc_end"] == pytest.approx(expected["value"], abs=1e-9)
    # The transfer only moved BTC between own accounts (less its fee).
    balances = {k: float(v) for k, v in ledger_store.balances(repo, "default").items()}
    assert balances["BTC"] == pytest.approx(0.0999)


def test_ledger_reimport_adds_nothing(store):
    settings, repo = store
    import_text(repo, settings, LEDGER_CSV)
    before = ledger_store.load_entries(repo, settings.portfolio.name)
    again = import_text(repo, settings, LEDGER_CSV)
    assert (again.rows, len(again.entries), again.duplicates) == (8, 0, 8)
    assert ledger_store.load_entries(repo, settings.portfolio.name) == before


def test_ledger_two_identical_rows_are_both_kept_and_reimport_still_adds_nothing(store):
    settings, repo = store
    text = LEDGER_CSV.splitlines()[0] + "\n" + "2024-01-02,DEPOSIT,,ETH,1,,,,,,,,,\n" * 2
    assert len(import_text(repo, settings, text).entries) == 2
    assert import_text(repo, settings, text).duplicates == 2
    assert repo.load_holdings(settings.portfolio.name) == {"ETH": 2.0}


def test_ledger_one_bad_row_stores_nothing_and_names_the_row(store):
    settings, repo = store
    lines = LEDGER_CSV.splitlines()
    lines[3] = lines[3].replace(",40,", ",forty,")     # data row 3 (line 4): SOL quantity
    with pytest.raises(LedgerImportError) as caught:
        import_text(repo, settings, "\n".join(lines) + "\n")
    assert [(e.row, e.field) for e in caught.value.errors] == [(3, "quantity")]
    assert "forty" in caught.value.errors[0].reason
    assert ledger_store.load_entries(repo, settings.portfolio.name) == []


def test_ledger_dry_run_shows_exactly_what_would_be_stored(store):
    settings, repo = store
    dry = import_text(repo, settings, LEDGER_CSV, dry_run=True)
    assert ledger_store.load_entries(repo, settings.portfolio.name) == []
    real = import_text(repo, settings, LEDGER_CSV)
    assert [e.content() for e in dry.entries] == [e.content() for e in real.entries]


def test_ledger_export_then_import_into_an_empty_store_gives_the_same_ledger(store, tmp_path):
    settings, repo = store
    import_text(repo, settings, LEDGER_CSV, tz="Asia/Tokyo")  # local dates != UTC dates
    ledger_store.deposit(repo, settings.portfolio.name, "ETH", 0.5, now=NOW)
    original = ledger_store.load_entries(repo, settings.portfolio.name)
    text = export_text(repo, settings.portfolio.name, "csv")
    other = Repository.from_url(f"sqlite:///{tmp_path / 'other.db'}")
    import_text(other, settings, text)
    copied = ledger_store.load_entries(other, settings.portfolio.name)
    assert [e.content() for e in copied] == [e.content() for e in original]
    # And into the same store: everything is already there.
    assert import_text(repo, settings, text).duplicates == len(original)


def test_ledger_ghostfolio_export_json_imports(store):
    settings, repo = store
    text = (ROOT / "tests" / "fixtures" / "ghostfolio" / "export.json").read_text()
    result = import_text(repo, settings, text, tz="Europe/Zurich")
    kinds = [(e.type, e.asset, e.trade_date.isoformat()) for e in result.entries]
    assert kinds == [("TRADE", "BTC", "2024-01-10"), ("TRADE", "SPY", "2024-01-12"),
                     ("TRADE", "ETH", "2024-02-02"), ("INCOME", "USD", "2024-03-22"),
                     ("FEE", "USD", "2024-04-01"), ("TRADE", "USD", "2024-04-05")]
    held = repo.load_holdings(settings.portfolio.name)
    assert held["BTC"] == 0.05 and held["SPY"] == 3.0 and held["ETH"] == 1.0
    # Cash: -0.05 x 44187.14 - 1.99 - 3 x 472.65 - 1.5 x 2580.1 + 3 x 1.5911 - 0.33 - 2.5
    #       + 0.5 x 3505.42 - 0.99
    cash = (-0.05 * 44187.14 - 1.99 - 3 * 472.65 - 1.5 * 2580.1 + 3 * 1.5911 - 0.33 - 2.5
            + 0.5 * 3505.42 - 0.99)
    assert held["USD"] == pytest.approx(cash, abs=1e-9)
    # Exact decimals: 0.05 x 44187.14 is 2209.357 exactly in the store.
    buy = result.entries[0]
    assert buy.counter_quantity == Decimal("2209.357")


def test_ledger_ghostfolio_and_wealthfolio_header_aliases(store):
    settings, repo = store
    ghostfolio = ("Date,Code,DataSource,Currency,Price,Quantity,Action,Fee,Note\n"
                  "2024-01-10,BTC,COINGECKO,USD,46000,0.01,buy,2,\n")
    wealthfolio = ("date,symbol,quantity,activityType,unitPrice,currency,fee\n"
                   "2024-01-11,ETH,2,BUY,2600,USD,0\n"
                   "2024-01-12,USD,500,DEPOSIT,1,USD,0\n")
    first = import_text(repo, settings, ghostfolio)
    assert first.ignored_columns == ["DataSource"]
    import_text(repo, settings, wealthfolio)
    held = repo.load_holdings(settings.portfolio.name)
    assert held == pytest.approx({"BTC": 0.01, "ETH": 2.0, "USD": -460 - 2 - 5200 + 500})


def test_ledger_cli_import_dry_run_and_export(store, tmp_path, capsys):
    settings, repo = store
    path = tmp_path / "ledger.csv"
    path.write_text(LEDGER_CSV)
    env = {"BTCFOLIO__STORE__URL": settings.store.url, "BTCFOLIO__PORTFOLIO__NAME": "default"}
    assert main(["import", str(path), "--dry-run"], env) == 0
    assert "would import 8 of 8 rows" in capsys.readouterr().out
    assert ledger_store.load_entries(repo, "default") == []
    assert main(["import", str(path)], env) == 0
    assert main(["import", str(path)], env) == 0
    assert "imported 0 of 8 rows (8 duplicates skipped)" in capsys.readouterr().out
    out = tmp_path / "out.csv"
    assert main(["export", "--out", str(out)], env) == 0
    assert out.read_text() == export_text(repo, "default", "csv")
    path.write_text(LEDGER_CSV.replace("2024-01-03,BUY", "2024-13-03,BUY"))
    assert main(["import", str(path)], env) == 1
    assert "row 2: date" in capsys.readouterr().err
