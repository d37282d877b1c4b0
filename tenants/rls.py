"""PostgreSQL row-level security: the database's backstop to the tenant scope.

Every tenant-owned table (a `TenantModel`) has row-level security enabled and forced, and
one policy, `tenant_isolation`: a row is visible, and may be written, only when its
`salon_id` is among the salons named by the transaction's `acompte.salon` setting (a
comma-separated list of ids), or when `acompte.all_salons` is `on` (code that legitimately
reads every salon: the superusers' admin, the Stripe webhook's lookup, management
commands). With neither set, a query sees no row at all.

The settings are only ever set with `set_config(..., is_local => true)`, that is per
transaction, by the PostgreSQL backend (`tenants/db/postgresql/base.py`) from the current
django-scopes scope, so nothing carries over to the next user of a pooled connection.

The policies only bind a role that is neither a superuser nor has BYPASSRLS; FORCE makes
them bind the tables' owner too, but the owner may turn them off. So the product acts as
another role, `DATABASE_APP_ROLE` (`acompte_app` unless set otherwise): a role that owns
nothing, may not bypass RLS, and holds only the rights to read and write rows. Its
connections log in as `DATABASE_APP_LOGIN`, only a member of that role, whose sessions the
server starts as the role (`ALTER ROLE ... SET role`): nothing is set per session by the
product, which a transaction-pooling PgBouncer would leave on one server connection.
`migrate` creates both if needed and grants the role those rights (`app_role_provision`);
`migrate` and `flush`, the commands that change the schema or empty every salon's tables
at once, run as the `DATABASE_URL` login, the tables' owner (`as_owner`). README,
"Row-level security".

A new tenant-owned model needs its table covered, in the migration that creates it::

    from tenants.rls import enable_rls

    operations = [
        migrations.CreateModel(name="Thing", ...),
        enable_rls("myapp_thing"),
    ]

`tests/tenants/test_rls.py` fails for any tenant-owned table left without it.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, migrations, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps
from django.db.transaction import TransactionManagementError

SALON_SETTING = "acompte.salon"
ALL_SALONS_SETTING = "acompte.all_salons"
POLICY = "tenant_isolation"

# NULL (unset) and '' both name no salon; the ids are cast only after the split. Each
# setting is read in a sub-select of its own, which PostgreSQL plans as an InitPlan: once
# per statement, not once per row (read per row, they cost a scan of 3,000 bookings 45%
# more than no policy at all; read once, 6%). The `::bigint[]` after the sub-select makes
# `= ANY` take it as one array, not as a subquery's rows.
_VISIBLE = (
    f"((SELECT current_setting('{ALL_SALONS_SETTING}', true) = 'on')"
    f" OR salon_id = ANY ((SELECT string_to_array("
    f"nullif(current_setting('{SALON_SETTING}', true), ''), ',')::bigint[])::bigint[]))"
)


def policy_sql(table: str, quote: Any) -> list[str]:
    name = quote(table)
    return [
        f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {name} FORCE ROW LEVEL SECURITY",
        f"DROP POLICY IF EXISTS {POLICY} ON {name}",
        f"CREATE POLICY {POLICY} ON {name} USING {_VISIBLE} WITH CHECK {_VISIBLE}",
    ]


def unpolicy_sql(table: str, quote: Any) -> list[str]:
    name = quote(table)
    return [
        f"DROP POLICY IF EXISTS {POLICY} ON {name}",
        f"ALTER TABLE {name} NO FORCE ROW LEVEL SECURITY",
        f"ALTER TABLE {name} DISABLE ROW LEVEL SECURITY",
    ]


def tenant_tables() -> list[str]:
    """The tables of every concrete tenant-owned model the project has now."""
    from django.apps import apps

    from .models import TenantModel

    return sorted(
        model._meta.db_table
        for model in apps.get_models()
        if issubclass(model, TenantModel) and not model._meta.proxy and model._meta.managed
    )


def _apply(schema_editor: BaseDatabaseSchemaEditor, tables: Iterable[str], forward: bool) -> None:
    connection = schema_editor.connection
    if connection.vendor != "postgresql":  # the embedded SQLite default has no RLS
        return
    existing = set(connection.introspection.table_names())
    quote = schema_editor.quote_name
    for table in tables:
        if table in existing:
            for sql in (policy_sql if forward else unpolicy_sql)(table, quote):
                schema_editor.execute(sql)


def enable_rls(*tables: str) -> migrations.RunPython:
    """A migration operation covering the given tables (all tenant-owned ones if none)."""

    def forward(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        _apply(schema_editor, tables or tenant_tables(), forward=True)

    def backward(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        _apply(schema_editor, tables or tenant_tables(), forward=False)

    return migrations.RunPython(forward, backward, elidable=False)


def tenant_setting(scope: dict[str, Any] | None) -> tuple[str, str]:
    """The (acompte.salon, acompte.all_salons) values for a django-scopes scope."""
    if not scope:
        return ("", "off")
    if not scope.get("_enabled", True):
        return ("", "on")
    salon = scope.get("salon")
    salons = salon if isinstance(salon, (list, tuple, set, frozenset)) else [salon]
    # None (django-scopes' "no filter") and anything else not an id name no salon.
    ids = [getattr(s, "pk", s) for s in salons]
    return (",".join(str(i) for i in ids if isinstance(i, int) and not isinstance(i, bool)), "off")


# The role the product acts as --------------------------------------------------------------


def app_role(connection: BaseDatabaseWrapper) -> str | None:
    """The role the connection's statements run as (`DATABASE_APP_ROLE`), if any."""
    if connection.vendor != "postgresql":
        return None
    return connection.settings_dict.get("OPTIONS", {}).get("assume_role") or None


