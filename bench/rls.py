"""What row-level security costs the hot requests, against the budget of issue 8.

    .venv/bin/python bench/rls.py               # PostgreSQL at BENCH_DATABASE_URL

The product acts as the application role, and the database backend sets the tenant of the
scope per transaction (tenants/db/postgresql/base.py). Inside a transaction that is one
`set_config` when it begins; a statement made in a scope outside one (Django's autocommit)
is wrapped in its own `BEGIN`, `set_config` … `COMMIT`, the four sent in one pipeline.

Measures, in process on the benchmark's salon (bench/availability.py's world, as that role):
(1) what one such statement costs more than the same statement inside a transaction;
(2) for each hot request (a month of availability, a staff-day, a booking; the answer
computed anew, the catalogue cached, as after any booking), how many of its statements pay
it, and what share of the request's time that is. Prints the figures and
exits non-zero when a request's share is over budget.
"""

import datetime as dt
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

BUDGET_SHARE = 0.10  # of a hot request's median time
STATEMENTS = 2000
ROUNDS = 30

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.availability import build  # noqa: E402
from bench.common import REDIS_URL, setup  # noqa: E402


def per_statement(salon: Any, service: Any) -> tuple[float, float]:
    """Median ms of one scoped statement on its own (autocommit) and inside a transaction."""
    from django.db import transaction

    from bookings.models import Service
    from tenants.scoping import salon_scope

    def run() -> list[float]:
        times = []
        for _ in range(STATEMENTS):
            start = time.perf_counter()
            Service.objects.filter(pk=service.pk).values_list("pk", flat=True).first()
            times.append((time.perf_counter() - start) * 1000)
        return times

    with salon_scope(salon):
        run()  # warm: prepared statements, the pool
        alone = run()
        with transaction.atomic():
            inside = run()
    return statistics.median(alone), statistics.median(inside)


class Counter:
    """Counts the statements of a request, and those the backend wraps in a transaction."""

    def __init__(self) -> None:
        self.statements = 0
        self.wrapped = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        from django.db import connection
        from django_scopes.state import state
        from psycopg.pq import TransactionStatus

        from tenants.db.postgresql.base import NONE
        from tenants.rls import tenant_setting

        raw = connection.connection
        self.statements += 1
        idle = raw.info.transaction_status == TransactionStatus.IDLE
        if idle and raw.autocommit and tenant_setting(state.get()) != NONE:
            self.wrapped += 1
        return execute(sql, params, many, context)


def requests(salon: Any, services: list[Any], staff: list[Any], today: dt.date) -> list[tuple]:
    """(name, method, path) of the hot requests."""
    base = f"/api/v1/salons/{salon.slug}"
    month = (
        f"{base}/availability/?service={services[1].pk}&from={today}"
        f"&to={today + dt.timedelta(days=30)}"
    )
    day = today + dt.timedelta(days=3)
    staff_day = (
        f"{base}/availability/?service={services[0].pk}&from={day}&to={day}&staff={staff[0].pk}"
    )
    return [
        ("month of availability", "get", month),
        ("staff-day of availability", "get", staff_day),
        ("booking", "post", f"{base}/bookings/"),
    ]


def booking_body(salon: Any, services: list[Any], staff: list[Any], today: dt.date, n: int):
    """The n-th booking of the run: its own staff member and 30-minute slot, on a working
    day 40 days on, where the built salon has no booking."""
    day = today + dt.timedelta(days=40)
    while day.weekday() == 6:
        day += dt.timedelta(days=1)
    member, slot = n % len(staff), n // len(staff)
    start = dt.datetime.combine(day, dt.time(9), tzinfo=salon.tz) + dt.timedelta(minutes=30 * slot)
    return {
        "service": services[0].pk,
        "staff": staff[member].pk,
        "start": start.isoformat(),
        "customer": {"name": f"Client {n}", "phone": f"+3362{n:07d}"},
    }


def per_request(salon, services, staff, today) -> list[tuple[str, int, int, float]]:
    from django.db import connection
    from django.test import Client

    from bookings.selectors import availability_changed

    client = Client()
    figures = []
    booked = 0
    for name, method, path in requests(salon, services, staff, today):
        counter = Counter()
        times = []
        for round_ in range(ROUNDS + 2):
            # Each request computes what it answers, as after a booking: the availability
            # cached is forgotten, the catalogue (services, staff, hours) stays cached.
            availability_changed(salon.pk)
            kwargs: dict[str, Any] = {}
            if method == "post":
                body = booking_body(salon, services, staff, today, booked)
                booked += 1
                kwargs = {"data": json.dumps(body), "content_type": "application/json"}
            counted = round_ == 1  # the first fills the catalogue's cache
            start = time.perf_counter()
            if counted:
                # Django runs the first of its wrappers outermost: before the backend's.
                connection.execute_wrappers.insert(0, counter)
                try:
                    response = getattr(client, method)(path, **kwargs)
                finally:
                    connection.execute_wrappers.remove(counter)
            else:
                response = getattr(client, method)(path, **kwargs)
                if round_:
                    times.append((time.perf_counter() - start) * 1000)
            assert response.status_code in (200, 201), response.content
        figures.append((name, counter.statements, counter.wrapped, statistics.median(times)))
    return figures


def main() -> int:
    os.environ["SMS_BACKEND"] = "locmem"
    # Redis as broker, as in production: what a booking enqueues is left to a worker (none
    # here), not run in the request; the queue is emptied after.
    setup(redis_url=REDIS_URL)
    from django.db import connection

    salon, services, staff, _customers, today = build()
    with connection.cursor() as cursor:
        cursor.execute("SELECT session_user, current_user")
        login, acting = cursor.fetchone()
    print(f"connected as {login}, acting as {acting}")
    alone, inside = per_statement(salon, services[0])
    extra = alone - inside
    print(
        f"one scoped statement: {alone:.3f} ms on its own (autocommit), {inside:.3f} ms "
        f"inside a transaction: {extra:.3f} ms more"
    )
    ok = True
    for name, statements, wrapped, median in per_request(salon, services, staff, today):
        share = wrapped * extra / median if median else 0.0
        passed = share <= BUDGET_SHARE
        ok = ok and passed
        print(
            f"{name}: {statements} statements, {wrapped} on their own, median {median:.1f} ms;"
            f" the extra round trips {wrapped * extra:.2f} ms = {share:.1%}"
            f"  [budget <= {BUDGET_SHARE:.0%}: {'OK' if passed else 'MISSED'}]"
        )
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
