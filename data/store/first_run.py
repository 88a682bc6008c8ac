"""First run: an empty portfolio, the sample portfolio (labelled as such) and clearing it.

The sample portfolio is config.yaml's ``portfolio.holdings``. ``seed.init_portfolio`` writes
it into an empty store on first start and sets the ``portfolio_is_sample`` meta flag; the page
shows a "sample" label while the flag is set. Clearing the sample removes the holdings that are
still exactly the sample's (anything the user added or changed stays); keeping it drops the flag.
"""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError

from data.store import ledger_store
from data.store.repository import Repository
from data.store.schema import meta
from data.store.seed import SAMPLE_FLAG_KEY
from errors import InvalidInputError, StorageError

EMPTY, SAMPLE, OWN = "empty", "sample", "own"


def portfolio_state(repo: Repository, settings) -> str:  # untyped: Settings
    """"empty" (nothing held), "sample" (the untouched sample is marked) or "own"."""
    if not repo.load_holdings(settings.portfolio.name):
        return EMPTY
    return SAMPLE if repo.get_meta(SAMPLE_FLAG_KEY) is not None else OWN


def start_sample(repo: Repository, settings) -> int:  # untyped: Settings
    """Fill an empty portfolio with the sample; return how many holdings were written.

    Raises:
        InvalidInputError: the portfolio is not empty, or config.yaml has no sample holdings.
        StorageError: the store failed.
    """
    sample, name = settings.portfolio.holdings, settings.portfolio.name
    if not sample:
        raise InvalidInputError("config.yaml has no sample holdings (portfolio.holdings)")
    if ledger_store.balances(repo, name):
        raise InvalidInputError("the portfolio is not empty: clear it first")
    # Opening balances carry fixed external ids ("opening:<SYMBOL>"), so a second click (or a
    # second tab) dedupes instead of stacking another sample.
    written = ledger_store.write_openings(repo, name, dict(sample))
    _transaction(repo, lambda conn: (
        conn.execute(meta.delete().where(meta.c.key == SAMPLE_FLAG_KEY)),
        conn.execute(meta.insert().values(key=SAMPLE_FLAG_KEY, value=name))))
    return len(written) or len(sample)


def clear_sample(repo: Repository, settings) -> list[str]:  # untyped: Settings
    """Remove the holdings that are still the sample's; return the symbols removed.

    The sample's opening entries are deleted (not withdrawn), so the performance history does
    not show a withdrawal of a portfolio that was never the user's.
    """
    sample, name = settings.portfolio.holdings, settings.portfolio.name
    held = ledger_store.balances(repo, name)
    openings = {e.external_id: e for e in ledger_store.load_entries(repo, name)
                if e.external_id and e.external_id.startswith("opening:")}
    removed = []
    for symbol, quantity in sample.items():
        entry = openings.get(f"opening:{symbol}")
        if entry is None or held.get(symbol) != ledger_store._decimal(quantity):
            continue
        if entry.id is not None and ledger_store.delete_entry(repo, name, entry.id):
            removed.append(symbol)
    _transaction(repo, lambda conn: conn.execute(
        meta.delete().where(meta.c.key == SAMPLE_FLAG_KEY)))
    return removed


def keep_sample(repo: Repository) -> None:
    """The user keeps the sample holdings as theirs: drop the "sample" label."""
    _transaction(repo, lambda conn: conn.execute(
        meta.delete().where(meta.c.key == SAMPLE_FLAG_KEY)))


def _transaction(repo: Repository, fn):  # untyped: a function of a connection
    try:
        with repo.engine.begin() as conn:
            return fn(conn)
    except SQLAlchemyError as exc:
        raise StorageError(f"portfolio: {exc.__class__.__name__}") from exc
