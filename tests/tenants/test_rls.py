"""Row-level security: the database refuses another salon's rows even to a raw query.

The suite, like the product, acts as `acompte_app` (DATABASE_APP_ROLE's default): a role
that neither owns the tables nor bypasses RLS, which `migrate` creates and grants the
rights to rows (README, "Row-level security").
"""

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, ProgrammingError, connection, transaction
from django.db.transaction import TransactionManagementError
from django_scopes import ScopeError, scopes_disabled
from psycopg.pq import TransactionStatus

from bookings.models import Booking, Service
from tenants.rls import POLICY, app_role_provision, as_owner, tenant_tables
from tenants.scoping import admin_scope, salon_scope
from tests.conftest import Catalogue, local

ROLE = "acompte_app"
LOGIN = "acompte_app_login"  # DATABASE_APP_LOGIN's default: the role's name, `_login`
ROOT = Path(__file__).resolve().parents[2]


def _raw() -> Any:
    """The psycopg connection under Django's: its statements set no tenant of their own."""
    connection.ensure_connection()
    return connection.connection


@pytest.fixture
def as_app_role(db) -> Iterator[Any]:
    """The raw connection of the test's transaction, its fixtures' tenant forgotten."""
    raw = _raw()
    assert raw.execute("SELECT current_user").fetchone()[0] == ROLE
    _forget_the_fixtures_tenant(raw)
    return raw


def _forget_the_fixtures_tenant(raw: Any) -> None:
    # The test runs in one transaction with its fixtures, which set their salon in it as
    # a request would have in its own; start this part from no tenant.
    raw.execute(
        "SELECT set_config('acompte.salon', '', true),"
        " set_config('acompte.all_salons', 'off', true)"
    )
    connection.tenant_set = ("", "off")  # type: ignore[attr-defined]


def _count(raw: Any, table: str) -> int:
    return int(raw.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


@pytest.mark.django_db
def test_every_tenant_owned_table_has_rls_enabled_forced_and_its_policy():
    tables = tenant_tables()
    assert {"bookings_booking", "deposits_payment", "tenants_membership"} <= set(tables)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class"
            " WHERE relname = ANY(%s) AND relkind = 'r'",
            [tables],
        )
        flags = {name: (enabled, forced) for name, enabled, forced in cursor.fetchall()}
        cursor.execute(
            "SELECT tablename, cmd, qual, with_check FROM pg_policies"
            " WHERE policyname = %s AND schemaname = 'public'",
            [POLICY],
        )
        policies = {name: (cmd, qual, check) for name, cmd, qual, check in cursor.fetchall()}
    missing = [t for t in tables if flags.get(t) != (True, True) or t not in policies]
    assert missing == [], f"tenant-owned tables without RLS (see tenants/rls.py): {missing}"
    for cmd, qual, check in policies.values():
        assert cmd == "ALL"
        assert "acompte.salon" in qual and "acompte.all_salons" in qual
        assert qual == check


def _plan_nodes(plan: dict) -> Iterator[dict]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _plan_nodes(child)


def test_the_policy_reads_its_settings_once_per_statement_not_per_row(catalogue_a, as_app_role):
    raw = as_app_role
    raw.execute("SELECT set_config('acompte.salon', %s, true)", [str(catalogue_a.salon.pk)])
    [[[explained]]] = raw.execute(
        "EXPLAIN (FORMAT JSON) SELECT * FROM bookings_service WHERE duration_minutes > 0"
    ).fetchall()
    nodes = list(_plan_nodes(explained["Plan"]))
    scan = next(n for n in nodes if n.get("Relation Name") == "bookings_service")
    assert "current_setting" not in scan.get("Filter", "")  # not evaluated row by row
    init_plans = [n for n in nodes if n.get("Parent Relationship") == "InitPlan"]
    assert len(init_plans) == 2  # the salons, and whether every salon is seen


