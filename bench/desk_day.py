"""The desk's day view for a salon of 20 staff members with 400 bookings that day,
against issue 18's budget of 150 ms.

    .venv/bin/python bench/desk_day.py          # PostgreSQL at BENCH_DATABASE_URL

Builds (anew each run) a salon (Paris) with 20 staff members working 09:00-19:00, a
basin resource of 3 units, and 400 bookings on one day (20 per staff member, ten hours of
30-minute services), half of them with a deposit paid, some held awaiting payment, some
waived, some paid at the desk; a staff member's lunch break and another's time off.

Measures, in process, median of 15 after a warm-up: the schedule page signed in as a desk
user (Django's test client: no network), with its SQL query count and the CPU time this
process spent (a loaded machine stretches the wall time, not that), and the live refresh's
version. Prints the page's wall-time median against the budget and exits non-zero when it
misses it.
"""

import datetime as dt
import statistics
import sys
import time
from pathlib import Path

BUDGET_MS = 150.0
STAFF = 20
PER_STAFF = 20
ROUNDS = 15
SLUG = "bench-desk-day"

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import fresh_salon, setup  # noqa: E402


def build():
    """The salon, its desk user and the day measured (a Tuesday three weeks ahead)."""
    from django.contrib.auth import get_user_model

    from bookings.models import (
        Booking,
        BookingItem,
        BusyTime,
        Status,
        TimeOff,
    )
    from bookings.services import (
        catalogue_service_save,
        resource_kind_save,
        resource_save,
        staff_hours_set,
        staff_save,
    )
    from customers.models import Customer
    from customers.search import search_text
    from deposits.models import DESK, Payment, PaymentStatus
    from tenants.models import Role
    from tenants.scoping import salon_scope
    from tenants.services import membership_set

    salon = fresh_salon(SLUG)
    user = get_user_model().objects.filter(username="bench-desk").first()
    if user is None:
        user = get_user_model().objects.create_user("bench-desk", password="bench-only")
    membership_set(salon=salon, user=user, role=Role.STAFF)
    today = dt.datetime.now(salon.tz).date()
    day = today + dt.timedelta(days=21 + (1 - today.weekday()) % 7)
    with salon_scope(salon):
        kind = resource_kind_save(salon=salon, kind=None, name="Basin")
        resource_save(salon=salon, resource=None, name="Basin", kind=kind, quantity=3)
        service = catalogue_service_save(
            salon=salon, service=None, name="Cut", duration_minutes=30, price=4000
        )
        team = []
        for n in range(STAFF):
            member = staff_save(
                salon=salon, staff=None, name=f"Staff {n:02d}", service_ids=[service.pk]
            )
            if n == 0:  # a lunch break
                ranges = [
                    {"weekday": d, "start": dt.time(h1), "end": dt.time(h2)}
                    for d in range(6)
                    for h1, h2 in ((9, 13), (14, 19))
                ]
            else:
                ranges = [{"weekday": d, "start": dt.time(9), "end": dt.time(19)} for d in range(6)]
            staff_hours_set(staff=member, ranges=ranges)
            team.append(member)
        TimeOff.objects.create(
            salon=salon,
            staff=team[1],
            start=dt.datetime.combine(day, dt.time(17), salon.tz),
            end=dt.datetime.combine(day, dt.time(19), salon.tz),
            reason="Training",
        )
        customers = Customer.objects.bulk_create(
            Customer(
                salon=salon,
                name=f"Client {n}",
                phone=f"+336{n:08d}",
                last_seen_at=dt.datetime.now(dt.UTC),
                search_text=search_text(name=f"Client {n}", email="", phone=f"+336{n:08d}"),
            )
            for n in range(STAFF * PER_STAFF)
        )
        # Written as the import writes history: rows, not the booking service one by one
        # (which would check 400 slots); the page reads them the same.
        bookings, items, busy, payments = [], [], [], []
        n = 0
        for member in team:
            for k in range(PER_STAFF):
                start = dt.datetime.combine(day, dt.time(9), salon.tz) + dt.timedelta(
                    minutes=30 * k
                )
                end = start + dt.timedelta(minutes=30)
                status = Status.PENDING_PAYMENT if n % 7 == 3 else Status.CONFIRMED
                bookings.append(
                    Booking(
                        salon=salon,
                        customer=customers[n],
                        service=service,
                        staff=member,
                        start=start,
                        end=end,
                        busy_start=start,
                        busy_end=end,
                        price=4000,
                        currency="EUR",
                        status=status,
                        source="phone",
                        hold_expires_at=start if status == Status.PENDING_PAYMENT else None,
                    )
                )
                n += 1
        Booking.objects.bulk_create(bookings)
        for n, booking in enumerate(bookings):
            items.append(
                BookingItem(
                    salon=salon,
                    booking=booking,
                    position=0,
                    service=service,
                    staff=booking.staff,
                    start=booking.start,
                    end=booking.end,
                    price=4000,
                    resource_id=None,
                )
            )
            busy.append(
                BusyTime(
                    salon=salon,
                    booking=booking,
                    staff=booking.staff,
                    start=booking.start,
                    end=booking.end,
                    active=True,
                )
            )
            if booking.status == Status.PENDING_PAYMENT:
                payments.append(
                    Payment(
                        salon=salon,
                        booking=booking,
                        kind="deposit",
                        amount=800,
                        currency="EUR",
                        status=PaymentStatus.PENDING,
                        intent_id=f"pi_b{n}",
                    )
                )
            elif n % 2:
                payments.append(
                    Payment(
                        salon=salon,
                        booking=booking,
                        kind="deposit",
                        amount=800,
                        currency="EUR",
                        status=PaymentStatus.SUCCEEDED,
                        provider=DESK if n % 3 == 0 else "stripe",
                        intent_id=f"pi_b{n}",
                    )
                )
            elif n % 5 == 0:
                payments.append(
                    Payment(
                        salon=salon,
                        booking=booking,
                        kind="deposit",
                        amount=800,
                        currency="EUR",
                        status=PaymentStatus.WAIVED,
                        intent_id=None,
                    )
                )
        BookingItem.objects.bulk_create(items)
        BusyTime.objects.bulk_create(busy)
        Payment.objects.bulk_create(payments)
    return salon, user, day


