"""Faults of the real parts, each provoked for real: the database restarted under
bookings, a worker killed with SIGKILL in the middle of a task.

The other two faults of the list have their tests elsewhere: the payment provider timing
out or failing while a client books is `test_checkout.py`
(`test_a_failing_provider_blocks_nothing`: a 502 `payment_provider_error`, the slot free
again, the payment failed; `test_after_a_provider_failure_nothing_payable_is_left`: the
intent the provider may have made is cancelled), and Redis stopped is `test_redis_down.py`.
"""

import ast
import datetime as dt
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
import requests
from django.db import connection
from django.db.models import F
from django.utils import timezone

from bookings.models import Booking, BookingEvent, Status
from bookings.tasks import holds_apply
from messaging import sms
from messaging.models import Message, MessageKind, MessageStatus
from messaging.outbox import messages_run
from messaging.outbox.rules import SEND_LEASE
from messaging.tasks import messages_sweep
from tenants.scoping import salon_scope

from .conftest import Catalogue, book
from .factories import CustomerFactory

# The Redis of the test's own and the switch of the product's broker to it, as the
# Redis-down test runs them.
from .test_redis_down import RedisServer, _broker

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(what: str, done: Callable[[], bool], seconds: float = 60, log: Callable[[], str] = str):
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, f"no {what}\n{log()}"
        time.sleep(0.05)


# PostgreSQL restarted -----------------------------------------------------------------


