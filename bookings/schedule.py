"""What the desk's scheduler shows of some days: who works when, who is away, the salon's
resource units, and the bookings that hold time, in a fixed number of queries whatever the
number of staff members or bookings (issue 18: 20 staff and 400 bookings a day).

Reads only; the door lays it out (web/desk/day.py)."""

import datetime as dt
import hashlib
from dataclasses import dataclass, field

from django.db.models import Q

from tenants.models import Salon

from .models import (
    ACTIVE_STATUSES,
    BookingItem,
    Resource,
    StaffMember,
    Status,
    TimeOff,
    WorkingHours,
)

# What a day of the scheduler shows: bookings that hold time, and those served or missed.
SHOWN_STATUSES = (*ACTIVE_STATUSES, Status.COMPLETED, Status.NO_SHOW)


@dataclass
class ScheduleWorld:
    """The days' facts; `hours[staff_id][weekday]` the working ranges in the salon's time."""

    staff: list[StaffMember]
    hours: dict[int, dict[int, list[tuple[dt.time, dt.time]]]] = field(default_factory=dict)
    time_off: list[TimeOff] = field(default_factory=list)
    resources: list[Resource] = field(default_factory=list)


def day_bounds(salon: Salon, first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """From the first day's local midnight to the one after the last day's."""
    begin = dt.datetime.combine(first, dt.time(), salon.tz)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), salon.tz)
    return begin, end


def schedule_world(
    *, salon: Salon, first: dt.date, last: dt.date, staff_id: int | None = None
) -> ScheduleWorld:
    """The active staff (or the one asked for, active or not), their working hours, the
    time off over the days (the salon's closures too), and the active resources: four
    queries (three for one staff member)."""
    begin, end = day_bounds(salon, first, last)
    staff = StaffMember.objects.all()
    staff = staff.filter(pk=staff_id) if staff_id is not None else staff.filter(active=True)
    members = list(staff.order_by("name", "id"))
    ids = [m.pk for m in members]
    hours: dict[int, dict[int, list[tuple[dt.time, dt.time]]]] = {pk: {} for pk in ids}
    for row in WorkingHours.objects.filter(staff_id__in=ids).order_by("staff_id", "start"):
        hours[row.staff_id].setdefault(row.weekday, []).append((row.start, row.end))
    away = TimeOff.objects.filter(start__lt=end, end__gt=begin).filter(
        Q(staff_id__in=ids) | Q(staff__isnull=True)
    )
    resources = [] if staff_id is not None else list(Resource.objects.filter(active=True))
    return ScheduleWorld(members, hours, list(away.order_by("start", "id")), resources)


@dataclass(frozen=True, slots=True)
class ScheduleItem:
    """One service of a booking as the scheduler draws it: plain values, read in one query
    (a day of 400 bookings is drawn from rows, not from thousands of model instances)."""

    booking_id: int
    status: str
    booking_start: dt.datetime
    currency: str
    client: str
    guest: str
    service: str
    processing_offset: int
    processing_minutes: int
    staff_id: int
    staff_name: str
    start: dt.datetime
    end: dt.datetime
    resource_id: int | None
    resource_unit: int | None
    confirmed_by_client_at: dt.datetime | None


def schedule_items(
    *, salon: Salon, first: dt.date, last: dt.date, staff_id: int | None = None
) -> list[ScheduleItem]:
    """The items of the days' bookings the scheduler shows (held, confirmed, served or
    missed), in order of start: one query. A staff member's: the items that are theirs."""
    begin, end = day_bounds(salon, first, last)
    items = BookingItem.objects.filter(
        booking__start__gte=begin, booking__start__lt=end, booking__status__in=SHOWN_STATUSES
    )
    if staff_id is not None:
        items = items.filter(staff_id=staff_id)
    rows = items.order_by("booking__start", "booking_id", "position").values_list(
        "booking_id",
        "booking__status",
        "booking__start",
        "booking__currency",
        "booking__customer__name",
        "guest",
        "service__name",
        "service__processing_offset_minutes",
        "service__processing_minutes",
        "staff_id",
        "staff__name",
        "start",
        "end",
        "resource_id",
        "resource_unit",
        "booking__confirmed_by_client_at",
    )
    return [ScheduleItem(*row) for row in rows]


def items_fingerprint(items: list[ScheduleItem]) -> str:
    """A short digest of what the days' bookings are (which, when, with whom, in what
    state): it changes when one is taken, moved, cancelled, confirmed (by payment or by
    the client's reply) or served."""
    digest = hashlib.blake2b(digest_size=12)
    for item in items:
        digest.update(
            repr(
                (
                    item.booking_id,
                    item.status,
                    item.staff_id,
                    item.start,
                    item.end,
                    item.resource_id,
                    item.resource_unit,
                    item.confirmed_by_client_at,
                )
            ).encode()
        )
    return digest.hexdigest()