@contextmanager
def as_owner(connection: BaseDatabaseWrapper) -> Iterator[str | None]:
    """Run this thread's statements on `connection` as the login role, the tables' owner,
    on a connection of their own outside the pool; yields the application role, if any.

    For the commands that change the schema or empty every salon's tables (`migrate`,
    `flush`): the application role may do neither. The pool's connections keep the
    application role throughout; other threads are not affected.
    """
    role = app_role(connection)
    if role is None:
        yield None
        return
    if connection.in_atomic_block:
        raise TransactionManagementError("Leave the transaction before acting as the owner.")
    shared = connection.settings_dict
    options = {
        k: v
        for k, v in shared["OPTIONS"].items()
        if k not in ("assume_role", "app_login", "app_password", "pool")
    }
    connection.close()
    connection.settings_dict = {**shared, "OPTIONS": options}
    try:
        yield role
    finally:
        connection.close()
        connection.settings_dict = shared


def app_login(connection: BaseDatabaseWrapper) -> tuple[str, str] | None:
    """The login the product's connections use (`DATABASE_APP_LOGIN`) and its password."""
    options = connection.settings_dict.get("OPTIONS", {})
    if connection.vendor != "postgresql" or not options.get("app_login"):
        return None
    return options["app_login"], options.get("app_password") or ""


def app_role_provision(
    connection: BaseDatabaseWrapper, role: str, product_login: tuple[str, str] | None = None
) -> None:
    """Create the application role if it is missing and grant it what the product needs:
    to read and write the rows of every table (row-level security then decides which),
    nothing more; then the product's login, `(name, password)`, if given
    (`app_login_provision`). Run as the tables' owner, after each `migrate`; idempotent.

    Refuses a role that would void row-level security: the login role itself, a
    superuser, a role with BYPASSRLS, or one owning any table.
    """
    with connection.cursor() as cursor:
        quote = connection.ops.quote_name
        name = quote(role)
        cursor.execute("SELECT current_user, current_schema()")
        login, schema = cursor.fetchone()
        if role == login:
            raise ImproperlyConfigured(
                f"DATABASE_APP_ROLE is {role!r}, the login role, which owns the tables: "
                "row-level security would not bind it. Name another role."
            )
        cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", [role])
        found = cursor.fetchone()
        if found is None:
            # Another process may be creating it at the same moment.
            create = (
                f"DO $$ BEGIN CREATE ROLE {name} NOLOGIN NOSUPERUSER NOBYPASSRLS;"
                " EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
            )
            try:
                with transaction.atomic(using=connection.alias):
                    cursor.execute(create)
            except DatabaseError as exc:
                raise ImproperlyConfigured(
                    f"The role {role!r} (DATABASE_APP_ROLE) does not exist and {login!r} may "
                    f"not create it ({exc}). Create it once as a superuser (README, "
                    '"Row-level security"), or set DATABASE_APP_ROLE to the empty string to '
                    "serve as the login role, which row-level security does not bind."
                ) from exc
        elif any(found):
            raise ImproperlyConfigured(
                f"DATABASE_APP_ROLE {role!r} is a superuser or has BYPASSRLS: row-level "
                "security would not bind it."
            )
        cursor.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner"
            " WHERE r.rolname = %s",
            [role],
        )
        if cursor.fetchone()[0]:
            raise ImproperlyConfigured(
                f"DATABASE_APP_ROLE {role!r} owns tables, and an owner may turn row-level "
                "security off. Name a role that owns nothing."
            )
        cursor.execute("SELECT pg_has_role(current_user, %s, 'MEMBER')", [role])
        if not cursor.fetchone()[0]:
            cursor.execute(f"GRANT {name} TO CURRENT_USER")
        schema = quote(schema)
        for sql in (
            f"GRANT USAGE ON SCHEMA {schema} TO {name}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {name}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {name}",
            # Tables a later migration creates are granted at once, not only on the next run.
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema}"
            f" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {name}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema}"
            f" GRANT USAGE, SELECT ON SEQUENCES TO {name}",
        ):
            cursor.execute(sql)
    if product_login is not None:
        app_login_provision(connection, role, *product_login)


