"""Load: 50 clients browsing availability and booking for 2 minutes, against the budgets of
the hardening issue.

    .venv/bin/python bench/load.py                  # PostgreSQL at BENCH_DATABASE_URL
    .venv/bin/python bench/load.py --duration 30    # a quick run

The production stack on 127.0.0.1: gunicorn (`--workers`, sync), PostgreSQL (the bench's
own database), Redis (`BENCH_REDIS_URL`: cache and broker, flushed first) and a real
Celery worker sending each booking's confirmation. Locust (`bench/load_users.py`) drives
`--users` clients, started 10 a second, each browsing a day of availability and now and
then booking a time it was shown, with no deposit due. A salon of 6 staff members, open
Monday to Saturday 09:00-19:00, with 300 bookings already over the next 14 days.

Prints the requests, the 5xx answers (budget: none), the overlapping active bookings of one
staff member found in the database afterwards (budget: none), the p95 of availability
(< 300 ms) and of booking (< 500 ms), each with PASS or FAIL; exits non-zero on a FAIL.
A 409 `slot_unavailable` (the time was taken meanwhile) is an expected answer.
"""

import argparse
import datetime as dt
import json
import math
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

BUDGET_AVAILABILITY_P95_MS = 300.0
BUDGET_BOOKING_P95_MS = 500.0

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import ENV, REDIS_URL, ROOT, free_port, fresh_salon, setup, staff_team  # noqa: E402

SLUG = "bench-load"
DAYS = 14


def build() -> tuple[list[int], list[int], list[str]]:
    """The salon, rebuilt on each run so that its days start after today: (service ids,
    staff ids, the open days clients browse)."""
    from django.utils import timezone

    from bookings.models import Booking, Source, Status
    from bookings.services import catalogue_service_save
    from customers.models import Customer
    from tenants.scoping import salon_scope

    salon = fresh_salon(SLUG, min_notice_minutes=0)
    rng = random.Random(8)
    tz = salon.tz
    today = timezone.now().astimezone(tz).date()
    days = [d for n in range(1, DAYS + 1) if (d := today + dt.timedelta(days=n)).weekday() != 6]
    with salon_scope(salon):
        services = [
            catalogue_service_save(
                salon=salon, service=None, name=f"Service {m}", duration_minutes=m, price=m * 100
            )
            for m in (30, 45, 60)
        ]
        staff = staff_team(salon, services, 6)
        customers = Customer.objects.bulk_create(
            Customer(
                salon=salon, name=f"Client {n}", phone=f"+3361{n:07d}", last_seen_at=timezone.now()
            )
            for n in range(200)
        )
        # 300 one-hour bookings on the hour, none overlapping for a staff member.
        taken: set[tuple[int, dt.datetime]] = set()
        bookings: list[Booking] = []
        while len(bookings) < 300:
            member = rng.choice(staff)
            start = dt.datetime.combine(rng.choice(days), dt.time(rng.randrange(9, 18)), tz)
            if (member.pk, start) in taken:
                continue
            taken.add((member.pk, start))
            end = start + dt.timedelta(hours=1)
            bookings.append(
                Booking(
                    salon=salon,
                    customer=rng.choice(customers),
                    service=services[2],
                    staff=member,
                    start=start,
                    end=end,
                    busy_start=start,
                    busy_end=end,
                    price=services[2].price,
                    currency="EUR",
                    source=Source.WEB,
                    status=Status.CONFIRMED,
                    confirmed_at=timezone.now(),
                )
            )
        Booking.objects.bulk_create(bookings)
    return [s.pk for s in services], [s.pk for s in staff], [d.isoformat() for d in days]


@contextmanager
def _process(command: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL
    )
    try:
        yield process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def _wait_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            assert process.poll() is None, "gunicorn exited"
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)


# Pairs of stretches of busy time of two bookings, active by the bookings' own status (not
# by the flag the trigger keeps: a broken trigger must not hide an overlap), on the same
# staff member or the same unit of a resource.
OVERLAPS_SQL = (
    "SELECT count(*) FROM bookings_busytime a"
    " JOIN bookings_booking ba ON ba.id = a.booking_id"
    " JOIN bookings_busytime b ON a.booking_id < b.booking_id"
    ' AND a.start < b."end" AND b.start < a."end"'
    " AND (a.staff_id = b.staff_id OR (a.resource_id = b.resource_id AND a.unit = b.unit))"
    " JOIN bookings_booking bb ON bb.id = b.booking_id"
    " WHERE ba.status = ANY(%s) AND bb.status = ANY(%s)"
)


