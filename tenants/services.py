from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from rest_framework.authtoken.models import Token

from .models import ADMIN_ROLES, Membership, Role, Salon
from .scoping import salon_scope
from .selectors import salon_forget


def salon_create(
    *,
    slug: str,
    name: str,
    timezone: str,
    currency: str,
    country: str,
    owner: User,
    **fields: Any,
) -> Salon:
    """Open a salon run by `owner`. Raises django's ValidationError on bad values."""
    with transaction.atomic():
        salon = Salon(
            slug=slug, name=name, timezone=timezone, currency=currency, country=country, **fields
        )
        salon.full_clean()
        salon.save()
        membership_set(salon=salon, user=owner, role=Role.OWNER)
    return salon


def salon_update(*, salon: Salon, **fields: Any) -> Salon:
    for name, value in fields.items():
        setattr(salon, name, value)
    salon.full_clean()
    salon.save(update_fields=list(fields))
    salon_forget(salon)
    return salon


def membership_set(*, salon: Salon, user: User, role: str) -> Membership:
    """Give `user` the `role` in `salon`; owners and managers may use the admin."""
    with transaction.atomic(), salon_scope(salon):
        membership, _created = Membership.objects.update_or_create(
            salon=salon, user=user, defaults={"role": role}
        )
        if role in ADMIN_ROLES and not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
    return membership


def auth_token_get(*, user: User) -> str:
    token, _created = Token.objects.get_or_create(user=user)
    return token.key
