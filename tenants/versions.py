"""Versions of what cached values were computed from, kept in PostgreSQL (`CacheVersion`):
they move with the data, in its transaction, whatever Redis does (core/cache.py)."""

from django.db import connection, transaction

from core.cache import fresh_version

from .models import CacheVersion

# Read on every booking and every uncached availability query (the catalogue's, the
# deposit policy's): as plain SQL, a fifth of what the ORM spends building the query.
_READ = "SELECT version FROM tenants_cacheversion WHERE key = %s"


def _read(key: str) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(_READ, [key])
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def durable_version_get(key: str) -> int:
    """The version of `key` as the database has it (one made when there is none)."""
    found = _read(key)
    if found is None:
        CacheVersion.objects.bulk_create(
            [CacheVersion(key=key, version=fresh_version())], ignore_conflicts=True
        )
        found = _read(key)
    return found if found is not None else fresh_version()


def durable_version_bump(key: str) -> None:
    """Give `key` a new version in the current transaction, and again once it commits
    (what a reader computed from the data before the commit is thrown away with it).
    Each version is drawn at random, so one that a rolled-back transaction made (and a
    reader may have cached its uncommitted data under) never comes back."""

    def bump() -> None:
        CacheVersion.objects.bulk_create(
            [CacheVersion(key=key, version=fresh_version())],
            update_conflicts=True,
            unique_fields=["key"],
            update_fields=["version"],
        )

    bump()
    transaction.on_commit(bump)