def test_a_raw_query_without_a_tenant_sees_no_row(catalogue_a, catalogue_b, as_app_role):
    raw = as_app_role
    assert raw.execute("SELECT current_user").fetchone()[0] == ROLE
    for table in ("bookings_service", "bookings_staffmember", "tenants_membership"):
        assert _count(raw, table) == 0

    raw.execute("SELECT set_config('acompte.salon', %s, true)", [str(catalogue_a.salon.pk)])
    salons = raw.execute("SELECT DISTINCT salon_id FROM bookings_service").fetchall()
    assert salons == [(catalogue_a.salon.pk,)]
    assert _count(raw, "bookings_service") == 2

    # Writing a row for another salon is refused, whatever the statement says.
    raw.execute("SAVEPOINT cross_salon")
    with pytest.raises(Exception, match="row-level security"):
        raw.execute(
            "INSERT INTO customers_tag (salon_id, name) VALUES (%s, 'stolen')",
            [catalogue_b.salon.pk],
        )
    raw.execute("ROLLBACK TO SAVEPOINT cross_salon")
    # Nor can a row be moved to another salon.
    raw.execute("SAVEPOINT cross_salon")
    with pytest.raises(Exception, match="row-level security"):
        raw.execute("UPDATE bookings_service SET salon_id = %s", [catalogue_b.salon.pk])
    raw.execute("ROLLBACK TO SAVEPOINT cross_salon")
    # Another salon's rows are not there to update or delete.
    assert (
        raw.execute(
            "DELETE FROM bookings_service WHERE salon_id = %s", [catalogue_b.salon.pk]
        ).rowcount
        == 0
    )

    raw.execute("SELECT set_config('acompte.all_salons', 'on', true)")
    assert _count(raw, "bookings_service") == 4


