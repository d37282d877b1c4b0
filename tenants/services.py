from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from rest_framework.authtoken.models import Token

from core.images import COVER, LOGO, picture_prepared

from .models import ADMIN_ROLES, SETTINGS_ROLE, TEAM_ROLE, Membership, Role, Salon, role_at_least
from .scoping import salon_scope
from .selectors import membership_role, salon_forget


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


# Who asks for a change: a signed-in person (an anonymous one may do nothing).
Actor = AbstractBaseUser | AnonymousUser


def _role_of(actor: Actor, salon: Salon) -> str | None:
    if isinstance(actor, AnonymousUser):
        return None
    return membership_role(user=actor, salon=salon)


def salon_settings_check(*, salon: Salon, actor: Actor) -> None:
    """PermissionDenied unless `actor` may change the salon's settings: its owners (and
    the platform's superusers); managers read them."""
    if getattr(actor, "is_superuser", False):
        return
    if not role_at_least(_role_of(actor, salon), SETTINGS_ROLE):
        raise PermissionDenied("Only the salon's owners change its settings.")


def salon_update(*, salon: Salon, actor: Actor | None = None, **fields: Any) -> Salon:
    """Change the salon's settings; `actor`, when given, must be one of its owners."""
    if actor is not None:
        salon_settings_check(salon=salon, actor=actor)
    for name, fit in (("logo", LOGO), ("cover", COVER)):
        if name in fields:  # a new picture is resized before it is stored
            fields[name] = picture_prepared(fields[name], fit=fit, name=name)
    for name, value in fields.items():
        setattr(salon, name, value)
    salon.full_clean()
    salon.save(update_fields=list(fields))
    salon_forget(salon)
    return salon


def team_manage_check(*, salon: Salon, actor: Actor) -> None:
    """PermissionDenied unless `actor` may change the salon's team: its owners (and the
    platform's superusers). A manager who could would make himself owner."""
    if getattr(actor, "is_superuser", False):
        return
    if not role_at_least(_role_of(actor, salon), TEAM_ROLE):
        raise PermissionDenied("Only the salon's owners change its team.")


def membership_check(*, salon: Salon, user_id: int, role: str | None) -> None:
    """ValidationError when giving `user_id` this `role` in the salon (None: removing them)
    would leave it without an owner. Under `membership_set`/`membership_remove`, the
    owners' rows are locked first, so two owners leaving at once cannot both succeed."""
    if role == Role.OWNER:
        return
    owners = list(
        Membership.objects.filter(role=Role.OWNER)
        .select_for_update()
        .values_list("user_id", flat=True)
    )
    if owners == [user_id]:
        raise ValidationError(
            {"role": _("The salon keeps at least one owner: make someone else owner first.")}
        )


def membership_set(
    *, salon: Salon, user: User, role: str, actor: Actor | None = None
) -> Membership:
    """Give `user` the `role` in `salon`; owners and managers may use the admin.

    `actor` is the person asking (the admin, the API); without one, the platform itself
    (createsalon, seed_demo). PermissionDenied when the actor may not change the team;
    ValidationError when the salon would be left without an owner.
    """
    with transaction.atomic(), salon_scope(salon):
        if actor is not None:
            team_manage_check(salon=salon, actor=actor)
        membership_check(salon=salon, user_id=user.pk, role=role)
        membership, _created = Membership.objects.update_or_create(
            salon=salon, user=user, defaults={"role": role}
        )
        if role in ADMIN_ROLES and not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
    return membership


def membership_remove(*, membership: Membership, actor: Actor | None = None) -> None:
    """Take a person off the salon's team; the same rules as `membership_set`."""
    salon = Salon.objects.get(pk=membership.salon_id)
    with transaction.atomic(), salon_scope(salon):
        if actor is not None:
            team_manage_check(salon=salon, actor=actor)
        membership_check(salon=salon, user_id=membership.user_id, role=None)
        Membership.objects.filter(pk=membership.pk).delete()


def auth_token_get(*, user: User) -> str:
    token, _created = Token.objects.get_or_create(user=user)
    return token.key