def count_overlapping_bookings(cursor: Any = None) -> tuple[int, int]:
    """Pairs of active bookings whose busy times overlap on one staff member or one unit
    of a resource, in every salon, and the active bookings the count saw.

    Row-level security shows a statement made outside any salon's scope no row at all:
    counted so, there would never be an overlap to find. The count reads every salon's
    rows (`acompte.all_salons`, as `scopes_disabled()` sets it), in one transaction: the
    caller's when `cursor` is given (a psycopg cursor in a transaction), else one of its
    own on Django's connection. A count that saw no booking proves nothing."""
    from bookings.models import ACTIVE_STATUSES

    if cursor is None:
        from django.db import connection, transaction
        from django_scopes import scopes_disabled

        with scopes_disabled(), transaction.atomic(), connection.cursor() as own:
            return count_overlapping_bookings(own)
    active = list(ACTIVE_STATUSES)
    cursor.execute("SELECT set_config('acompte.all_salons', 'on', true)")
    cursor.execute(OVERLAPS_SQL, [active, active])
    overlapping = int(cursor.fetchone()[0])
    cursor.execute("SELECT count(*) FROM bookings_booking WHERE status = ANY(%s)", [active])
    return overlapping, int(cursor.fetchone()[0])


def p95(values: list[float]) -> float:
    """Nearest rank: at most 5 % of the requests took longer."""
    ordered = sorted(values)
    return ordered[math.ceil(0.95 * len(ordered)) - 1] if ordered else math.inf


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--duration", type=int, default=120, help="seconds (default 120)")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    args = parser.parse_args()

    import redis

    setup(redis_url=REDIS_URL)
    redis.Redis.from_url(REDIS_URL).flushdb()
    services, staff, days = build()
    # Text messages are kept in the worker's memory: sent, not printed.
    env = {**os.environ, **ENV, "REDIS_URL": REDIS_URL, "SMS_BACKEND": "locmem"}
    port = free_port()
    results = Path(tempfile.mkstemp(suffix=".json", prefix="load-")[1])
    worker = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--pool",
        "prefork",
        "--concurrency",
        "1",
        "--loglevel",
        "WARNING",
        "--without-heartbeat",
        "--without-mingle",
        "--without-gossip",
        "--hostname",
        "bench-load@%h",
    ]
    web = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        "--workers",
        str(args.workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
    ]
    locust = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(ROOT / "bench" / "load_users.py"),
        "--headless",
        "-u",
        str(args.users),
        "-r",
        "10",
        "-t",
        f"{args.duration}s",
        "--host",
        f"http://127.0.0.1:{port}",
        "--only-summary",
        "--stop-timeout",
        "5",
        "--loglevel",
        "WARNING",
    ]
    users_env = {
        **os.environ,
        "LOAD_SALON": SLUG,
        "LOAD_SERVICES": json.dumps(services),
        "LOAD_STAFF": json.dumps(staff),
        "LOAD_DAYS": json.dumps(days),
        "LOAD_RESULTS": str(results),
    }
    try:
        with _process(worker, env), _process(web, env) as server:
            _wait_port(port, server)
            print(
                f"{args.users} clients for {args.duration} s against gunicorn ({args.workers} "
                "sync workers), PostgreSQL, Redis and a Celery worker"
            )
            subprocess.run(
                locust, cwd=ROOT, env=users_env, check=False, timeout=args.duration + 120
            )
        data = json.loads(results.read_text())
    finally:
        results.unlink(missing_ok=True)

    statuses = {
        name: {int(k): v for k, v in counts.items()} for name, counts in data["statuses"].items()
    }
    total = sum(sum(counts.values()) for counts in statuses.values())
    errors = sum(v for counts in statuses.values() for k, v in counts.items() if k >= 500 or k == 0)
    double, seen = count_overlapping_bookings()
    availability_p95 = p95(data["times"].get("availability", []))
    booking_p95 = p95(data["times"].get("booking", []))
    for name, counts in sorted(statuses.items()):
        print(f"{name}: {sum(counts.values())} requests, by status {dict(sorted(counts.items()))}")
    checks = [
        (f"requests: {total}; 5xx or no answer: {errors}", errors == 0, "0"),
        (
            f"double bookings in the database: {double} (among {seen} active bookings seen)",
            double == 0 and seen > 0,
            "0",
        ),
        (
            f"availability p95: {availability_p95:.0f} ms",
            availability_p95 < BUDGET_AVAILABILITY_P95_MS,
            f"< {BUDGET_AVAILABILITY_P95_MS:.0f} ms",
        ),
        (
            f"booking p95: {booking_p95:.0f} ms",
            booking_p95 < BUDGET_BOOKING_P95_MS,
            f"< {BUDGET_BOOKING_P95_MS:.0f} ms",
        ),
    ]
    for text, ok, budget in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {text}  [budget {budget}]")
    return 0 if all(ok for _text, ok, _budget in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
