import re
import zoneinfo
from functools import cache
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager
from phonenumber_field.modelfields import PhoneNumberField

from .money import CURRENCY_CHOICES

# Top-level paths the product uses itself; a salon slug may not take them, since a salon's
# public page lives at /<slug>/.
RESERVED_SLUGS = frozenset(
    {"admin", "api", "static", "media", "healthz", "manage", "pay", "desk", "accounts",
     "login", "logout", "i18n", "about", "help", "www"}
)  # fmt: skip


@cache
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_timezone(value: str) -> None:
    if value not in _timezones():
        raise ValidationError(_("“%(value)s” is not a known time zone."), params={"value": value})


def validate_country(value: str) -> None:
    if value not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationError(
            _("“%(value)s” is not an ISO 3166 country code."), params={"value": value}
        )


def validate_slug_not_reserved(value: str) -> None:
    if value in RESERVED_SLUGS:
        raise ValidationError(_("“%(value)s” is reserved."), params={"value": value})


def validate_languages(value: Any) -> None:
    known = {code for code, _name in settings.LANGUAGES}
    if not isinstance(value, list) or not value or any(code not in known for code in value):
        raise ValidationError(
            _("Give a non-empty list of languages among: %(known)s."),
            params={"known": ", ".join(sorted(known))},
        )


def validate_reminder_offsets(value: Any) -> None:
    if (
        not isinstance(value, list)
        or len(value) > 5
        or any(not isinstance(h, int) or isinstance(h, bool) or not 1 <= h <= 336 for h in value)
        or len(set(value)) != len(value)
    ):
        raise ValidationError(_("Give up to 5 distinct whole numbers of hours between 1 and 336."))


_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def validate_quiet_hours(value: Any) -> None:
    if value is None:
        return
    if (
        not isinstance(value, dict)
        or set(value) != {"start", "end"}
        or not all(isinstance(v, str) and _HHMM.match(v) for v in value.values())
        or value["start"] == value["end"]
    ):
        raise ValidationError(
            _('Give null or {"start": "HH:MM", "end": "HH:MM"} with two different times.')
        )


def default_languages() -> list[str]:
    return ["fr", "en"]


def default_reminder_offsets() -> list[int]:
    return [24, 2]


def default_quiet_hours() -> dict[str, str]:
    return {"start": "21:00", "end": "08:00"}


class Salon(models.Model):
    """The tenant. Everything a salon owns carries a foreign key to it."""

    slug = models.SlugField(max_length=50, unique=True, validators=[validate_slug_not_reserved])
    name = models.CharField(max_length=120)
    timezone = models.CharField(max_length=64, validators=[validate_timezone])
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    country = models.CharField(max_length=2, validators=[validate_country])
    phone = PhoneNumberField(blank=True)
    email = models.EmailField(blank=True)
    address = models.TextField(blank=True)
    languages = models.JSONField(default=default_languages, validators=[validate_languages])
    stripe_account = models.CharField(
        max_length=255,
        null=True,
        blank=True,
        unique=True,
        validators=[RegexValidator(r"^acct_[A-Za-z0-9]+$", _("A Stripe account id: acct_…"))],
        help_text=_("The salon's connected Stripe account; charges are made on it."),
    )
    slot_step_minutes = models.PositiveSmallIntegerField(
        default=15, validators=[MinValueValidator(5), MaxValueValidator(240)]
    )
    min_notice_minutes = models.PositiveIntegerField(
        default=60, validators=[MaxValueValidator(60 * 24 * 30)]
    )
    max_advance_days = models.PositiveSmallIntegerField(
        default=365, validators=[MinValueValidator(1), MaxValueValidator(730)]
    )
    reminder_offsets_hours = models.JSONField(
        default=default_reminder_offsets, validators=[validate_reminder_offsets]
    )
    quiet_hours = models.JSONField(
        default=default_quiet_hours,
        null=True,
        blank=True,
        validators=[validate_quiet_hours],
        help_text=_("No reminder is sent between these local times."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


_M = TypeVar("_M", bound=models.Model)


class TenantManager(models.Manager[_M]):
    """The manager of tenant-owned models: scoped by django-scopes (see `tenant_manager`)."""

    if TYPE_CHECKING:  # provided by django-scopes' ScopedManager at run time

        def with_scope(self, **scope: Any) -> Self: ...

        def with_scopes_disabled(self) -> Self: ...


def tenant_manager() -> TenantManager[Any]:
    return cast(TenantManager[Any], ScopedManager(salon="salon", _manager_class=TenantManager))


class TenantModel(models.Model):
    """Base of every model a salon owns.

    Its default manager refuses to run outside a tenant scope (django-scopes): forgetting
    the scope raises `ScopeError` instead of leaking another salon's rows.
    """

    salon = models.ForeignKey(Salon, on_delete=models.CASCADE, related_name="+")

    objects: TenantManager[Any] = tenant_manager()

    class Meta:
        abstract = True


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    MANAGER = "manager", _("Manager")
    STAFF = "staff", _("Staff")


ROLE_RANK = {Role.STAFF: 1, Role.MANAGER: 2, Role.OWNER: 3}

# Roles that may use the Django admin for their salon.
ADMIN_ROLES = (Role.OWNER, Role.MANAGER)


def role_at_least(role: str | None, required: str) -> bool:
    return role is not None and ROLE_RANK[Role(role)] >= ROLE_RANK[Role(required)]


class Membership(TenantModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.STAFF)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["salon", "user"], name="membership_one_per_user")
        ]
        ordering = ["salon_id", "user__username"]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"
