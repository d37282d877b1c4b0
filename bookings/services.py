import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import SlotTaken
from core.images import PORTRAIT, picture_prepared
from customers.models import Customer
from customers.services import customer_touch
from tenants.models import Salon

from .availability import Interval, Slot
from .events import events_recorded, time_freed
from .models import (
    ACTIVE_STATUSES,
    Booking,
    BookingEvent,
    BookingItem,
    BusyTime,
    Resource,
    ResourceKind,
    Service,
    ServiceCategory,
    Source,
    StaffMember,
    StaffService,
    Status,
    TimeOff,
    WorkingHours,
    new_nonce,
    new_reference,
)
from .selectors import (
    Catalogue,
    VisitPart,
    availability_changed,
    availability_for,
    catalogue_changed,
    catalogue_get,
    staff_day_counts,
    visit_parts,
    visit_placement,
)
from .tokens import manage_token
from .visits import ItemShape, Placement, item_staff_busy

Actor = User | AnonymousUser | None


def _user(actor: Actor) -> User | None:
    return actor if isinstance(actor, User) else None


def _actor_fields(actor: Actor, by: str | None) -> dict[str, Any]:
    user = _user(actor)
    return {"actor": user, "by": by or ("staff" if user else "client")}


def booking_event(
    booking: Booking, kind: str, *, actor: Actor = None, by: str | None = None, **data: Any
) -> None:
    BookingEvent.objects.create(
        salon_id=booking.salon_id,
        booking=booking,
        kind=kind,
        data=data,
        **_actor_fields(actor, by),
    )
    events_recorded(booking.salon_id)


def booking_manage_token(booking: Booking) -> str:
    return manage_token(
        salon_id=booking.salon_id, booking_id=booking.pk, nonce=booking.manage_nonce
    )


def manage_url(booking: Booking) -> str:
    """The client's link to their booking, on the product's public address."""
    return f"{settings.SITE_URL}/manage/{booking_manage_token(booking)}/"


def _offered_slot(
    *,
    salon: Salon,
    service: Service,
    start: dt.datetime,
    staff: StaffMember | None,
    now: dt.datetime,
    ignore_booking: int | None = None,
    catalogue: Catalogue | None = None,
) -> Slot:
    """The slot starting at `start`, if the service is offered then; else SlotTaken.

    For a chosen staff member on PostgreSQL, other bookings are left to the exclusion
    constraint at insert time (the one judge of overlaps, races included); "anyone" needs
    them to know who is free."""
    day = start.astimezone(salon.tz).date()
    for slot in availability_for(
        salon=salon,
        service=service,
        first=day,
        last=day,
        staff_id=staff.pk if staff else None,
        now=now,
        ignore_booking=ignore_booking,
        with_bookings=staff is None or connection.vendor != "postgresql",
        catalogue=catalogue,
    ):
        if slot.start == start:
            return slot
    raise SlotTaken()


def _simple(parts: Sequence[VisitPart]) -> bool:
    """One service with neither processing time nor a resource: placed as a slot."""
    if len(parts) != 1:
        return False
    service = parts[0].service
    return not service.processing_minutes and service.resource_kind_id is None