def _timed(call) -> tuple[float, int, float]:
    """Wall time (the budget's), query count, and this process's CPU time (what the
    page costs here, whatever else the machine is running)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        cpu = time.process_time()
        start = time.perf_counter()
        call()
        elapsed = (time.perf_counter() - start) * 1000
        cpu = (time.process_time() - cpu) * 1000
    return elapsed, len(captured), cpu


def main() -> int:
    setup()
    from django.core.management import call_command
    from django.test import Client

    salon, user, day = build()
    call_command("collectstatic", interactive=False, verbosity=0)  # the pages' manifest
    client = Client()
    client.force_login(user)
    url = f"/desk/{salon.slug}/schedule/?date={day.isoformat()}"
    version = f"/desk/{salon.slug}/schedule/version/?date={day.isoformat()}"
    blocks = []

    def page() -> None:
        response = client.get(url)
        assert response.status_code == 200, response.status_code
        blocks.append(response.content.count(b'class="day-block '))

    def refresh() -> None:
        response = client.get(version)
        assert response.status_code == 200, response.status_code

    results = {}
    for name, call in (("day view", page), ("live version", refresh)):
        call()  # warm: the templates, the connection
        runs = [_timed(call) for _ in range(ROUNDS)]
        results[name] = (statistics.median(r[0] for r in runs), max(r[0] for r in runs))
        queries = sorted({r[1] for r in runs})
        cpu = statistics.median(r[2] for r in runs)
        print(
            f"{name:13} median {results[name][0]:6.1f} ms   max {results[name][1]:6.1f} ms"
            f"   (CPU of this process: median {cpu:5.1f} ms)   SQL queries {queries}"
        )
    print(
        f"staff members: {STAFF}, bookings that day: {STAFF * PER_STAFF},"
        f" blocks drawn: {blocks[-1]}"
    )
    ok = results["day view"][0] <= BUDGET_MS
    print(f"desk day view (budget {BUDGET_MS:.0f} ms, median): {'OK' if ok else 'OVER BUDGET'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
