"""Django's PostgreSQL backend, with the tenant of the current scope set per transaction.

Row-level security (tenants/rls.py) lets a statement see the rows of the salons named by
`acompte.salon`, or all of them when `acompte.all_salons` is `on`. This backend sets both
from the django-scopes scope the statement runs in, with `set_config(..., true)`, which
lasts until the end of the transaction and never longer:

- inside a transaction (an `atomic` block), once when it begins and again whenever the
  scope changes within it (the Stripe webhook looks a payment up with scopes disabled,
  then acts in its salon's scope);
- outside one, Django runs in autocommit, where each statement is its own transaction: a
  statement run in a scope is then wrapped in `BEGIN` … `COMMIT` with the setting, the
  four sent in one pipeline, one round trip (a named cursor's, which fetches in steps,
  one after the other). A statement run outside any scope needs nothing: with nothing
  set it sees no tenant row.

Nothing is set for the session, so a connection going back to the pool carries no tenant
into the next request or task.
"""

import contextlib
from typing import Any

from django.db.backends.base.base import NO_DB_ALIAS
from django.db.backends.postgresql import base
from django_scopes.state import state as scope_state
from psycopg import Pipeline, ServerCursor
from psycopg import sql as psql
from psycopg.pq import TransactionStatus

from tenants.rls import ALL_SALONS_SETTING, SALON_SETTING, tenant_setting

NONE = ("", "off")
_UNKNOWN = ("?", "?")  # after a savepoint rollback: what the server holds is not known
_PIPELINE = Pipeline.is_supported()  # libpq 14 or later
_SET = (
    f"SELECT set_config('{SALON_SETTING}', %s, true), set_config('{ALL_SALONS_SETTING}', %s, true)"
)


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The value set in the open transaction; meaningful only while one is open.
        self.tenant_set = NONE
        self.execute_wrappers.append(self._with_tenant)

    def get_connection_params(self) -> dict[str, Any]:
        """Log in as the application's login (OPTIONS `app_login`, DATABASE_APP_LOGIN): a
        role that is only a member of the application role and whose sessions start as it
        (`ALTER ROLE ... SET role`, made by `migrate`). The role is thus the server's own
        setting for every session of that login, whichever server connection a pooler
        (PgBouncer in transaction mode) hands a transaction; nothing is set per session
        by the product, which a pooler would leave on one server connection only.

        The connection without a database creates and drops databases, and `as_owner`
        removes these options: both log in as the DATABASE_URL user, the tables' owner.
        """
        options = self.settings_dict["OPTIONS"]
        params: dict[str, Any] = super().get_connection_params()
        params.pop("app_login", None)
        params.pop("app_password", None)
        login = options.get("app_login")
        if login and self.alias != NO_DB_ALIAS:
            params["user"] = login
            params.pop("password", None)
            if password := options.get("app_password"):
                params["password"] = password
        return params

    def _configure_role(self, connection: Any) -> bool:
        # Django's own (OPTIONS["assume_role"]) sends `SET ROLE` on each new connection: a
        # session setting, which a transaction-pooling PgBouncer leaves on whichever server
        # connection it reached. With a login of its own (the settings' default), the
        # session starts as the role (above) and nothing is sent. Without one, the role is
        # set here, quoted with psycopg: Django quotes it through the wrapper's connection,
        # which a pool opening a connection in its thread does not have yet.
        options = self.settings_dict["OPTIONS"]
        if self.alias == NO_DB_ALIAS or options.get("app_login"):
            return False
        if role := options.get("assume_role"):
            connection.execute(psql.SQL("SET ROLE {}").format(psql.Identifier(role)))
            return True
        return False

    def _savepoint_rollback(self, sid: str) -> None:
        super()._savepoint_rollback(sid)  # type: ignore[misc]
        # A set_config made after the savepoint is undone with it.
        self.tenant_set = _UNKNOWN

    def _with_tenant(
        self, execute: Any, sql: str, params: Any, many: bool, context: dict[str, Any]
    ) -> Any:
        raw = self.connection
        wanted = tenant_setting(scope_state.get())
        status = raw.info.transaction_status
        if status == TransactionStatus.IDLE:
            if raw.autocommit:
                if wanted == NONE:
                    return execute(sql, params, many, context)
                return self._in_own_transaction(wanted, execute, sql, params, many, context)
            self.tenant_set = NONE  # this statement begins Django's transaction
        elif status != TransactionStatus.INTRANS:
            return execute(sql, params, many, context)  # failed transaction: it will raise
        if self.tenant_set != wanted:
            with self.wrap_database_errors, raw.cursor() as cursor:
                cursor.execute(_SET, wanted)
            self.tenant_set = wanted
        return execute(sql, params, many, context)

    def _in_own_transaction(
        self,
        wanted: tuple[str, str],
        execute: Any,
        sql: str,
        params: Any,
        many: bool,
        context: dict[str, Any],
    ) -> Any:
        raw = self.connection
        # A named (server-side) cursor declares and fetches in steps of its own.
        pipelined = _PIPELINE and not isinstance(context["cursor"].cursor, ServerCursor)
        # Every error of the server or the connection (a database restarting, say) comes
        # out as Django's, like any query's: the views answer them cleanly.
        with self.wrap_database_errors, raw.cursor() as cursor:
            try:
                # In a pipeline the four go in one round trip; the results, and the first
                # error, come back when it ends.
                with raw.pipeline() if pipelined else contextlib.nullcontext():
                    cursor.execute("BEGIN", prepare=False)
                    cursor.execute(_SET, wanted)
                    result = execute(sql, params, many, context)
                    # Deferred constraints are checked here, as they would be at the end of
                    # the statement in autocommit: their errors come out as Django's.
                    cursor.execute("COMMIT", prepare=False)
            except BaseException:
                if raw.info.transaction_status != TransactionStatus.IDLE:
                    # The connection may be gone: the first error is the one to report.
                    with contextlib.suppress(Exception):
                        cursor.execute("ROLLBACK", prepare=False)
                raise
        return result
