"""Set-once handles for callbacks and API routes: init(settings, repo, clock), repository(), ...

Set by ``create_app`` and read-only after; per-user state lives in dcc.Store or in the shared
view-state cache (``view_states()``, any worker answers any session), never in this process.
``clock`` is the one clock seam of the read side: tests and benchmarks pass their own.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from data import clock
from queries.context import ReadContext

if TYPE_CHECKING:
    from data.storage import Repository
    from data.view_state import ViewStates
    from settings import Settings

_state: dict[str, object] = {}


def utcnow() -> datetime:
    """The process clock (tz-aware UTC): ``data.clock`` (real time, or BTCFOLIO_CLOCK_START)."""
    return clock.utcnow()


def init(settings: Settings, repo: Repository, *,
         clock: Callable[[], datetime] = utcnow) -> None:
    """Install the handles (called once per app)."""
    _state["settings"] = settings
    _state["repository"] = repo
    _state["clock"] = clock


def now() -> datetime:
    """The current time of the running app (its clock)."""
    return _state.get("clock", utcnow)()  # type: ignore[operator]


def read_context() -> ReadContext:
    """The store, the settings and one reading of the clock, for one request's reads."""
    return ReadContext(repository(), settings(), now())


def repository() -> Repository:
    """The store of the running app."""
    return _state["repository"]  # type: ignore[return-value]


def settings() -> Settings:
    """The validated settings of the running app."""
    return _state["settings"]  # type: ignore[return-value]


def set_view_states(states: ViewStates) -> None:
    """Install the sessions' view-state cache (called by ``create_app``)."""
    _state["view_states"] = states


def view_states() -> ViewStates:
    """Each dashboard session's last view (``data.view_state``)."""
    return _state["view_states"]  # type: ignore[return-value]


def set_scheduler_state_provider(provider) -> None:
    """Register a zero-argument callable describing the scheduler (set by the entry point)."""
    _state["scheduler"] = provider


def scheduler_state() -> dict:
    """The scheduler's state for /api/health ("not started" when none runs in this process)."""
    provider = _state.get("scheduler")
    return provider() if provider else {"state": "not started"}