def _placed(
    *,
    salon: Salon,
    parts: Sequence[VisitPart],
    start: dt.datetime,
    staff: StaffMember | None,
    now: dt.datetime,
    ignore_booking: int | None = None,
    keep_staff: int | None = None,
    catalogue: Catalogue | None = None,
) -> list[Placement]:
    """Where each item of the visit goes if it starts at `start`; SlotTaken when it is
    not offered then. "Anyone" goes to the free staff member with the fewest bookings that
    day (`keep_staff` first: a moved booking keeps its staff member when free).
    `catalogue`: the salon's, when the caller has just read it."""
    if _simple(parts):
        service = parts[0].service
        slot = _offered_slot(
            salon=salon,
            service=service,
            start=start,
            staff=staff,
            now=now,
            ignore_booking=ignore_booking,
            catalogue=catalogue,
        )
        staff_id = (
            staff.pk
            if staff
            else (keep_staff if keep_staff in slot.staff_ids else _pick_staff(salon, slot))
        )
        shape = ItemShape(
            service_id=service.pk,
            duration=dt.timedelta(minutes=service.duration_minutes),
            before=dt.timedelta(minutes=service.buffer_before_minutes),
            after=dt.timedelta(minutes=service.buffer_after_minutes),
        )
        return [
            Placement(
                service.pk,
                0,
                start,
                slot.end,
                staff_id,
                item_staff_busy(shape, start),
                None,
                None,
            )
        ]
    earliest = now + dt.timedelta(minutes=salon.min_notice_minutes)
    if not earliest <= start <= now + dt.timedelta(days=salon.max_advance_days):
        raise SlotTaken()
    catalogue = catalogue or catalogue_get(salon=salon)
    # The day's bookings share out an item that more than one staff member could do.
    options = [
        catalogue.offering(part.service.pk)
        if staff is None or part.person or staff.pk not in catalogue.offering(part.service.pk)
        else frozenset({staff.pk})
        for part in parts
    ]
    counts = (
        staff_day_counts(
            salon=salon,
            day=start.astimezone(salon.tz).date(),
            staff_ids=sorted(set().union(*options)),
        )
        if any(len(ids) > 1 for ids in options)
        else {}
    )
    placements = visit_placement(
        salon=salon,
        parts=parts,
        start=start,
        staff_id=staff.pk if staff else None,
        now=now,
        ignore_booking=ignore_booking,
        prefer=lambda staff_id: (staff_id != keep_staff, counts.get(staff_id, 0), staff_id),
        catalogue=catalogue,
    )
    if placements is None:
        raise SlotTaken()
    return placements


def _pick_staff(salon: Salon, slot: Slot) -> int:
    """For "anyone": the free staff member with the fewest bookings that day."""
    if len(slot.staff_ids) == 1:
        return slot.staff_ids[0]
    counts = staff_day_counts(
        salon=salon, day=slot.start.astimezone(salon.tz).date(), staff_ids=list(slot.staff_ids)
    )
    return min(slot.staff_ids, key=lambda staff_id: (counts[staff_id], staff_id))


def _merged(intervals: list[Interval]) -> list[Interval]:
    out: list[Interval] = []
    for start, end in sorted(intervals):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(end, out[-1][1]))
        else:
            out.append((start, end))
    return out


def _busy_time(booking: Booking, placements: Sequence[Placement]) -> list[BusyTime]:
    """The rows that keep the visit's staff and resource units busy: one per stretch, a
    staff member's (or a unit's) stretches within the visit joined."""
    staff: defaultdict[int, list[Interval]] = defaultdict(list)
    units: defaultdict[tuple[int, int], list[Interval]] = defaultdict(list)
    for placement in placements:
        staff[placement.staff_id].extend(placement.staff_busy)
        if placement.resource is not None and placement.resource_busy is not None:
            units[placement.resource].append(placement.resource_busy)
    follow = {
        "active": booking.status in ACTIVE_STATUSES,
        "held_until": (
            booking.hold_expires_at if booking.status == Status.PENDING_PAYMENT else None
        ),
    }
    rows = [
        BusyTime(
            salon_id=booking.salon_id, booking=booking, staff_id=staff_id, start=a, end=b, **follow
        )
        for staff_id, intervals in sorted(staff.items())
        for a, b in _merged(intervals)
    ]
    rows += [
        BusyTime(
            salon_id=booking.salon_id,
            booking=booking,
            resource_id=resource_id,
            unit=unit,
            start=a,
            end=b,
            **follow,
        )
        for (resource_id, unit), intervals in sorted(units.items())
        for a, b in _merged(intervals)
    ]
    return rows


def _items(
    booking: Booking,
    parts: Sequence[VisitPart],
    placements: Sequence[Placement],
    deposits: Sequence[int] | None,
) -> list[BookingItem]:
    """The visit's items, in the order asked (each person's services in order)."""
    return [
        BookingItem(
            salon_id=booking.salon_id,
            booking=booking,
            position=position,
            person=part.person,
            guest=part.guest,
            service_id=placement.service_id,
            staff_id=placement.staff_id,
            start=placement.start,
            end=placement.end,
            resource_id=placement.resource[0] if placement.resource else None,
            resource_unit=placement.resource[1] if placement.resource else None,
            price=part.service.price,
            deposit_amount=deposits[position] if deposits else 0,
        )
        for position, (part, placement) in enumerate(zip(parts, placements, strict=True))
    ]


