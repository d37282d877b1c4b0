import re
import zoneinfo
from functools import cache
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar, cast

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager, ScopeError, scope
from django_scopes.manager import DisabledQuerySet
from django_scopes.state import state as scope_state
from phonenumber_field.modelfields import PhoneNumberField

from .money import CURRENCY_CHOICES

# Top-level paths the product uses itself; a salon slug may not take them, since a salon's
# public page lives at /<slug>/.
RESERVED_SLUGS = frozenset(
    {
        "admin",
        "api",
        "static",
        "media",
        "healthz",
        "manage",
        "pay",
        "desk",
        "accounts",
        "login",
        "logout",
        "i18n",
        "about",
        "help",
        "www",
    }
)


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


def validate_salon_name(value: str) -> None:
    """A name is one line of printable text: it heads e-mails (a CR or LF in a header
    makes the message impossible to build) and pages."""
    if any(ord(c) < 32 or 127 <= ord(c) < 160 or c in "\u2028\u2029" for c in value):
        raise ValidationError(
            _("A name is one line, without control characters."), code="control_characters"
        )
    if value and not value.strip():
        raise ValidationError(_("Give the salon a name."), code="blank")


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


# One site a salon lets show its booking pages in a frame: `https://salon.example`,
# `https://*.salon.example` (its subdomains), an address with a port; a bare domain is
# read as https. Nothing that could end the Content-Security-Policy's directive.
_EMBED_ORIGIN = re.compile(
    r"^https?://(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$"
)


def embed_origins(value: str) -> list[str]:
    """The sites of `Salon.embed_domains` as origins, one a line, in the order given."""
    origins = []
    for line in value.splitlines():
        line = line.strip().lower().rstrip("/")
        if line:
            origins.append(line if "://" in line else f"https://{line}")
    return list(dict.fromkeys(origins))


