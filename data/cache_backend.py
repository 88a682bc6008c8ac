"""The flask-caching backend of a cache: RedisCache when a Redis URL is set, else files.

Shared by the provider cache (``data/providers/cache.py``) and the dashboard's view states
(``data/view_state.py``): each names its own folder, key prefix, expiry and file bound.
"""

from __future__ import annotations

from typing import Any

from flask_caching.backends.filesystemcache import FileSystemCache
from flask_caching.backends.rediscache import RedisCache
from redis.exceptions import RedisError

# A cache failure must never break its caller: callers log it and treat it as a miss.
CACHE_ERRORS = (RedisError, OSError, EOFError, ValueError, TypeError, AttributeError)


def make_cache_backend(directory: str, redis_url: str | None, *, key_prefix: str,
                       timeout: int, threshold: int) -> Any:
    """A RedisCache on ``redis_url`` (keys start with ``key_prefix``), else files in ``directory``.

    Args:
        directory: the FileSystemCache folder (unused with Redis).
        redis_url: the Redis server, or None / empty for files.
        key_prefix: the Redis key prefix.
        timeout: default expiry of an entry in seconds.
        threshold: at most this many files (the oldest go first).

    Returns:
        A flask-caching backend.
    """
    if redis_url:
        import redis

        return RedisCache(host=redis.Redis.from_url(redis_url), key_prefix=key_prefix,
                          default_timeout=timeout)
    return FileSystemCache(directory, threshold=threshold, default_timeout=timeout)
