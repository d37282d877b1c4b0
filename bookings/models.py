import datetime as dt
import secrets
from typing import Any

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import RangeBoundary, RangeOperators
from django.core.exceptions import ValidationError
from django.core.validators import EMPTY_VALUES, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Func, Q
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from customers.models import Customer
from tenants.models import Salon, TenantModel, salon_picture_path

from .rules import Rule


class TsTzRange(Func):
    function = "TSTZRANGE"
    output_field = models.DateTimeField()


class EpochSeconds(Func):
    """A timestamp as whole epoch seconds, in an expression the database accepts for a
    stored generated column (immutable: a difference of timestamps, not EXTRACT of one,
    which PostgreSQL marks stable for the fields that depend on the time zone)."""

    output_field = models.BigIntegerField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = (
            "(date_part('epoch', %(expressions)s - '1970-01-01 00:00:00+00'::timestamptz))::bigint"
        )
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = "CAST(ROUND((julianday(%(expressions)s) - 2440587.5) * 86400) AS INTEGER)"
        return self.as_sql(compiler, connection, template=template, **extra)


class PostgresOnlyExclusionConstraint(ExclusionConstraint):
    """An exclusion constraint on PostgreSQL; nothing on the embedded SQLite default, where
    the booking service checks overlaps inside a write transaction (DESIGN.md, invariant 2).
    """

    def constraint_sql(self, model: Any, schema_editor: Any) -> str | None:  # type: ignore[override]
        if schema_editor.connection.vendor != "postgresql":
            return None
        return str(super().constraint_sql(model, schema_editor))

    def create_sql(self, model: Any, schema_editor: Any) -> Any:
        if schema_editor.connection.vendor != "postgresql":
            return None
        return super().create_sql(model, schema_editor)

    def remove_sql(self, model: Any, schema_editor: Any) -> Any:
        if schema_editor.connection.vendor != "postgresql":
            return None
        return super().remove_sql(model, schema_editor)

    def validate(self, *args: Any, **kwargs: Any) -> None:
        return  # enforced by the database and the booking service, not by model forms


def validate_deposit_override(data: object) -> None:
    """A service's deposit override is an amount rule (API.md): `Rule.parse` decides."""
    try:
        Rule.parse(data)
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            raise ValidationError([e for found in exc.error_dict.values() for e in found]) from exc
        raise


