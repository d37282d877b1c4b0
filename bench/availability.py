"""Availability and booking speed, against the budgets of issues 4 and 15.

    .venv/bin/python bench/availability.py       # PostgreSQL at BENCH_DATABASE_URL

The database holds other salons' data, as production does: six other salons with a year
of bookings behind them and two months ahead (made once, kept between runs, and analysed
then). The measured salons' rows are never analysed: the planner's statistics are stale,
as in production between two passes of autovacuum; the tables are vacuumed (no ANALYZE)
after loading, for the visibility map autovacuum would keep.

The measured salon, rebuilt on each run: 10 staff, Monday to Saturday 09:00-19:00,
services of 30, 45 and 60 minutes, a colour (90 minutes, 40 of them processing) that needs
one of 3 basins, 2,000 bookings over the next 30 days (some of them colour-and-cut visits
keeping a basin), a day off per staff member. Another salon has 200 staff and 40,000
bookings over the next 30 days. Every booking has its items and busy time, as the booking
service writes them.

Measures, in process: a month of availability for the whole salon (45-minute service),
SQL queries and median time, before and after 100,000 past bookings are added to its
history; the same month for a colour-and-cut visit; a month for the 200 staff. Then,
through gunicorn with 2 sync workers on 127.0.0.1, with Redis as in production, side by
side in one run: a plain view doing one indexed SELECT (a staff-day of bookings, the
reference), one staff-day of availability computed and cached, in requests/s, and booking
creation in bookings/s, after which no staff member or resource unit may be double-booked.
Prints each figure against its budget and exits non-zero when one is missed.
"""

import contextlib
import datetime as dt
import http.client
import importlib
import io
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

# Issue 4's budgets.
BUDGET_QUERIES = 6
BUDGET_MONTH_MS = 20.0
BUDGET_DAY_RPS = 600.0
BUDGET_BOOKINGS_PER_S = 100.0
# Issue 15's, most against the one-SELECT view measured in the same run.
BUDGET_HISTORY_RATIO = 1.2  # month with 100,000 past bookings / month with none
BUDGET_BIG_MONTH_MS = 40.0  # 200 staff
BUDGET_COMPUTED_SHARE = 0.5
BUDGET_CACHED_SHARE = 0.8
BUDGET_BOOKINGS_SHARE = 0.1
BUDGET_VISIT_RATIO = 2.0  # colour-and-cut visit month / one-service month

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import (  # noqa: E402
    DB_URL,
    ENV,
    REDIS_URL,
    ROOT,
    free_port,
    fresh_salon,
    setup,
    staff_team,
)

SLUG = "bench-availability"
BIG_SLUG = "bench-availability-200"
OTHER_SLUGS = [f"bench-other-{n}" for n in range(6)]
HISTORY = 100_000


def _raw() -> object:
    """A connection as the login role (the tables' owner, a superuser here): bulk loading
    and checks over every salon's rows, outside the product's row-level security."""
    import psycopg

    return psycopg.connect(DB_URL)


def _maintain(command: str) -> None:
    """VACUUM or ANALYZE the booking tables (autovacuum may be off on a test machine)."""
    import psycopg

    with psycopg.connect(DB_URL, autocommit=True) as conn:
        for table in ("bookings_booking", "bookings_bookingitem", "bookings_busytime"):
            conn.execute(f"{command} {table}")


def _salon_remove(slug: str) -> None:
    """The salon and every row it owns, removed by SQL: the ORM's cascade would collect
    the 100,000 bookings of its history one by one."""
    with _raw() as conn:  # type: ignore[attr-defined]
        found = conn.execute("SELECT id FROM tenants_salon WHERE slug = %s", [slug]).fetchone()
        if found is None:
            return
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT table_name FROM information_schema.columns WHERE column_name = 'salon_id'"
                " AND table_schema = 'public'"
            )
        ]
        conn.execute("SET session_replication_role = replica")  # no FK triggers
        for table in tables:
            conn.execute(f'DELETE FROM "{table}" WHERE salon_id = %s', found)
        conn.execute("DELETE FROM tenants_salon WHERE id = %s", found)


BOOKING_COLUMNS = (
    'salon_id, customer_id, service_id, staff_id, start, "end", busy_start, busy_end, price,'
    " currency, source, status, reference, manage_nonce, notes, created_at, confirmed_at,"
    " completed_at, cancelled_at, no_show_at, cancellation_reason, cancelled_by_salon"
)