def _items_known(booking: Booking, items: list[BookingItem]) -> None:
    """The items just written, kept as `booking.items.all()` answers them (in order, as
    a prefetch would): the answer that follows the booking shows them without a query."""
    known = booking.items.all()
    known._result_cache = items
    known._prefetch_done = True  # type: ignore[attr-defined]
    booking._prefetched_objects_cache = {"items": known}  # type: ignore[attr-defined]


def _span(placements: Sequence[Placement]) -> dict[str, dt.datetime]:
    start, end = min(p.start for p in placements), max(p.end for p in placements)
    # A service that is all processing time keeps no staff member busy: its own times.
    busy = [interval for p in placements for interval in p.staff_busy] or [(start, end)]
    return {
        "start": start,
        "end": end,
        "busy_start": min(a for a, _b in busy),
        "busy_end": max(b for _a, b in busy),
    }


def _taken(
    rows: Sequence[BusyTime], ignore_booking: int | None = None
) -> Any:  # QuerySet[BusyTime]
    """Active busy time of other bookings overlapping any of these rows."""
    overlap = Q(pk__in=[])
    for row in rows:
        where = (
            Q(staff_id=row.staff_id)
            if row.staff_id
            else Q(resource_id=row.resource_id, unit=row.unit)
        )
        overlap |= where & Q(start__lt=row.end, end__gt=row.start)
    return BusyTime.objects.filter(overlap, active=True).exclude(booking_id=ignore_booking)


def _lock_time(rows: Sequence[BusyTime]) -> None:
    """Take, until the transaction ends and in one order for everyone, a lock on each staff
    member and resource unit these rows keep busy. Two bookings after the same time then
    meet at the exclusion constraints one after the other; without it each could insert
    its row, find the other's uncommitted one and wait for it: a deadlock, that PostgreSQL
    breaks by aborting one, again and again when a hundred clients want the same hour.

    A booking that keeps one staff member (or unit) busy needs none, a statement saved
    on most bookings: another booking meets it only at that staff member's rows, which
    both write in time order (so the first to write a row that the other's overlaps is
    never the one waiting), and a booking that takes locks holds them before writing."""
    if connection.vendor != "postgresql":
        return
    # Staff members on negative keys, units on positive ones (quantity <= 50).
    keys = sorted(
        {
            -row.staff_id if row.staff_id else (row.resource_id or 0) * 64 + (row.unit or 0)
            for row in rows
        }
    )
    if len(keys) < 2:
        return
    with connection.cursor() as cursor:
        for key in keys:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def _claim_time(
    *, rows: Sequence[BusyTime], now: dt.datetime, ignore_booking: int | None = None
) -> None:
    """Inside the booking's transaction: free the time from lapsed holds, and on the
    embedded SQLite (no exclusion constraint) refuse an overlap."""
    _expire_lapsed_holds(rows=rows, now=now, ignore_booking=ignore_booking)
    if connection.vendor != "postgresql" and _taken(rows, ignore_booking).exists():
        raise SlotTaken()


def _expire_lapsed_holds(
    *, rows: Sequence[BusyTime], now: dt.datetime, ignore_booking: int | None = None
) -> int:
    """Expire the lapsed holds that still keep this time in the table (the sweep comes by
    every minute; a booking does not wait for it). Returns how many. Their busy time goes
    with them (the trigger on the booking)."""
    return int(
        Booking.objects.filter(
            pk__in=list(_taken(rows, ignore_booking).values_list("booking_id", flat=True)),
            status=Status.PENDING_PAYMENT,
            hold_expires_at__lte=now,
        ).update(status=Status.EXPIRED, expired_at=now)
    )


OVERLAP_CONSTRAINTS = ("busytime_staff_overlap", "busytime_unit_overlap")


def _is_overlap(error: IntegrityError) -> bool:
    return any(name in str(error) for name in OVERLAP_CONSTRAINTS)


