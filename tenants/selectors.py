from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from .models import ADMIN_ROLES, Membership, Salon


def salon_get(*, slug: str) -> Salon | None:
    return Salon.objects.filter(slug=slug).first()


def membership_role(*, user: AbstractBaseUser, salon: Salon) -> str | None:
    """The user's role in the salon, or None when they are not a member."""
    return (
        Membership.objects.with_scope(salon=salon.pk)
        .filter(user_id=user.pk)
        .values_list("role", flat=True)
        .first()
    )


def admin_salon_ids(user: AbstractBaseUser) -> list[int]:
    """Salons whose Django admin the user may use (as owner or manager).

    A user's own memberships cross salons by nature, hence the disabled scope.
    """
    return list(
        Membership.objects.with_scopes_disabled()
        .filter(user_id=user.pk, role__in=ADMIN_ROLES)
        .values_list("salon_id", flat=True)
    )


def membership_list(*, salon: Salon) -> QuerySet[Membership]:
    return Membership.objects.with_scope(salon=salon.pk).select_related("user")
