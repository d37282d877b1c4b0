"""Entering a tenant scope: the only ways tenant-owned rows can be queried."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django_scopes import scope, scopes_disabled

from .models import Salon
from .selectors import admin_salon_ids


@contextmanager
def salon_scope(salon: Salon | int) -> Iterator[None]:
    """Scope every tenant query to one salon."""
    salon_id = salon.pk if isinstance(salon, Salon) else salon
    if not isinstance(salon_id, int):
        # django-scopes reads None as "no filter": never let that through.
        raise ValueError(f"A salon scope needs a salon id, not {salon_id!r}.")
    with scope(salon=salon_id):
        yield


@contextmanager
def admin_scope(user: AbstractBaseUser | AnonymousUser) -> Iterator[None]:
    """The Django admin's scope: superusers see all, others the salons they run."""
    if user.is_authenticated and getattr(user, "is_superuser", False):
        with scopes_disabled():
            yield
        return
    salon_ids = admin_salon_ids(user) if user.is_authenticated else []
    with scope(salon=salon_ids):
        yield