def _postgres_bindir() -> Path:
    """The newest PostgreSQL server installed (Debian's layout), or `pg_config`'s."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if found:
        return found[-1].parent
    pg_config = shutil.which("pg_config")
    if pg_config:
        bindir = Path(
            subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True
            ).stdout.strip()
        )
        if (bindir / "initdb").exists():
            return bindir
    pytest.fail(
        "PostgreSQL's server binaries (initdb, pg_ctl) are not installed: the "
        "database fault test needs them (apt-get install postgresql).",
        pytrace=False,
    )


class ThrowawayPostgres:
    """A PostgreSQL cluster of the test's own, on a free port in a temporary directory,
    with trust authentication: stopping it disturbs nobody else's database.

    PostgreSQL refuses to run as root, so under root it runs as the `postgres` user."""

    def __init__(self) -> None:
        self.bindir = _postgres_bindir()
        self.dir = Path(tempfile.mkdtemp(prefix="acompte-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self.port = _free_port()
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            self.prefix = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.dir, "postgres", "postgres")
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-sync",
            "--no-instructions",
        )

    def url(self, name: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def _run(self, program: str, *args: str) -> None:
        done = subprocess.run(
            [*self.prefix, str(self.bindir / program), *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        log = self.log.read_text() if self.log.exists() else ""
        assert done.returncode == 0, f"{program}: {done.stdout}{done.stderr}\n{log}"

    def start(self) -> None:
        # fsync off: the cluster lives for a test; a stop by `-m immediate` is a crash of
        # PostgreSQL alone, which the kernel's page cache survives.
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )

    def crash(self) -> None:
        """Stop at once, as a crash: connections cut, recovery at the next start."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def remove(self) -> None:
        with suppress(AssertionError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


# A salon open every day from 08:00 to 20:00 UTC, asking no deposit, two staff members,
# a 30-minute service; printed as JSON for the test.
WORLD = """
import datetime as dt, json
from bookings.services import catalogue_service_save, staff_hours_set, staff_save
from tenants.models import Salon
from tenants.scoping import salon_scope
salon = Salon.objects.create(slug="faults", name="Faults", timezone="UTC", currency="EUR",
                             country="FR", min_notice_minutes=0)
week = [{"weekday": d, "start": dt.time(8), "end": dt.time(20)} for d in range(7)]
with salon_scope(salon):
    service = catalogue_service_save(salon=salon, service=None, name="Cut",
                                     duration_minutes=30, price=3000)
    staff = [staff_save(salon=salon, staff=None, name=f"Staff {n}", service_ids=[service.pk])
             for n in range(2)]
    for member in staff:
        staff_hours_set(staff=member, ranges=week)
print(json.dumps({"service": service.pk, "staff": [s.pk for s in staff]}))
"""


@contextmanager
def _web(env: dict[str, str]) -> Iterator[str]:
    """gunicorn with two sync workers on a free port, as production runs the product."""
    port = _free_port()
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
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        def up() -> bool:
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            with suppress(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return True
            return False

        _wait("gunicorn", up, seconds=30)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


class Booker(threading.Thread):
    """A client booking one free time after another, each for a new client, and keeping
    every answer: (phone, status, body)."""

    def __init__(self, base: str, world: dict[str, Any]) -> None:
        super().__init__(daemon=True)
        self.base, self.world = base, world
        self.answers: list[tuple[str, int, dict[str, Any]]] = []
        self.stopping = threading.Event()

    def bodies(self) -> Iterator[dict[str, Any]]:
        day = timezone.now().date() + dt.timedelta(days=2)
        n = 0
        while True:
            for hour in range(8, 20):
                for minute in (0, 30):
                    for staff in self.world["staff"]:
                        start = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=dt.UTC)
                        customer = {"name": f"Client {n}", "phone": f"+3361{n:07d}"}
                        yield {
                            "service": self.world["service"],
                            "staff": staff,
                            "start": start.isoformat(),
                            "customer": customer,
                        }
                        n += 1
            day += dt.timedelta(days=1)

    def run(self) -> None:
        url = f"{self.base}/api/v1/salons/faults/bookings/"
        for body in self.bodies():
            if self.stopping.is_set():
                return
            response = requests.post(url, json=body, timeout=30)
            answer = (
                response.json()
                if "json" in response.headers.get("Content-Type", "")
                else {"text": response.text[:200]}
            )
            self.answers.append((body["customer"]["phone"], response.status_code, answer))
            time.sleep(0.02)

    def count(self, status: int) -> int:
        return sum(1 for _phone, code, _body in list(self.answers) if code == status)


def test_database_restarted_under_bookings_answers_503_writes_nothing_half_and_recovers():
    postgres = ThrowawayPostgres()
    try:
        postgres.start()
        with psycopg.connect(postgres.url(), autocommit=True) as admin:
            admin.execute('CREATE DATABASE "acompte"')
        env = {
            **os.environ,
            "DATABASE_URL": postgres.url("acompte"),
            "RATE_LIMITS": "off",
            "DJANGO_DEBUG": "0",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "LOG_LEVEL": "ERROR",
            # A request waits at most this long for a connection while the database
            # is away, then answers 503.
            "DATABASE_POOL_TIMEOUT": "2",
        }
        env.pop("REDIS_URL", None)  # tasks run in the web process; no worker reads them
        manage = [sys.executable, "manage.py"]
        subprocess.run(
            [*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True, timeout=300
        )
        world = json.loads(
            subprocess.run(
                [*manage, "shell", "-c", WORLD],
                cwd=ROOT,
                env=env,
                check=True,
                timeout=120,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )

        with _web(env) as base:
            booker = Booker(base, world)
            booker.start()
            try:
                _wait("bookings before the crash", lambda: booker.count(201) >= 5, 60)
                postgres.crash()
                _wait("503 while the database is down", lambda: booker.count(503) >= 3, 60)
                before = booker.count(201)
                postgres.start()
                _wait(
                    "bookings after the restart",
                    lambda: booker.count(201) >= before + 5,
                    60,
                    log=lambda: repr(booker.answers[-5:]),
                )
            finally:
                booker.stopping.set()
                booker.join(timeout=60)

            # Every web worker comes back: a worker whose pool was still waiting to
            # reconnect when the database returned answers 503 a little longer.
            def availability() -> requests.Response:
                return requests.get(
                    f"{base}/api/v1/salons/faults/availability/",
                    params={
                        "service": world["service"],
                        "from": timezone.now().date().isoformat(),
                        "to": timezone.now().date().isoformat(),
                    },
                    timeout=30,
                )

            _wait(
                "availability after the restart",
                lambda: all(availability().status_code == 200 for _ in range(6)),
                60,
            )

        answers = booker.answers
        # Each request was booked, or told cleanly that the service is unavailable: the
        # API's error shape, never a 500 or an HTML page.
        assert {code for _phone, code, _body in answers} == {201, 503}, answers
        unavailable = [body for _phone, code, body in answers if code == 503]
        assert all(body["code"] == "unavailable" and body["detail"] for body in unavailable)
        booked = {phone for phone, code, _body in answers if code == 201}
        refused = {phone for phone, code, _body in answers if code == 503}

        with psycopg.connect(postgres.url("acompte")) as db:
            in_db = {
                row[0]
                for row in db.execute(
                    "SELECT c.phone FROM bookings_booking b "
                    "JOIN customers_customer c ON c.id = b.customer_id"
                )
            }
            without_event = db.execute(
                "SELECT b.id FROM bookings_booking b WHERE NOT EXISTS (SELECT 1 FROM "
                "bookings_bookingevent e WHERE e.booking_id = b.id AND e.kind = 'created')"
            ).fetchall()
            without_booking = db.execute(
                "SELECT c.phone FROM customers_customer c WHERE NOT EXISTS "
                "(SELECT 1 FROM bookings_booking b WHERE b.customer_id = c.id)"
            ).fetchall()
        # Every booking answered 201 is there; one more can be there only when its commit
        # reached the disk and the answer was lost with the connection (a 503 then).
        assert booked <= in_db
        assert in_db - booked <= refused
        # Nothing half-written: each booking has its event, each client their booking.
        assert without_event == []
        assert without_booking == []
    finally:
        postgres.remove()


# A worker killed with SIGKILL in the middle of a task ---------------------------------


@pytest.fixture
def own_redis(settings, tmp_path) -> Iterator[RedisServer]:
    """A Redis of the test's own as the broker: the session's worker does not read it."""
    executable = shutil.which("redis-server")
    if executable is None:
        pytest.fail("redis-server is not installed: the worker fault tests need it.", pytrace=False)
    server = RedisServer(executable, tmp_path)
    server.start()
    try:
        with _broker(server.url):
            yield server
    finally:
        if server.process is not None:
            server.kill()


class Worker:
    """`celery -A config worker` in a process group of its own, on `redis_url` and the
    test database, with production's settings (acks_late, reject_on_worker_lost,
    prefetch 1); `pool` is `prefork` (one child process runs the tasks) or `solo`."""

    def __init__(self, redis_url: str, pool: str, **env: str) -> None:
        db = connection.settings_dict
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool",
                pool,
                "--concurrency",
                "1",
                "--loglevel",
                "INFO",
                "--hostname",
                f"faults-{pool}@check",
                "--without-heartbeat",
                "--without-mingle",
                "--without-gossip",
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
            env={
                **os.environ,
                "REDIS_URL": redis_url,
                "LOG_LEVEL": "INFO",
                **env,
                "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            },
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.wait_for("ready", lambda: any("ready." in line for line in self.lines))

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def log(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, what: str, done: Callable[[], bool], seconds: float = 60) -> None:
        def alive_and_done() -> bool:
            assert self.process.poll() is None, f"the worker exited\n{self.log()}"
            return done()

        _wait(what, alive_and_done, seconds, log=self.log)

    def results(self, task: str) -> list[Any]:
        """What each run of `task` returned, in order."""
        pattern = re.compile(rf"Task {re.escape(task)}\[[^\]]+\] succeeded in \S+: (.*)$")
        return [ast.literal_eval(m[1]) for line in list(self.lines) if (m := pattern.search(line))]

    def wait_results(self, task: str, runs: int) -> list[Any]:
        self.wait_for(f"{runs} runs of {task}", lambda: len(self.results(task)) >= runs)
        return self.results(task)

    def kill(self) -> None:
        """SIGKILL to the whole worker, main process and children: no goodbye to Redis."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self._reader.join(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)
        self._reader.join(timeout=10)


@contextmanager
def _worker(redis_url: str, pool: str, **env: str) -> Iterator[Worker]:
    worker = Worker(redis_url, pool, **env)
    try:
        yield worker
    finally:
        worker.stop()


def _start(catalogue: Catalogue, ahead: int, hour: int) -> dt.datetime:
    """A working day `ahead` days from now or later, on the real clock (the worker's)."""
    day = timezone.now().astimezone(catalogue.salon.tz).date() + dt.timedelta(days=ahead)
    day = day if day.weekday() != 6 else day + dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(hour), tzinfo=catalogue.salon.tz)


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_a_worker_killed_while_sending_a_text_delivers_it_exactly_once(
    catalogue_a, own_redis, tmp_path, settings
):
    """Exactly once, for a message, means here: the provider accepts it once. A sender
    claims a message (`pending` to `sending`, a conditional update) before calling the
    provider, so no second sender (another worker, the task delivered again) sends it
    while the claim holds. A sender killed during the call leaves the claim behind; the
    product cannot tell a dead sender from a slow one, so the message is sent again only
    when the claim's lease (`SEND_LEASE`) has run out. Had the provider accepted the
    message just before the kill, that retry would send it a second time: the product
    promises at most one send per claim, and a retry only after the lease."""
    deliveries, gate = tmp_path / "sms.log", tmp_path / "gate"
    env = {
        "SMS_BACKEND": "tests.fault_sms.SlowSms",
        "FAULT_SMS_LOG": str(deliveries),
        "FAULT_SMS_GATE": str(gate),
    }
    customer = CustomerFactory(salon=catalogue_a.salon, phone="+33612345678", email="")

    with _worker(own_redis.url, "prefork", **env) as worker:
        # Confirmed at once (no deposit); the commit hands `messages_apply` to the broker,
        # and the worker's child plans the confirmation and starts sending it.
        booking = book(catalogue_a, customer, _start(catalogue_a, 3, 10), staff=catalogue_a.alice)
        worker.wait_for("send", lambda: deliveries.exists() and "begin" in deliveries.read_text())
        with salon_scope(catalogue_a.salon):
            message = Message.objects.get(booking=booking, kind=MessageKind.CONFIRMATION)
        assert (message.status, message.attempts) == (MessageStatus.SENDING, 1)

        # A second sender meanwhile (here the test process, as beat's sweep would) finds
        # the message claimed and sends nothing.
        settings.SMS_BACKEND = "locmem"
        sms.outbox.clear()
        with salon_scope(catalogue_a.salon):
            assert messages_run(salon=catalogue_a.salon)["sent"] == 0
        assert sms.outbox == []

        # SIGKILL to the child inside the provider's call. acks_late kept the task
        # unacknowledged; reject_on_worker_lost puts it back in the queue, and the new
        # child runs it again: the message is claimed, so it sends nothing.
        pid = _sender_pid(deliveries)
        os.kill(pid, signal.SIGKILL)
        again = worker.wait_results("messaging.messages_apply", 1)
        assert again == [{"events": 0, "reminders": 0, "credit": 0, "sent": 0}], worker.log()
        assert "WorkerLostError" in worker.log()
        message.refresh_from_db()
        assert message.status == MessageStatus.SENDING
        assert deliveries.read_text().count("delivered") == 0

        # The lease runs out (moved into the past rather than waited for): the next sweep
        # sends the message, once.
        gate.touch()
        with salon_scope(catalogue_a.salon):
            Message.objects.filter(pk=message.pk).update(
                claimed_at=F("claimed_at") - SEND_LEASE - dt.timedelta(minutes=1)
            )
        messages_sweep.apply_async()
        assert worker.wait_results("messaging.messages_apply", 2)[1]["sent"] == 1
        messages_sweep.apply_async()
        assert worker.wait_results("messaging.messages_apply", 3)[2]["sent"] == 0

    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.SENT, 2)
    log = deliveries.read_text().splitlines()
    assert [line.split()[0] for line in log] == ["begin", "begin", "delivered"]
    assert all(line.split()[1] == "+33612345678" for line in log)


def _sender_pid(deliveries: Path) -> int:
    return int(deliveries.read_text().splitlines()[0].split()[2])


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_a_worker_killed_in_the_middle_of_a_database_task_leaves_nothing_and_it_runs_once(
    catalogue_a, own_redis
):
    """`bookings.holds_apply` expires lapsed holds and records an `expired` event for
    each, in one transaction. The worker is killed between the two writes; PostgreSQL
    rolls the transaction back, and the task, never acknowledged (acks_late), is delivered
    again to the next worker, which does the whole of it, once."""
    salon = catalogue_a.salon
    customer = CustomerFactory(salon=salon)
    held = book(
        catalogue_a,
        customer,
        _start(catalogue_a, 3, 11),
        staff=catalogue_a.alice,
        hold_until=timezone.now() + dt.timedelta(minutes=15),
    )
    with salon_scope(salon):
        Booking.objects.filter(pk=held.pk).update(
            hold_expires_at=timezone.now() - dt.timedelta(minutes=1)
        )

    def expired_events() -> int:
        with salon_scope(salon):
            return BookingEvent.objects.filter(booking=held, kind="expired").count()

    db = connection.settings_dict
    dsn = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"

    with psycopg.connect(dsn) as blocker:
        with _worker(own_redis.url, "solo") as worker:
            worker.wait_results("messaging.messages_apply", 1)  # the booking's own, first
            # Inserts into the events' table wait while the test holds this lock.
            blocker.execute("LOCK TABLE bookings_bookingevent IN SHARE MODE")
            holds_apply.apply_async(kwargs={"salon_id": salon.pk})

            def waiting() -> list[int]:
                with psycopg.connect(dsn, autocommit=True) as probe:
                    rows = probe.execute(
                        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                        "AND wait_event_type = 'Lock' "
                        "AND query LIKE 'INSERT INTO \"bookings_bookingevent\"%%'"
                    ).fetchall()
                return [row[0] for row in rows]

            worker.wait_for("the task inside its transaction", lambda: bool(waiting()))
            orphan = waiting()[0]
            worker.kill()
        blocker.rollback()  # the lock goes; the dead worker's transaction ends unfinished

    def gone() -> bool:
        with psycopg.connect(dsn, autocommit=True) as probe:
            return not probe.execute(
                "SELECT 1 FROM pg_stat_activity WHERE pid = %s", [orphan]
            ).fetchall()

    _wait("the killed worker's transaction to end", gone, 30)
    # Nothing half-written: the booking is still held, no event says it expired.
    held.refresh_from_db()
    assert held.status == Status.PENDING_PAYMENT
    assert expired_events() == 0
    # The task is still on the broker, unacknowledged; a new worker takes it back once
    # its visibility timeout has passed (put in the past here rather than waited for).
    with redis.Redis(port=own_redis.port) as broker:
        assert broker.hlen("unacked") == 1
        for tag in broker.zrange("unacked_index", 0, -1):
            broker.zadd("unacked_index", {tag: 0})

    with _worker(own_redis.url, "solo") as worker:
        assert worker.wait_results("bookings.holds_apply", 1) == [[held.pk]], worker.log()
        holds_apply.apply_async(kwargs={"salon_id": salon.pk})  # run again: nothing to do
        assert worker.wait_results("bookings.holds_apply", 2)[1] == []
        with redis.Redis(port=own_redis.port) as broker:
            worker.wait_for("acknowledgement", lambda: broker.hlen("unacked") == 0, 10)

    held.refresh_from_db()
    assert held.status == Status.EXPIRED
    assert expired_events() == 1