def _void_rls(cursor: Any, name: str) -> str | None:
    """Why the role `name` would not be bound by row-level security, if it would not."""
    cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", [name])
    found = cursor.fetchone()
    if found is not None and any(found):
        return "is a superuser or has BYPASSRLS"
    cursor.execute(
        "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner"
        " WHERE r.rolname = %s",
        [name],
    )
    if cursor.fetchone()[0]:
        return "owns tables, and an owner may turn row-level security off"
    return None


def app_login_provision(
    connection: BaseDatabaseWrapper, role: str, login: str, password: str
) -> None:
    """Create (or fix) the login the product's connections use: it may log in, is only a
    member of the application role, and its sessions start as that role, set by the
    server (`ALTER ROLE login SET role`), not by the product: every server connection a
    pooler such as PgBouncer opens for it acts as the role from its first statement, and
    even a `SET ROLE NONE` leaves a role that row-level security binds. The password is
    set when one is configured (`DATABASE_APP_PASSWORD`); without one the server's
    `pg_hba.conf` decides (trust, peer, a password set by hand). Idempotent.
    """
    from psycopg import sql as psql

    with connection.cursor() as cursor:
        raw = connection.connection
        name = psql.Identifier(login).as_string(raw)
        cursor.execute("SELECT current_user")
        owner = cursor.fetchone()[0]
        if login in (owner, role):
            raise ImproperlyConfigured(
                f"DATABASE_APP_LOGIN is {login!r}: name a login of its own, neither the "
                "DATABASE_URL user (the tables' owner) nor the application role."
            )
        secret = psql.SQL(" PASSWORD {}").format(psql.Literal(password)) if password else None
        cursor.execute("SELECT rolcanlogin FROM pg_roles WHERE rolname = %s", [login])
        found = cursor.fetchone()
        try:
            with transaction.atomic(using=connection.alias):
                if found is None:
                    create = f"CREATE ROLE {name} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB"
                    create += " NOCREATEROLE INHERIT"
                    if secret is not None:
                        create += secret.as_string(raw)
                    cursor.execute(create)
                elif not found[0] or secret is not None:
                    cursor.execute(
                        f"ALTER ROLE {name} LOGIN" + (secret.as_string(raw) if secret else "")
                    )
                if why := _void_rls(cursor, login):
                    raise ImproperlyConfigured(
                        f"DATABASE_APP_LOGIN {login!r} {why}: row-level security would not "
                        "bind it. Name another login."
                    )
                cursor.execute(
                    "SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid"
                    " WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = %s)"
                    " AND r.rolname <> %s ORDER BY 1",
                    [login, role],
                )
                if others := [row[0] for row in cursor.fetchall()]:
                    raise ImproperlyConfigured(
                        f"DATABASE_APP_LOGIN {login!r} is also a member of {others}: it must "
                        f"be a member of {role!r} only."
                    )
                target = psql.Identifier(role).as_string(raw)
                cursor.execute(f"GRANT {target} TO {name}")
                cursor.execute(f"ALTER ROLE {name} SET role = " + psql.Literal(role).as_string(raw))
        except DatabaseError as exc:
            raise ImproperlyConfigured(
                f"The login {login!r} (DATABASE_APP_LOGIN) could not be made a login that "
                f"acts as {role!r} by {owner!r} ({exc}). Create it once as a superuser "
                '(README, "Row-level security").'
            ) from exc