def booking_create(
    *,
    salon: Salon,
    start: dt.datetime,
    customer: Customer,
    service: Service | None = None,
    parts: Sequence[VisitPart] | None = None,
    deposits: Sequence[int] | None = None,
    staff: StaffMember | None = None,
    source: str = Source.WEB,
    hold_until: dt.datetime | None = None,
    notes: str = "",
    actor: Actor = None,
    now: dt.datetime | None = None,
    catalogue: Catalogue | None = None,
    comeback_of: int | None = None,
) -> Booking:
    """Book the service (or the visit's `parts`, with each item's part of the deposit in
    `deposits`) at `start`, with `staff`, or whoever is free (`catalogue`: the salon's,
    when the caller has just read it).

    Held (`pending_payment` until `hold_until`) when a payment is awaited, confirmed
    otherwise. `comeback_of`: the earlier visit of the salon whose come-back message
    brought the client (an unknown one is left out: it only says where she came from).
    Raises SlotTaken (409) when the time is not offered or was just taken:
    PostgreSQL's exclusion constraints decide the races.
    """
    now = now or timezone.now()
    parts = list(parts or visit_parts([service] if service else []))
    if not parts:
        raise ValueError("A booking holds at least one service.")
    if customer.salon_id != salon.pk or any(p.service.salon_id != salon.pk for p in parts):
        raise ValueError("The customer and the services must be the salon's.")
    # Every online door (the page, the widget, a share link, the API) refuses a blocked
    # client; the desk (phone) decides for itself.
    if customer.blocked and source != Source.PHONE:
        raise ValidationError({"customer": [_("Please call the salon to book.")]})
    placements = _placed(
        salon=salon, parts=parts, start=start, staff=staff, now=now, catalogue=catalogue
    )
    # A hold, and the payment it waits for, never outlive the appointment (DESIGN.md).
    hold_until = min(hold_until, start) if hold_until else None
    if comeback_of is not None:
        comeback_of = (
            Booking.objects.filter(pk=comeback_of, salon=salon).values_list("pk", flat=True).first()
        )
    booking = Booking(
        salon=salon,
        customer=customer,
        service_id=placements[0].service_id,
        staff_id=placements[0].staff_id,
        price=sum(part.service.price for part in parts),
        currency=salon.currency,
        source=source,
        notes=notes,
        status=Status.PENDING_PAYMENT if hold_until else Status.CONFIRMED,
        hold_expires_at=hold_until,
        confirmed_at=None if hold_until else now,
        created_by=_user(actor),
        comeback_of_id=comeback_of,
        **_span(placements),
    )
    holds_cleared = False
    for attempt in range(4):
        booking.pk = None
        booking._state.adding = True
        rows = _busy_time(booking, placements)
        try:
            with transaction.atomic():
                _lock_time(rows)
                if connection.vendor != "postgresql":
                    _claim_time(rows=rows, now=now)
                booking.save()
                items = BookingItem.objects.bulk_create(
                    _items(booking, parts, placements, deposits)
                )
                BusyTime.objects.bulk_create(_busy_time(booking, placements))
                booking_event(booking, "created", actor=actor, status=booking.status)
                customer_touch(customer=customer, at=now)
                availability_changed(salon.pk)
            _items_known(booking, items)
            return booking
        except IntegrityError as error:
            if _is_overlap(error):
                # The exclusion constraint said no. A lapsed hold may be what still holds
                # the time: expire such holds, then try once more; otherwise it is taken.
                if not holds_cleared and _expire_lapsed_holds(rows=rows, now=now):
                    holds_cleared = True
                    continue
                raise SlotTaken() from error
            if "booking_unique_reference" not in str(error) or attempt == 3:
                raise
            # One in a billion: the reference drawn is the salon's already. Draw again.
            booking.reference = new_reference()
    raise AssertionError("unreachable")


def booking_parts(booking: Booking) -> list[VisitPart]:
    """What the booking asked for, to place it again (a move)."""
    return [
        VisitPart(item.service, item.person, item.guest)
        for item in booking.items.select_related("service").order_by("position")
    ]


def _locked(booking: Booking) -> Booking:
    # The booking's row only, and FOR NO KEY UPDATE: rows that merely point at it (events,
    # payments, messages being written by a sweep) do not wait for it, nor it for them.
    return (
        Booking.objects.select_for_update(no_key=True, of=("self",))
        .select_related("salon", "service", "customer", "staff")
        .get(pk=booking.pk)
    )


class TransitionRefused(ValidationError):
    pass


