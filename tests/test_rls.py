"""Row-level security: the database refuses another salon's rows even to a raw query.

The suite connects as `postgres`, a superuser, whom row-level security never binds; these
tests act as `acompte_app`, a role that neither owns the tables nor bypasses RLS, as the
product does in production (README, "Row-level security").
"""

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django_scopes import scopes_disabled

from bookings.models import Booking, Service
from tenants.rls import POLICY, tenant_tables
from tenants.scoping import admin_scope, salon_scope

from .conftest import Catalogue, local

ROLE = "acompte_app"


def _raw() -> Any:
    """The psycopg connection under Django's: its statements set no tenant of their own."""
    connection.ensure_connection()
    return connection.connection


def _grant_app_role(raw: Any) -> None:
    # Roles belong to the whole cluster, and test databases come and go: create it once.
    raw.execute(
        f"DO $$ BEGIN CREATE ROLE {ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS; "
        "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
    )
    raw.execute(f"GRANT USAGE ON SCHEMA public TO {ROLE}")
    raw.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {ROLE}")
    raw.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {ROLE}")


@pytest.fixture
def as_app_role(db) -> Iterator[Any]:
    """The rest of the test's transaction runs as the application role."""
    raw = _raw()
    _grant_app_role(raw)
    raw.execute(f"SET LOCAL ROLE {ROLE}")
    _forget_the_fixtures_tenant(raw)
    yield raw
    raw.execute("RESET ROLE")


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
        # A queryset scoped explicitly to a salon runs in that salon's scope.
        assert Service.objects.with_scope(salon=b.pk).count() == 2
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
    assert Service.objects.with_scopes_disabled().count() == 4
    assert raw_count() == 0


def test_the_admin_scope_of_a_manager_of_two_salons(team_a, team_b, catalogue_a, catalogue_b):
    from tenants.models import Membership, Role

    with scopes_disabled():
        Membership.objects.create(salon=team_b.salon, user=team_a.owner, role=Role.MANAGER)
    raw = _raw()
    _grant_app_role(raw)
    raw.execute(f"SET LOCAL ROLE {ROLE}")
    _forget_the_fixtures_tenant(raw)
    with admin_scope(team_a.owner), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM bookings_service")
        assert cursor.fetchone()[0] == 4
    with admin_scope(team_a.manager), connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT salon_id FROM bookings_service")
        assert cursor.fetchall() == [(team_a.salon.pk,)]
    raw.execute("RESET ROLE")


# A whole request under the application role, on a pool of one connection, committed.


@pytest.fixture
def app_role_pool(
    catalogue_a: Catalogue, catalogue_b: Catalogue, transactional_db
) -> Iterator[None]:
    """The product served as `acompte_app` from a pool holding a single connection."""
    with connection.cursor():
        pass
    _grant_app_role(_raw())
    options = connection.settings_dict["OPTIONS"]
    saved = {key: options.get(key) for key in ("assume_role", "pool")}
    connection.close()
    connection.close_pool()  # type: ignore[attr-defined]
    options["assume_role"] = ROLE
    options["pool"] = {**(saved["pool"] or {}), "min_size": 1, "max_size": 1}
    try:
        yield
    finally:
        connection.close()
        connection.close_pool()  # type: ignore[attr-defined]
        for key, value in saved.items():
            if value is None:
                options.pop(key, None)
            else:
                options[key] = value


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
    response = api().post("/api/v1/salons/bella/bookings/", {
        "service": cut.pk, "start": local(catalogue_a.salon, 1, 9).isoformat(), "staff": alice.pk,
        "customer": {"name": "Léa Martin", "phone": "06 12 34 56 78", "email": "lea@example.org"},
        "payment_option": "deposit", "notes": "", "marketing_consent": False,
    }, format="json")  # fmt: skip
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

    with connection.execute_wrapper(before_the_backend):
        listed = api(team_b.owner).get("/api/v1/salons/rival/backoffice/bookings/")
    assert listed.status_code == 200
    assert listed.json()["count"] == 0  # Bella's booking is not Rival's
    assert carried and all(salon in ("", None) and every in ("", None, "off")
                           for salon, every in carried)  # fmt: skip
    assert _session()[0] == pid

    # And a raw query after it, outside any scope, sees nothing.
    assert _count(_raw(), "bookings_booking") == 0
