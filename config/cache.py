"""The cache, failing open: when Redis is down, pages and bookings still work, from the
database, a little slower. A cache error is logged, never raised."""

import logging
import secrets
from typing import Any

from django.core.cache import cache
from django.db import transaction

log = logging.getLogger(__name__)

_MISSING = object()


def cache_get(key: str) -> Any:
    try:
        return cache.get(key)
    except Exception:  # the cache backend's own errors (Redis down, timeouts)
        log.warning("cache unavailable (get %s)", key, exc_info=True)
        return None


def cache_set(key: str, value: Any, seconds: int) -> None:
    try:
        cache.set(key, value, seconds)
    except Exception:
        log.warning("cache unavailable (set %s)", key, exc_info=True)


def cache_delete(key: str) -> None:
    try:
        cache.delete(key)
    except Exception:
        log.warning("cache unavailable (delete %s)", key, exc_info=True)


def _fresh_version() -> int:
    # A version starts anywhere: after Redis loses its data, new versions never meet
    # the values a process kept under old ones.
    return secrets.randbits(48)


def _bump(key: str) -> None:
    try:
        try:
            cache.incr(key)
        except ValueError:  # no version yet
            cache.add(key, _fresh_version(), None)
    except Exception:
        log.warning("cache unavailable (incr %s)", key, exc_info=True)


def version_get(key: str) -> int:
    value = cache_get(key)
    if value is None:
        try:
            cache.add(key, _fresh_version(), None)
            value = cache.get(key)
        except Exception:
            log.warning("cache unavailable (version %s)", key, exc_info=True)
    return int(value) if value is not None else _fresh_version()


def version_bump(key: str) -> None:
    """Move a version on now and again once the transaction commits.

    The first bump makes readers stop using what was cached; the second throws away
    anything a reader computed from the database before this transaction committed.
    """
    _bump(key)
    transaction.on_commit(lambda: _bump(key))


# Values cached under a key that carries their version never change: a process keeps the
# ones it has unpickled (a few hundred at most) and only asks Redis for the version.
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
        _KEPT.pop(next(iter(_KEPT)))  # the oldest
    _KEPT[key] = value