def booking_confirm(*, booking: Booking, actor: Actor = None, by: str = "system") -> Booking:
    """A held booking is paid for: confirmed. Confirming twice changes nothing."""
    with transaction.atomic():
        locked = _locked(booking)
        if locked.status == Status.CONFIRMED:
            return locked
        if locked.status != Status.PENDING_PAYMENT:
            raise TransitionRefused(_("This booking can no longer be confirmed."))
        locked.status, locked.confirmed_at, locked.hold_expires_at = (
            Status.CONFIRMED,
            timezone.now(),
            None,
        )
        locked.save(update_fields=["status", "confirmed_at", "hold_expires_at"])
        booking_event(locked, "confirmed", actor=actor, by=by)
    return locked


def booking_release(*, booking: Booking, reason: str) -> Booking:
    """A hold given up before anything was paid (the payment could not even start): the
    booking expires now and its time is free."""
    with transaction.atomic():
        locked = _locked(booking)
        if locked.status != Status.PENDING_PAYMENT:
            return locked
        locked.status, locked.expired_at = Status.EXPIRED, timezone.now()
        locked.save(update_fields=["status", "expired_at"])
        booking_event(locked, "released", by="system", reason=reason)
        availability_changed(locked.salon_id)
    return locked


def booking_reinstate(*, booking: Booking) -> bool:
    """A payment came in for a booking whose hold had lapsed: take the time back if it is
    still free. False when someone else has it (the exclusion constraint decides)."""
    try:
        with transaction.atomic():
            locked = _locked(booking)
            if locked.status == Status.CONFIRMED:
                return True
            if locked.status != Status.EXPIRED:
                return False
            _lock_time(list(BusyTime.objects.filter(booking=locked)))
            if (
                connection.vendor != "postgresql"
                and _taken(list(BusyTime.objects.filter(booking=locked)), locked.pk).exists()
            ):
                return False
            locked.status, locked.confirmed_at, locked.hold_expires_at = (
                Status.CONFIRMED,
                timezone.now(),
                None,
            )
            locked.save(update_fields=["status", "confirmed_at", "hold_expires_at"])
            booking_event(locked, "reinstated", by="system")
            availability_changed(locked.salon_id)
    except IntegrityError as error:
        if _is_overlap(error):
            return False
        raise
    return True


def booking_cancel(
    *,
    booking: Booking,
    actor: Actor = None,
    by_salon: bool = False,
    reason: str = "",
) -> Booking:
    """Cancel a held or confirmed booking; its time is free at once."""
    with transaction.atomic():
        locked = _locked(booking)
        if locked.status == Status.CANCELLED:
            return locked
        if locked.status not in ACTIVE_STATUSES:
            raise TransitionRefused(_("Only a held or confirmed booking can be cancelled."))
        if not by_salon and locked.start <= timezone.now():
            raise TransitionRefused(_("This appointment has started; please call the salon."))
        locked.status, locked.cancelled_at = Status.CANCELLED, timezone.now()
        locked.cancelled_by_salon, locked.cancellation_reason = by_salon, reason[:300]
        locked.cancelled_by = _user(actor)
        locked.save(
            update_fields=[
                "status",
                "cancelled_at",
                "cancelled_by_salon",
                "cancellation_reason",
                "cancelled_by",
            ]
        )
        booking_event(
            locked, "cancelled", actor=actor, by="staff" if by_salon else None, reason=reason[:300]
        )
        availability_changed(locked.salon_id)
    return locked


