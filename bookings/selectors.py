import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import Func, IntegerField, Q, QuerySet
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django_scopes import ScopeError, get_scope

from core.cache import (
    cache_get,
    cache_get_versioned,
    cache_set,
    cache_set_versioned,
    version_bump,
    version_get,
)
from tenants.models import Salon
from tenants.versions import durable_version_bump, durable_version_get

from .availability import ServiceShape, Slot, StaffWeek, WeeklyRange, availability
from .models import (
    ACTIVE_STATUSES,
    Booking,
    Service,
    StaffMember,
    StaffService,
    Status,
    TimeOff,
    WorkingHours,
)
from .tokens import link_expires_at, manage_token_read


class Epoch(Func):
    """A timestamp as whole epoch seconds, computed by the database: reading thousands of
    bookings as integers is several times cheaper than as datetimes."""

    output_field = IntegerField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler, connection, template="EXTRACT(EPOCH FROM %(expressions)s)::bigint", **extra
        )

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="CAST(ROUND((julianday(%(expressions)s) - 2440587.5) * 86400) AS INTEGER)",
            **extra,
        )


def _rows(queryset: QuerySet[Any]) -> list[tuple[Any, ...]]:
    """The rows of a (scoped) values_list query as the driver gives them: plain integers
    need none of the ORM's per-value converters, which cost more than the query here.

    Run in the ambient scope, like any query (the backend sets it for row-level security);
    outside any it raises, as the ORM does, rather than read nothing."""
    current = get_scope()
    if current.get("_enabled", True) and "salon" not in current:
        raise ScopeError("A scope on dimension(s) salon needs to be active for this query.")
    sql, params = queryset.query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _availability_version_key(salon_id: int) -> str:
    return f"availability:version:{salon_id}"


def availability_changed(salon_id: int) -> None:
    """Anything that changes a salon's availability calls this: what was cached goes."""
    version_bump(_availability_version_key(salon_id))


def _catalogue_version_key(salon_id: int) -> str:
    return f"catalogue:version:{salon_id}"


def catalogue_changed(salon_id: int) -> None:
    """Services, staff or their hours changed: the catalogue and availability go."""
    version_bump(_catalogue_version_key(salon_id))
    durable_version_bump(_catalogue_version_key(salon_id))
    availability_changed(salon_id)


AVAILABILITY_CACHE_SECONDS = 60
CATALOGUE_CACHE_SECONDS = 600


def availability_cached(
    *,
    salon: Salon,
    service_id: int,
    first: dt.date,
    last: dt.date,
    staff_id: int | None,
    compute: Callable[[], Any],
) -> Any:
    """What `compute` answers for this availability query, cached by salon version and
    by the minute: every change to the salon's bookings, hours, time off, catalogue or
    settings is seen at once; the passing of time (notice, lapsed holds) within a minute.
    Booking always checks against the database, never against this cache."""
    now = timezone.now()
    key = ":".join(
        str(part)
        for part in (
            "availability",
            salon.pk,
            version_get(_availability_version_key(salon.pk)),
            service_id,
            staff_id,
            first,
            last,
            now.strftime("%Y%m%d%H%M"),
            salon.timezone,
            salon.slot_step_minutes,
            salon.min_notice_minutes,
            salon.max_advance_days,
        )
    )
    answer = cache_get(key)
    if answer is None:
        answer = compute()
        cache_set(key, answer, AVAILABILITY_CACHE_SECONDS)
    return answer


@dataclass(frozen=True)
class Catalogue:
    """What a salon offers, by whom and when: read by every availability query and every
    booking, changed rarely, so cached under the salon's availability version."""

    services: dict[int, Service]
    staff: dict[int, StaffMember]
    offers: dict[int, frozenset[int]]  # service id -> ids of active staff who offer it
    hours: dict[int, tuple[WeeklyRange, ...]]  # staff id -> weekly working ranges

    def offering(self, service_id: int) -> frozenset[int]:
        return self.offers.get(service_id, frozenset())

    def active_service(self, service_id: int) -> Service | None:
        service = self.services.get(service_id)
        return service if service is not None and service.active else None

    def active_staff_for(self, staff_id: int, service_id: int) -> StaffMember | None:
        return self.staff.get(staff_id) if staff_id in self.offering(service_id) else None


def catalogue_get(*, salon: Salon) -> Catalogue:
    """Three queries when not cached: services, who offers what, hours."""
    # Its version in the database moves with every change, whatever Redis missed.
    name = _catalogue_version_key(salon.pk)
    key = f"catalogue:{salon.pk}:{durable_version_get(name)}:{version_get(name)}"
    catalogue = cache_get_versioned(key)
    if isinstance(catalogue, Catalogue):
        return catalogue
    services = {s.pk: s for s in Service.objects.all()}
    staff: dict[int, StaffMember] = {}
    offers: defaultdict[int, set[int]] = defaultdict(set)
    for link in StaffService.objects.select_related("staff"):
        if link.staff.active:  # staff who offer nothing cannot be booked: not needed here
            staff[link.staff_id] = link.staff
            offers[link.service_id].add(link.staff_id)
    hours: defaultdict[int, list[WeeklyRange]] = defaultdict(list)
    for staff_id, weekday, start, end in WorkingHours.objects.order_by(
        "staff_id", "weekday", "start"
    ).values_list("staff_id", "weekday", "start", "end"):
        hours[staff_id].append(WeeklyRange(weekday, start, end))
    catalogue = Catalogue(
        services,
        staff,
        {k: frozenset(v) for k, v in offers.items()},
        {k: tuple(v) for k, v in hours.items()},
    )
    cache_set_versioned(key, catalogue, CATALOGUE_CACHE_SECONDS)
    return catalogue