def _bookings_load(salon_id: int, rows: list[tuple]) -> int:
    """Bookings of one service each (customer, service, staff, start, end, price, status,
    reference) copied in, then their item and busy time made by the same statements as
    the migration that introduced them (bookings 0005): the busy time active for an
    active status, as the trigger keeps it. How many."""
    visits = importlib.import_module("bookings.migrations.0005_visits")
    now = dt.datetime.now(dt.UTC)
    with _raw() as conn:  # type: ignore[attr-defined]
        (before,) = conn.execute("SELECT coalesce(max(id), 0) FROM bookings_booking").fetchone()
        with conn.cursor().copy(f"COPY bookings_booking ({BOOKING_COLUMNS}) FROM STDIN") as copy:
            for customer, service, staff, start, end, price, status, reference in rows:
                done = start if status in ("completed", "no_show") else None
                copy.write_row(
                    (
                        salon_id, customer, service, staff, start, end, start, end, price,
                        "EUR", "web", status, reference, f"{reference:0>32}", "", now,
                        start - dt.timedelta(days=3),
                        done if status == "completed" else None,
                        start - dt.timedelta(days=1) if status == "cancelled" else None,
                        done if status == "no_show" else None,
                        "", False,
                    )
                )  # fmt: skip
        new = " AND salon_id = %s AND id > %s"
        conn.execute(visits.ITEMS.strip() + " WHERE true" + new, [salon_id, before])
        conn.execute(visits.BUSY.strip() + " WHERE true" + new, [salon_id, before])
    return len(rows)


def _catalogue(salon, *, staff_count: int, with_visit: bool):
    from bookings.services import catalogue_service_save, resource_kind_save, resource_save

    services = [
        catalogue_service_save(
            salon=salon, service=None, name=f"Service {m}", duration_minutes=m, price=m * 100
        )
        for m in (30, 45, 60)
    ]
    if with_visit:
        basin = resource_kind_save(salon=salon, kind=None, name="Basin")
        resource_save(salon=salon, resource=None, name="Basins", kind=basin, quantity=3)
        services.append(
            catalogue_service_save(
                salon=salon,
                service=None,
                name="Colour",
                duration_minutes=90,
                processing_offset_minutes=30,
                processing_minutes=40,
                resource_kind=basin,
                price=9000,
            )
        )
    return services, staff_team(salon, services, staff_count)


def _customers(salon, count: int) -> list[int]:
    from django.utils import timezone

    from customers.models import Customer

    made = Customer.objects.bulk_create(
        Customer(
            salon=salon, name=f"Client {n}", phone=f"+3361{n:07d}", last_seen_at=timezone.now()
        )
        for n in range(count)
    )
    return [c.pk for c in made]


def _future(salon, services, staff, customers, today, per_staff: int, rng) -> list[tuple]:
    """`per_staff` x staff bookings on the hour and half hour over the next 30 days, none
    overlapping for a staff member."""
    tz = salon.tz
    taken: set[tuple[int, dt.datetime]] = set()
    rows: list[tuple] = []
    while len(rows) < per_staff * len(staff):
        day = today + dt.timedelta(days=rng.randrange(1, 31))
        if day.weekday() == 6:
            continue
        member = rng.choice(staff)
        start = dt.datetime.combine(day, dt.time(rng.randrange(9, 18), rng.choice((0, 30))), tz)
        service = rng.choice(services[:3])
        end = start + dt.timedelta(minutes=service.duration_minutes)
        blocks = {(member.pk, start + dt.timedelta(minutes=m)) for m in range(0, 60, 30)}
        if end > dt.datetime.combine(day, dt.time(19), tz) or blocks & taken:
            continue
        taken |= blocks
        ref = f"F{len(rows):06d}"
        rows.append((rng.choice(customers), service.pk, member.pk, start, end, service.price,
                     "confirmed", ref))  # fmt: skip
    return rows


