"""PostgreSQL row-level security: the database's backstop to the tenant scope.

Every tenant-owned table (a `TenantModel`) has row-level security enabled and forced, and
one policy, `tenant_isolation`: a row is visible, and may be written, only when its
`salon_id` is among the salons named by the transaction's `acompte.salon` setting (a
comma-separated list of ids), or when `acompte.all_salons` is `on` (code that legitimately
reads every salon: the superusers' admin, the Stripe webhook's lookup, management
commands). With neither set, a query sees no row at all.

The settings are only ever set with `set_config(..., is_local => true)`, that is per
transaction, by the PostgreSQL backend (`config/db/postgresql/base.py`) from the current
django-scopes scope, so nothing carries over to the next user of a pooled connection.

The policies only bind a role that is neither a superuser nor has BYPASSRLS; FORCE makes
them bind the tables' owner too. Serve the product as a role that does not own the tables
(`DATABASE_APP_ROLE`, README "Row-level security").

A new tenant-owned model needs its table covered, in the migration that creates it::

    from tenants.rls import enable_rls

    operations = [
        migrations.CreateModel(name="Thing", ...),
        enable_rls("myapp_thing"),
    ]

`tests/test_rls.py` fails for any tenant-owned table left without it.
"""

from collections.abc import Iterable
from typing import Any

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

SALON_SETTING = "acompte.salon"
ALL_SALONS_SETTING = "acompte.all_salons"
POLICY = "tenant_isolation"

# NULL (unset) and '' both name no salon; the ids are cast only after the split.
_VISIBLE = (
    f"(current_setting('{ALL_SALONS_SETTING}', true) = 'on'"
    f" OR salon_id = ANY (string_to_array("
    f"nullif(current_setting('{SALON_SETTING}', true), ''), ',')::bigint[]))"
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
