"""Reminders before appointments, at the salon's offsets, outside its quiet hours."""

import datetime as dt

from django.db import transaction
from django.db.models import OuterRef, Subquery

from bookings.models import Booking, BookingEvent, Status
from messaging.models import Message, MessageKind, MessageStatus
from messaging.outbox.queue import message_queue
from messaging.outbox.render import booking_context, language_for
from messaging.outbox.rules import quiet_until
from tenants.models import Salon


def reminders_plan(*, salon: Salon, now: dt.datetime) -> int:
    """Each confirmed booking gets a reminder at each of the salon's offsets (hours before
    it starts), once. A reminder that comes due in quiet hours waits for their end, if that
    is still before the appointment; when several come due at once (a booking made late,
    a sweep that could not run), only the nearest one goes out."""
    offsets = sorted(set(salon.reminder_offsets_hours or []))
    if not offsets:
        return 0
    # When the client last heard of this time: its confirmation, or the notice of a move.
    moved = (
        BookingEvent.objects.filter(booking=OuterRef("pk"), kind__in=["rescheduled", "rebooked"])
        .order_by("-at")
        .values("at")[:1]
    )
    bookings = list(
        Booking.objects.filter(
            status=Status.CONFIRMED, start__gt=now, start__lte=now + dt.timedelta(hours=offsets[-1])
        )
        .annotate(moved_at=Subquery(moved))
        .select_related("salon", "customer", "service", "staff")
    )
    if not bookings:
        return 0
    known = set(
        Message.objects.filter(booking__in=bookings, kind=MessageKind.REMINDER).values_list(
            "key", flat=True
        )
    )
    planned = 0
    for booking in bookings:
        with transaction.atomic():
            planned += _remind(booking, offsets, known, now)
    return planned


def _told_at(booking: Booking) -> dt.datetime:
    moments = [booking.confirmed_at or booking.created_at, getattr(booking, "moved_at", None)]
    return max(m for m in moments if m is not None)


def _remind(booking: Booking, offsets: list[int], known: set[str], now: dt.datetime) -> int:
    salon = booking.salon
    stamp = int(booking.start.timestamp())
    due = [h for h in offsets if booking.start - dt.timedelta(hours=h) <= now]
    planned = 0
    for hours in due:
        key = f"reminder:{booking.pk}:{hours}h:{stamp}"
        if key in known:
            continue
        skip = ""
        if hours != due[0]:
            skip = f"Superseded by the {due[0]} h reminder."
        elif _told_at(booking) > booking.start - dt.timedelta(hours=hours):
            skip = "Booked or moved after this reminder was due: the client was just told."
        else:
            wait = quiet_until(salon, now)
            if wait is not None and wait >= booking.start:
                skip = "Quiet hours last until the appointment."
        message = _reminder(booking, key, hours, now, skip)
        planned += 1
        if message.status == MessageStatus.PENDING:
            # A reminder waiting for quiet hours to end is replaced by a nearer one.
            Message.objects.filter(
                booking=booking, kind=MessageKind.REMINDER, status=MessageStatus.PENDING
            ).exclude(pk=message.pk).update(
                status=MessageStatus.SKIPPED, status_detail="Superseded by a nearer reminder."
            )
    return planned


def _reminder(booking: Booking, key: str, hours: int, now: dt.datetime, skip: str) -> Message:
    language = language_for(booking.customer, booking.salon)
    return message_queue(
        salon=booking.salon,
        customer=booking.customer,
        kind=MessageKind.REMINDER,
        key=key,
        now=now,
        booking=booking,
        skip=skip,
        context={**booking_context(booking, language), "hours": hours},
        data={"hours": hours, "start": booking.start.isoformat()},
    )