def test_the_backend_sets_the_scope_as_the_tenant(catalogue_a, catalogue_b, as_app_role):
    a, b = catalogue_a.salon, catalogue_b.salon

    def raw_count(table: str = "bookings_service") -> int:
        with connection.cursor() as cursor:  # no salon filter: only RLS stands in the way
            cursor.execute(f"SELECT count(*) FROM {table}")
            return int(cursor.fetchone()[0])

    assert raw_count() == 0
    with salon_scope(a):
        assert raw_count() == 2
        assert sorted(Service.objects.values_list("salon_id", flat=True)) == [a.pk, a.pk]
        # No scope per query: the ambient one is the only one.
        with pytest.raises(ScopeError):
            Service.objects.with_scope(salon=b.pk)
        assert raw_count() == 2
        with salon_scope(b):
            assert raw_count() == 2
            assert set(Service.objects.values_list("salon_id", flat=True)) == {b.pk}
        with (
            pytest.raises(DatabaseError, match="row-level security"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(
                "INSERT INTO customers_tag (salon_id, name) VALUES (%s, 'stolen')", [b.pk]
            )
        assert raw_count() == 2  # the rolled-back savepoint did not change the tenant
    assert raw_count() == 0
    with scopes_disabled():
        assert raw_count() == 4
        assert Service.objects.count() == 4
    assert raw_count() == 0


def test_the_admin_scope_of_a_manager_of_two_salons(team_a, team_b, catalogue_a, catalogue_b):
    from tenants.models import Membership, Role

    with scopes_disabled():
        Membership.objects.create(salon=team_b.salon, user=team_a.owner, role=Role.MANAGER)
    _forget_the_fixtures_tenant(_raw())
    with admin_scope(team_a.owner), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM bookings_service")
        assert cursor.fetchone()[0] == 4
    with admin_scope(team_a.manager), connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT salon_id FROM bookings_service")
        assert cursor.fetchall() == [(team_a.salon.pk,)]


def test_a_row_reloads_outside_a_scope_in_its_own_salon_and_not_in_another_salons(
    catalogue_a, catalogue_b, as_app_role
):
    cut = catalogue_a.cut
    with salon_scope(catalogue_a.salon):
        Service.objects.filter(pk=cut.pk).update(name="Coupe courte")
    cut.refresh_from_db()  # outside any scope: the row the caller holds, in its salon
    assert cut.name == "Coupe courte"
    with salon_scope(catalogue_b.salon), pytest.raises(Service.DoesNotExist):
        cut.refresh_from_db()  # in another salon's scope the database shows it no row


# A whole request under the application role, on a pool of one connection, committed.


@pytest.fixture
def app_role_pool(
    catalogue_a: Catalogue, catalogue_b: Catalogue, transactional_db
) -> Iterator[None]:
    """The product served from a pool holding a single connection."""
    options = connection.settings_dict["OPTIONS"]
    saved = options["pool"]
    connection.close()
    connection.close_pool()  # type: ignore[attr-defined]
    options["pool"] = {**saved, "min_size": 1, "max_size": 1}
    try:
        yield
    finally:
        connection.close()
        connection.close_pool()  # type: ignore[attr-defined]
        options["pool"] = saved


def _session() -> tuple[int, str, str | None, str | None]:
    return (
        _raw()
        .execute(
            "SELECT pg_backend_pid(), current_user, current_setting('acompte.salon', true),"
            " current_setting('acompte.all_salons', true)"
        )
        .fetchone()
    )


def test_a_request_under_rls_and_the_next_one_on_the_pooled_connection(
    app_role_pool, catalogue_a, catalogue_b, api, team_b, monday
):
    pid, user, _salon, _every = _session()
    assert user == ROLE

    # The product works under RLS: a booking made and read back through the API.
    cut, alice = catalogue_a.cut, catalogue_a.alice
    response = api().post(
        "/api/v1/salons/bella/bookings/",
        {
            "service": cut.pk,
            "start": local(catalogue_a.salon, 1, 9).isoformat(),
            "staff": alice.pk,
            "customer": {
                "name": "Léa Martin",
                "phone": "06 12 34 56 78",
                "email": "lea@example.org",
            },
            "payment_option": "deposit",
            "notes": "",
            "marketing_consent": False,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    token = response.json()["manage_token"]
    managed = api().get(f"/api/v1/manage/{token}/")
    assert managed.status_code == 200
    assert managed.json()["id"] == response.json()["id"]
    with scopes_disabled():
        assert Booking.objects.filter(salon=catalogue_a.salon).count() == 1

    # The request is over: its connection goes back to the pool, which has only this one.
    connection.close()
    same_pid, user, salon, every = _session()
    assert (same_pid, user) == (pid, ROLE)
    assert salon in ("", None) and every in ("", None)  # set only ever per transaction

    # What the connection carries when each statement of the next request reaches it.
    carried: list[tuple[str | None, str | None]] = []

    def before_the_backend(execute, sql, params, many, context):
        row = (
            _raw()
            .execute(
                "SELECT current_setting('acompte.salon', true),"
                " current_setting('acompte.all_salons', true)"
            )
            .fetchone()
        )
        if _raw().info.transaction_status == 0:  # idle: what a statement would start with
            carried.append(row)
        return execute(sql, params, many, context)

    # Django runs the first of its wrappers outermost: this one, before the backend's.
    connection.execute_wrappers.insert(0, before_the_backend)
    try:
        listed = api(team_b.owner).get("/api/v1/salons/rival/backoffice/bookings/")
    finally:
        connection.execute_wrappers.remove(before_the_backend)
    assert listed.status_code == 200
    assert listed.json()["count"] == 0  # Bella's booking is not Rival's
    assert carried and all(
        salon in ("", None) and every in ("", None, "off") for salon, every in carried
    )
    assert _session()[0] == pid

    # And a raw query after it, outside any scope, sees nothing.
    assert _count(_raw(), "bookings_booking") == 0


# The role itself: what it may not do, and how `migrate` makes it.


def _refused(raw: Any, sql: str) -> str:
    raw.execute("SAVEPOINT refused")
    try:
        raw.execute(sql)
    except psycopg.Error as exc:
        return str(exc)
    finally:
        raw.execute("ROLLBACK TO SAVEPOINT refused")
    raise AssertionError(f"the application role may: {sql}")


def test_the_product_acts_as_a_role_that_owns_nothing_and_cannot_lift_the_policies(
    catalogue_a, as_app_role
):
    raw = as_app_role
    login, acting = raw.execute("SELECT session_user, current_user").fetchone()
    assert acting == ROLE != login == LOGIN
    assert raw.execute(
        "SELECT rolsuper, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = current_user"
    ).fetchone() == (False, False, False)
    owners = raw.execute(
        "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'"
    ).fetchall()
    assert owners == [(connection.settings_dict["USER"],)] != [(login,)]

    assert "must be owner" in _refused(
        raw, "ALTER TABLE bookings_booking NO FORCE ROW LEVEL SECURITY"
    )
    assert "must be owner" in _refused(raw, f"DROP POLICY {POLICY} ON bookings_service")
    assert "permission denied" in _refused(raw, "TRUNCATE bookings_service")
    assert "permission denied" in _refused(raw, "CREATE TABLE public.side_door (id int)")


def test_acting_as_the_owner_inside_a_transaction_is_refused(db):
    with pytest.raises(TransactionManagementError), as_owner(connection):
        pass


def test_flush_runs_as_the_owner_and_leaves_the_connection_as_the_app_role(
    catalogue_a, transactional_db
):
    call_command("flush", interactive=False, verbosity=0)
    with scopes_disabled():
        assert Service.objects.count() == 0
    assert _raw().execute("SELECT current_user").fetchone()[0] == ROLE


@pytest.fixture
def scratch_roles(transactional_db) -> Iterator[list[str]]:
    """Names for roles the test creates; each is dropped with what it was granted."""
    names: list[str] = []
    yield names
    with as_owner(connection), connection.cursor() as cursor:
        for name in names:
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name])
            if cursor.fetchone():
                cursor.execute(f'DROP OWNED BY "{name}"')
                cursor.execute(f'DROP ROLE "{name}"')


def _scratch(names: list[str], kind: str) -> str:
    names.append(f"acompte_test_{kind}_{uuid.uuid4().hex[:8]}")
    return names[-1]


def test_provisioning_creates_the_role_grants_rows_only_and_refuses_roles_that_void_rls(
    scratch_roles,
):
    fresh = _scratch(scratch_roles, "app")
    with as_owner(connection), connection.cursor() as cursor:
        app_role_provision(connection, fresh)
        app_role_provision(connection, fresh)  # again: nothing changes, nothing fails
        cursor.execute(
            "SELECT rolcanlogin, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s",
            [fresh],
        )
        assert cursor.fetchone() == (False, False, False)
        cursor.execute(
            "SELECT has_table_privilege(%s, 'bookings_booking', 'SELECT, INSERT, UPDATE, DELETE'),"
            " has_table_privilege(%s, 'bookings_booking', 'TRUNCATE'),"
            " has_table_privilege(%s, 'bookings_booking', 'REFERENCES'),"
            " has_schema_privilege(%s, 'public', 'CREATE')",
            [fresh] * 4,
        )
        assert cursor.fetchone() == (True, False, False, False)
        # A table made after it (by a later migration) is granted at once.
        cursor.execute("CREATE TABLE acompte_test_later (id int)")
        cursor.execute("SELECT has_table_privilege(%s, 'acompte_test_later', 'SELECT')", [fresh])
        assert cursor.fetchone()[0] is True
        cursor.execute("DROP TABLE acompte_test_later")

        bypass = _scratch(scratch_roles, "bypass")
        cursor.execute(f'CREATE ROLE "{bypass}" NOLOGIN BYPASSRLS')
        with pytest.raises(ImproperlyConfigured, match="BYPASSRLS"):
            app_role_provision(connection, bypass)
        owner = _scratch(scratch_roles, "owner")
        cursor.execute(f'CREATE ROLE "{owner}" NOLOGIN')
        cursor.execute("CREATE TABLE acompte_test_owned (id int)")
        cursor.execute(f'ALTER TABLE acompte_test_owned OWNER TO "{owner}"')
        with pytest.raises(ImproperlyConfigured, match="owns tables"):
            app_role_provision(connection, owner)
        cursor.execute("DROP TABLE acompte_test_owned")
        cursor.execute("SELECT current_user")
        login = cursor.fetchone()[0]
        with pytest.raises(ImproperlyConfigured, match="the login role"):
            app_role_provision(connection, login)


def test_migrate_runs_as_the_owner_and_provisions_the_configured_role(scratch_roles):
    role = _scratch(scratch_roles, "migrate")
    scratch_roles.insert(0, f"{role}_login")  # dropped first: a member of the role
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url, "DATABASE_APP_ROLE": role},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"The application role {role!r} may read and write rows." in result.stdout
    assert f"The login {role + '_login'!r} acts as {role!r}." in result.stdout
    with psycopg.connect(url.replace("postgres://", "postgresql://")) as check:
        row = check.execute(
            "SELECT has_table_privilege(%s, 'deposits_payment', 'INSERT'),"
            " has_table_privilege(%s, 'deposits_payment', 'TRUNCATE')",
            [role, role],
        ).fetchone()
    assert row == (True, False)
    # The product's login: its sessions start as the role, set by the server.
    login_url = f"postgresql://{role}_login@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    with psycopg.connect(login_url) as check:
        assert check.execute("SELECT session_user, current_user").fetchone() == (
            f"{role}_login",
            role,
        )


# A scoped statement outside a transaction (autocommit) runs in a transaction of its own.


def _setting() -> tuple[Any, Any]:
    return (
        _raw()
        .execute(
            "SELECT current_setting('acompte.salon', true),"
            " current_setting('acompte.all_salons', true)"
        )
        .fetchone()
    )


def _idle_and_clean() -> None:
    assert _raw().info.transaction_status == TransactionStatus.IDLE
    salon, every = _setting()
    assert salon in ("", None) and every in ("", None, "off")


def test_a_scoped_statement_outside_a_transaction_sees_its_salon_and_leaves_nothing_set(
    catalogue_a, catalogue_b, transactional_db
):
    assert not connection.in_atomic_block and connection.get_autocommit()
    with salon_scope(catalogue_a.salon):
        assert (
            sorted(Service.objects.values_list("salon_id", flat=True)) == [catalogue_a.salon.pk] * 2
        )
        _idle_and_clean()
        # A named cursor (an iterator) declares its rows in the salon's transaction too.
        assert {s.salon_id for s in Service.objects.iterator(chunk_size=1)} == {
            catalogue_a.salon.pk
        }
        _idle_and_clean()


def test_a_scoped_statement_outside_a_transaction_fails_cleanly_and_the_connection_goes_on(
    catalogue_a, catalogue_b, transactional_db
):
    with salon_scope(catalogue_a.salon):
        # Refused by the policy, in the statement itself.
        with pytest.raises(ProgrammingError, match="row-level security"), connection.cursor() as c:
            c.execute(
                "INSERT INTO customers_tag (salon_id, name) VALUES (%s, 'stolen')",
                [catalogue_b.salon.pk],
            )
        _idle_and_clean()
        assert Service.objects.count() == 2
    # Refused at COMMIT: a deferred foreign key to a salon that does not exist.
    with salon_scope(999_999), pytest.raises(IntegrityError), connection.cursor() as cursor:
        cursor.execute("INSERT INTO customers_tag (salon_id, name) VALUES (999999, 'ghost')")
    _idle_and_clean()
    with scopes_disabled(), connection.cursor() as cursor:
        cursor.execute("SELECT name FROM customers_tag")
        assert cursor.fetchall() == []  # neither the stolen tag nor the ghost
        assert Service.objects.count() == 4


# The product's login is only a member of the application role, and its sessions start as
# the role: set by the server, not by the product, so that no pooler can hand a statement a
# session acting as anyone else (tests/tenants/test_rls_pgbouncer.py), and even a forged
# `SET ROLE NONE` leaves every statement bound by the policy.


def test_the_product_logs_in_as_a_member_of_the_app_role_whose_sessions_start_as_it(
    catalogue_a, as_app_role
):
    raw = as_app_role
    assert raw.execute("SELECT session_user, current_user").fetchone() == (LOGIN, ROLE)
    assert raw.execute(
        "SELECT rolcanlogin, rolsuper, rolbypassrls, array(SELECT r.rolname FROM"
        " pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid WHERE m.member = l.oid)"
        " FROM pg_roles l WHERE rolname = %s",
        [LOGIN],
    ).fetchone() == (True, False, False, [ROLE])
    raw.execute("RESET ROLE")  # back to the session's start: the role, set by the server
    assert raw.execute("SELECT current_user").fetchone() == (ROLE,)
    raw.execute("SET ROLE NONE")  # what a forged statement could send: it gains nothing
    assert raw.execute("SELECT current_user").fetchone() == (LOGIN,)
    assert _count(raw, "bookings_booking") == 0
    assert _count(raw, "bookings_service") == 0
    assert "must be owner" in _refused(
        raw, "ALTER TABLE bookings_booking NO FORCE ROW LEVEL SECURITY"
    )
    raw.execute("RESET ROLE")


def test_provisioning_refuses_a_login_that_would_void_rls(scratch_roles):
    with as_owner(connection), connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        owner = cursor.fetchone()[0]
        with pytest.raises(ImproperlyConfigured, match="a login of its own"):
            app_role_provision(connection, ROLE, (owner, ""))
        bypass = _scratch(scratch_roles, "login")
        cursor.execute(f'CREATE ROLE "{bypass}" LOGIN BYPASSRLS')
        with pytest.raises(ImproperlyConfigured, match="BYPASSRLS"):
            app_role_provision(connection, ROLE, (bypass, ""))
        member = _scratch(scratch_roles, "login")
        cursor.execute(f'CREATE ROLE "{member}" LOGIN IN ROLE pg_read_all_data')
        with pytest.raises(ImproperlyConfigured, match="pg_read_all_data"):
            app_role_provision(connection, ROLE, (member, ""))
