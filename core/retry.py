"""Transactions PostgreSQL rolls back because of another one, run again.

Two transactions can each wait on a lock the other holds (a deadlock, SQLSTATE 40P01), or,
under a stricter isolation level, fail to serialise (40001). PostgreSQL then aborts one of
them, which did nothing wrong: run again, it goes through, since the other has finished.
Such a failure reaches Django as an OperationalError, which the API would answer 503
`unavailable` (web/errors.py); the paths that race (a booking) run their transaction with
`atomic_retried` instead, which runs it again, a few times, before letting it out.
"""

import logging
from collections.abc import Callable
from typing import TypeVar

from django.db import DatabaseError, transaction
from psycopg import errors

log = logging.getLogger(__name__)

T = TypeVar("T")

ATTEMPTS = 5
_CONFLICTS = (errors.SerializationFailure, errors.DeadlockDetected)


def rolled_back_for_conflict(exc: BaseException | None) -> bool:
    """Whether PostgreSQL aborted the transaction for a deadlock or a serialization
    failure (Django's error carries psycopg's as its cause)."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, _CONFLICTS):
            return True
        exc, seen = exc.__cause__, seen + 1
    return False


def atomic_retried(fn: Callable[[], T], *, using: str | None = None, attempts: int = ATTEMPTS) -> T:
    """`fn()` in a transaction of its own, run again when PostgreSQL aborts it for a
    deadlock or a serialization failure; its other errors come out at once.

    Everything `fn` did in the aborted attempt is undone with it (its `on_commit`
    callbacks too), so `fn` must do its work in the database only, or outside after it.
    Inside another transaction nothing can be run again but that whole transaction: `fn`
    then simply runs in it (a savepoint), and a conflict comes out to its owner."""
    if transaction.get_connection(using).in_atomic_block:
        with transaction.atomic(using=using):
            return fn()
    attempt = 1
    while True:
        try:
            with transaction.atomic(using=using):
                return fn()
        except DatabaseError as exc:
            if attempt >= attempts or not rolled_back_for_conflict(exc):
                raise
            log.info("transaction aborted by a concurrent one (%s); attempt %d", exc, attempt + 1)
            attempt += 1
