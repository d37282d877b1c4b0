"""Availability and booking speed, against the budgets of issue 4.

    .venv/bin/python bench/availability.py       # PostgreSQL at BENCH_DATABASE_URL

A deterministic salon: 10 staff, Monday to Saturday 09:00-19:00, services of 30, 45 and
60 minutes, 2,000 bookings over the next 30 days, a day off per staff member. Measures
(1) a month of availability for the whole salon for the 45-minute service, in process:
SQL queries and median time; (2) through gunicorn with 2 sync workers on 127.0.0.1, with Redis
as in production: one staff-day of availability in requests/s, and booking creation in
bookings/s.
Prints each figure against its budget and exits non-zero when one is missed.
"""

import datetime as dt
import http.client
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

BUDGET_QUERIES = 6
BUDGET_MONTH_MS = 20.0
BUDGET_DAY_RPS = 600.0
BUDGET_BOOKINGS_PER_S = 100.0

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import ENV, REDIS_URL, ROOT, free_port, fresh_salon, setup  # noqa: E402

SLUG = "bench-availability"


def build():
    """The salon, rebuilt on each run so that "the next 30 days" starts today."""
    from django.db import connection
    from django.utils import timezone

    from bookings.models import Booking, Source, Status, TimeOff
    from bookings.services import catalogue_service_save, staff_hours_set, staff_save
    from customers.models import Customer
    from tenants.rls import as_owner
    from tenants.scoping import salon_scope

    salon = fresh_salon(SLUG, min_notice_minutes=0)
    rng = random.Random(4)
    tz = salon.tz
    today = timezone.now().astimezone(tz).date()
    with salon_scope(salon):
        services = [
            catalogue_service_save(
                salon=salon, service=None, name=f"Service {m}", duration_minutes=m, price=m * 100
            )
            for m in (30, 45, 60)
        ]
        week = [{"weekday": d, "start": dt.time(9), "end": dt.time(19)} for d in range(6)]
        staff = []
        for n in range(10):
            member = staff_save(
                salon=salon, staff=None, name=f"Staff {n}", service_ids=[s.pk for s in services]
            )
            staff_hours_set(staff=member, ranges=week)
            off = today + dt.timedelta(days=2 + n * 3)
            start = dt.datetime.combine(off, dt.time(), tz)
            TimeOff.objects.create(
                salon=salon,
                staff=member,
                start=start,
                end=start + dt.timedelta(days=1),
                reason="Day off",
            )
            staff.append(member)
        customers = Customer.objects.bulk_create(
            Customer(
                salon=salon, name=f"Client {n}", phone=f"+3361{n:07d}", last_seen_at=timezone.now()
            )
            for n in range(500)
        )
        # 2,000 bookings on the hour and half hour, none overlapping for a staff member.
        taken: set[tuple[int, dt.datetime]] = set()
        bookings = []
        while len(bookings) < 2000:
            day = today + dt.timedelta(days=rng.randrange(1, 31))
            if day.weekday() == 6:
                continue
            member = rng.choice(staff)
            start = dt.datetime.combine(day, dt.time(rng.randrange(9, 18), rng.choice((0, 30))), tz)
            service = rng.choice(services)
            end = start + dt.timedelta(minutes=service.duration_minutes)
            blocks = {(member.pk, start + dt.timedelta(minutes=m)) for m in range(0, 60, 30)}
            if end > dt.datetime.combine(day, dt.time(19), tz) or blocks & taken:
                continue
            taken |= blocks
            bookings.append(
                Booking(
                    salon=salon,
                    customer=rng.choice(customers),
                    service=service,
                    staff=member,
                    start=start,
                    end=end,
                    busy_start=start,
                    busy_end=end,
                    price=service.price,
                    currency="EUR",
                    source=Source.ONLINE,
                    status=Status.CONFIRMED,
                    reference=f"B{len(bookings):05d}",
                )
            )
        Booking.objects.bulk_create(bookings)
    with as_owner(connection), connection.cursor() as cursor:  # only the owner may
        cursor.execute("ANALYZE")
    return salon, services, staff, today


