"""SchedulerRunner: one runner per store, standby takeover, job outcomes, graceful stop."""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from datetime import datetime, timezone

import pytest

from data.scheduling.jobs import JobSet, job_outcome, stale_symbols, symbols_without_history
from data.scheduling.locks import FileLeaderLock, LeaderLock, PostgresLeaderLock, RedisLeaderLock
from data.scheduling.runner import SchedulerRunner, should_start_embedded
from data.store.repository import Repository
from errors import TransientError
from queries.health import scheduler_section
from settings import load_settings
from tests.support.backends import pg_schema, redis_prefix
from tests.support.sample import ROOT

FAST = {
    "BTCFOLIO__REFRESH__INTERVAL_SECONDS": "1",
    "BTCFOLIO__SCHEDULER__LOCK_TTL_SECONDS": "1",
    "BTCFOLIO__SCHEDULER__HEARTBEAT_SECONDS": "0.2",
    "BTCFOLIO__SCHEDULER__STANDBY_POLL_SECONDS": "0.2",
    "BTCFOLIO__SCHEDULER__SHUTDOWN_TIMEOUT_SECONDS": "10",
}


@pytest.fixture
def fast_settings(tmp_path):
    return load_settings(ROOT / "config.yaml", {
        "BTCFOLIO__STORE__URL": f"sqlite:///{tmp_path / 'store.db'}",
        "BTCFOLIO__CACHE__DIR": str(tmp_path / "cache"), **FAST})


@pytest.fixture
def store(fast_settings):
    return Repository.from_url(fast_settings.store.url)


def _counting_jobs(calls: Counter, who: str, quotes=None) -> JobSet:
    def make(name):
        def body(now: datetime):
            assert now.tzinfo is not None
            calls[(who, name)] += 1
            return name
        return body

    return JobSet(quotes=quotes or make("quotes"), history=make("history"),
                  backfill=make("backfill"), health=make("health"))


def _wait_for(predicate, timeout: float = 10.0) -> float:
    start = time.monotonic()
    while not predicate():
        assert time.monotonic() - start < timeout, "condition not reached in time"
        time.sleep(0.05)
    return time.monotonic() - start


def _runner(settings, store, jobs, owner, lock_path) -> SchedulerRunner:
    return SchedulerRunner(settings, store, jobs, owner=owner, lock=FileLeaderLock(lock_path))


@contextlib.contextmanager
def _lock_factory(kind: str, tmp_path):
    """A function making a fresh lock object of one kind on one shared name."""
    if kind == "file":
        yield lambda owner: FileLeaderLock(tmp_path / "leader.lock")
    elif kind == "postgres":
        with pg_schema() as url:
            yield lambda owner: PostgresLeaderLock(url, "leader")
    else:
        with redis_prefix() as (url, prefix):
            yield lambda owner: RedisLeaderLock(url, prefix + "leader", ttl=1, token=owner)


@pytest.mark.parametrize("kind", [
    "file",
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("redis", marks=pytest.mark.redis),
])
def test_scheduler_two_runners_one_runs_jobs_and_standby_takes_over(kind, fast_settings, store,
                                                                     tmp_path):
    with _lock_factory(kind, tmp_path) as make_lock:
        _two_runners_one_runs(fast_settings, store, make_lock)


