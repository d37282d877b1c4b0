"""Versions of what cached values were computed from, kept in PostgreSQL (`CacheVersion`):
they move with the data, in its transaction, whatever Redis does (core/cache.py)."""

from django.db import transaction

from core.cache import fresh_version

from .models import CacheVersion


def durable_version_get(key: str) -> int:
    """The version of `key` as the database has it (one made when there is none)."""
    versions = CacheVersion.objects.filter(key=key).values_list("version", flat=True)
    found = versions.first()
    if found is None:
        CacheVersion.objects.bulk_create(
            [CacheVersion(key=key, version=fresh_version())], ignore_conflicts=True
        )
        found = versions.first()
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
