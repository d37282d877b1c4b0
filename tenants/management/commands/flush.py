"""Django's `flush`, run as the tables' owner: the application role may not empty every
salon's tables at once (tenants/rls.py)."""

from typing import Any

from django.core.management.commands import flush
from django.db import connections

from tenants.rls import as_owner


class Command(flush.Command):
    def handle(self, **options: Any) -> None:
        with as_owner(connections[options["database"]]):
            super().handle(**options)
