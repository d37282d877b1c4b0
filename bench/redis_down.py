"""Booking with Redis stopped, against the budget: p95 under 1 s.

    .venv/bin/python bench/redis_down.py       # PostgreSQL at BENCH_DATABASE_URL

A redis-server of the script's own on a free port is the product's cache and broker. One
booking is made while it runs (the process holds its connections, as a web process does),
then it is killed, and bookings with no deposit due (confirmed at once, each calling for a
confirmation sent through the broker) are made through the public API, in process. Prints
p50, p95 and max, how many cache calls and broker hand-offs failed on the way (each
request must have tried), and exits non-zero when the budget is missed.
"""

import datetime as dt
import json
import logging
import math
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

BUDGET_P95_SECONDS = 1.0
BOOKINGS = 60

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import free_port, fresh_salon, setup, staff_team  # noqa: E402

SLUG = "bench-redis-down"


def redis_start(port: int) -> subprocess.Popen[bytes]:
    executable = shutil.which("redis-server")
    if executable is None:
        sys.exit("redis-server is not installed (apt-get install redis-server).")
    server = subprocess.Popen(
        [
            executable,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        except OSError:
            assert server.poll() is None, "redis-server exited"
            assert time.monotonic() < deadline, "redis-server did not answer"
            time.sleep(0.05)


def build():
    """A salon asking no deposit, three staff members, a 30-minute service; rebuilt on each
    run so that its free slots start after today."""
    from django.utils import timezone

    from bookings.services import catalogue_service_save
    from tenants.scoping import salon_scope

    salon = fresh_salon(SLUG)
    with salon_scope(salon):
        service = catalogue_service_save(
            salon=salon, service=None, name="Coupe", duration_minutes=30, price=3000
        )
        staff = staff_team(salon, [service], 3)
    today = timezone.now().astimezone(salon.tz).date()
    return salon, service, staff, today


def requests(salon, service, staff, today) -> list[dict]:
    """Free slots from two days ahead, on the hour, each for a new client."""
    bodies: list[dict] = []
    day = today + dt.timedelta(days=2)
    while len(bodies) < BOOKINGS + 1:
        if day.weekday() != 6:
            for hour in range(9, 19):
                for member in staff:
                    start = dt.datetime.combine(day, dt.time(hour), salon.tz).isoformat()
                    n = len(bodies)
                    bodies.append(
                        {
                            "service": service.pk,
                            "staff": member.pk,
                            "start": start,
                            "customer": {"name": f"Client {n}", "phone": f"+3363{n:07d}"},
                        }
                    )
        day += dt.timedelta(days=1)
    return bodies[: BOOKINGS + 1]


class Failures(logging.Handler):
    """Counts what the product logs when Redis fails it, and keeps it off the screen."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        self.counts[record.name] += 1


def main() -> int:
    port = free_port()
    server = redis_start(port)
    setup(redis_url=f"redis://127.0.0.1:{port}/0")
    try:
        salon, service, staff, today = build()
        from django.test import Client

        client = Client()
        url = f"/api/v1/salons/{salon.slug}/bookings/"

        def book(body: dict) -> float:
            start = time.perf_counter()
            response = client.post(url, json.dumps(body), content_type="application/json")
            seconds = time.perf_counter() - start
            assert response.status_code == 201, response.content
            return seconds

        first, *bodies = requests(salon, service, staff, today)
        book(first)  # Redis up: the process connects to it as cache and broker
        server.kill()
        server.wait(timeout=10)

        failures = Failures()
        for name in ("core.cache", "django.db.backends.base"):
            logger = logging.getLogger(name)
            logger.addHandler(failures)
            logger.propagate = False
        seconds = [book(body) for body in bodies]
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=10)

    ordered = sorted(seconds)
    p95 = ordered[math.ceil(0.95 * len(ordered)) - 1]
    handed_off = failures.counts["django.db.backends.base"]
    print(
        f"{len(seconds)} bookings with Redis stopped (cache and broker): "
        f"p50 {statistics.median(ordered) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
        f"max {ordered[-1] * 1000:.0f} ms"
    )
    print(
        f"failed on the way: {failures.counts['core.cache']} cache calls, "
        f"{handed_off} of {len(seconds)} hand-offs to the broker"
    )
    # A request that never reached for Redis would measure nothing.
    assert handed_off == len(seconds), failures.counts
    ok = p95 < BUDGET_P95_SECONDS
    print(
        f"booking p95 with Redis stopped: {p95 * 1000:.0f} ms  "
        f"[budget < {BUDGET_P95_SECONDS:.0f} s: {'OK' if ok else 'MISSED'}]"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
