"""Background ingestion: APScheduler jobs run by exactly one scheduler per store.

    python -m data.scheduler [--config PATH]      # its own process (gunicorn deployments)

``python app.py`` runs the same ``SchedulerRunner`` in a background thread (``scheduler.embedded``).
A supervisor thread competes for the single-runner lock (locks.py). The holder ("running")
starts an APScheduler ``BackgroundScheduler`` with the four jobs of a ``JobSet`` (quotes every
``refresh.interval_seconds``, the daily history increment, the backfill of new assets, a health
job); the others ("standby") retry the lock every ``standby_poll_seconds`` and take over when the
leader dies. Every heartbeat the state is written to the store (data/store/scheduler_state.py) so
/api/health in any web worker shows it. On SIGTERM/SIGINT the scheduler stops taking new runs,
waits for the running job (each store write is one transaction: committed or rolled back), releases
the lock and exits.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from data import clock
from data.providers.demo import with_demo
from data.scheduling.jobs import JobSet, build_jobs, job_outcome
from data.scheduling.locks import LeaderLock, make_leader_lock, owner_id
from data.store.scheduler_state import (
    prune_states,
    remove_other_leaders,
    remove_state,
    save_state,
    stale_after,
)
from data.store.seed import open_store
from errors import AppError, report_startup_error
from redaction import clip

logger = logging.getLogger(__name__)

JOB_NAMES = ("quotes", "history", "backfill", "health", "gaps")


def utcnow() -> datetime:
    """The current time, tz-aware UTC (the app's clock, data/clock.py)."""
    return clock.utcnow()


def _scheduler_now() -> datetime:
    # APScheduler times its runs by the system clock; the app's clock (utcnow) may have been
    # started at another instant (data/clock.py), which APScheduler would see as a missed run.
    return datetime.now(timezone.utc)


class SchedulerRunner:
    """One scheduler process's leader election, APScheduler jobs and published state."""

    def __init__(self, settings, repo, jobs: JobSet, *,  # untyped: Settings, Repository
                 lock: LeaderLock | None = None, owner: str | None = None,
                 cancel: threading.Event | None = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.settings = settings
        self.repo = repo
        self.jobs = jobs
        self.owner = owner or owner_id()
        self.lock = lock or make_leader_lock(settings, token=self.owner)
        self._clock = clock
        self._started_at = clock()
        self._role = "standby"
        self._scheduler: BackgroundScheduler | None = None
        self._stop = threading.Event()
        # Set on shutdown or loss of leadership: running jobs stop between two symbols.
        self.cancel = cancel if cancel is not None else threading.Event()
        # Job threads wake the supervisor to publish (only the supervisor touches APScheduler:
        # querying it from a job thread deadlocks against shutdown(wait=True)).
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._info: dict[str, dict[str, Any]] = {}
        self._info_lock = threading.Lock()
        self._publish_lock = threading.Lock()

    # ---- lifecycle ----------------------------------------------------------------------
    @property
    def role(self) -> str:
        """"running" while this process holds the lock and runs jobs, else "standby"."""
        return self._role

    def start(self) -> None:
        """Start the supervisor thread (idempotent)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._supervise, name="btcfolio-scheduler",
                                        daemon=True)
        self._thread.start()
        logger.info("scheduler %s started (lock: %s)", self.owner, self.lock.kind)

    def stop(self, timeout: float | None = None) -> bool:
        """Stop: let the running job finish, release the lock, delete the state row.

        Returns:
            True when everything stopped within ``timeout`` seconds.
        """
        self._stop.set()
        self.cancel.set()
        self._wake.set()
        if self._thread is None:
            return True
        self._thread.join(timeout if timeout is not None
                          else self.settings.scheduler.shutdown_timeout_seconds)
        return not self._thread.is_alive()

    def run_forever(self) -> int:
        """Run until SIGTERM or SIGINT, then shut down gracefully (the CLI entry point)."""
        stop = threading.Event()

        def _on_signal(signum, _frame) -> None:  # untyped: signal handler signature
            logger.info("scheduler %s: signal %d, shutting down", self.owner, signum)
            stop.set()

        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGINT, _on_signal)
        self.start()
        while not stop.wait(0.5):
            pass
        if not self.stop():
            logger.error("scheduler %s: a job did not finish within %.0f s; exiting (its "
                         "uncommitted transaction is rolled back)", self.owner,
                         self.settings.scheduler.shutdown_timeout_seconds)
            return 1
        return 0

    def request_backfill(self) -> None:
        """Run the backfill job now (e.g. an asset was just added); no-op on a standby."""
        sched = self._scheduler
        if sched is not None and self._role == "running":
            sched.modify_job("backfill", next_run_time=_scheduler_now())

    # ---- supervisor ---------------------------------------------------------------------
    def _supervise(self) -> None:
        cfg = self.settings.scheduler
        try:
            while not self._stop.is_set():
                try:
                    self._tick()
                except Exception:  # the supervisor must outlive any failure
                    logger.exception("scheduler %s: supervisor step failed", self.owner)
                running = self._role == "running"
                self._wake.wait(cfg.heartbeat_seconds if running else cfg.standby_poll_seconds)
                self._wake.clear()
        finally:
            self._step_down()
            self.lock.release()
            try:
                remove_state(self.repo, self.owner)
            except AppError as exc:
                logger.warning("scheduler %s: could not remove its state row: %s", self.owner, exc)
            logger.info("scheduler %s stopped", self.owner)

    def _tick(self) -> None:
        if self._role == "running":
            if not self.lock.refresh():
                logger.warning("scheduler %s lost the %s lock: standing by", self.owner,
                               self.lock.kind)
                self._step_down()
        elif not self._stop.is_set() and self.lock.acquire():
            logger.info("scheduler %s holds the %s lock: running jobs", self.owner, self.lock.kind)
            # A previous leader that died cannot clear its row; the lock says it is gone.
            remove_other_leaders(self.repo, self.owner)
            self._take_over()
        self._publish()
        if self._role == "running":
            prune_states(self.repo, now=self._clock(),
                         stale_after=stale_after(self.settings.scheduler))

    def _take_over(self) -> None:
        cfg, now = self.settings.scheduler, _scheduler_now()
        sched = BackgroundScheduler(
            timezone=timezone.utc, executors={"default": ThreadPoolExecutor(len(JOB_NAMES))},
            job_defaults={"coalesce": True, "max_instances": 1,
                          "misfire_grace_time": cfg.misfire_grace_seconds})
        triggers = {
            "quotes": IntervalTrigger(seconds=self.settings.refresh.interval_seconds),
            "history": CronTrigger(hour=cfg.history_hour_utc, minute=cfg.history_minute_utc,
                                   timezone=timezone.utc),
            "backfill": IntervalTrigger(seconds=cfg.backfill_check_seconds),
            "health": IntervalTrigger(seconds=cfg.health_interval_seconds),
            # Gap healing: at start (below) and daily, after the increment has had its turn.
            "gaps": CronTrigger(hour=cfg.history_hour_utc, minute=cfg.history_minute_utc,
                                second=30, timezone=timezone.utc),
            "hourly": IntervalTrigger(minutes=cfg.hourly_interval_minutes),
        }
        for name in (*JOB_NAMES, *(("hourly",) if self.jobs.hourly else ())):
            # First run at once: a new leader catches up on what the old one missed.
            sched.add_job(self._wrap(name, getattr(self.jobs, name)), triggers[name], id=name,
                          name=name, next_run_time=now)
        self._scheduler = sched
        self._role = "running"
        self.cancel.clear()
        sched.start()

    def _step_down(self) -> None:
        sched, self._scheduler = self._scheduler, None
        self._role = "standby"
        self.cancel.set()
        if sched is not None and sched.running:
            # wait=True: a job in flight finishes its transaction before we let go.
            sched.shutdown(wait=True)

    # ---- jobs and state -----------------------------------------------------------------
    def _wrap(self, name: str, body: Callable[[datetime], Any]) -> Callable[[], None]:
        def run() -> None:
            started = self._clock()
            outcome, error = "error", None
            try:
                result = body(started)
            except AppError as exc:
                # Providers are often unreachable (offline, rate limits): one line, not a traceback.
                error = str(exc)
                logger.warning("job %s failed: %s", name, exc)
            except Exception as exc:  # a job failure must never kill the scheduler
                error = exc.__class__.__name__
                logger.exception("job %s crashed", name)
            else:
                outcome, error = job_outcome(result)
                log = logger.debug if outcome == "ok" else logger.warning
                log("job %s: %s%s", name, outcome, f" ({error})" if error else "")
            with self._info_lock:
                info = self._info.setdefault(name, {"runs": 0})
                info.update(last_run=started.isoformat(), outcome=outcome,
                            error=clip(error, 300) if error else None,
                            seconds=round((self._clock() - started).total_seconds(), 3))
                info["runs"] += 1
            self._wake.set()

        return run

    def state(self) -> dict[str, Any]:
        """This process's live state: role, owner, lock and each job's last run and next run."""
        sched = self._scheduler
        with self._info_lock:
            jobs = {name: dict(info) for name, info in self._info.items()}
        if sched is not None:
            for job in sched.get_jobs():
                nxt = job.next_run_time
                jobs.setdefault(job.id, {"runs": 0})["next_run"] = nxt.isoformat() if nxt else None
        return {"state": self._role, "owner": self.owner, "lock": self.lock.kind, "jobs": jobs}

    def _publish(self) -> None:
        state = self.state()
        with self._publish_lock:
            try:
                save_state(self.repo, owner=self.owner, role=state["state"],
                           lock=self.lock.kind, started_at=self._started_at, now=self._clock(),
                           jobs=state["jobs"] if state["state"] == "running" else {})
            except AppError as exc:
                logger.warning("scheduler %s: could not publish its state: %s", self.owner, exc)


def should_start_embedded(settings, environ, *, debug: bool) -> bool:
    """Whether ``python app.py`` starts the embedded scheduler in this process.

    Never in the debug reloader's parent (it only watches files; the child serves).
    """
    if not settings.scheduler.embedded:
        return False
    return not debug or environ.get("WERKZEUG_RUN_MAIN") == "true"


def _quiet_apscheduler() -> None:
    # APScheduler logs every run at INFO (twice a minute); our job wrapper logs what matters.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def start_embedded(settings, repo, environ=None) -> SchedulerRunner:
    """Build and start the scheduler thread used by ``python app.py``."""
    env = os.environ if environ is None else environ
    _quiet_apscheduler()
    cancel = threading.Event()
    jobs = with_demo(build_jobs(settings, repo, env, cancel=cancel), settings, repo)
    runner = SchedulerRunner(settings, repo, jobs, cancel=cancel)
    runner.start()
    return runner


def main(argv: list[str] | None = None) -> int:
    """``python -m data.scheduler``: run the scheduler as its own process until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(description="btcfolio background ingestion scheduler")
    parser.add_argument("--config", default=None, help="config file (default config.yaml)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=os.environ.get("BTCFOLIO_LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    _quiet_apscheduler()
    from settings import load_settings

    try:
        clock.start_from_env(os.environ)
        settings = load_settings(args.config, os.environ)
        repo = open_store(settings)
        cancel = threading.Event()
        jobs = with_demo(build_jobs(settings, repo, os.environ, cancel=cancel), settings, repo)
        runner = SchedulerRunner(settings, repo, jobs, cancel=cancel)
    except AppError as exc:
        return report_startup_error(exc)
    code = runner.run_forever()
    if code:
        # A job overran the shutdown timeout: exit without waiting for its thread. Its open
        # transaction is rolled back by the store when the connection drops.
        logging.shutdown()
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
