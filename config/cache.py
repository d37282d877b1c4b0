"""The cache, failing open: when Redis is down, pages and bookings still work, from the
database, a little slower. A cache error is logged, never raised."""

import logging
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


def _bump(key: str) -> None:
    try:
        try:
            cache.incr(key)
        except ValueError:  # no version yet
            cache.add(key, 1, None)
    except Exception:
        log.warning("cache unavailable (incr %s)", key, exc_info=True)


def version_get(key: str) -> int:
    value = cache_get(key)
    return int(value) if value is not None else 0


def version_bump(key: str) -> None:
    """Move a version on now and again once the transaction commits.

    The first bump makes readers stop using what was cached; the second throws away
    anything a reader computed from the database before this transaction committed.
    """
    _bump(key)
    transaction.on_commit(lambda: _bump(key))