def others(today: dt.date) -> None:
    """Six other salons of 10 staff, each with a year of past bookings and two months
    ahead: made once, kept."""
    from tenants.models import Salon
    from tenants.scoping import salon_scope

    made = False
    for n, slug in enumerate(OTHER_SLUGS):
        if Salon.objects.filter(slug=slug).exists():
            continue
        _salon_remove(slug)
        salon = fresh_salon(slug)
        rng = random.Random(100 + n)
        with salon_scope(salon):
            services, staff = _catalogue(salon, staff_count=10, with_visit=False)
            customers = _customers(salon, 200)
        tz, service = salon.tz, services[1]
        rows: list[tuple] = []
        for offset in range(-365, 61):
            day = today + dt.timedelta(days=offset)
            if day.weekday() == 6:
                continue
            for member in staff:
                for hour in range(9, 18):
                    if rng.random() < 0.4:
                        continue
                    start = dt.datetime.combine(day, dt.time(hour), tz)
                    status = "confirmed" if offset >= 0 else "completed"
                    rows.append((rng.choice(customers), service.pk, member.pk, start,
                                 start + dt.timedelta(minutes=45), service.price, status,
                                 f"O{len(rows):06d}"))  # fmt: skip
        print(f"other salon {slug}: {_bookings_load(salon.pk, rows)} bookings")
        made = True
    if made:  # the statistics know the other salons, never the measured ones
        _maintain("ANALYZE")


def build():
    """The measured salon, rebuilt on each run so that "the next 30 days" starts today."""
    from django.utils import timezone

    from bookings.models import TimeOff
    from bookings.selectors import VisitPart
    from bookings.services import booking_create
    from core.errors import SlotTaken
    from customers.models import Customer
    from tenants.scoping import salon_scope

    _salon_remove(SLUG)
    salon = fresh_salon(SLUG, min_notice_minutes=0)
    rng = random.Random(4)
    tz = salon.tz
    today = timezone.now().astimezone(tz).date()
    with salon_scope(salon):
        services, staff = _catalogue(salon, staff_count=10, with_visit=True)
        for n, member in enumerate(staff):
            off = today + dt.timedelta(days=2 + n * 3)
            start = dt.datetime.combine(off, dt.time(), tz)
            TimeOff.objects.create(
                salon=salon,
                staff=member,
                start=start,
                end=start + dt.timedelta(days=1),
                reason="Day off",
            )
        customers = _customers(salon, 500)
    _bookings_load(salon.pk, _future(salon, services, staff, customers, today, 190, rng))
    # Then 100 colour-and-cut visits, by the booking service, each keeping a basin.
    visits = 0
    with salon_scope(salon):
        colour, cut = services[3], services[1]
        clients = list(Customer.objects.filter(pk__in=customers[:100]))
        while visits < 100:
            day = today + dt.timedelta(days=rng.randrange(1, 31))
            start = dt.datetime.combine(day, dt.time(rng.randrange(9, 16), rng.choice((0, 30))), tz)
            try:
                with contextlib.redirect_stdout(io.StringIO()):  # the console's messages
                    booking_create(
                        salon=salon,
                        start=start,
                        customer=clients[visits],
                        parts=[VisitPart(colour), VisitPart(cut)],
                    )
            except SlotTaken:
                continue
            visits += 1
    return salon, services, staff, customers, today


def big(today: dt.date):
    """The salon of 200 staff, 40,000 bookings over the next 30 days."""
    from tenants.scoping import salon_scope

    _salon_remove(BIG_SLUG)
    salon = fresh_salon(BIG_SLUG, min_notice_minutes=0)
    with salon_scope(salon):
        services, staff = _catalogue(salon, staff_count=200, with_visit=False)
        customers = _customers(salon, 2000)
    rows = _future(salon, services, staff, customers, today, 200, random.Random(5))
    _bookings_load(salon.pk, rows)
    return salon, services[1], today


def history(salon, services, staff, customers, today) -> None:
    """100,000 past bookings of the measured salon, eight a day per staff member going
    back from yesterday: most completed, some cancelled or no-shows, a few still marked
    confirmed (never closed by the desk), as the statuses imply for their busy time."""
    rng = random.Random(6)
    tz, service, rows = salon.tz, services[1], []
    for n in range(HISTORY):
        k = n // len(staff)
        day = today - dt.timedelta(days=1 + k // 8)
        start = dt.datetime.combine(day, dt.time(9 + k % 8), tz)
        roll = rng.random()
        status = (
            "completed" if roll < 0.85 else "cancelled" if roll < 0.93
            else "no_show" if roll < 0.97 else "confirmed"
        )  # fmt: skip
        rows.append((rng.choice(customers), service.pk, staff[n % len(staff)].pk, start,
                     start + dt.timedelta(minutes=45), service.price, status,
                     f"H{n:06d}"))  # fmt: skip
    _bookings_load(salon.pk, rows)


def _median_ms(call, runs: int) -> float:
    for _ in range(3):
        call()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _queries(call) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call()
    connection.queries_log.clear()  # a full log would count nothing new
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured)