def _two_runners_one_runs(fast_settings, store, make_lock):
    calls: Counter = Counter()
    first = SchedulerRunner(fast_settings, store, _counting_jobs(calls, "A"), owner="host:1",
                            lock=make_lock("host:1"))
    first.start()
    _wait_for(lambda: first.role == "running")
    second = SchedulerRunner(fast_settings, store, _counting_jobs(calls, "B"), owner="host:2",
                             lock=make_lock("host:2"))
    second.start()
    try:
        _wait_for(lambda: calls[("A", "quotes")] >= 3)   # ~2 s of 1 s quote refreshes
        assert second.role == "standby"
        assert sum(n for (who, _), n in calls.items() if who == "B") == 0
        for job in ("history", "backfill", "health"):
            assert calls[("A", job)] == 1                # first run at takeover, then cron/interval
        # A job is counted when it starts and recorded in the store when it ends: wait for the
        # third run's record (a busy CI machine showed 2 right after the third call).
        _wait_for(lambda: scheduler_section(store, fast_settings)["jobs"]["quotes"]["runs"] >= 3)
        view = scheduler_section(store, fast_settings)
        assert view["state"] == "running" and view["owner"] == "host:1"
        assert view["standby"] == ["host:2"]
        assert view["jobs"]["quotes"]["outcome"] == "ok"
        # The next refresh is one 1 s interval after the scheduled time of the last one.
        quotes = view["jobs"]["quotes"]
        gap = datetime.fromisoformat(quotes["next_run"]) - datetime.fromisoformat(quotes["last_run"])
        assert -1.0 < gap.total_seconds() <= 1.05

        assert first.stop() is True
        waited = _wait_for(lambda: calls[("B", "quotes")] >= 1)
        assert waited < 5   # poll 0.2 s: the standby takes over at once (slack for busy CI)
        after = scheduler_section(store, fast_settings)
        assert after["owner"] == "host:2" and after["standby"] == []
    finally:
        first.stop()
        second.stop()
    assert scheduler_section(store, fast_settings)["state"] == "not running"


def test_scheduler_failing_job_is_recorded_and_keeps_running(fast_settings, store, tmp_path):
    calls: Counter = Counter()

    def failing_quotes(now):
        calls["quotes"] += 1
        raise TransientError("coingecko: connection refused", provider="coingecko")

    runner = _runner(fast_settings, store, _counting_jobs(calls, "A", quotes=failing_quotes),
                     "host:1", tmp_path / "l.lock")
    runner.start()
    try:
        _wait_for(lambda: calls["quotes"] >= 2)
        _wait_for(lambda: scheduler_section(store, fast_settings)["jobs"]["quotes"]["runs"] >= 2)
        jobs = scheduler_section(store, fast_settings)["jobs"]
        assert jobs["quotes"]["outcome"] == "error"
        assert "connection refused" in jobs["quotes"]["error"]
        assert jobs["history"]["outcome"] == "ok"
    finally:
        runner.stop()


class _LosableLock(LeaderLock):
    kind = "fake"

    def __init__(self) -> None:
        self.held = False
        self.lost = threading.Event()

    def acquire(self) -> bool:
        self.held = not self.lost.is_set()
        return self.held

    def refresh(self) -> bool:
        return self.held and not self.lost.is_set()

    def release(self) -> None:
        self.held = False


def test_scheduler_leader_that_loses_its_lock_stops_running_jobs(fast_settings, store):
    calls: Counter = Counter()
    lock = _LosableLock()
    runner = SchedulerRunner(fast_settings, store, _counting_jobs(calls, "A"), owner="h:1",
                             lock=lock)
    runner.start()
    try:
        _wait_for(lambda: calls[("A", "quotes")] >= 1)
        lock.lost.set()
        _wait_for(lambda: runner.role == "standby", timeout=3)
        before = calls[("A", "quotes")]
        time.sleep(1.5)
        assert calls[("A", "quotes")] == before
    finally:
        runner.stop()


def test_scheduler_stop_waits_for_the_running_job(fast_settings, store, tmp_path):
    started, finished = threading.Event(), threading.Event()
    calls: Counter = Counter()

    def slow_quotes(now):
        started.set()
        time.sleep(0.8)
        finished.set()

    runner = _runner(fast_settings, store, _counting_jobs(calls, "A", quotes=slow_quotes),
                     "host:1", tmp_path / "l.lock")
    runner.start()
    assert started.wait(5)
    assert runner.stop() is True
    assert finished.is_set()
    # The lock is free again for another scheduler.
    assert FileLeaderLock(tmp_path / "l.lock").acquire() is True


@pytest.mark.parametrize(("embedded", "debug", "run_main", "expected"), [
    (True, False, None, True),        # python app.py
    (True, True, None, False),        # debug reloader parent: only watches files
    (True, True, "true", True),       # debug reloader child: serves
    (False, False, None, False),      # gunicorn deployment: python -m data.scheduler runs it
])
def test_should_start_embedded(tmp_path, embedded, debug, run_main, expected):
    settings = load_settings(ROOT / "config.yaml", {
        "BTCFOLIO__SCHEDULER__EMBEDDED": str(embedded).lower()})
    environ = {"WERKZEUG_RUN_MAIN": run_main} if run_main else {}
    assert should_start_embedded(settings, environ, debug=debug) is expected


