"""Scheduler state in the store, so /api/health in any web worker can show the scheduler.

Every scheduler process (leader or standby) keeps one row of ``scheduler_state`` up to date on
each heartbeat: role, lock kind, heartbeat time and, for the leader, each job's last run,
outcome and next run. ``describe_scheduler`` turns the rows into the /api/health section,
ignoring rows whose heartbeat is too old (a killed process cannot delete its own row).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from data.store.repository import Repository
from data.store.schema import scheduler_state
from errors import StorageError

logger = logging.getLogger(__name__)

def stale_after(cfg) -> float:  # untyped: SchedulerSettings
    """Seconds after which a scheduler row without a heartbeat is dead (3 missed beats + 5 s)."""
    return 3 * max(cfg.heartbeat_seconds, cfg.standby_poll_seconds) + 5


def _iso(seconds: int | None) -> str | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(int(seconds), tz=timezone.utc).isoformat()


def _run(repo: Repository, fn):
    try:
        with repo.engine.begin() as conn:
            return fn(conn)
    except SQLAlchemyError as exc:
        raise StorageError(f"scheduler state: {exc.__class__.__name__}") from exc


def save_state(repo: Repository, *, owner: str, role: str, lock: str, started_at: datetime,
               now: datetime, jobs: Mapping[str, Any]) -> None:
    """Insert or replace this scheduler's row (one short transaction).

    Raises:
        StorageError: the store could not be written.
    """
    values = {"role": role, "lock": lock, "started_at": int(started_at.timestamp()),
              "heartbeat_at": int(now.timestamp()), "jobs": json.dumps(jobs, sort_keys=True)}

    def write(conn: sa.Connection) -> None:
        updated = conn.execute(scheduler_state.update()
                               .where(scheduler_state.c.owner == owner).values(**values)).rowcount
        if not updated:
            conn.execute(scheduler_state.insert().values(owner=owner, **values))

    _run(repo, write)


def remove_state(repo: Repository, owner: str) -> None:
    """Delete a scheduler's row (clean shutdown)."""
    stmt = scheduler_state.delete().where(scheduler_state.c.owner == owner)
    _run(repo, lambda c: c.execute(stmt))


def remove_other_leaders(repo: Repository, owner: str) -> int:
    """Delete "running" rows of other owners: whoever holds the lock is the only leader."""
    return _run(repo, lambda c: c.execute(scheduler_state.delete().where(
        scheduler_state.c.role == "running", scheduler_state.c.owner != owner)).rowcount or 0)


def prune_states(repo: Repository, *, now: datetime, stale_after: float) -> int:
    """Delete rows of schedulers whose heartbeat is older than ``stale_after`` seconds."""
    cutoff = int(now.timestamp() - stale_after)
    return _run(repo, lambda c: c.execute(
        scheduler_state.delete().where(scheduler_state.c.heartbeat_at < cutoff)).rowcount or 0)


def describe_scheduler(repo: Repository, *, now: datetime, stale_after: float) -> dict[str, Any]:
    """The /api/health "scheduler" section built from the live rows of the store.

    Returns:
        ``state`` ("running" when a live leader exists, "standby" when only standbys are alive,
        "not running"), ``owner`` (the leader's host:pid), ``lock``, ``heartbeat_at``, ``jobs``
        (name -> last_run, outcome, error, next_run, runs) and ``standby`` (owners waiting).
    """
    cutoff = int(now.timestamp() - stale_after)
    rows = _run(repo, lambda c: c.execute(
        sa.select(scheduler_state).where(scheduler_state.c.heartbeat_at >= cutoff)
        .order_by(scheduler_state.c.owner)).mappings().all())
    leaders = [r for r in rows if r["role"] == "running"]
    standby = [r["owner"] for r in rows if r["role"] != "running"]
    if not leaders:
        return {"state": "standby" if standby else "not running", "owner": None, "jobs": {},
                "standby": standby}
    # Two live "running" rows can only overlap for one heartbeat during a handover.
    leader = max(leaders, key=lambda r: r["heartbeat_at"])
    return {
        "state": "running", "owner": leader["owner"], "lock": leader["lock"],
        "started_at": _iso(leader["started_at"]), "heartbeat_at": _iso(leader["heartbeat_at"]),
        "jobs": json.loads(leader["jobs"]), "standby": standby,
    }