def month(salon, service, today, runs: int = 40) -> tuple[int, float, int]:
    """A month of availability for the whole salon: queries, median ms, start times."""
    from bookings.selectors import availability_for
    from tenants.scoping import salon_scope

    first, last = today, today + dt.timedelta(days=30)
    with salon_scope(salon):

        def call():
            return availability_for(salon=salon, service=service, first=first, last=last)

        return _queries(call), _median_ms(call, runs), len(call())


def visit_month(salon, services, today, runs: int = 40) -> tuple[int, float, int]:
    """A month of availability for a colour (processing time, a basin) then a cut."""
    from bookings.selectors import VisitPart, visit_availability_for
    from tenants.scoping import salon_scope

    first, last = today, today + dt.timedelta(days=30)
    parts = [VisitPart(services[3]), VisitPart(services[1])]
    with salon_scope(salon):

        def call():
            return visit_availability_for(salon=salon, parts=parts, first=first, last=last)

        return _queries(call), _median_ms(call, runs), len(call())


def request_month(salon, service, today) -> tuple[int, float]:
    """The whole API request for the month, uncached: queries, median ms."""
    from django.core.cache import cache
    from django.test import Client

    client = Client()
    url = f"/api/v1/salons/{salon.slug}/availability/"
    first, last = today, today + dt.timedelta(days=30)
    params = {"service": service.pk, "from": first.isoformat(), "to": last.isoformat()}

    def call():
        cache.clear()  # the figures are those of a request that computes the month
        response = client.get(url, params)
        assert response.status_code == 200, response.content

    return _queries(call), _median_ms(call, 20)


def _load(port: int, requests: list[tuple[str, str, bytes | None]], threads: int = 8):
    """Send the requests from `threads` Python clients; (seconds, status counts).
    The fallback when wrk is not installed: the clients then share the CPU with the server."""
    queue = list(reversed(requests))
    lock = threading.Lock()
    statuses: dict[int, int] = {}

    def worker() -> None:
        while True:
            with lock:
                if not queue:
                    return
                method, path, body = queue.pop()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            headers = {"Content-Type": "application/json"} if body else {}
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            conn.close()
            with lock:
                statuses[response.status] = statuses.get(response.status, 0) + 1

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    start = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return time.perf_counter() - start, statuses


WRK_SCRIPT = """
local requests = {%s}
local threads = {}
local counter = 1
function setup(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end
function init(args)
  n = 0
  statuses = {}
end
request = function()
  local i = id + n * %d
  n = n + 1
  local r = requests[((i - 1) %% #requests) + 1]
  return wrk.format(r[1], r[2], {["Content-Type"] = "application/json"}, r[3])
end
response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
done = function(summary, latency, requests)
  local all = {}
  for _, thread in ipairs(threads) do
    local s = thread:get("statuses")
    for code, count in pairs(s) do all[code] = (all[code] or 0) + count end
  end
  for code, count in pairs(all) do io.write(string.format("status %%d %%d\\n", code, count)) end
  io.write(string.format("seconds %%f\\n", summary.duration / 1e6))
end
"""