def booking_reschedule(
    *,
    booking: Booking,
    start: dt.datetime,
    staff: StaffMember | None = None,
    actor: Actor = None,
    now: dt.datetime | None = None,
    rebook: bool = False,
    hold_until: dt.datetime | None = None,
    cancellation_window: dt.timedelta | None = None,
) -> Booking:
    """Move the booking (same id, same token) to another offered slot; the old time is free.

    `cancellation_window`: the salon's free-cancellation window. A booking moved once its
    deadline (start less the window) has passed keeps that deadline: a move never reopens
    the window (DESIGN.md, "Rules a client must not be able to get around").

    `rebook`: the booking was cancelled with credit (or its rebooking lapsed unpaid) and
    comes back at the new time, a new appointment, confirmed, or held until `hold_until`
    while a balance is paid.
    """
    now = now or timezone.now()
    movable = (Status.CANCELLED, Status.EXPIRED) if rebook else ACTIVE_STATUSES
    if booking.status not in movable:
        raise TransitionRefused(_("Only a held or confirmed booking can be moved."))
    if booking.start <= now and not rebook:
        raise TransitionRefused(_("This appointment has started; please call the salon."))
    salon = booking.salon
    parts = booking_parts(booking)
    placements = _placed(
        salon=salon,
        parts=parts,
        start=start,
        staff=staff,
        now=now,
        ignore_booking=booking.pk,
        keep_staff=booking.staff_id,
    )
    try:
        with transaction.atomic():
            locked = _locked(booking)
            if locked.status not in movable:
                raise TransitionRefused(_("Only a held or confirmed booking can be moved."))
            rows = _busy_time(locked, placements)
            _lock_time(rows)
            _claim_time(rows=rows, now=now, ignore_booking=locked.pk)
            old = {"start": locked.start.isoformat(), "staff": locked.staff_id}
            old_start = locked.start
            for name, value in _span(placements).items():
                setattr(locked, name, value)
            locked.staff_id = placements[0].staff_id
            fields = ["start", "end", "staff", "busy_start", "busy_end"]
            if rebook:
                locked.status = Status.PENDING_PAYMENT if hold_until else Status.CONFIRMED
                locked.hold_expires_at = min(hold_until, start) if hold_until else None
                locked.confirmed_at = None if hold_until else now
                locked.cancelled_at, locked.cancellation_reason = None, ""
                locked.expired_at, locked.cancellation_deadline = None, None
                fields += [
                    "status",
                    "hold_expires_at",
                    "confirmed_at",
                    "cancelled_at",
                    "cancellation_reason",
                    "expired_at",
                    "cancellation_deadline",
                ]
            elif (
                cancellation_window is not None
                and locked.cancellation_deadline is None
                and now > old_start - cancellation_window
            ):
                locked.cancellation_deadline = old_start - cancellation_window
                fields.append("cancellation_deadline")
            if not rebook and locked.hold_expires_at and locked.hold_expires_at > start:
                # A held booking moved sooner: its hold still ends by the start.
                locked.hold_expires_at = start
                fields.append("hold_expires_at")
            BusyTime.objects.filter(booking=locked).delete()
            locked.save(update_fields=fields)
            for item, placement in zip(locked.items.order_by("position"), placements, strict=True):
                item.staff_id, item.start, item.end = (
                    placement.staff_id,
                    placement.start,
                    placement.end,
                )
                item.resource_id, item.resource_unit = placement.resource or (None, None)
                item.save(update_fields=["staff", "start", "end", "resource", "resource_unit"])
            BusyTime.objects.bulk_create(_busy_time(locked, placements))
            booking_event(
                locked,
                "rebooked" if rebook else "rescheduled",
                actor=actor,
                old=old,
                new={"start": start.isoformat(), "staff": locked.staff_id},
            )
            availability_changed(locked.salon_id)
    except IntegrityError as error:
        if _is_overlap(error):
            raise SlotTaken() from error
        raise
    return locked


def _staff_transition(booking: Booking, to: str, stamp: str, actor: Actor) -> Booking:
    with transaction.atomic():
        locked = _locked(booking)
        if locked.status == to:
            return locked
        if locked.status != Status.CONFIRMED:
            raise TransitionRefused(_("Only a confirmed booking can be marked so."))
        if to == Status.NO_SHOW and locked.start > timezone.now():
            raise TransitionRefused(_("A client is a no-show only once the appointment began."))
        if to == Status.NO_SHOW and locked.arrived_at is not None:
            raise TransitionRefused(_("The client arrived: this is not a no-show."))
        locked.status = to
        setattr(locked, stamp, timezone.now())
        locked.save(update_fields=["status", stamp])
        booking_event(locked, to, actor=actor, by="staff")
        availability_changed(locked.salon_id)
    return locked