def validate_embed_domains(value: str) -> None:
    wrong = [origin for origin in embed_origins(value) if not _EMBED_ORIGIN.match(origin)]
    if wrong:
        raise ValidationError(
            _("Give one site a line, as https://www.example.com (not: %(wrong)s)."),
            params={"wrong": ", ".join(wrong)},
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


class CacheVersion(models.Model):
    """The version of what a cached value was computed from (a salon's deposit policy, its
    catalogue), moved on in the transaction that changes it (core/cache.py). Kept here
    rather than in the cache, where a bump can be lost (Redis hanging or restarting) and a
    change then hidden behind values cached under the old version. No tenant data: a key
    and a number, so not a tenant-owned table."""

    key = models.CharField(max_length=100, primary_key=True, verbose_name=_("key"))
    version = models.BigIntegerField(verbose_name=_("version"))

    class Meta:
        verbose_name = _("cache version")
        verbose_name_plural = _("cache versions")

    def __str__(self) -> str:
        return f"{self.key} = {self.version}"


class SalonKind(models.TextChoices):
    """What the salon's page tells search engines it is (schema.org's type)."""

    HAIR = "hair", _("Hair salon")
    BEAUTY = "beauty", _("Beauty salon")


def salon_picture_path(instance: models.Model, filename: str) -> str:
    """Where a salon's pictures (and its staff's) are stored: one folder per salon."""
    salon_id = getattr(instance, "salon_id", None) or instance.pk
    return f"salons/{salon_id}/{filename}"


class Salon(models.Model):
    """The tenant. Everything a salon owns carries a foreign key to it."""

    slug = models.SlugField(
        max_length=50, unique=True, validators=[validate_slug_not_reserved], verbose_name=_("slug")
    )
    name = models.CharField(max_length=120, verbose_name=_("name"))
    timezone = models.CharField(
        max_length=64, validators=[validate_timezone], verbose_name=_("timezone")
    )
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, verbose_name=_("currency"))
    country = models.CharField(
        max_length=2, validators=[validate_country], verbose_name=_("country")
    )
    phone = PhoneNumberField(blank=True, verbose_name=_("phone"))
    email = models.EmailField(blank=True, verbose_name=_("e-mail"))
    address = models.TextField(blank=True, verbose_name=_("address"))
    kind = models.CharField(
        _("kind"), max_length=8, choices=SalonKind.choices, default=SalonKind.HAIR
    )
    description = models.TextField(
        _("description"),
        blank=True,
        max_length=2000,
        help_text=_("A few sentences on the salon's page: what it does, its style."),
    )
    logo = models.ImageField(
        _("logo"),
        upload_to=salon_picture_path,
        blank=True,
        help_text=_("Square; shown at 256 pixels."),
    )
    cover = models.ImageField(
        _("cover photo"),
        upload_to=salon_picture_path,
        blank=True,
        help_text=_("Wide; shown up to 1600 pixels wide."),
    )
    languages = models.JSONField(
        default=default_languages, validators=[validate_languages], verbose_name=_("languages")
    )
    stripe_account = models.CharField(
        max_length=255,
        null=True,
        blank=True,
        unique=True,
        validators=[RegexValidator(r"^acct_[A-Za-z0-9]+$", _("A Stripe account id: acct_…"))],
        help_text=_("The salon's connected Stripe account; charges are made on it."),
        verbose_name=_("Stripe account"),
    )
    # The connected account's state as Stripe last told it (on return from onboarding, or
    # by its `account.updated` event): the setup checklist's "payments" step.
    stripe_charges_enabled = models.BooleanField(
        default=False, editable=False, verbose_name=_("Stripe: payments enabled")
    )
    stripe_details_submitted = models.BooleanField(
        default=False, editable=False, verbose_name=_("Stripe: details submitted")
    )
    slot_step_minutes = models.PositiveSmallIntegerField(
        default=15,
        validators=[MinValueValidator(5), MaxValueValidator(240)],
        verbose_name=_("slot step (minutes)"),
    )
    min_notice_minutes = models.PositiveIntegerField(
        default=60,
        validators=[MaxValueValidator(60 * 24 * 30)],
        verbose_name=_("minimum notice (minutes)"),
    )
    max_advance_days = models.PositiveSmallIntegerField(
        default=365,
        validators=[MinValueValidator(1), MaxValueValidator(730)],
        verbose_name=_("booking horizon (days)"),
    )
    max_gap_minutes = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(240)],
        help_text=_(
            "In a visit of several services, the longest a client may wait between two of them."
        ),
        verbose_name=_("longest wait between services (minutes)"),
    )
    reminder_offsets_hours = models.JSONField(
        default=default_reminder_offsets,
        validators=[validate_reminder_offsets],
        verbose_name=_("reminders (hours before)"),
    )
    quiet_hours = models.JSONField(
        default=default_quiet_hours,
        null=True,
        blank=True,
        validators=[validate_quiet_hours],
        help_text=_("No reminder is sent between these local times."),
        verbose_name=_("quiet hours"),
    )
    waitlist_mode = models.CharField(
        _("waitlist"),
        max_length=16,
        choices=[
            ("first_in_line", _("One client at a time, in the order they joined")),
            ("broadcast", _("Everyone who matches at once; the first to accept gets it")),
        ],
        default="first_in_line",
        help_text=_("How a freed time is offered to the clients waiting for it."),
    )
    offer_minutes = models.PositiveSmallIntegerField(
        _("time to accept an offer (minutes)"),
        default=30,
        validators=[MinValueValidator(5), MaxValueValidator(24 * 60)],
        help_text=_("How long a client has to accept a freed time before it goes to the next."),
    )
    embed_domains = models.TextField(
        _("sites showing the booking widget"),
        blank=True,
        validators=[validate_embed_domains],
        help_text=_(
            "The salon's own sites that may show its booking pages in a frame, one a line "
            "(https://www.example.com). Empty: only this site."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("salon")
        verbose_name_plural = _("salons")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def clean(self) -> None:
        # Not a field validator: that would be a migration for a rule that stores nothing.
        try:
            validate_salon_name(self.name or "")
        except ValidationError as exc:
            raise ValidationError({"name": exc.messages}) from exc


_M = TypeVar("_M", bound=models.Model)


class TenantManager(models.Manager[_M]):
    """The manager of tenant-owned models: scoped by django-scopes (see `tenant_manager`).

    Its queries run in the ambient scope, entered at the edges only (the request's salon,
    a salon task, a door that resolves a token, the Stripe webhook after its lookup): the
    manager filters for that scope, and the database backend sets the same scope for the
    row-level security (config/db/postgresql/base.py), so the two cannot disagree. There
    is no per-query scope.
    """

    if TYPE_CHECKING:  # django-scopes' own, made to raise by `tenant_manager`

        def with_scope(self, **scope: Any) -> NoReturn: ...

        def with_scopes_disabled(self) -> NoReturn: ...


_PER_QUERY = (
    "No scope per query: enter the salon's scope where the salon is known (tenants.scoping "
    "salon_scope, or django_scopes.scopes_disabled for a lookup across salons)."
)


class _OutOfScope(DisabledQuerySet):
    """What a tenant manager gives outside any scope: django-scopes' queryset that raises
    `ScopeError`, made to raise on the few methods it lets through as well (`exists()`,
    `exclude()`…), which would otherwise run and see nothing (row-level security)."""

    exists = contains = exclude = in_bulk = bulk_update = DisabledQuerySet.error
    select_related = prefetch_related = distinct = defer = extra = DisabledQuerySet.error
    alias = explain = DisabledQuerySet.error


def tenant_manager() -> TenantManager[Any]:
    scoped = type(ScopedManager(salon="salon", _manager_class=TenantManager))

    class Manager(scoped):  # type: ignore[valid-type, misc]
        def get_queryset(self) -> Any:
            queryset = super().get_queryset()
            if type(queryset) is DisabledQuerySet:
                return _OutOfScope(self.model, using=self._db, missing_scopes={"salon"})
            return queryset

        # No scope per query: it would filter rows the database, which follows the ambient
        # scope, does not show (or shows more of), and the two would disagree silently.
        def with_scope(self, **scope: Any) -> NoReturn:
            raise ScopeError(_PER_QUERY)

        def with_scopes_disabled(self) -> NoReturn:
            raise ScopeError(_PER_QUERY)

    return cast(TenantManager[Any], Manager())


class TenantModel(models.Model):
    """Base of every model a salon owns.

    Its default manager refuses to run outside a tenant scope (django-scopes): forgetting
    the scope raises `ScopeError` instead of leaking another salon's rows.
    """

    salon = models.ForeignKey(
        Salon, on_delete=models.CASCADE, related_name="+", verbose_name=_("salon")
    )

    objects: TenantManager[Any] = tenant_manager()

    class Meta:
        abstract = True

    def refresh_from_db(
        self,
        using: str | None = None,
        fields: Any = None,
        from_queryset: models.QuerySet[Any] | None = None,
    ) -> None:
        """Reload the row. Outside any scope it is read in its own salon's: Django reads it
        with the unscoped base manager, by its primary key, so it can only be the row the
        caller holds; the database's row-level security, which follows the scope, would
        otherwise hide it. Inside a scope, that scope decides, as for any query."""
        salon_id = self.__dict__.get("salon_id")  # a deferred one would be loaded first
        if scope_state.get() or not isinstance(salon_id, int):
            return super().refresh_from_db(using, fields, from_queryset)
        with scope(salon=salon_id):
            return super().refresh_from_db(using, fields, from_queryset)


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    MANAGER = "manager", _("Manager")
    STAFF = "staff", _("Staff")


ROLE_RANK = {Role.STAFF: 1, Role.MANAGER: 2, Role.OWNER: 3}

# Roles that may use the Django admin for their salon.
ADMIN_ROLES = (Role.OWNER, Role.MANAGER)

# Who changes the salon's settings (its name, its Stripe account…) and its team, in the
# API and in the admin alike; managers read them.
SETTINGS_ROLE = Role.OWNER
TEAM_ROLE = Role.OWNER


def role_at_least(role: str | None, required: str) -> bool:
    return role is not None and ROLE_RANK[Role(role)] >= ROLE_RANK[Role(required)]


class Membership(TenantModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("user"),
    )
    role = models.CharField(
        max_length=16, choices=Role.choices, default=Role.STAFF, verbose_name=_("role")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("team membership")
        verbose_name_plural = _("team memberships")
        constraints = [
            models.UniqueConstraint(fields=["salon", "user"], name="membership_one_per_user")
        ]
        ordering = ["salon_id", "user__username"]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"