def in_process(salon, service, today) -> tuple[int, int, float, float]:
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bookings.selectors import availability_for
    from tenants.scoping import salon_scope

    first, last = today, today + dt.timedelta(days=30)
    with salon_scope(salon):
        for _ in range(3):
            availability_for(salon=salon, service=service, first=first, last=last)
        connection.queries_log.clear()  # a full log would count nothing new
        with CaptureQueriesContext(connection) as selector_queries:
            slots = availability_for(salon=salon, service=service, first=first, last=last)
        selector_count = len(selector_queries)
        times = []
        for _ in range(30):
            start = time.perf_counter()
            availability_for(salon=salon, service=service, first=first, last=last)
            times.append((time.perf_counter() - start) * 1000)
    client = Client()
    url = f"/api/v1/salons/{salon.slug}/availability/"
    params = {"service": service.pk, "from": first.isoformat(), "to": last.isoformat()}
    client.get(url, params)
    cache.clear()  # the figures are those of a request that computes the month
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as request_queries:
        response = client.get(url, params)
    request_count = len(request_queries)
    assert response.status_code == 200, response.content
    request_times = []
    for _ in range(20):
        cache.clear()
        start = time.perf_counter()
        client.get(url, params)
        request_times.append((time.perf_counter() - start) * 1000)
    staff = {s for slot in slots for s in slot.staff_ids}
    print(f"month of availability: {len(slots)} start times, {len(staff)} staff")
    return (
        selector_count,
        request_count,
        statistics.median(times),
        statistics.median(request_times),
    )


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


def over_http(salon, services, staff, today) -> tuple[float, float]:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    port = free_port()
    server = subprocess.Popen(
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
        env={**os.environ, **ENV, "REDIS_URL": REDIS_URL},
        start_new_session=True,
    )
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
        path = (
            f"/api/v1/salons/{salon.slug}/availability/?service={services[1].pk}"
            f"&from={day}&to={day}&staff={staff[0].pk}"
        )
        _load(port, [("GET", path, None)] * 200)  # warm up
        if shutil.which("wrk"):
            seconds, statuses = _wrk(port, [("GET", path, None)], seconds=10)
            print(f"load by wrk, 2 threads, 8 connections: {statuses}")
        else:
            seconds, statuses = _load(port, [("GET", path, None)] * 3000)
            print("load by Python clients (install Debian's wrk for a truer figure)")
        assert set(statuses) == {200}, statuses
        day_rps = statuses[200] / seconds

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
            seconds, statuses = _wrk(port, bookings, seconds=8)
        else:
            seconds, statuses = _load(port, bookings[:1000])
        assert set(statuses) == {201}, statuses
        return day_rps, statuses[201] / seconds
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def main() -> int:
    setup()
    salon, services, staff, today = build()
    selector_q, request_q, month_ms, request_ms = in_process(salon, services[1], today)
    day_rps, bookings_per_s = over_http(salon, services, staff, today)
    checks = [
        (
            f"month availability, SQL queries per request: {request_q} (selector alone "
            f"{selector_q})",
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
            f"staff-day availability via gunicorn (2 sync workers): {day_rps:.0f} requests/s",
            day_rps >= BUDGET_DAY_RPS,
            f">= {BUDGET_DAY_RPS:.0f}/s",
        ),
        (
            f"booking creation via gunicorn (2 sync workers): {bookings_per_s:.0f} bookings/s",
            bookings_per_s >= BUDGET_BOOKINGS_PER_S,
            f">= {BUDGET_BOOKINGS_PER_S:.0f}/s",
        ),
    ]
    for text, ok, budget in checks:
        print(f"{text}  [budget {budget}: {'OK' if ok else 'MISSED'}]")
    return 0 if all(ok for _text, ok, _budget in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