class ResourceKind(TenantModel):
    """What a service may need besides a staff member: a room, a chair, a basin, a machine."""

    name = models.CharField(max_length=120, verbose_name=_("name"))

    class Meta:
        verbose_name = _("resource kind")
        verbose_name_plural = _("resource kinds")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["salon", "name"], name="resourcekind_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class Resource(TenantModel):
    """Units of a kind the salon has: three basins are one resource of quantity 3."""

    name = models.CharField(max_length=120, verbose_name=_("name"))
    kind = models.ForeignKey(
        ResourceKind, on_delete=models.PROTECT, related_name="resources", verbose_name=_("kind")
    )
    quantity = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
        verbose_name=_("quantity"),
    )
    active = models.BooleanField(default=True, verbose_name=_("active"))

    class Meta:
        verbose_name = _("resource")
        verbose_name_plural = _("resources")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class ServiceCategory(TenantModel):
    """A heading of the salon's page under which its services are listed (cuts, colours,
    care), in the salon's order."""

    name = models.CharField(_("name"), max_length=80)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "name", "id"]
        verbose_name = _("service category")
        verbose_name_plural = _("service categories")
        constraints = [
            models.UniqueConstraint(fields=["salon", "name"], name="servicecategory_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class Service(TenantModel):
    name = models.CharField(max_length=120, verbose_name=_("name"))
    description = models.TextField(blank=True, verbose_name=_("description"))
    category = models.ForeignKey(
        ServiceCategory,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("category"),
    )
    duration_minutes = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(5), MaxValueValidator(720)],
        verbose_name=_("duration (minutes)"),
    )
    price = models.PositiveIntegerField(
        help_text=_("In cents of the salon's currency."), verbose_name=_("price")
    )
    buffer_before_minutes = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(240)], verbose_name=_("buffer before (minutes)")
    )
    buffer_after_minutes = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(240)], verbose_name=_("buffer after (minutes)")
    )
    # A period inside the service (a colour setting) when the staff member is free for
    # other clients; the client keeps the chair.
    processing_offset_minutes = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(720)],
        verbose_name=_("processing starts after (minutes)"),
    )
    processing_minutes = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(720)], verbose_name=_("processing time (minutes)")
    )
    resource_kind = models.ForeignKey(
        ResourceKind,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("One unit of this kind is kept for the whole service."),
        verbose_name=_("resource kind"),
    )
    addons = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="+",
        help_text=_("Services suggested to a client who picks this one."),
        verbose_name=_("add-ons"),
    )
    rebook_after_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(730)],
        help_text=_(
            "When a client usually comes back for it, in days: e.g. 42 for six weeks after "
            "a cut. A client who agreed to offers and has not booked since is sent one "
            "message then, with a link to book it again with the same staff member."
        ),
        verbose_name=_("rebook after (days)"),
    )
    active = models.BooleanField(default=True, verbose_name=_("active"))
    # An amount rule ({"kind": ..., "value": ...}) that beats the salon's deposit policy.
    deposit_override = models.JSONField(
        null=True,
        blank=True,
        validators=[validate_deposit_override],
        verbose_name=_("deposit override"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    processing_offset_minutes__lte=models.F("duration_minutes")
                    - models.F("processing_minutes")
                ),
                name="service_processing_inside",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def has_processing(self) -> bool:
        return self.processing_minutes > 0

    def clean(self) -> None:
        if (
            self.processing_minutes
            and self.duration_minutes is not None
            and self.processing_offset_minutes + self.processing_minutes > self.duration_minutes
        ):
            raise ValidationError(
                {
                    "processing_minutes": [
                        _("The processing time lies inside the service: it ends by its end.")
                    ]
                }
            )
        # What the field's validator never sees: Django skips validators for its "empty"
        # values, and `{}`, `[]` or `""` are empty to it, malformed rules all the same.
        if self.deposit_override is not None and self.deposit_override in EMPTY_VALUES:
            self._check_override()

    def _check_override(self) -> None:
        if self.deposit_override is not None:
            try:
                validate_deposit_override(self.deposit_override)
            except ValidationError as exc:
                raise ValidationError({"deposit_override": exc.error_list}) from exc

    def save(self, *args: Any, **kwargs: Any) -> None:
        """No door stores a malformed override: the services and the admin check it with
        the other fields (full_clean); a save that skipped them is refused here."""
        update_fields = kwargs.get("update_fields")
        if update_fields is None or "deposit_override" in update_fields:
            self._check_override()
        super().save(*args, **kwargs)


class StaffMember(TenantModel):
    name = models.CharField(max_length=120, verbose_name=_("name"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("user"),
    )
    services = models.ManyToManyField(
        Service, through="StaffService", related_name="+", blank=True, verbose_name=_("services")
    )
    active = models.BooleanField(default=True, verbose_name=_("active"))
    photo = models.ImageField(
        _("photo"),
        upload_to=salon_picture_path,
        blank=True,
        help_text=_("Shown at 400 pixels, cropped square."),
    )
    bio = models.CharField(
        _("short bio"),
        max_length=300,
        blank=True,
        help_text=_("One or two sentences on the salon's page."),
    )

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff members")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class StaffService(TenantModel):
    staff = models.ForeignKey(StaffMember, on_delete=models.CASCADE, verbose_name=_("staff member"))
    service = models.ForeignKey(Service, on_delete=models.CASCADE, verbose_name=_("service"))

    class Meta:
        verbose_name = _("service offered")
        verbose_name_plural = _("services offered")
        constraints = [
            models.UniqueConstraint(fields=["staff", "service"], name="staffservice_unique")
        ]


class WorkingHours(TenantModel):
    """One working range of a staff member on a weekday (several a day allowed)."""

    staff = models.ForeignKey(
        StaffMember, on_delete=models.CASCADE, related_name="hours", verbose_name=_("staff member")
    )
    weekday = models.PositiveSmallIntegerField(
        validators=[MaxValueValidator(6)],
        help_text=_("Monday 0 … Sunday 6"),
        verbose_name=_("weekday"),
    )
    start = models.TimeField(verbose_name=_("start"))
    end = models.TimeField(verbose_name=_("end"))

    class Meta:
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")
        ordering = ["staff_id", "weekday", "start"]
        constraints = [
            models.CheckConstraint(condition=Q(start__lt=models.F("end")), name="hours_ordered"),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="hours_weekday"),
        ]

    def __str__(self) -> str:
        return f"{self.weekday} {self.start:%H:%M}-{self.end:%H:%M}"


class TimeOff(TenantModel):
    """A staff member away, or (no staff) the whole salon closed."""

    staff = models.ForeignKey(
        StaffMember,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="time_off",
        verbose_name=_("staff member"),
    )
    start = models.DateTimeField(verbose_name=_("start"))
    end = models.DateTimeField(verbose_name=_("end"))
    reason = models.CharField(max_length=200, blank=True, verbose_name=_("reason"))

    class Meta:
        verbose_name = _("time off")
        verbose_name_plural = pgettext_lazy("plural", "time off")
        ordering = ["start", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(start__lt=models.F("end")), name="timeoff_ordered")
        ]

    def __str__(self) -> str:
        return f"{self.staff or _('Salon')} {localtime(self.start):%Y-%m-%d}"


