"""The cache, failing open: when Redis is down, pages and bookings still work, from the
database, a little slower. A cache error is logged, never raised.

A Redis that hangs (stopped, not gone) costs little more than one that is down: each call
gives up after a short socket timeout (settings.CACHES), and after a failure a circuit
breaker stops calling the cache at all for `CACHE_BREAKER_SECONDS`, then tries again.

What a cached value is current for is told by versions. The deposit policy's and the
catalogue's are kept in PostgreSQL (`tenants/versions.py`), moved on
in the transaction that makes the change: a change is never hidden because a bump in Redis
was lost while it hung. Their cache keys also carry a version kept in Redis, which starts
anywhere, so that values cached before Redis lost its data are not used after. The
availability's version lives in Redis only: every booking moves it, and its answers are
cached by the minute anyway.
"""

import logging
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

log = logging.getLogger(__name__)

T = TypeVar("T")


class Breaker:
    """Whether to call the cache now: not for `CACHE_BREAKER_SECONDS` after a failure.

    Counts the calls made (`attempts`), the ones that failed and the ones skipped, per
    process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.failed_at: float | None = None
            self.attempts = self.failures = self.skipped = 0

    @property
    def open(self) -> bool:
        failed_at = self.failed_at
        return failed_at is not None and (
            time.monotonic() - failed_at < settings.CACHE_BREAKER_SECONDS
        )

    def allow(self) -> bool:
        """Whether a call may be made now; counted either way."""
        allowed = not self.open
        with self._lock:
            if allowed:
                self.attempts += 1
            else:
                self.skipped += 1
        return allowed

    def trip(self) -> None:
        with self._lock:
            self.failures += 1
            self.failed_at = time.monotonic()


breaker = Breaker()


def cache_call(what: str, call: Callable[[], T], fallback: T) -> T:
    """`call()`, the cache's; `fallback` when the breaker is open or the call fails."""
    if not breaker.allow():
        return fallback
    try:
        return call()
    except Exception:  # the cache backend's own errors (Redis down, timeouts)
        breaker.trip()
        log.warning(
            "cache unavailable (%s); not called for %s s",
            what,
            settings.CACHE_BREAKER_SECONDS,
            exc_info=True,
        )
        return fallback


def cache_get(key: str) -> Any:
    return cache_call(f"get {key}", lambda: cache.get(key), None)


def cache_get_many(keys: list[str]) -> dict[str, Any]:
    """The values found among `keys`, in one round trip."""
    return cache_call(f"get_many {keys[0]}...", lambda: cache.get_many(keys), {})


def cache_set(key: str, value: Any, seconds: int) -> None:
    cache_call(f"set {key}", lambda: cache.set(key, value, seconds), None)


def cache_delete(key: str) -> None:
    cache_call(f"delete {key}", lambda: cache.delete(key), None)


def fresh_version() -> int:
    # A version starts anywhere: after Redis loses its data, new versions never meet
    # the values a process kept under old ones.
    return secrets.randbits(48)


def _bump(key: str) -> None:
    def bump() -> None:
        try:
            cache.incr(key)
        except ValueError:  # no version yet
            cache.add(key, fresh_version(), None)

    cache_call(f"incr {key}", bump, None)


def version_get(key: str) -> int:
    def read() -> int | None:
        value = cache.get(key)
        if value is None:
            cache.add(key, fresh_version(), None)
            value = cache.get(key)
        return None if value is None else int(value)

    value = cache_call(f"version {key}", read, None)
    # Unreachable: a version no value was ever cached under, so the database is read.
    return value if value is not None else fresh_version()


def version_bump(key: str) -> None:
    """Move a version on now and again once the transaction commits.

    The first bump makes readers stop using what was cached; the second throws away
    anything a reader computed from the database before this transaction committed.
    """
    _bump(key)
    transaction.on_commit(lambda: _bump(key))


# Values cached under a key that carries their version never change: a process keeps the
# ones it has unpickled (a few hundred at most) and only asks for the version.
_KEPT: dict[str, Any] = {}
_KEPT_MAX = 512


def cache_get_versioned(key: str) -> Any:
    """`cache_get` for a key naming one immutable value (its version is in the key)."""
    if key in _KEPT:
        return _KEPT[key]
    value = cache_get(key)
    if value is not None:
        _keep(key, value)
    return value


def cache_set_versioned(key: str, value: Any, seconds: int) -> None:
    cache_set(key, value, seconds)
    _keep(key, value)


def _keep(key: str, value: Any) -> None:
    if len(_KEPT) >= _KEPT_MAX:
        _KEPT.pop(next(iter(_KEPT)), None)  # the oldest
    _KEPT[key] = value