def booking_arrive(
    *, booking: Booking, actor: Actor = None, now: dt.datetime | None = None
) -> Booking:
    """The client checked in at the desk: a confirmed booking of today (in the salon), or
    one already begun, is stamped as arrived. It stays confirmed (it still holds its
    time); arriving twice changes nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(booking)
        if locked.arrived_at is not None:
            return locked
        if locked.status != Status.CONFIRMED:
            raise TransitionRefused(_("Only a confirmed booking can be checked in."))
        tz = locked.salon.tz
        if locked.start > now and locked.start.astimezone(tz).date() != now.astimezone(tz).date():
            raise TransitionRefused(_("A client is checked in on the day of the appointment."))
        locked.arrived_at = now
        locked.save(update_fields=["arrived_at"])
        booking_event(locked, "arrived", actor=actor, by="staff")
    return locked


def booking_confirm_by_client(*, booking: Booking, now: dt.datetime | None = None) -> Booking:
    """The client said she will come (a text reply): a held or confirmed booking that has
    not begun is stamped once; saying it again changes nothing. Raises TransitionRefused
    for a booking that is no longer ahead."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(booking)
        if locked.confirmed_by_client_at is not None:
            return locked
        if locked.status not in ACTIVE_STATUSES or locked.start <= now:
            raise TransitionRefused(_("This appointment is no longer ahead."))
        locked.confirmed_by_client_at = now
        locked.save(update_fields=["confirmed_by_client_at"])
        booking_event(locked, "client_confirmed", by="client")
    return locked


def booking_complete(*, booking: Booking, actor: Actor = None) -> Booking:
    return _staff_transition(booking, Status.COMPLETED, "completed_at", actor)


def booking_mark_no_show(*, booking: Booking, actor: Actor = None) -> Booking:
    return _staff_transition(booking, Status.NO_SHOW, "no_show_at", actor)


def holds_expire(*, salon: Salon, now: dt.datetime | None = None) -> list[int]:
    """Expire the salon's lapsed holds (beat sweep). Returns the ids it expired."""
    now = now or timezone.now()
    with transaction.atomic():
        lapsed = list(
            Booking.objects.select_for_update(skip_locked=True, no_key=True)
            # A hold taken before holds ended by the start lapses at the start too.
            .filter(Q(hold_expires_at__lte=now) | Q(start__lte=now), status=Status.PENDING_PAYMENT)
            .values_list("pk", flat=True)
        )
        Booking.objects.filter(pk__in=lapsed, status=Status.PENDING_PAYMENT).update(
            status=Status.EXPIRED, expired_at=now
        )
        for pk in lapsed:
            BookingEvent.objects.create(
                salon_id=salon.pk, booking_id=pk, kind="expired", by="system"
            )
        if lapsed:
            availability_changed(salon.pk)
            events_recorded(salon.pk)
    return lapsed


def booking_revoke_links(*, booking: Booking) -> None:
    """Links sent before stop working (a new manage token is drawn)."""
    Booking.objects.filter(pk=booking.pk).update(manage_nonce=new_nonce())


# The catalogue ---------------------------------------------------------------------


def catalogue_service_save(
    *,
    salon: Salon,
    service: Service | None,
    addons: list[Service] | None = None,
    **fields: Any,
) -> Service:
    """A new service, or `service` changed; `addons`, the services suggested with it."""
    service = service or Service(salon=salon)
    for name, value in fields.items():
        setattr(service, name, value)
    service.full_clean()  # the deposit override among the rest: `Rule.parse` (models.py)
    if service.resource_kind is not None and service.resource_kind.salon_id != salon.pk:
        raise ValidationError({"resource_kind": [_("No such resource kind.")]})
    if service.category is not None and service.category.salon_id != salon.pk:
        raise ValidationError({"category": [_("No such category.")]})
    with transaction.atomic():
        service.save()
        if addons is not None:
            if any(a.salon_id != salon.pk or a.pk == service.pk for a in addons):
                raise ValidationError({"addons": [_("Add-ons are other services of the salon.")]})
            service.addons.set(addons)
        catalogue_changed(salon.pk)
    return service


def _delete_or_retire(obj: Service | StaffMember | Resource, **booked_by: Any) -> None:
    """Delete; or, when bookings name it, make it inactive: the history keeps it."""
    if BookingItem.objects.filter(**booked_by).exists():
        obj.active = False
        obj.save(update_fields=["active"])
    else:
        obj.delete()
    catalogue_changed(obj.salon_id)


def catalogue_service_delete(*, service: Service) -> None:
    _delete_or_retire(service, service=service)


def service_category_save(
    *, salon: Salon, category: ServiceCategory | None, **fields: Any
) -> ServiceCategory:
    """A heading of the salon's page (cuts, colours, care) and its place among them."""
    category = category or ServiceCategory(salon=salon)
    for name, value in fields.items():
        setattr(category, name, value)
    category.full_clean()
    category.save()
    return category