def busy_bookings(*, salon: Salon, now: dt.datetime) -> QuerySet[Booking]:
    """Bookings that keep their staff busy: confirmed, or held with a hold still running."""
    return Booking.objects.filter(
        Q(status=Status.CONFIRMED) | Q(status=Status.PENDING_PAYMENT, hold_expires_at__gt=now)
    )


def availability_for(
    *,
    salon: Salon,
    service: Service,
    first: dt.date,
    last: dt.date,
    staff_id: int | None = None,
    now: dt.datetime | None = None,
    ignore_booking: int | None = None,
    with_bookings: bool = True,
) -> list[Slot]:
    """Slots for the service over the salon-local dates first..last.

    `with_bookings=False` leaves other bookings out: for checking a booking for a chosen
    staff member on PostgreSQL, whose exclusion constraint settles overlaps anyway.

    One query whatever the number of staff or days (time off and busy bookings), plus
    the salon's catalogue (cached; three queries when it is not).
    """
    now = now or timezone.now()
    tz = salon.tz
    window_start = dt.datetime.combine(first - dt.timedelta(days=1), dt.time(), tzinfo=tz)
    window_end = dt.datetime.combine(last + dt.timedelta(days=2), dt.time(), tzinfo=tz)

    catalogue = catalogue_get(salon=salon)
    ranges = {
        staff: catalogue.hours[staff]
        for staff in catalogue.offering(service.pk)
        if (staff_id is None or staff == staff_id) and catalogue.hours.get(staff)
    }
    if not ranges:
        return []

    busy: defaultdict[int | None, list[tuple[int, int]]] = defaultdict(list)
    time_off = TimeOff.objects.filter(
        Q(staff_id__in=list(ranges)) | Q(staff__isnull=True),
        start__lt=window_end,
        end__gt=window_start,
    )
    bookings = busy_bookings(salon=salon, now=now).filter(
        staff_id__in=list(ranges), busy_start__lt=window_end, busy_end__gt=window_start
    )
    if ignore_booking is not None:
        bookings = bookings.exclude(pk=ignore_booking)
    # Time off and bookings keep staff busy alike: one round trip for both.
    busy_rows = time_off.order_by().values_list("staff_id", Epoch("start"), Epoch("end"))
    if with_bookings:
        busy_rows = busy_rows.union(
            bookings.order_by().values_list("staff_id", Epoch("busy_start"), Epoch("busy_end")),
            all=True,
        )
    for staff, start, end in _rows(busy_rows):
        busy[staff].append((start, end))

    weeks = [StaffWeek(staff, ranges[staff], busy[staff] + busy[None]) for staff in sorted(ranges)]
    shape = ServiceShape(
        dt.timedelta(minutes=service.duration_minutes),
        dt.timedelta(minutes=service.buffer_before_minutes),
        dt.timedelta(minutes=service.buffer_after_minutes),
    )
    return availability(
        weeks,
        shape,
        first=first,
        last=last,
        tz=tz,
        step=dt.timedelta(minutes=salon.slot_step_minutes),
        earliest=now + dt.timedelta(minutes=salon.min_notice_minutes),
        latest=now + dt.timedelta(days=salon.max_advance_days),
    )


def service_list(*, salon: Salon, active_only: bool = False) -> QuerySet[Service]:
    services = Service.objects.all()
    return services.filter(active=True) if active_only else services


def staff_list(*, salon: Salon, active_only: bool = False) -> QuerySet[StaffMember]:
    staff = StaffMember.objects.prefetch_related("services")
    return staff.filter(active=True) if active_only else staff


def booking_list(
    *,
    salon: Salon,
    first: dt.date | None = None,
    last: dt.date | None = None,
    staff_id: int | None = None,
    status: str | None = None,
) -> QuerySet[Booking]:
    bookings = Booking.objects.select_related("customer", "service", "staff")
    if first is not None:
        bookings = bookings.filter(start__gte=dt.datetime.combine(first, dt.time(), salon.tz))
    if last is not None:
        end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), salon.tz)
        bookings = bookings.filter(start__lt=end)
    if staff_id is not None:
        bookings = bookings.filter(staff_id=staff_id)
    if status is not None:
        bookings = bookings.filter(status=status)
    return bookings


def booking_by_manage_token(token: str) -> Booking | None:
    """The booking a manage token names, or None for a forged, revoked, expired or
    unknown one.

    The token carries its salon: the door enters that salon's scope before asking.
    """
    read = manage_token_read(token)
    if read is None:
        return None
    salon_id, booking_id, nonce = read
    booking = (
        Booking.objects.select_related("salon", "customer", "service", "staff")
        .filter(pk=booking_id, salon_id=salon_id)
        .first()
    )
    if booking is None or not constant_time_compare(booking.manage_nonce, nonce):
        return None
    if booking.customer.erased or link_expires_at(booking) <= timezone.now():
        return None
    return booking


def booking_cancellable(booking: Booking, *, now: dt.datetime | None = None) -> bool:
    """The client may still cancel (or move) it: it is held or confirmed and has not begun."""
    return booking.status in ACTIVE_STATUSES and booking.start > (now or timezone.now())


def staff_day_counts(*, salon: Salon, day: dt.date, staff_ids: list[int]) -> dict[int, Any]:
    """Active bookings per staff member on a local date (to share out "anyone" bookings)."""
    start = dt.datetime.combine(day, dt.time(), salon.tz)
    end = start + dt.timedelta(days=1)
    counts: dict[int, int] = dict.fromkeys(staff_ids, 0)
    for staff_id in Booking.objects.filter(
        staff_id__in=staff_ids, status__in=ACTIVE_STATUSES, start__gte=start, start__lt=end
    ).values_list("staff_id", flat=True):
        counts[staff_id] += 1
    return counts
