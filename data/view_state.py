"""Each dashboard session's last view, kept on the server (issue 17.1).

A 30 s refresh sends a small key, ``{"sid": <session id>, "v": <version>}``, instead of the
whole previous view. The server keeps the view it last sent to that session in the app's cache
backend (a directory of files, or Redis when ``cache.redis_url`` is set), so any worker answers
any session. The version names one stored view: the refresh answers with the difference to it
only when the browser's version is the stored one, else (expired, evicted, another tab's
answer, a forged or malformed key) it renders in full. A key is never an error.

Session ids are random (``secrets.token_urlsafe``), checked by shape and used for nothing but
the cache key, which sits in its own namespace (``view:`` plus the id, ids use only
``[A-Za-z0-9_-]``): a forged id can name no other cache entry, and at worst finds nothing.

Bounds: entries expire ``ttl`` seconds after their last write (10 min); the file backend keeps
at most ``max_sessions`` files (the oldest go first); a view larger than ``max_entry_bytes``
(pickled) is not kept (that session gets full renders). Redis bounds by the same expiry.
"""

from __future__ import annotations

import logging
import os
import pickle
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from data.cache_backend import CACHE_ERRORS, make_cache_backend

logger = logging.getLogger(__name__)

TTL_SECONDS = 600
MAX_SESSIONS = 2000
MAX_ENTRY_BYTES = 4 * 1024 * 1024
KEEP_VERSIONS = 3
_SID = re.compile(r"[A-Za-z0-9_-]{22,43}\Z")
_WORD = re.compile(r"[A-Za-z0-9_]{1,64}\Z")  # content keys (hex digests) and their kind
_MAX_VERSION = 2**31
_NAMESPACE = "view:"
# A cache failure must never break a refresh: it is logged and treated as a miss.
_CACHE_ERRORS = (*CACHE_ERRORS, pickle.UnpicklingError)


@dataclass(frozen=True)
class SessionView:
    """One session's stored views and the one its key names (None: not among them).

    ``versions``: the session's last ``KEEP_VERSIONS`` views, oldest first. More than one is
    kept because a browser may drop an answer (a tick fired while the previous one was still
    on its way): the key it sends then names the view before, which still gets a delta.
    """

    sid: str
    version: int | None
    state: dict[str, Any] | None
    versions: tuple[tuple[int, dict[str, Any]], ...] = ()

    @property
    def key(self) -> dict[str, Any]:
        """The key the browser sends back on its next refresh."""
        return {"sid": self.sid, "v": self.version}


def new_sid() -> str:
    """A fresh random session id (22 url-safe characters, 128 bits)."""
    return secrets.token_urlsafe(16)


def parse_key(key: object) -> tuple[str, int] | None:
    """(sid, version) of a well-shaped key, None for anything else (never raises)."""
    if not isinstance(key, Mapping) or set(key) != {"sid", "v"}:
        return None
    sid, version = key["sid"], key["v"]
    if not isinstance(sid, str) or not _SID.match(sid):
        return None
    if isinstance(version, bool) or not isinstance(version, int) or not 0 < version < _MAX_VERSION:
        return None
    return sid, version


def make_view_backend(cache_dir: str, redis_url: str | None = None, *,
                      key_prefix: str = "btcfolio", ttl: int = TTL_SECONDS,
                      max_sessions: int = MAX_SESSIONS) -> Any:
    """The backend of the view states: RedisCache (``<prefix>:view:`` keys) or files.

    The files live in ``<cache_dir>/views``, a directory of their own: pruning never touches
    price entries.
    """
    return make_cache_backend(os.path.join(cache_dir, "views"), redis_url,
                              key_prefix=f"{key_prefix}:", timeout=ttl, threshold=max_sessions)


class ViewStates:
    """Typed access to the sessions' last views on a flask-caching backend."""

    def __init__(self, backend: Any, *, ttl: int = TTL_SECONDS,
                 max_entry_bytes: int = MAX_ENTRY_BYTES) -> None:
        """Wrap ``backend``; entries live ``ttl`` seconds after their last write."""
        self.backend = backend
        self.ttl = ttl
        self.max_entry_bytes = max_entry_bytes

    @classmethod
    def from_settings(cls, cache_settings: Any) -> ViewStates:
        """Built from ``settings.cache`` (dir, redis_url, redis_key_prefix)."""
        return cls(make_view_backend(cache_settings.dir, cache_settings.redis_url,
                                     key_prefix=cache_settings.redis_key_prefix))

    @staticmethod
    def _cache_key(sid: str) -> str:
        return _NAMESPACE + sid

    def load(self, key: object) -> SessionView | None:
        """The session the browser's ``key`` names, None for a malformed or forged key.

        ``state`` is the stored view of that version, None when it is not (or no longer)
        stored: expired, evicted, unknown session, or the cache failing.
        """
        parsed = parse_key(key)
        if parsed is None:
            return None
        sid, version = parsed
        try:
            entry = self.backend.get(self._cache_key(sid))
        except _CACHE_ERRORS as exc:
            logger.warning("view state read failed: %s", exc.__class__.__name__)
            entry = None
        versions = _versions(entry)
        state = dict(versions).get(version)
        return SessionView(sid, version if state is not None else None, state, versions)

    def save(self, session: SessionView | None, state: dict[str, Any]) -> SessionView:
        """Store ``state`` as the session's newest view under a new version.

        ``session`` None starts a new session. A state that cannot be kept (too large, cache
        down) is still answered: the next refresh then renders in full.
        """
        sid = session.sid if session is not None else new_sid()
        version = secrets.randbelow(_MAX_VERSION - 1) + 1
        kept = (session.versions if session is not None else ())[-(KEEP_VERSIONS - 1):]
        view = SessionView(sid, version, state, (*kept, (version, state)))
        entry = {"versions": list(view.versions)}
        try:
            size = len(pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL))
            if size > self.max_entry_bytes:
                logger.info("view state of %d bytes not kept (limit %d)", size,
                            self.max_entry_bytes)
                self.backend.delete(self._cache_key(sid))
            else:
                self.backend.set(self._cache_key(sid), entry, timeout=self.ttl)
        except _CACHE_ERRORS as exc:
            logger.warning("view state write failed: %s", exc.__class__.__name__)
        return view

    def remember(self, kind: str, key: str, value: Any) -> None:
        """Keep ``value`` under a content key (e.g. the digest of the rebalance table shown).

        A failure is logged; the next ``recall`` then misses.
        """
        if _WORD.match(kind) and isinstance(key, str) and _WORD.match(key):
            try:
                self.backend.set(f"{kind}:{key}", value, timeout=self.ttl)
            except _CACHE_ERRORS as exc:
                logger.warning("%s state write failed: %s", kind, exc.__class__.__name__)

    def recall(self, kind: str, key: object) -> Any:
        """The value ``remember`` kept under ``key``; None when unknown, expired, forged."""
        if not (_WORD.match(kind) and isinstance(key, str) and _WORD.match(key)):
            return None
        try:
            return self.backend.get(f"{kind}:{key}")
        except _CACHE_ERRORS as exc:
            logger.warning("%s state read failed: %s", kind, exc.__class__.__name__)
            return None


def _versions(entry: object) -> tuple[tuple[int, dict[str, Any]], ...]:
    """The (version, view) pairs of a stored entry (none for anything of another shape)."""
    if not isinstance(entry, dict) or not isinstance(entry.get("versions"), list):
        return ()
    return tuple((v, state) for v, state in (
        item for item in entry["versions"] if isinstance(item, tuple) and len(item) == 2)
        if isinstance(v, int) and isinstance(state, dict))