def service_category_delete(*, category: ServiceCategory) -> None:
    """Its services stay, listed under no heading."""
    category.delete()


def resource_kind_save(*, salon: Salon, kind: ResourceKind | None, **fields: Any) -> ResourceKind:
    kind = kind or ResourceKind(salon=salon)
    for name, value in fields.items():
        setattr(kind, name, value)
    kind.full_clean()
    kind.save()
    catalogue_changed(salon.pk)
    return kind


def resource_kind_delete(*, kind: ResourceKind) -> None:
    """Only a kind no service needs and no resource is of."""
    if (
        Resource.objects.filter(kind=kind).exists()
        or Service.objects.filter(resource_kind=kind).exists()
    ):
        raise ValidationError(_("Resources or services are of this kind: change them first."))
    kind.delete()
    catalogue_changed(kind.salon_id)


def resource_save(*, salon: Salon, resource: Resource | None, **fields: Any) -> Resource:
    """A room, a chair, a basin, a machine: `quantity` units of a kind."""
    resource = resource or Resource(salon=salon)
    for name, value in fields.items():
        setattr(resource, name, value)
    resource.full_clean()
    if resource.kind.salon_id != salon.pk:
        raise ValidationError({"kind": [_("No such resource kind.")]})
    resource.save()
    catalogue_changed(salon.pk)
    return resource


def resource_delete(*, resource: Resource) -> None:
    _delete_or_retire(resource, resource=resource)


def staff_save(
    *,
    salon: Salon,
    staff: StaffMember | None,
    service_ids: list[int] | None = None,
    **fields: Any,
) -> StaffMember:
    staff = staff or StaffMember(salon=salon)
    if "photo" in fields:  # a new photo is resized before it is stored
        fields["photo"] = picture_prepared(fields["photo"], fit=PORTRAIT, name="staff")
    for name, value in fields.items():
        setattr(staff, name, value)
    staff.full_clean()
    with transaction.atomic():
        staff.save()
        if service_ids is not None:
            services = list(Service.objects.filter(pk__in=set(service_ids)))
            if len(services) != len(set(service_ids)):
                raise ValidationError({"service_ids": [_("Some of these services do not exist.")]})
            links = StaffService.objects.filter(staff=staff)
            links.exclude(service__in=services).delete()
            have = set(links.values_list("service_id", flat=True))
            StaffService.objects.bulk_create(
                StaffService(salon=salon, staff=staff, service=s)
                for s in services
                if s.pk not in have
            )
        catalogue_changed(salon.pk)
    return staff


def staff_delete(*, staff: StaffMember) -> None:
    _delete_or_retire(staff, staff=staff)


def staff_hours_set(*, staff: StaffMember, ranges: list[dict[str, Any]]) -> list[WorkingHours]:
    """Replace the staff member's weekly hours with these ranges."""
    with transaction.atomic():
        WorkingHours.objects.filter(staff=staff).delete()
        catalogue_changed(staff.salon_id)
        return WorkingHours.objects.bulk_create(
            WorkingHours(
                salon_id=staff.salon_id,
                staff=staff,
                weekday=r["weekday"],
                start=r["start"],
                end=r["end"],
            )
            for r in sorted(ranges, key=lambda r: (r["weekday"], r["start"]))
        )


def time_off_save(
    *,
    salon: Salon,
    staff: StaffMember | None,
    start: dt.datetime,
    end: dt.datetime,
    reason: str = "",
    time_off: TimeOff | None = None,
) -> TimeOff:
    """A new time off, or `time_off` changed."""
    time_off = time_off or TimeOff(salon=salon)
    time_off.staff, time_off.start, time_off.end, time_off.reason = staff, start, end, reason
    time_off.save()
    availability_changed(salon.pk)
    return time_off


def time_off_delete(*, time_off: TimeOff) -> None:
    """The time off goes; its time is free again (the waitlist hears of it)."""
    with transaction.atomic():
        staff_ids = [time_off.staff_id] if time_off.staff_id else []
        start, end = time_off.start, time_off.end
        time_off.delete()
        time_freed(time_off.salon_id, staff_ids, start, end, "time_off")
    availability_changed(time_off.salon_id)
