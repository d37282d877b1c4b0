import zoneinfo

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import QuerySet
from django_scopes import scopes_disabled

from core.cache import cache_delete, cache_get, cache_set

from .models import ADMIN_ROLES, Membership, Role, Salon, role_at_least

SALON_CACHE_SECONDS = 60


def _salon_key(slug: str) -> str:
    return f"salon:slug:{slug}"


def salon_get(*, slug: str) -> Salon | None:
    """The salon with this slug. Every request under a salon's URL asks, so the answer is
    cached a minute (forgotten at once when the salon's settings change)."""
    salon = cache_get(_salon_key(slug))
    if isinstance(salon, Salon):
        return salon
    salon = Salon.objects.filter(slug=slug).first()
    if salon is not None:
        cache_set(_salon_key(slug), salon, SALON_CACHE_SECONDS)
    return salon


def salon_forget(salon: Salon) -> None:
    cache_delete(_salon_key(salon.slug))
    transaction.on_commit(lambda: cache_delete(_salon_key(salon.slug)))


def membership_role(*, user: AbstractBaseUser, salon: Salon) -> str | None:
    """The user's role in the salon, or None when they are not a member."""
    return (
        Membership.objects.filter(salon=salon, user_id=user.pk)
        .values_list("role", flat=True)
        .first()
    )


def admin_salon_ids(user: AbstractBaseUser) -> list[int]:
    """Salons whose Django admin the user may use (as owner or manager).

    A user's own memberships cross salons by nature, hence the disabled scope.
    """
    with scopes_disabled():
        return list(
            Membership.objects.filter(user_id=user.pk, role__in=ADMIN_ROLES).values_list(
                "salon_id", flat=True
            )
        )


def admin_zone(user: AbstractBaseUser) -> zoneinfo.ZoneInfo | None:
    """The time zone the admin shows and reads times in: that of the salons the user
    runs (all of them, for a superuser) when they share one; None (UTC) otherwise."""
    with scopes_disabled():
        salons = Salon.objects.all()
        if not getattr(user, "is_superuser", False):
            salons = salons.filter(pk__in=admin_salon_ids(user))
        zones = list(salons.values_list("timezone", flat=True).distinct()[:2])
    return zoneinfo.ZoneInfo(zones[0]) if len(zones) == 1 else None


def salon_ids_run_by(user: AbstractBaseUser, *, role: str) -> list[int]:
    """Salons where the user's role reaches `role` (e.g. those they own).

    A user's own memberships cross salons by nature, hence the disabled scope.
    """
    roles = [r for r in Role if role_at_least(r, role)]
    with scopes_disabled():
        return list(
            Membership.objects.filter(user_id=user.pk, role__in=roles).values_list(
                "salon_id", flat=True
            )
        )


def membership_list(*, salon: Salon) -> QuerySet[Membership]:
    return Membership.objects.select_related("user")


def member_salons(*, user: AbstractBaseUser) -> list[Salon]:
    """The salons the user is a member of (any role), by name: where their desk is.

    A user's own memberships cross salons by nature, hence the disabled scope.
    """
    with scopes_disabled():
        return [
            membership.salon
            for membership in Membership.objects.filter(user_id=user.pk)
            .select_related("salon")
            .order_by("salon__name", "salon_id")
        ]
