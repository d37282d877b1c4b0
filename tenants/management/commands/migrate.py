"""Django's `migrate`, run as the tables' owner, then granting the application role its
rights on what the migrations made and making the product's login act as it
(tenants/rls.py)."""

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import CommandError
from django.core.management.commands import migrate
from django.db import connections

from tenants.rls import app_login, app_role_provision, as_owner


class Command(migrate.Command):
    def handle(self, *args: Any, **options: Any) -> None:
        connection = connections[options["database"]]
        login = app_login(connection)
        with as_owner(connection) as role:
            super().handle(*args, **options)
            if role is not None and not (options["plan"] or options["check_unapplied"]):
                try:
                    app_role_provision(connection, role, login)
                except ImproperlyConfigured as exc:
                    raise CommandError(str(exc)) from exc
                if options["verbosity"] >= 1:
                    self.stdout.write(f"The application role {role!r} may read and write rows.")
                    if login is not None:
                        self.stdout.write(f"The login {login[0]!r} acts as {role!r}.")
