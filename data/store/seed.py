"""Seed a fresh store from the bundled real daily history (data/sample/prices_daily.csv).

Runs once per store (guarded by a meta key), never overwrites rows already in the store (so
data from a real provider always wins), and tags its rows ``source='sample'``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from data.store.guard import boot_lock
from data.store.repository import Repository
from data.store.setup import prepare_store
from errors import StorageError

ROOT = Path(__file__).resolve().parents[2]

logger = logging.getLogger(__name__)

SEED_KEY = "seeded_sample"
PORTFOLIO_KEY = "portfolio_initialized"
SAMPLE_FLAG_KEY = "portfolio_is_sample"  # set while the holdings are the untouched sample


def read_sample(path: str | Path) -> pd.DataFrame:
    """Read the sample CSV into the price-frame schema (daily bars keyed by UTC date)."""
    try:
        raw = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise StorageError(f"cannot read sample history {path}: {exc}") from exc
    frame = pd.DataFrame({
        "ts": pd.to_datetime(raw["date"], utc=True),
        "symbol": raw["symbol"].str.upper(),
        **{c: raw[c].astype("float64") for c in ("open", "high", "low", "close", "volume")},
    })
    frame["source"] = "sample"
    return frame.sort_values(["symbol", "ts"]).reset_index(drop=True)


def seed_store(repo: Repository, sample_path: str | Path, *, now: datetime | None = None) -> int:
    """Seed prices from the sample once; return rows inserted (0 when already seeded)."""
    if repo.get_meta(SEED_KEY) is not None:
        return 0
    frame = read_sample(sample_path)
    inserted = repo.upsert_prices(frame, interval="1d", overwrite=False)
    stamp = (now or datetime.now(timezone.utc)).isoformat()
    repo.claim_meta(SEED_KEY, stamp)
    logger.info("seeded %d sample rows from %s", inserted, sample_path)
    return inserted


def init_portfolio(repo: Repository, holdings: dict[str, float],
                   portfolio: str = "default") -> bool:
    """Write the configured sample portfolio on first start only; later the user owns it.

    Only an empty store is seeded: a store that already holds assets (or was seeded once,
    even if the user emptied it since) is never touched, whatever config.yaml says now.
    The seeded holdings are marked as the sample (``SAMPLE_FLAG_KEY``) so the page labels them.
    The holdings become opening-balance entries dated at the start of the stored history
    (the first bundled close), so the demo history shows them held throughout.
    The claim, the opening entries and the sample flag are ONE transaction: a kill in between
    used to leave the claim without the holdings, and the sample portfolio was lost for good.
    """
    from data.store.ledger_store import claim_with_openings

    return claim_with_openings(repo, PORTFOLIO_KEY, portfolio, holdings,
                               sample_flag_key=SAMPLE_FLAG_KEY)


def open_store(settings) -> Repository:  # untyped: settings.Settings (no import cycle)
    """Open (migrate) the store, seed it from the sample and write the sample portfolio once.

    Used by every entry point (app, gunicorn workers, ``python -m data.scheduler``). Processes
    opening one fresh store together take turns (the store's start-up lock); each step is
    resumable (seeding claims its key after its rows, the portfolio is one transaction), so a
    kill at any instant leaves a fresh store or a complete one.
    """
    prepare_store(settings.store.url)  # folder or PostgreSQL database; clear error if not
    repo = Repository.from_url(settings.store.url)
    seed = Path(settings.store.seed_file)
    with boot_lock(repo.engine):
        seed_store(repo, seed if seed.is_absolute() else ROOT / seed)
        init_portfolio(repo, settings.portfolio.holdings, settings.portfolio.name)
        repo.sync_assets({s: a.model_dump() for s, a in settings.assets.items()})
    return repo
