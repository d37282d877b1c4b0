"""What every benchmark shares: its own PostgreSQL database and production-like settings."""

import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/acompte_bench")
# The web processes under load use Redis, as in production (cache and broker).
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3")
ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "DJANGO_DEBUG": "0",
    "DATABASE_URL": DB_URL,
    "DJANGO_SECRET_KEY": "bench-only-secret-key-not-for-production-7c1e5b2d8f604a1c",
    "DJANGO_SECURE_SSL_REDIRECT": "0",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,testserver",
    "RATE_LIMITS": "off",
    "LOG_LEVEL": "WARNING",
}


def setup(redis_url: str | None = None) -> None:
    """Create the benchmark database if needed, then set Django up on it, with `redis_url`
    as cache and broker (none: the embedded default, a local-memory cache), emptied first:
    what an earlier benchmark cached (its salon rebuilt since) is not read as this one's."""
    import psycopg
    import redis

    sys.path.insert(0, str(ROOT))
    os.environ.update(ENV)
    if redis_url:
        os.environ["REDIS_URL"] = redis_url
        redis.Redis.from_url(redis_url).flushdb()
    else:
        os.environ.pop("REDIS_URL", None)
    name = DB_URL.rsplit("/", 1)[1]
    with psycopg.connect(DB_URL.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')

    import django
    from django.test.utils import setup_test_environment

    django.setup()
    setup_test_environment()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fresh_salon(slug: str, **fields: object) -> Any:
    """The bench's salon (Paris, EUR), made anew on a migrated database: the previous
    run's, with its bookings, is removed first."""
    from django.core.management import call_command
    from django_scopes import scopes_disabled

    from bookings.models import Booking, Resource, ResourceKind
    from deposits.models import Payment
    from tenants.models import Salon
    from tenants.scoping import salon_scope

    call_command("migrate", verbosity=0)
    old = Salon.objects.filter(slug=slug).first()
    if old is not None:
        with salon_scope(old):
            # What protects what, removed in turn; the rest cascades.
            Payment.objects.all().delete()
            Booking.objects.all().delete()
            Resource.objects.all().delete()
            ResourceKind.objects.all().delete()
        with scopes_disabled():  # the cascade reaches every table the salon has rows in
            old.delete()
    return Salon.objects.create(
        slug=slug, name="Bench", timezone="Europe/Paris", currency="EUR", country="FR", **fields
    )


def staff_team(salon: Any, services: list[Any], count: int) -> list[Any]:
    """`count` staff members offering `services`, Monday to Saturday 09:00-19:00; inside
    the salon's scope."""
    import datetime as dt

    from bookings.services import staff_hours_set, staff_save

    week = [{"weekday": d, "start": dt.time(9), "end": dt.time(19)} for d in range(6)]
    team = []
    for n in range(count):
        member = staff_save(
            salon=salon, staff=None, name=f"Staff {n}", service_ids=[s.pk for s in services]
        )
        staff_hours_set(staff=member, ranges=week)
        team.append(member)
    return team