class Status(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", _("Awaiting payment")
    CONFIRMED = "confirmed", _("Confirmed")
    COMPLETED = "completed", _("Completed")
    NO_SHOW = "no_show", _("No-show")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")


# Bookings that hold their staff member's time (DESIGN.md, invariant 2).
ACTIVE_STATUSES = (Status.PENDING_PAYMENT, Status.CONFIRMED)


class Source(models.TextChoices):
    """The door a booking came through: the salon's booking page reached directly (web),
    through the widget on the salon's own site, from Google's, Instagram's or Facebook's
    link, through the public API, or taken by staff (phone, desk). Every door applies the
    same deposit policy; the source only says where clients come from."""

    WEB = "web", _("Booking page")
    WIDGET = "widget", _("Widget on the salon's site")
    GOOGLE = "google", _("Google")
    INSTAGRAM = "instagram", _("Instagram")
    FACEBOOK = "facebook", _("Facebook")
    API = "api", _("API")
    PHONE = "phone", _("Phone or desk")
    WAITLIST = "waitlist", _("Waitlist offer")


# What the booking page accepts from `?source=` (the other sources are the doors' own).
PAGE_SOURCES = frozenset(
    {Source.WEB, Source.WIDGET, Source.GOOGLE, Source.INSTAGRAM, Source.FACEBOOK}
)


def page_source(value: object) -> str:
    """The booking page's `source` as recorded: one of PAGE_SOURCES, else web."""
    return str(value) if value in PAGE_SOURCES else Source.WEB


REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I


def new_reference() -> str:
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))
    return f"{chars[:4]}-{chars[4:]}"


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


