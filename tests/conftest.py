"""Shared fixtures: settings on a temporary store, a seeded repository, the pinned ``now``."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from hypothesis.configuration import set_hypothesis_home_dir

from data import clock
from data.store.repository import Repository
from data.store.seed import init_portfolio, seed_store
from settings import Settings, load_settings
from tests.support.sample import NOW, ROOT, SAMPLE

# Hypothesis's default 200 ms deadline per example is a timed assertion: on a busy 2-core CI
# machine it fails at random (seen: 382 ms once, 14 ms on the re-run). Tests assert behaviour only.
# database=None: no .hypothesis/ directory in the checkout (a test run leaves nothing on disk).
hypothesis_settings.register_profile("btcfolio", deadline=None, database=None)
hypothesis_settings.load_profile("btcfolio")
# Hypothesis also caches source constants in ./.hypothesis (even with database=None): keep that
# in a temporary directory, removed at exit, so a test run leaves nothing in the checkout.
_HYPOTHESIS_HOME = tempfile.mkdtemp(prefix="btcfolio-hypothesis-")
set_hypothesis_home_dir(_HYPOTHESIS_HOME)
atexit.register(shutil.rmtree, _HYPOTHESIS_HOME, ignore_errors=True)



@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """The one pinned "now" of the tests: the sample's last day plus a few hours (``NOW``).

    The process clock (``data.clock``, read by ``services.now()`` and every app or scheduler
    built with the default clock) is started there for the test and put back after it, so code
    that reads the clock itself agrees with a test that passes ``now`` explicitly.
    """
    monkeypatch.setattr(clock, "_offset", clock._offset)  # restored after the test
    clock.start_at(NOW)
    return NOW


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The bundled config.yaml with the store and cache under tmp_path."""
    env = {
        "BTCFOLIO__STORE__URL": f"sqlite:///{tmp_path / 'store.db'}",
        "BTCFOLIO__CACHE__DIR": str(tmp_path / "cache"),
    }
    return load_settings(ROOT / "config.yaml", env)


@pytest.fixture
def repo(settings: Settings) -> Repository:
    """A fresh SQLite store seeded from the sample, with the sample portfolio."""
    repository = Repository.from_url(settings.store.url)
    seed_store(repository, SAMPLE, now=NOW)
    init_portfolio(repository, settings.portfolio.holdings, settings.portfolio.name)
    return repository


@pytest.fixture(autouse=True, scope="session")
def _data_dir_in_tmp(tmp_path_factory):
    """Anything started with the process environment keeps its data in a temporary dir,
    never in the checkout or the user's real data directory."""
    patch = pytest.MonkeyPatch()
    patch.setenv("BTCFOLIO_DATA_DIR", str(tmp_path_factory.mktemp("data-dir")))
    yield
    patch.undo()
