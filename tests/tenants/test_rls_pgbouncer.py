"""Row-level security behind a transaction-pooling PgBouncer (Debian's `pgbouncer`).

In transaction mode PgBouncer hands each transaction whichever server connection is free:
anything set for a session (a `SET ROLE` when the product's connection opens) stays on the
server connection it happened to reach, and the product's next transaction may run on
another. The product's statements must run as the application role on every server
connection PgBouncer opens for it, whatever the pooler does.

The test starts a pgbouncer of its own on a free port (transaction mode, two server
connections shared by many clients) and serves the product's database backend through
it, as `DATABASE_PREPARED_STATEMENTS=0` deployments do.
"""

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection, connections, transaction
from django.utils.connection import ConnectionDoesNotExist
from django_scopes import scopes_disabled

from bookings.models import Service
from tenants.scoping import salon_scope

ROLE = "acompte_app"
ALIAS = "through_pgbouncer"
SERVER_CONNECTIONS = 2
CLIENTS = 6
ROUNDS = 25


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgBouncer:
    """A pgbouncer of the test's own, in front of the test database's server."""

    def __init__(self, executable: str, workdir: Path, users: list[str]) -> None:
        db = connection.settings_dict
        self.port = _free_port()
        self.workdir = workdir
        (workdir / "userlist.txt").write_text("".join(f'"{u}" ""\n' for u in users))
        (workdir / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"* = host={db['HOST'] or '127.0.0.1'} port={db['PORT'] or 5432}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {workdir / 'userlist.txt'}\n"
            f"pool_mode = transaction\ndefault_pool_size = {SERVER_CONNECTIONS}\n"
            "min_pool_size = 0\nreserve_pool_size = 0\nmax_client_conn = 200\n"
            "ignore_startup_parameters = extra_float_digits\n"
            "server_reset_query =\n"
        )
        for path in (workdir, *workdir.iterdir()):
            path.chmod(0o755 if path.is_dir() else 0o644)
        # It refuses to run as root: it then drops to the database server's system user.
        command = [executable, str(workdir / "pgbouncer.ini")]
        if os.geteuid() == 0:
            command[1:1] = ["-u", "postgres"]
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                exited = self.process.poll()
                output = self.process.stdout.read() if exited is not None else ""  # type: ignore[union-attr]
                assert exited is None, f"pgbouncer exited with {exited}:\n{output}"
                assert time.monotonic() < deadline, "pgbouncer did not listen"
                time.sleep(0.02)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture(scope="session")
def pgbouncer(django_db_setup, django_db_blocker) -> Iterator[PgBouncer]:
    executable = shutil.which("pgbouncer") or (
        "/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None
    )
    if executable is None:
        pytest.fail(
            "pgbouncer is not installed (Debian: apt-get install pgbouncer): the tests of "
            "row-level security behind a transaction pooler need it.",
            pytrace=False,
        )
    with django_db_blocker.unblock():
        users = sorted({connection.settings_dict["USER"] or "postgres", _login_user()})
    workdir = Path(tempfile.mkdtemp(prefix="acompte-pgbouncer-"))
    bouncer = PgBouncer(executable, workdir, users)
    try:
        yield bouncer
    finally:
        bouncer.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def _login_user() -> str:
    """The user the product's connections log in as."""
    return str(connection.get_connection_params().get("user") or "postgres")


@pytest.fixture
def through_pgbouncer(pgbouncer, transactional_db) -> Iterator[dict[str, Any]]:
    """The product's database settings, served through the pgbouncer: prepared statements
    off, and a pool of more connections than PgBouncer has servers."""
    yield {
        **connection.settings_dict,
        "HOST": "127.0.0.1",
        "PORT": str(pgbouncer.port),
        "OPTIONS": {
            **{
                k: v
                for k, v in connection.settings_dict["OPTIONS"].items()
                if k not in ("server_side_binding", "prepare_threshold")
            },
            "pool": {"min_size": 1, "max_size": CLIENTS, "timeout": 30},
        },
    }
    # The pool is the process's, shared by the threads' connections under ALIAS.
    with contextlib.suppress(AttributeError, ConnectionDoesNotExist):
        connections[ALIAS].close()
        del connections[ALIAS]
    type(connections["default"])(connection.settings_dict, ALIAS).close_pool()  # type: ignore[attr-defined]


def _open(settings_dict: dict[str, Any]) -> Any:
    """This thread's connection under ALIAS, made here (not configured in settings)."""
    db = type(connections["default"])(settings_dict, ALIAS)
    connections[ALIAS] = db
    return db


def _warm_up(port: int, params: dict[str, Any]) -> None:
    """Make PgBouncer open all its server connections: as many transactions at once as it
    has servers, from connections of the product's login."""
    raws = [
        psycopg.connect(
            host="127.0.0.1",
            port=port,
            dbname=params["dbname"],
            user=params.get("user"),
            password=params.get("password"),
            autocommit=True,
        )
        for _ in range(SERVER_CONNECTIONS)
    ]
    try:
        pids = set()
        for raw in raws:
            raw.execute("BEGIN")
            pids.add(raw.execute("SELECT pg_backend_pid()").fetchone()[0])  # type: ignore[index]
        assert len(pids) == SERVER_CONNECTIONS
        for raw in raws:
            raw.execute("COMMIT")
    finally:
        for raw in raws:
            raw.close()


def test_behind_pgbouncer_every_transaction_runs_as_the_app_role_and_sees_its_salon_only(
    through_pgbouncer, pgbouncer, catalogue_a, catalogue_b
):
    a, b = catalogue_a.salon, catalogue_b.salon
    _warm_up(pgbouncer.port, _open(through_pgbouncer).get_connection_params())

    seen: Counter[tuple[str, ...]] = Counter()
    failures: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(CLIENTS)

    def note(*observed: Any) -> None:
        with lock:
            seen[tuple(str(o) for o in observed)] += 1

    def client(n: int) -> None:
        db = _open(through_pgbouncer)
        try:
            barrier.wait(timeout=30)
            for _ in range(ROUNDS):
                # A transaction (an atomic block) in a salon's scope.
                with salon_scope(a), transaction.atomic(using=ALIAS), db.cursor() as cursor:
                    cursor.execute(
                        "SELECT current_user, count(*) FILTER (WHERE salon_id = %s),"
                        " count(*) FROM bookings_service",
                        [b.pk],
                    )
                    note("atomic", *cursor.fetchone())
                # A scoped statement outside a transaction, in one of its own.
                with salon_scope(b), db.cursor() as cursor:
                    cursor.execute(
                        "SELECT current_user, count(*) FILTER (WHERE salon_id = %s),"
                        " count(*) FROM bookings_service",
                        [a.pk],
                    )
                    note("scoped", *cursor.fetchone())
                # A statement outside any scope: no tenant, so no tenant row.
                with db.cursor() as cursor:
                    cursor.execute("SELECT current_user, count(*) FROM bookings_service")
                    note("unscoped", *cursor.fetchone())
        except BaseException as exc:  # reported by the main thread
            with lock:
                failures.append(exc)
        finally:
            db.close()
            del connections[ALIAS]

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not failures, failures
    # Every transaction ran as the application role and saw only its own salon's services.
    assert seen == {
        ("atomic", ROLE, "0", "2"): CLIENTS * ROUNDS,
        ("scoped", ROLE, "0", "2"): CLIENTS * ROUNDS,
        ("unscoped", ROLE, "0"): CLIENTS * ROUNDS,
    }
    with scopes_disabled():
        assert Service.objects.count() == 4  # there were other rows to see