class Booking(TenantModel):
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="bookings", verbose_name=_("client")
    )
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, related_name="+", verbose_name=_("service")
    )
    # No index of its own: booking_staff_start, below, leads with it.
    staff = models.ForeignKey(
        StaffMember,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        verbose_name=_("staff member"),
    )
    start = models.DateTimeField(verbose_name=_("start"))
    end = models.DateTimeField(verbose_name=_("end"))
    # The time the booking keeps the staff member busy: [start - buffer, end + buffer).
    busy_start = models.DateTimeField(editable=False, verbose_name=_("busy from"))
    busy_end = models.DateTimeField(editable=False, verbose_name=_("busy until"))
    price = models.PositiveIntegerField(
        help_text=_("Price when booked, in cents."), verbose_name=_("price")
    )
    currency = models.CharField(max_length=3, verbose_name=_("currency"))
    source = models.CharField(
        max_length=16, choices=Source.choices, default=Source.WEB, verbose_name=_("source")
    )
    status = models.CharField(max_length=16, choices=Status.choices, verbose_name=_("status"))
    hold_expires_at = models.DateTimeField(null=True, blank=True, verbose_name=_("hold expires at"))
    reference = models.CharField(
        max_length=7, default=new_reference, editable=False, verbose_name=_("reference")
    )
    # Part of the signed manage token; a new nonce revokes the links sent before.
    manage_nonce = models.CharField(
        max_length=32, default=new_nonce, editable=False, verbose_name=_("manage link nonce")
    )
    notes = models.TextField(
        blank=True, help_text=_("What the client said when booking."), verbose_name=_("notes")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    confirmed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("confirmed at"))
    cancelled_at = models.DateTimeField(null=True, blank=True, verbose_name=_("cancelled at"))
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("cancelled by"),
    )
    cancellation_reason = models.CharField(
        max_length=300, blank=True, verbose_name=_("cancellation reason")
    )
    cancelled_by_salon = models.BooleanField(
        default=False, verbose_name=_("cancelled by the salon")
    )
    # The client checked in at the desk: a confirmed booking stays confirmed (it still
    # holds its time, and every rule on active bookings holds unchanged); the stamp says
    # the client is here, and a client who came is never marked a no-show.
    arrived_at = models.DateTimeField(null=True, blank=True, verbose_name=_("arrived at"))
    # The client said she will come (a text reply to a reminder or a confirmation).
    confirmed_by_client_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("confirmed by the client at")
    )
    completed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("completed at"))
    no_show_at = models.DateTimeField(null=True, blank=True, verbose_name=_("no-show at"))
    expired_at = models.DateTimeField(null=True, blank=True, verbose_name=_("expired at"))
    # The free-cancellation deadline the booking keeps: set when it moves after its own
    # deadline passed, so that a move never reopens the window (DESIGN.md). Empty: the
    # deadline is measured from the start.
    cancellation_deadline = models.DateTimeField(
        null=True, blank=True, verbose_name=_("cancellation deadline")
    )
    # Booked through the link of a come-back message (the rebooking interval of a
    # service): the earlier visit that message was about, for the owner's figures.
    comeback_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        verbose_name=_("booked from the come-back message of"),
    )

    class Meta:
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        ordering = ["start", "id"]
        indexes = [
            models.Index(fields=["salon", "start"], name="booking_salon_start"),
            # A staff member's bookings over a time (how many active ones each has on a
            # day, to share out "anyone" bookings), from the index alone; the salon last,
            # for row-level security. Asked for by staff, not by salon: with stale
            # statistics the planner takes any index leading with the salon and reads all
            # its bookings. The staff member's only index, so that none of the staff alone
            # tempts the planner into reading every booking of theirs.
            models.Index(fields=["staff", "start", "status", "salon"], name="booking_staff_start"),
            models.Index(fields=["status", "hold_expires_at"], name="booking_holds"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["salon", "reference"], name="booking_unique_reference"),
            models.CheckConstraint(condition=Q(start__lt=models.F("end")), name="booking_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.service} {localtime(self.start):%Y-%m-%d %H:%M}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    def local_start(self) -> dt.datetime:
        return self.start.astimezone(self.salon.tz)


class BookingItem(TenantModel):
    """One service of a visit, for the client or one of her guests, with its staff member.

    A booking of one service has one item; `Booking.service` and `Booking.staff` are its
    first item's, and its start and end span the items."""

    booking = models.ForeignKey(
        Booking, on_delete=models.CASCADE, related_name="items", verbose_name=_("booking")
    )
    position = models.PositiveSmallIntegerField(verbose_name=_("position"))
    # 0 for the client who booked, 1, 2… for her guests, in the order given.
    person = models.PositiveSmallIntegerField(default=0, verbose_name=_("person"))
    guest = models.CharField(
        max_length=120,
        blank=True,
        help_text=_("Empty for the client who booked."),
        verbose_name=_("guest"),
    )
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, related_name="+", verbose_name=_("service")
    )
    staff = models.ForeignKey(
        StaffMember, on_delete=models.PROTECT, related_name="+", verbose_name=_("staff member")
    )
    start = models.DateTimeField(verbose_name=_("start"))
    end = models.DateTimeField(verbose_name=_("end"))
    resource = models.ForeignKey(
        Resource,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("resource"),
    )
    resource_unit = models.PositiveSmallIntegerField(
        null=True, blank=True, verbose_name=_("resource unit")
    )
    price = models.PositiveIntegerField(
        help_text=_("Price when booked, in cents."), verbose_name=_("price")
    )
    deposit_amount = models.PositiveIntegerField(
        default=0,
        help_text=_("This item's part of the visit's deposit, in cents."),
        verbose_name=_("deposit"),
    )

    class Meta:
        verbose_name = _("service of the visit")
        verbose_name_plural = _("services of the visit")
        ordering = ["booking_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["booking", "position"], name="bookingitem_position"),
            models.CheckConstraint(
                condition=Q(start__lt=models.F("end")), name="bookingitem_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service} {localtime(self.start):%Y-%m-%d %H:%M}"


class BusyTime(TenantModel):
    """A stretch of time a booking keeps a staff member (buffers in, processing time out)
    or one unit of a resource: what the database keeps from overlapping.

    `active` and `held_until` follow the booking's status and hold, by a trigger on the
    booking (migration bookings 0005): every change of status, whichever path makes it,
    frees or takes the time in the same statement."""

    # None of the keys has an index of its own (those below lead with them): the planner,
    # its statistics not having seen a salon's rows yet, would read all the salon's (or
    # a staff member's) busy time, history included, from an index of that key alone.
    salon = models.ForeignKey(
        Salon, on_delete=models.CASCADE, related_name="+", db_index=False, verbose_name=_("salon")
    )
    booking = models.ForeignKey(
        Booking,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        verbose_name=_("booking"),
    )
    staff = models.ForeignKey(
        StaffMember,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        verbose_name=_("staff member"),
    )
    resource = models.ForeignKey(
        Resource,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        verbose_name=_("resource"),
    )
    unit = models.PositiveSmallIntegerField(null=True, blank=True, verbose_name=_("unit"))
    start = models.DateTimeField(verbose_name=_("start"))
    end = models.DateTimeField(verbose_name=_("end"))
    active = models.BooleanField(verbose_name=_("active"))
    held_until = models.DateTimeField(null=True, blank=True, verbose_name=_("held until"))
    # start and end as epoch seconds, kept by the database: availability reads tens of
    # thousands of them for a big salon's month, from the index alone, with no
    # conversion per row.
    start_epoch = models.GeneratedField(
        expression=EpochSeconds("start"), output_field=models.BigIntegerField(), db_persist=True
    )
    end_epoch = models.GeneratedField(
        expression=EpochSeconds("end"), output_field=models.BigIntegerField(), db_persist=True
    )

    class Meta:
        verbose_name = _("busy time")
        verbose_name_plural = _("busy times")
        ordering = ["start", "id"]
        indexes = [
            # Availability reads the active busy time of some staff members (and, apart,
            # of some resource units) over a window bounded on both ends, since no stretch
            # is longer than a day: one range of the index per staff member or unit, with
            # all it needs in the index (the salon last, for the scope and row-level
            # security). The salon's past, inactive, is in neither, and its active past
            # lies outside the ranges read. Times as epoch seconds: what the engine takes.
            models.Index(
                fields=["staff", "start_epoch", "end_epoch", "held_until", "salon"],
                name="busytime_staff_active",
                condition=Q(active=True, staff__isnull=False),
            ),
            models.Index(
                fields=["resource", "unit", "start_epoch", "end_epoch", "held_until", "salon"],
                name="busytime_unit_active",
                condition=Q(active=True, resource__isnull=False),
            ),
            models.Index(fields=["booking"], name="busytime_booking"),
            # A staff member's (or a resource's) busy time of any status, over a time: and
            # whether any is left when one is deleted (PROTECT).
            models.Index(fields=["staff", "start"], name="busytime_staff"),
            models.Index(
                fields=["resource"], name="busytime_resource", condition=Q(resource__isnull=False)
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(start__lt=models.F("end")), name="busytime_ordered"),
            # What lets availability bound a window's busy time by its start (LONGEST_BUSY
            # in bookings/selectors.py): a service is at most 12 hours, each buffer 4.
            models.CheckConstraint(
                condition=Q(end__lte=models.F("start") + dt.timedelta(days=1)),
                name="busytime_within_a_day",
            ),
            models.CheckConstraint(
                condition=(
                    Q(staff__isnull=False, resource__isnull=True, unit__isnull=True)
                    | Q(staff__isnull=True, resource__isnull=False, unit__isnull=False)
                ),
                name="busytime_staff_or_unit",
            ),
            PostgresOnlyExclusionConstraint(
                name="busytime_staff_overlap",
                expressions=[
                    (TsTzRange("start", "end", RangeBoundary()), RangeOperators.OVERLAPS),
                    ("staff", RangeOperators.EQUAL),
                ],
                condition=Q(active=True, staff__isnull=False),
            ),
            PostgresOnlyExclusionConstraint(
                name="busytime_unit_overlap",
                expressions=[
                    (TsTzRange("start", "end", RangeBoundary()), RangeOperators.OVERLAPS),
                    ("resource", RangeOperators.EQUAL),
                    ("unit", RangeOperators.EQUAL),
                ],
                condition=Q(active=True, resource__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{localtime(self.start):%Y-%m-%d %H:%M}-{localtime(self.end):%H:%M}"


class BookingEvent(TenantModel):
    """Who did what to a booking, when: the audit trail."""

    booking = models.ForeignKey(
        Booking, on_delete=models.CASCADE, related_name="events", verbose_name=_("booking")
    )
    kind = models.CharField(max_length=32, verbose_name=_("kind"))
    at = models.DateTimeField(auto_now_add=True, verbose_name=_("at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("actor"),
    )
    by = models.CharField(
        max_length=8, help_text=_("client, staff or system"), verbose_name=_("by")
    )
    data = models.JSONField(default=dict, blank=True, verbose_name=_("details"))

    class Meta:
        verbose_name = _("booking event")
        verbose_name_plural = _("booking events")
        ordering = ["at", "id"]
        # The message planner reads a salon's recent events (messaging.outbox).
        indexes = [models.Index(fields=["salon", "at"], name="bookingevent_recent")]

    def __str__(self) -> str:
        return f"{self.kind} by {self.by}"


class CalendarFeed(TenantModel):
    """A private calendar subscription (an `.ics` address) of a staff member's appointments,
    or, without a staff member, of the whole salon's (the owner's). The address carries a
    secret of which only a digest is kept; revoking the feed makes that address unknown,
    and a new one may then be issued."""

    staff = models.ForeignKey(
        StaffMember,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("staff member"),
    )
    digest = models.CharField(max_length=64, unique=True, editable=False, verbose_name=_("digest"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    revoked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("revoked at"))
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("revoked by"),
    )

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")
        constraints = [
            # One live address per staff member, and one for the salon.
            models.UniqueConstraint(
                fields=["salon", "staff"],
                condition=Q(revoked_at=None, staff__isnull=False),
                name="calendarfeed_one_per_staff",
            ),
            models.UniqueConstraint(
                fields=["salon"],
                condition=Q(revoked_at=None, staff=None),
                name="calendarfeed_one_per_salon",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.staff or _('Salon')} ({'revoked' if self.revoked_at else 'live'})"
