"""The sessions' view states (data/view_state.py): keys, versions, expiry, bounds, forged keys.

Run on both backends the app uses: files (the default) and Redis (TEST_REDIS_URL).
"""

from __future__ import annotations

import time

import pytest

from data.view_state import KEEP_VERSIONS, ViewStates, make_view_backend, new_sid, parse_key
from tests.backends import redis_prefix


@pytest.fixture(params=["files", "redis"])
def make_states(request, tmp_path):
    """A factory of ViewStates on one backend: make_states(ttl=..., max_sessions=...)."""
    if request.param == "files":
        def files(**kw):
            bound = {k: kw.pop(k) for k in ("max_sessions",) if k in kw}
            backend = make_view_backend(str(tmp_path / "cache"), ttl=kw.get("ttl", 600),
                                        **bound)
            return ViewStates(backend, **kw)
        yield files
        return
    with redis_prefix() as (url, prefix):
        def on_redis(**kw):
            kw.pop("max_sessions", None)
            backend = make_view_backend("unused", url, key_prefix=prefix.rstrip(":"),
                                        ttl=kw.get("ttl", 600))
            return ViewStates(backend, **kw)
        yield on_redis


def test_a_saved_view_is_found_by_its_key_and_only_by_it(make_states):
    states = make_states()
    first = states.save(None, {"order": ["BTC"], "n": 1})
    assert states.load(first.key).state == {"order": ["BTC"], "n": 1}
    second = states.save(states.load(first.key), {"order": ["BTC"], "n": 2})
    assert second.sid == first.sid and second.version != first.version
    assert states.load(second.key).state["n"] == 2
    # The view before is kept too (an answer the browser dropped), not older than that.
    assert states.load(first.key).state["n"] == 1
    session = states.load(second.key)
    for n in range(3, 3 + KEEP_VERSIONS):
        session = states.save(session, {"n": n})
    assert states.load(first.key).state is None
    assert states.load(session.key).state == {"n": 2 + KEEP_VERSIONS}
    # Another session never sees this one's views.
    other = states.save(None, {"n": 0})
    assert other.sid != first.sid and states.load(other.key).state == {"n": 0}


def test_an_unknown_session_or_version_has_no_state(make_states):
    states = make_states()
    known = states.save(None, {"n": 1})
    unknown = states.load({"sid": new_sid(), "v": known.version})
    assert unknown.state is None and unknown.version is None
    stale = states.load({"sid": known.sid, "v": known.version % 1000 + 1})
    assert stale.state is None and stale.sid == known.sid  # same session, a new view next


@pytest.mark.parametrize("key", [
    None, "", "abc", 42, [], ["sid", 1], {"sid": "a" * 22}, {"v": 1},
    {"sid": "a" * 22, "v": 1, "extra": 1}, {"sid": "a" * 21, "v": 1},
    {"sid": "a" * 44, "v": 1}, {"sid": "../" + "a" * 22, "v": 1},
    {"sid": "quote:BTC" + "a" * 20, "v": 1}, {"sid": "a" * 22, "v": True},
    {"sid": "a" * 22, "v": "1"}, {"sid": "a" * 22, "v": 0}, {"sid": "a" * 22, "v": 2**40},
    {"sid": "a" * 22, "v": 1.0}, {"sid": ["a" * 22], "v": 1}, {"sid": "ä" * 22, "v": 1},
])
def test_malformed_or_forged_keys_are_refused_by_shape(key):
    assert parse_key(key) is None


def test_a_forged_key_reads_no_other_cache_entry(tmp_path):
    # The price cache shares the directory's parent; a session id cannot name its entries.
    backend = make_view_backend(str(tmp_path))
    backend.set("quote:BTC", {"versions": [(1, {"secret": True})]})
    states = ViewStates(backend)
    for sid in ("quote:BTC", "../quote:BTC", "view:quote:BTC"):
        assert states.load({"sid": sid, "v": 1}) is None


def test_entries_expire(make_states):
    states = make_states(ttl=1)
    saved = states.save(None, {"n": 1})
    assert states.load(saved.key).state == {"n": 1}
    time.sleep(2.1)
    assert states.load(saved.key).state is None


def test_an_oversized_view_is_not_kept_and_drops_the_session(make_states):
    states = make_states(max_entry_bytes=2000)
    small = states.save(None, {"n": 1})
    big = states.save(states.load(small.key), {"blob": "x" * 5000})
    assert big.sid == small.sid
    assert states.load(big.key).state is None and states.load(small.key).state is None


def test_the_file_backend_keeps_a_bounded_number_of_sessions(tmp_path):
    states = ViewStates(make_view_backend(str(tmp_path), max_sessions=20))
    keys = [states.save(None, {"n": n}).key for n in range(60)]
    kept = [k for k in keys if states.load(k).state is not None]
    files = list((tmp_path / "views").iterdir())
    assert len(files) <= 22  # the threshold, one written after pruning, the file counter
    assert 0 < len(kept) <= 21
    assert states.load(keys[-1]).state == {"n": 59}  # the newest survives


def test_a_failing_cache_is_a_miss_never_an_error():
    class Broken:
        def get(self, key):
            raise OSError("disk gone")

        def set(self, key, value, timeout=None):
            raise OSError("disk gone")

        def delete(self, key):
            raise OSError("disk gone")

    states = ViewStates(Broken())
    saved = states.save(None, {"n": 1})
    assert parse_key(saved.key) is not None
    assert states.load(saved.key).state is None
