"""Set-once handles for callbacks and API routes: init(settings, repo), repository(), settings().

Set by ``create_app`` and read-only after; per-user state lives in dcc.Store, never here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from data.storage import Repository
    from settings import Settings

_state: dict[str, object] = {}


def init(settings: Settings, repo: Repository) -> None:
    """Install the handles (called once per app)."""
    _state["settings"] = settings
    _state["repository"] = repo


def repository() -> Repository:
    """The store of the running app."""
    return _state["repository"]  # type: ignore[return-value]


def settings() -> Settings:
    """The validated settings of the running app."""
    return _state["settings"]  # type: ignore[return-value]


def set_scheduler_state_provider(provider) -> None:
    """Register a zero-argument callable describing the scheduler (set by the entry point)."""
    _state["scheduler"] = provider


def scheduler_state() -> dict:
    """The scheduler's state for /api/health ("not started" when none runs in this process)."""
    provider = _state.get("scheduler")
    return provider() if provider else {"state": "not started"}
