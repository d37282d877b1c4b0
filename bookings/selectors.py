import datetime as dt
import sys
from array import array
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import connection, connections
from django.db.models import (
    BigIntegerField,
    Func,
    IntegerField,
    Prefetch,
    Q,
    QuerySet,
    TimeField,
    Value,
)
from django.db.models.functions import Cast, Coalesce
from django.db.models.lookups import GreaterThan
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django_scopes import ScopeError, get_scope
from psycopg.pq import Format

from core.cache import (
    cache_get_many,
    cache_get_versioned,
    cache_set,
    cache_set_versioned,
    version_bump,
    version_get,
)
from tenants.models import Salon
from tenants.versions import durable_version_bump, durable_version_get

from .availability import (
    ServiceShape,
    Slot,
    StaffWeek,
    WeeklyRange,
    availability,
    opening_hours,
)
from .models import (
    ACTIVE_STATUSES,
    Booking,
    BookingItem,
    BusyTime,
    Resource,
    Service,
    ServiceCategory,
    StaffMember,
    StaffService,
    Status,
    TimeOff,
    WorkingHours,
)
from .tokens import link_expires_at, manage_token_read
from .visits import (
    ItemShape,
    ItemSlot,
    Placement,
    UnitWeek,
    VisitShape,
    VisitSlot,
    visit_availability,
    visit_place,
)


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
    service_id: int | str | None,
    first: dt.date,
    last: dt.date,
    staff_id: int | None,
    compute: Callable[[], Any],
) -> Any:
    """What `compute` answers for this availability query, cached by salon version and
    by the minute: every change to the salon's bookings, hours, time off, catalogue or
    settings is seen at once; the passing of time (notice, lapsed holds) within a minute.
    Booking always checks against the database, never against this cache.

    The answer is kept with the version it was computed under and read with the current
    version in one round trip: it is used only when the two are the same."""
    now = timezone.now()
    version_key = _availability_version_key(salon.pk)
    key = ":".join(
        str(part)
        for part in (
            "availability",
            salon.pk,
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
    found = cache_get_many([version_key, key])
    version = found.get(version_key)
    if version is None:
        version = version_get(version_key)
    kept = found.get(key)
    if isinstance(kept, tuple) and len(kept) == 2 and kept[0] == version:
        return kept[1]
    answer = compute()
    cache_set(key, (version, answer), AVAILABILITY_CACHE_SECONDS)
    return answer


@dataclass(frozen=True)
class Catalogue:
    """What a salon offers, by whom and when: read by every availability query and every
    booking, changed rarely, so cached under the salon's availability version."""

    services: dict[int, Service]
    staff: dict[int, StaffMember]
    offers: dict[int, frozenset[int]]  # service id -> ids of active staff who offer it
    hours: dict[int, tuple[WeeklyRange, ...]]  # staff id -> weekly working ranges
    # resource kind id -> (resource id, quantity) of its active resources
    resources: dict[int, tuple[tuple[int, int], ...]] = field(default_factory=dict)

    def offering(self, service_id: int) -> frozenset[int]:
        return self.offers.get(service_id, frozenset())

    def active_service(self, service_id: int) -> Service | None:
        service = self.services.get(service_id)
        return service if service is not None and service.active else None

    def active_staff_for(self, staff_id: int, service_id: int) -> StaffMember | None:
        return self.staff.get(staff_id) if staff_id in self.offering(service_id) else None


def catalogue_get(*, salon: Salon) -> Catalogue:
    """Three queries when not cached: services, who offers what, hours and resources."""
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
    # Hours and resources in one query: (staff, weekday, start, end, -, -) for a working
    # range, (-, -, -, -, kind, quantity) with the resource's id first for a resource.
    hours: defaultdict[int, list[WeeklyRange]] = defaultdict(list)
    resources: defaultdict[int, list[tuple[int, int]]] = defaultdict(list)
    number = Cast(Value(None), output_field=BigIntegerField())
    clock = Cast(Value(None), output_field=TimeField())
    rows = (
        WorkingHours.objects.order_by()
        .values_list("pk", "staff_id", "weekday", "start", "end", number, number)
        .union(
            Resource.objects.filter(active=True)
            .order_by()
            .values_list("pk", number, number, clock, clock, "kind_id", "quantity"),
            all=True,
        )
    )
    found = list(rows)
    for _pk, staff_id, weekday, start, end, _kind, _quantity in sorted(
        (row for row in found if row[1] is not None), key=lambda row: (row[1], row[2], row[3])
    ):
        hours[staff_id].append(WeeklyRange(weekday, start, end))
    for resource_id, _staff, _weekday, _start, _end, kind_id, quantity in sorted(
        row for row in found if row[1] is None
    ):
        resources[kind_id].append((resource_id, quantity))
    weeks: dict[tuple[WeeklyRange, ...], tuple[WeeklyRange, ...]] = {}
    catalogue = Catalogue(
        services,
        staff,
        {k: frozenset(v) for k, v in offers.items()},
        # Staff members of the same week share one tuple (the engine expands it once).
        {k: weeks.setdefault(tuple(v), tuple(v)) for k, v in hours.items()},
        {k: tuple(v) for k, v in resources.items()},
    )
    cache_set_versioned(key, catalogue, CATALOGUE_CACHE_SECONDS)
    return catalogue


def busy_bookings(*, salon: Salon, now: dt.datetime) -> QuerySet[Booking]:
    """Bookings that keep their staff busy: confirmed, or held with a hold still running."""
    return Booking.objects.filter(
        Q(status=Status.CONFIRMED) | Q(status=Status.PENDING_PAYMENT, hold_expires_at__gt=now)
    )


# No stretch of busy time is longer than this (a service of at most 12 hours, buffers of
# at most 4 hours each side; the check constraint busytime_within_a_day): reading a
# window, busy time is bounded on both ends.
LONGEST_BUSY = dt.timedelta(days=1)
# Later than any hold: a stretch held by no payment is held for good.
_NEVER = dt.datetime(9999, 12, 31, tzinfo=dt.UTC)


def _busy(now: dt.datetime, **lookups: Any) -> QuerySet[BusyTime]:
    """Active busy time (of staff members, or of units) still held at `now`."""
    return BusyTime.objects.filter(
        GreaterThan(Coalesce("held_until", Value(_NEVER)), now), active=True, **lookups
    )


@dataclass(frozen=True)
class VisitPart:
    """One service asked for in a visit: for the client (person 0) or a guest."""

    service: Service
    person: int = 0
    guest: str = ""


def visit_parts(services: Sequence[Service]) -> list[VisitPart]:
    """The client's own services, in order."""
    return [VisitPart(service) for service in services]


def _item_shape(service: Service, staff_ids: frozenset[int]) -> ItemShape:
    return ItemShape(
        service_id=service.pk,
        duration=dt.timedelta(minutes=service.duration_minutes),
        before=dt.timedelta(minutes=service.buffer_before_minutes),
        after=dt.timedelta(minutes=service.buffer_after_minutes),
        processing_offset=dt.timedelta(
            minutes=service.processing_offset_minutes if service.processing_minutes else 0
        ),
        processing=dt.timedelta(minutes=service.processing_minutes),
        resource_kind=service.resource_kind_id,
        staff_ids=staff_ids,
    )


def visit_shape(
    *, salon: Salon, catalogue: Catalogue, parts: Sequence[VisitPart], staff_id: int | None
) -> VisitShape:
    """The visit as the engine reads it. A chosen staff member does every one of the
    client's services that he or she offers; anyone who offers it does the rest."""
    people: defaultdict[int, list[ItemShape]] = defaultdict(list)
    for part in parts:
        offering = catalogue.offering(part.service.pk)
        if staff_id is not None and part.person == 0 and staff_id in offering:
            offering = frozenset({staff_id})
        people[part.person].append(_item_shape(part.service, offering))
    return VisitShape(
        people=tuple(tuple(people[person]) for person in sorted(people)),
        max_gap=dt.timedelta(minutes=salon.max_gap_minutes),
    )


def _simple(visit: VisitShape) -> bool:
    """One service, with neither processing time nor a resource: the one-service engine."""
    if len(visit.people) != 1 or len(visit.people[0]) != 1:
        return False
    item = visit.people[0][0]
    return not item.processing and item.resource_kind is None


@dataclass(frozen=True)
class World:
    """Who works when, and what is already taken, over a window of dates."""

    staff: list[StaffWeek]
    units: list[UnitWeek]


def _world_query(
    *,
    staff_ids: Sequence[int],
    resource_ids: Sequence[int],
    window_start: dt.datetime,
    window_end: dt.datetime,
    busy_from: dt.datetime,
    now: dt.datetime,
    ignore_booking: int | None,
    with_bookings: bool,
) -> QuerySet[Any]:
    """Time off, and the busy time still held at `now`, of these staff members and
    resources over the window. Three branches, each on an index of its own: time off,
    staff members' busy time, resource units' busy time (an OR across them would read the
    salon's whole window)."""
    none = Cast(Value(None), output_field=BigIntegerField())  # typed, for the union
    rows = (
        TimeOff.objects.filter(
            Q(staff_id__in=staff_ids) | Q(staff__isnull=True),
            start__lt=window_end,
            end__gt=window_start,
        )
        .order_by()
        .values_list("staff_id", none, none, Epoch("start"), Epoch("end"))
    )
    if not with_bookings:
        return rows
    branches = [
        _busy(now, staff__isnull=False, staff_id__in=staff_ids).values_list(
            "staff_id", none, none, Epoch("start"), Epoch("end")
        )
    ]
    if resource_ids:
        branches.append(
            _busy(now, resource__isnull=False, resource_id__in=resource_ids).values_list(
                none, "resource_id", "unit", Epoch("start"), Epoch("end")
            )
        )
    bounded = []
    for taken in branches:
        taken = taken.filter(
            start__gte=busy_from, start__lt=window_end, end__gt=window_start
        ).order_by()
        if ignore_booking is not None:
            taken = taken.exclude(booking_id=ignore_booking)
        bounded.append(taken)
    return rows.union(*bounded, all=True)


# On PostgreSQL the world is read per staff member and per resource, each a range of its
# partial index of active busy time (staff or unit, then start) read in the index alone,
# and comes back as one row per staff member (or unit) with its times as epoch seconds,
# kept as such in the table and the index (no conversion per row), packed into one bytea
# of big-endian 64-bit integers (start, end, start, end...; cheaper to build, send and
# read than two arrays, whose every element has its own length word), in binary: Python
# then takes 200 rows for a big salon's month, not 40,000. Asked for as
# `staff_id IN (...)`, a planner with stale statistics may take the overlap (GiST) index
# instead and read every staff member's whole history; a lateral join gives it one staff
# member at a time. The text never changes with the number of staff (arrays are
# parameters), so each connection prepares it once. Times come as seconds after
# `base` (the window's start for the one-service engine, which then works with integers
# of one machine digit; 0, epoch seconds, for the visit engine).
_TIME_OFF = """
SELECT staff_id, NULL::bigint, NULL::bigint,
       string_agg(int8send(date_part('epoch', start)::bigint - %(base)s::bigint)
                  || int8send(date_part('epoch', "end")::bigint - %(base)s::bigint), '')
  FROM bookings_timeoff
 WHERE salon_id = %(salon)s::bigint
   AND (staff_id = ANY(%(staff)s::bigint[]) OR staff_id IS NULL)
   AND start < to_timestamp(%(window_end)s::bigint)
   AND "end" > to_timestamp(%(window_start)s::bigint)
 GROUP BY staff_id"""
_STAFF_BUSY = """
SELECT member.id, NULL::bigint, NULL::bigint, held.times
  FROM unnest(%(staff)s::bigint[]) AS member (id)
 CROSS JOIN LATERAL (
       SELECT string_agg(int8send(start_epoch - %(base)s::bigint)
                         || int8send(end_epoch - %(base)s::bigint), '')
         FROM bookings_busytime
        WHERE staff_id = member.id AND staff_id IS NOT NULL AND active
          AND salon_id = %(salon)s::bigint
          AND start_epoch >= %(busy_from)s::bigint AND start_epoch < %(window_end)s::bigint
          AND end_epoch > %(window_start)s::bigint
          AND (held_until IS NULL OR held_until > %(now)s) {ignore}
       ) AS held (times)"""
_UNIT_BUSY = """
SELECT NULL::bigint, resource.id, held.unit::bigint, held.times
  FROM unnest(%(resources)s::bigint[]) AS resource (id)
 CROSS JOIN LATERAL (
       SELECT unit, string_agg(int8send(start_epoch - %(base)s::bigint)
                         || int8send(end_epoch - %(base)s::bigint), '')
         FROM bookings_busytime
        WHERE resource_id = resource.id AND resource_id IS NOT NULL AND active
          AND salon_id = %(salon)s::bigint
          AND start_epoch >= %(busy_from)s::bigint AND start_epoch < %(window_end)s::bigint
          AND end_epoch > %(window_start)s::bigint
          AND (held_until IS NULL OR held_until > %(now)s) {ignore}
        GROUP BY unit
       ) AS held (unit, times)"""
# The booking being moved is left out in the index's filter: booking_id is not in the
# index, so a clause naming it (even one a NULL would make true) is written only when
# there is a booking to leave out.
_IGNORE = "AND booking_id <> %(ignore)s::bigint"
_WORLD_SQL = {
    (True, False): "\nUNION ALL".join(
        (_TIME_OFF, _STAFF_BUSY.replace("{ignore}", ""), _UNIT_BUSY.replace("{ignore}", ""))
    ),
    (True, True): "\nUNION ALL".join(
        (
            _TIME_OFF,
            _STAFF_BUSY.replace("{ignore}", _IGNORE),
            _UNIT_BUSY.replace("{ignore}", _IGNORE),
        )
    ),
    (False, False): _TIME_OFF,
    (False, True): _TIME_OFF,
}  # by (with bookings, leaving one out)


def _fetch(sql: str, params: Any, *, binary: bool = False) -> list[tuple[Any, ...]]:
    """The rows of a query, run in the ambient scope (see `_rows`); `binary`: in
    PostgreSQL's binary format (arrays of integers arrive without being printed and
    parsed)."""
    current = get_scope()
    if current.get("_enabled", True) and "salon" not in current:
        raise ScopeError("A scope on dimension(s) salon needs to be active for this query.")
    with connection.cursor() as cursor:
        if binary:
            cursor.cursor.format = Format.BINARY
        cursor.execute(sql, params)
        return cursor.fetchall()


def _unpacked(times: bytes | None) -> tuple[list[int], list[int]] | tuple[None, None]:
    """(starts, ends) from the packed times of `_WORLD_SQL` (None: nothing held)."""
    if times is None:
        return None, None
    both = array("q", times)
    if sys.byteorder == "little":
        both.byteswap()
    values = both.tolist()
    return values[::2], values[1::2]


def _world(
    *,
    salon: Salon,
    catalogue: Catalogue,
    visit: VisitShape,
    first: dt.date,
    last: dt.date,
    now: dt.datetime,
    ignore_booking: int | None = None,
    with_bookings: bool = True,
    relative: bool = False,
) -> World:
    """One query whatever the number of staff, resources or days: time off, and the busy
    time of bookings still holding theirs (bounded on both ends, from the partial index of
    active busy time). `relative`: the staff members' busy time as seconds after the
    window's start (`StaffWeek.busy_base`), not epoch seconds."""
    tz = salon.tz
    window_start = dt.datetime.combine(first - dt.timedelta(days=1), dt.time(), tzinfo=tz)
    window_end = dt.datetime.combine(last + dt.timedelta(days=2), dt.time(), tzinfo=tz)
    staff_ids = sorted(
        {s for person in visit.people for item in person for s in item.staff_ids}
        & set(catalogue.hours)
    )
    kinds = {item.resource_kind for person in visit.people for item in person}
    units = [
        (kind, resource_id, unit)
        for kind in sorted(k for k in kinds if k is not None)
        for resource_id, quantity in catalogue.resources.get(kind, ())
        for unit in range(1, quantity + 1)
    ]
    if not staff_ids:
        return World([], [])
    resource_ids = sorted({resource_id for _kind, resource_id, _unit in units})
    base = int(window_start.timestamp()) if relative else 0
    values = {
        "salon": salon.pk,
        "staff": staff_ids,
        "resources": resource_ids,
        "window_start": int(window_start.timestamp()),
        "window_end": int(window_end.timestamp()),
        "busy_from": int((window_start - LONGEST_BUSY).timestamp()),
        "now": now,
        "ignore": ignore_booking,
        "base": base,
    }
    if connection.vendor == "postgresql":
        rows = [
            (s, r, u, *_unpacked(times))
            for s, r, u, times in _fetch(
                _WORLD_SQL[(with_bookings, ignore_booking is not None)], values, binary=True
            )
        ]
    else:
        query = _world_query(
            staff_ids=staff_ids,
            resource_ids=resource_ids,
            window_start=window_start,
            window_end=window_end,
            busy_from=window_start - LONGEST_BUSY,
            now=now,
            ignore_booking=ignore_booking,
            with_bookings=with_bookings,
        )
        rows = [
            (s, r, u, [a - base], [b - base])
            for s, r, u, a, b in _fetch(*query.query.sql_with_params())
        ]
    # Per staff member (None: the whole salon's time off) and per unit: its (starts, ends)
    # columns, one pair per row; a staff member's one row (no time off) is taken as is.
    staff_busy: defaultdict[int | None, list[tuple[list[int], list[int]]]] = defaultdict(list)
    unit_busy: defaultdict[tuple[int, int], list[tuple[list[int], list[int]]]] = defaultdict(list)
    for staff, resource, unit, starts, ends in rows:
        if starts is None:  # a staff member with nothing held
            continue
        if resource is None:
            staff_busy[staff].append((starts, ends))
        else:
            unit_busy[(resource, unit)].append((starts, ends))
    everyone = staff_busy.get(None, [])
    nothing: tuple[list[int], list[int]] = ([], [])

    def joined(columns: list[tuple[list[int], list[int]]]) -> tuple[list[int], list[int]]:
        if len(columns) == 1:
            return columns[0]
        if not columns:
            return nothing
        return (
            [t for starts, _ends in columns for t in starts],
            [t for _starts, ends in columns for t in ends],
        )

    return World(
        [
            StaffWeek(staff, catalogue.hours[staff], (), joined(staff_busy[staff] + everyone), base)
            for staff in staff_ids
        ],
        [
            UnitWeek(kind, resource_id, unit, _epochs(joined(unit_busy[(resource_id, unit)]), base))
            for kind, resource_id, unit in units
        ],
    )


def _epochs(columns: tuple[list[int], list[int]], base: int) -> list[tuple[int, int]]:
    """(start, end) pairs in epoch seconds from columns of seconds after `base`."""
    if base:
        return [(a + base, b + base) for a, b in zip(*columns, strict=True)]
    return list(zip(*columns, strict=True))


def _bounds(salon: Salon, now: dt.datetime) -> dict[str, Any]:
    return {
        "tz": salon.tz,
        "step": dt.timedelta(minutes=salon.slot_step_minutes),
        "earliest": now + dt.timedelta(minutes=salon.min_notice_minutes),
        "latest": now + dt.timedelta(days=salon.max_advance_days),
    }


def _starts_for(
    *,
    salon: Salon,
    parts: Sequence[VisitPart],
    first: dt.date,
    last: dt.date,
    staff_id: int | None,
    now: dt.datetime | None,
    ignore_booking: int | None,
    with_bookings: bool,
    catalogue: Catalogue | None,
) -> list[Slot] | list[VisitSlot]:
    """The engines' answer: slots when the visit is one plain service (the one-service
    engine's), else visit slots."""
    now = now or timezone.now()
    catalogue = catalogue or catalogue_get(salon=salon)
    visit = visit_shape(salon=salon, catalogue=catalogue, parts=parts, staff_id=staff_id)
    world = _world(
        salon=salon,
        catalogue=catalogue,
        visit=visit,
        first=first,
        last=last,
        now=now,
        ignore_booking=ignore_booking,
        with_bookings=with_bookings,
        relative=_simple(visit),
    )
    if not world.staff:
        return []
    bounds = _bounds(salon, now)
    if _simple(visit):
        item = visit.people[0][0]
        shape = ServiceShape(item.duration, item.before, item.after)
        return availability(world.staff, shape, first=first, last=last, **bounds)
    return visit_availability(world.staff, world.units, visit, first=first, last=last, **bounds)


def visit_availability_for(
    *,
    salon: Salon,
    parts: Sequence[VisitPart],
    first: dt.date,
    last: dt.date,
    staff_id: int | None = None,
    now: dt.datetime | None = None,
    ignore_booking: int | None = None,
    with_bookings: bool = True,
    catalogue: Catalogue | None = None,
) -> list[VisitSlot]:
    """Start times of the visit over the salon-local dates first..last, with each item's
    times and the staff free for it.

    One query (time off and busy time), plus the salon's catalogue (cached; three queries
    when it is not), whatever the number of services, guests, staff, resources or days.
    `with_bookings=False` leaves other bookings out: for checking a chosen staff member's
    one-service booking on PostgreSQL, whose exclusion constraints settle overlaps anyway.
    `catalogue`: the salon's, when the caller has just read it.
    """
    found = _starts_for(
        salon=salon,
        parts=parts,
        first=first,
        last=last,
        staff_id=staff_id,
        now=now,
        ignore_booking=ignore_booking,
        with_bookings=with_bookings,
        catalogue=catalogue,
    )
    if not found or isinstance(found[0], VisitSlot):
        return found  # type: ignore[return-value]
    service_id = parts[0].service.pk
    return [
        VisitSlot(
            slot.start, slot.end, (ItemSlot(service_id, 0, slot.start, slot.end, slot.staff_ids),)
        )
        for slot in found
    ]


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
    catalogue: Catalogue | None = None,
) -> list[Slot]:
    """Slots for one service over the salon-local dates first..last (see
    `visit_availability_for`)."""
    found = _starts_for(
        salon=salon,
        parts=visit_parts([service]),
        first=first,
        last=last,
        staff_id=staff_id,
        now=now,
        ignore_booking=ignore_booking,
        with_bookings=with_bookings,
        catalogue=catalogue,
    )
    if not found or isinstance(found[0], Slot):
        return found  # type: ignore[return-value]
    return [Slot(slot.start, slot.end, slot.staff_ids) for slot in found]


def visit_starts_with_staff(
    *,
    salon: Salon,
    visits: Sequence[Sequence[Service]],
    staff_id: int,
    day: dt.date,
    now: dt.datetime | None = None,
    catalogue: Catalogue | None = None,
) -> list[list[VisitSlot]]:
    """For each visit (the client's services in order), its start times on the local
    date `day` with `staff_id` doing every service: what a time freed in that staff
    member's day can hold. A visit with a service the staff member does not offer (or
    that is no longer offered) has none.

    One query for them all (the staff member's time off and busy time, and that of the
    resources any visit needs), plus the catalogue (cached); the engines then run once
    per visit, over plain values."""
    now = now or timezone.now()
    catalogue = catalogue or catalogue_get(salon=salon)
    shapes: list[VisitShape | None] = []
    for services in visits:
        doable = bool(services) and all(
            catalogue.active_service(s.pk) is not None and staff_id in catalogue.offering(s.pk)
            for s in services
        )
        shapes.append(
            visit_shape(
                salon=salon, catalogue=catalogue, parts=visit_parts(services), staff_id=staff_id
            )
            if doable
            else None
        )
    every_item = tuple(i for v in shapes if v is not None for p in v.people for i in p)
    if not every_item or staff_id not in catalogue.hours:
        return [[] for _visit in visits]
    world = _world(
        salon=salon,
        catalogue=catalogue,
        visit=VisitShape(people=(every_item,)),
        first=day,
        last=day,
        now=now,
    )
    bounds = _bounds(salon, now)
    found: list[list[VisitSlot]] = []
    for visit in shapes:
        if visit is None:
            found.append([])
        elif _simple(visit):
            item = visit.people[0][0]
            shape = ServiceShape(item.duration, item.before, item.after)
            found.append(
                [
                    VisitSlot(
                        s.start,
                        s.end,
                        (ItemSlot(item.service_id, 0, s.start, s.end, s.staff_ids),),
                    )
                    for s in availability(world.staff, shape, first=day, last=day, **bounds)
                ]
            )
        else:
            found.append(
                visit_availability(world.staff, world.units, visit, first=day, last=day, **bounds)
            )
    return found


def visit_placement(
    *,
    salon: Salon,
    parts: Sequence[VisitPart],
    start: dt.datetime,
    staff_id: int | None = None,
    now: dt.datetime | None = None,
    ignore_booking: int | None = None,
    prefer: Callable[[int], Any] | None = None,
    catalogue: Catalogue | None = None,
) -> list[Placement] | None:
    """Where each item of the visit goes when it starts at `start`: staff members and
    resource units, free of other bookings. None when it cannot start then."""
    now = now or timezone.now()
    catalogue = catalogue or catalogue_get(salon=salon)
    visit = visit_shape(salon=salon, catalogue=catalogue, parts=parts, staff_id=staff_id)
    # Every local date the visit may touch: from its start's to that of the latest its
    # busy time can end (all its services, buffers and gaps one after the other), and
    # the next day at least, whatever the window `_world` adds around them.
    longest = sum(
        (i.duration + i.before + i.after + visit.max_gap for p in visit.people for i in p),
        dt.timedelta(),
    )
    day = start.astimezone(salon.tz).date()
    last = max((start + longest).astimezone(salon.tz).date(), day + dt.timedelta(days=1))
    world = _world(
        salon=salon,
        catalogue=catalogue,
        visit=visit,
        first=day,
        last=last,
        now=now,
        ignore_booking=ignore_booking,
    )
    bounds = _bounds(salon, now)
    return visit_place(
        world.staff,
        world.units,
        visit,
        start,
        tz=bounds["tz"],
        step=bounds["step"],
        prefer=prefer or (lambda staff: staff),
    )


def salon_opening_hours(*, salon: Salon) -> dict[int, list[tuple[dt.time, dt.time]]]:
    """When the salon is open each weekday: the hours of the staff who take bookings
    (active, offering a service), merged (the cached catalogue: no query when warm)."""
    catalogue = catalogue_get(salon=salon)
    return opening_hours(
        r
        for staff_id, ranges in catalogue.hours.items()
        if staff_id in catalogue.staff
        for r in ranges
    )


def category_list(*, salon: Salon) -> QuerySet[ServiceCategory]:
    return ServiceCategory.objects.all()


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
    bookings = Booking.objects.select_related("customer", "service", "staff").prefetch_related(
        Prefetch("items", queryset=BookingItem.objects.select_related("service", "staff"))
    )
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


# A staff member's active bookings starting in a window, from the index booking_staff_start
# alone. By staff alone: the staff members are the salon's, and a condition on the salon
# would let a planner with stale statistics read the whole salon's bookings from an index
# leading with it.
_STAFF_DAY_COUNTS = """
SELECT staff_id, count(*)
  FROM "bookings_booking" WHERE staff_id = ANY(%(staff)s::bigint[])
   AND status IN ('pending_payment', 'confirmed')
   AND start >= %(start)s AND start < %(end)s
 GROUP BY staff_id"""
if ACTIVE_STATUSES != ("pending_payment", "confirmed"):  # the statuses written out above
    raise ImproperlyConfigured("_STAFF_DAY_COUNTS names other statuses than ACTIVE_STATUSES")


def staff_day_counts(*, salon: Salon, day: dt.date, staff_ids: list[int]) -> dict[int, Any]:
    """Active bookings per staff member on a local date (to share out "anyone" bookings).
    One query."""
    start = dt.datetime.combine(day, dt.time(), salon.tz)
    end = start + dt.timedelta(days=1)
    counts: dict[int, int] = dict.fromkeys(staff_ids, 0)
    if connection.vendor == "postgresql":
        found = _fetch(_STAFF_DAY_COUNTS, {"staff": staff_ids, "start": start, "end": end})
        counts.update((staff_id, count) for staff_id, count in found if staff_id in counts)
        return counts
    for staff_id in (
        Booking.objects.filter(
            staff_id__in=staff_ids, status__in=ACTIVE_STATUSES, start__gte=start, start__lt=end
        )
        .order_by()
        .values_list("staff_id", flat=True)
    ):
        counts[staff_id] += 1
    return counts


def booking_title(booking: Booking) -> str:
    """What a booking is for, in a few words, for a calendar entry or a message: the
    service, or a visit's services in order ("Couleur + Coupe"), a guest's named with her
    ("Coupe (Sam)"). One query."""
    items = booking.items.select_related("service").order_by("position")
    names = [f"{i.service.name} ({i.guest})" if i.guest else i.service.name for i in items]
    return " + ".join(names) if len(names) > 1 else booking.service.name


def booking_staff_names(booking: Booking) -> str:
    """Who does a booking's services, each named once, in the visit's order."""
    items = booking.items.select_related("staff").order_by("position")
    names = list(dict.fromkeys(item.staff.name for item in items))
    return ", ".join(names) if len(names) > 1 else booking.staff.name