class _Asset:
    def __init__(self, symbol, error=None):
        self.symbol, self.error = symbol, error


class _Report:
    def __init__(self, *assets):
        self.assets = list(assets)


@pytest.mark.parametrize(("result", "expected"), [
    ("nothing to backfill", ("ok", None)),
    (_Report(_Asset("BTC"), _Asset("ETH")), ("ok", None)),
    (_Report(_Asset("BTC"), _Asset("SPY", "SPY: yahoo: timeout")),
     ("partial", "SPY: yahoo: timeout")),
    (_Report(_Asset("BTC", "BTC: down"), _Asset("ETH", "ETH: down")),
     ("error", "BTC: down; ETH: down")),
])
def test_job_outcome_reads_per_asset_errors_of_a_report(result, expected):
    assert job_outcome(result) == expected


def test_stale_symbols_uses_the_limit_of_each_asset_kind(repo, settings):
    # The sample ends 2025-08-13 (daily bars at 00:00 UTC). Crypto limit 1 day, equity 4 days.
    now = datetime(2025, 8, 15, 12, 0, tzinfo=timezone.utc)
    assert stale_symbols(settings, repo, ["BTC", "SPY"], now) == ["BTC"]
    later = datetime(2025, 8, 18, 12, 0, tzinfo=timezone.utc)
    assert stale_symbols(settings, repo, ["BTC", "SPY"], later) == ["BTC", "SPY"]
    fresh = datetime(2025, 8, 13, 12, 0, tzinfo=timezone.utc)
    assert stale_symbols(settings, repo, ["BTC", "SPY", "NOPE"], fresh) == ["NOPE"]


def test_symbols_without_history_are_the_ones_to_backfill(repo):
    assert symbols_without_history(repo, ["BTC", "SPY", "NEWCOIN"]) == ["NEWCOIN"]


def test_backfill_job_serves_holding_requests_and_records_their_outcome(tmp_path):
    from data.scheduling.jobs import build_jobs
    from data.store.backfills import backfill_state
    from data.store.holdings import add_holding
    from data.store.seed import seed_store
    from tests.support.fake_provider import FakeCoinGecko, provider_env
    from tests.support.sample import SAMPLE

    fake = FakeCoinGecko().start()
    fake.unknown_ids.add("no-such-coin")
    try:
        import yaml

        config = yaml.safe_load((ROOT / "config.yaml").read_text())
        for symbol, coin in (("DOGE", "dogecoin"), ("GONE", "no-such-coin")):
            config["assets"][symbol] = {"name": symbol, "category": "high_vol_crypto",
                                        "kind": "crypto", "symbols": {"coingecko": coin},
                                        "sources": ["coingecko"]}
        (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
        env = {"BTCFOLIO__STORE__URL": f"sqlite:///{tmp_path / 'store.db'}",
               "BTCFOLIO__CACHE__DIR": str(tmp_path / "cache"),
               "BTCFOLIO__SCHEDULER__BACKFILL_DAYS": "10", **provider_env(fake.url)}
        settings = load_settings(tmp_path / "config.yaml", env)
        repo = Repository.from_url(settings.store.url)
        seed_store(repo, SAMPLE)                      # every configured asset has history
        now = datetime.now(timezone.utc)
        assert add_holding(repo, settings, "DOGE", 1000, now=now).backfill_requested
        assert add_holding(repo, settings, "GONE", 5, now=now).backfill_requested

        report = build_jobs(settings, repo, env).backfill(now)

        assert sorted(a.symbol for a in report.assets) == ["DOGE", "GONE"]
        assert fake.calls()["history"] == 2           # the sample-seeded assets are not fetched
        assert backfill_state(repo, "DOGE").state == "done"
        failed = backfill_state(repo, "GONE")
        assert failed.state == "failed" and "404" in failed.error
        # 10 days back to today: 11 dates; CoinGecko's midnight point closes the previous
        # date, so the first falls before the window and 10 daily bars are stored.
        assert len(repo.load_prices(["DOGE"])) == 10
    finally:
        fake.stop()