def _wrk(port: int, requests: list[tuple[str, str, bytes | None]], seconds: int, threads: int = 2):
    """wrk (C, from Debian's package) drives the server, leaving it the CPU; (seconds,
    status counts). Requests are taken in turn; none is sent twice within the run."""

    def lua(text: str) -> str:
        return "[[" + text + "]]"

    entries = ",".join(
        f"{{{lua(m)},{lua(p)},{lua(b.decode() if b else '')}}}" for m, p, b in requests
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as file:
        file.write(WRK_SCRIPT % (entries, threads))
    script = Path(file.name)
    try:
        out = subprocess.run(
            [
                "wrk",
                f"-t{threads}",
                f"-c{threads * 4}",
                f"-d{seconds}s",
                "-s",
                str(script),
                f"http://127.0.0.1:{port}/",
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=True,
        ).stdout
    finally:
        script.unlink()
    statuses, elapsed = {}, 0.0
    for line in out.splitlines():
        if line.startswith("status "):
            _word, code, count = line.split()
            statuses[int(code)] = int(count)
        elif line.startswith("seconds "):
            elapsed = float(line.split()[1])
    return elapsed, statuses


def _serve(port: int):
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={
            **os.environ,
            **ENV,
            "REDIS_URL": REDIS_URL,
            "DJANGO_SETTINGS_MODULE": "bench.settings",
        },
        start_new_session=True,
    )


def _rate(port: int, requests, seconds: int, status: int) -> float:
    if shutil.which("wrk"):
        elapsed, statuses = _wrk(port, requests, seconds=seconds)
    else:
        elapsed, statuses = _load(port, (requests * 3000)[:3000])
    assert set(statuses) == {status}, statuses
    return statuses[status] / elapsed


def overlaps(salon_id: int) -> tuple[int, int]:
    """(active busy time rows, pairs of them overlapping for one staff member or unit)."""
    with _raw() as conn:  # type: ignore[attr-defined]
        (rows,) = conn.execute(
            "SELECT count(*) FROM bookings_busytime WHERE salon_id = %s AND active", [salon_id]
        ).fetchone()
        (pairs,) = conn.execute(
            """
            SELECT count(*) FROM bookings_busytime a JOIN bookings_busytime b
              ON a.id < b.id AND a.start < b."end" AND b.start < a."end"
             AND (a.staff_id = b.staff_id OR (a.resource_id = b.resource_id AND a.unit = b.unit))
            WHERE a.salon_id = %s AND b.salon_id = %s AND a.active AND b.active
            """,
            [salon_id, salon_id],
        ).fetchone()
    return rows, pairs


def over_http(salon, services, staff, today) -> dict[str, float]:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    port = free_port()
    server = _serve(port)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        day = today + dt.timedelta(days=1 if (today + dt.timedelta(days=1)).weekday() != 6 else 2)
        query = f"?service={services[1].pk}&from={day}&to={day}&staff={staff[0].pk}"
        reference = f"/bench/salons/{salon.slug}/staff-day/?staff={staff[0].pk}&day={day}"
        computed = f"/bench/uncached/salons/{salon.slug}/availability/{query}"
        cached = f"/api/v1/salons/{salon.slug}/availability/{query}"
        for path in (reference, computed, cached):
            _load(port, [("GET", path, None)] * 200)  # warm up
        print("load by wrk, 2 threads, 8 connections" if shutil.which("wrk") else
              "load by Python clients (install Debian's wrk for a truer figure)")  # fmt: skip
        figures = {
            "reference": _rate(port, [("GET", reference, None)], 8, 200),
            "computed": _rate(port, [("GET", computed, None)], 8, 200),
            "cached": _rate(port, [("GET", cached, None)], 8, 200),
        }

        # Bookings on free hours 31 to 60 days ahead, each for a new client.
        bookings: list[tuple[str, str, bytes | None]] = []
        n = 0
        for offset in range(31, 61):
            date = today + dt.timedelta(days=offset)
            if date.weekday() == 6:
                continue
            for member in staff:
                for hour in range(9, 19):  # the 30-minute service, on the hour
                    start = dt.datetime.combine(date, dt.time(hour), salon.tz).isoformat()
                    customer = {"name": f"Load {n}", "phone": f"+3362{n:07d}"}
                    body = {
                        "service": services[0].pk,
                        "staff": member.pk,
                        "start": start,
                        "customer": customer,
                    }
                    bookings.append(
                        (
                            "POST",
                            f"/api/v1/salons/{salon.slug}/bookings/",
                            json.dumps(body).encode(),
                        )
                    )
                    n += 1
        if shutil.which("wrk"):
            bookings_rate = _rate(port, bookings, 8, 201)
        else:
            bookings_rate = _rate(port, bookings[:1000], 0, 201)
        figures["bookings"] = bookings_rate
        return figures
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def main() -> int:
    setup()
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0)  # a new machine's database: the others go in first
    others(timezone.localdate())
    salon, services, staff, customers, today = build()
    big_salon, big_service, _ = big(today)
    # The visibility map as autovacuum keeps it; the statistics stay stale (no ANALYZE).
    _maintain("VACUUM")
    print("built; measuring")
    month_q, month_ms, month_slots = month(salon, services[1], today)
    visit_q, visit_ms, visit_slots = visit_month(salon, services, today)
    request_q, request_ms = request_month(salon, services[1], today)
    history(salon, services, staff, customers, today)
    _maintain("VACUUM")
    _, history_ms, history_slots = month(salon, services[1], today)
    assert history_slots == month_slots, (history_slots, month_slots)
    big_q, big_ms, big_slots = month(big_salon, big_service, today)
    print(f"month of availability: {month_slots} start times, 10 staff; visit "
          f"{visit_slots}; 200 staff {big_slots}")  # fmt: skip
    http = over_http(salon, services, staff, today)
    busy_rows, overlapping = overlaps(salon.pk)
    ref = http["reference"]
    checks = [
        (
            f"month availability, SQL queries per request: {request_q} (selector alone {month_q})",
            request_q <= BUDGET_QUERIES,
            f"<= {BUDGET_QUERIES}",
        ),
        (
            f"month availability, median in process: {month_ms:.1f} ms "
            f"(whole API request, uncached: {request_ms:.1f} ms)",
            month_ms <= BUDGET_MONTH_MS,
            f"<= {BUDGET_MONTH_MS:.0f} ms",
        ),
        (
            f"month availability with {HISTORY:,} past bookings: {history_ms:.1f} ms, "
            f"{history_ms / month_ms:.2f}x the {month_ms:.1f} ms with none",
            history_ms <= BUDGET_HISTORY_RATIO * month_ms,
            f"<= {BUDGET_HISTORY_RATIO}x",
        ),
        (
            f"month availability, 200 staff: {big_ms:.1f} ms ({big_q} queries)",
            big_ms <= BUDGET_BIG_MONTH_MS,
            f"<= {BUDGET_BIG_MONTH_MS:.0f} ms",
        ),
        (
            f"month availability of a colour-and-cut visit (processing time, 3 basins): "
            f"{visit_q} queries (one service {month_q})",
            visit_q <= month_q,
            f"<= {month_q}, the one service's",
        ),
        (
            f"month availability of the visit: {visit_ms:.1f} ms, "
            f"{visit_ms / month_ms:.2f}x the one service's",
            visit_ms <= BUDGET_VISIT_RATIO * month_ms,
            f"<= {BUDGET_VISIT_RATIO:.0f}x",
        ),
        (
            f"reference, one indexed SELECT via gunicorn (2 sync workers): {ref:.0f} requests/s",
            True,
            "none",
        ),
        (
            f"staff-day availability via gunicorn, computed: {http['computed']:.0f} "
            f"requests/s, {http['computed'] / ref:.2f}x the reference",
            http["computed"] >= BUDGET_COMPUTED_SHARE * ref,
            f">= {BUDGET_COMPUTED_SHARE}x",
        ),
        (
            f"staff-day availability via gunicorn, cached: {http['cached']:.0f} requests/s, "
            f"{http['cached'] / ref:.2f}x the reference",
            http["cached"] >= BUDGET_CACHED_SHARE * ref,
            f">= {BUDGET_CACHED_SHARE}x",
        ),
        (
            f"staff-day availability via gunicorn, cached: {http['cached']:.0f} requests/s",
            http["cached"] >= BUDGET_DAY_RPS,
            f">= {BUDGET_DAY_RPS:.0f}/s",
        ),
        (
            f"booking creation via gunicorn: {http['bookings']:.0f} bookings/s, "
            f"{http['bookings'] / ref:.2f}x the reference",
            http["bookings"] >= BUDGET_BOOKINGS_SHARE * ref,
            f">= {BUDGET_BOOKINGS_SHARE}x",
        ),
        (
            f"booking creation via gunicorn: {http['bookings']:.0f} bookings/s",
            http["bookings"] >= BUDGET_BOOKINGS_PER_S,
            f">= {BUDGET_BOOKINGS_PER_S:.0f}/s",
        ),
        (
            f"overlapping busy time after the run (staff or resource unit): {overlapping} "
            f"among {busy_rows:,} active rows",
            overlapping == 0,
            "0",
        ),
    ]
    for text, ok, budget in checks:
        print(f"{text}  [budget {budget}: {'OK' if ok else 'MISSED'}]")
    return 0 if all(ok for _text, ok, _budget in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
