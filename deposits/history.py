"""A salon's past appointments brought in at once: a salon coming from other software
keeps its history (and the demo salon gets a year of it). Each past visit is written as
it ended (honoured, missed, cancelled in time or late), with the deposit it was booked
with and what became of it: kept after a no-show, refunded or turned into credit after
a cancellation, that credit spent on the client's next visit when she used it.

Past appointments hold no time (none is active), so they are written in bulk: thousands
of rows in a few statements, in one transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction

from bookings.models import (
    Booking,
    BookingItem,
    Service,
    StaffMember,
    Status,
    new_reference,
)
from customers.models import Customer
from tenants.models import Salon

from .models import CreditEntry, CreditKind, Payment, PaymentKind, PaymentOutcome, PaymentStatus

# How a past visit ended.
HONOURED, MISSED, CANCELLED_IN_TIME, CANCELLED_LATE = (
    "honoured",
    "missed",
    "cancelled_in_time",
    "cancelled_late",
)


@dataclass(frozen=True)
class PastVisit:
    customer: Customer
    service: Service
    staff: StaffMember
    start: dt.datetime
    booked_at: dt.datetime
    source: str
    ended: str  # HONOURED, MISSED, CANCELLED_IN_TIME or CANCELLED_LATE
    cancelled_at: dt.datetime | None = None
    paid: int = 0  # the deposit (or the full price) taken when booking, in cents
    full: bool = False  # the client paid the full price
    money: str = ""  # for a cancellation: PaymentOutcome.REFUNDED or CREDITED
    credit_used: bool = False  # the credit it left was spent on her next visit


def past_visits_import(
    *, salon: Salon, visits: Sequence[PastVisit], credit_valid_days: int = 90
) -> list[Booking]:
    """Write `visits` (all over, in the salon's past) with their money, in one transaction."""
    with transaction.atomic():
        bookings = [_booking(salon, visit) for visit in visits]
        # References are drawn at random, unique per salon: at this scale (a large
        # history is a hundred thousand visits) two draws meet; each is drawn again.
        taken = set(Booking.objects.filter(salon=salon).values_list("reference", flat=True))
        for booking in bookings:
            while booking.reference in taken:
                booking.reference = new_reference()
            taken.add(booking.reference)
        bookings = Booking.objects.bulk_create(bookings)
        for booking, visit in zip(bookings, visits, strict=True):
            booking.created_at = visit.booked_at  # bulk_create stamped the present
        Booking.objects.bulk_update(bookings, ["created_at"], batch_size=1000)
        BookingItem.objects.bulk_create(
            BookingItem(
                salon=salon,
                booking=booking,
                position=0,
                service=booking.service,
                staff=booking.staff,
                start=booking.start,
                end=booking.end,
                price=booking.price,
            )
            for booking in bookings
        )
        _money(salon, list(zip(bookings, visits, strict=True)), credit_valid_days)
    return bookings


def _booking(salon: Salon, visit: PastVisit) -> Booking:
    service = visit.service
    start = visit.start.astimezone(dt.UTC)
    end = start + dt.timedelta(minutes=service.duration_minutes)
    booking = Booking(
        salon=salon,
        customer=visit.customer,
        service=service,
        staff=visit.staff,
        start=start,
        end=end,
        busy_start=start - dt.timedelta(minutes=service.buffer_before_minutes),
        busy_end=end + dt.timedelta(minutes=service.buffer_after_minutes),
        price=service.price,
        currency=salon.currency,
        source=visit.source,
        confirmed_at=visit.booked_at,
    )
    if visit.ended == HONOURED:
        booking.status, booking.completed_at = Status.COMPLETED, end
    elif visit.ended == MISSED:
        booking.status, booking.no_show_at = Status.NO_SHOW, start + dt.timedelta(minutes=20)
    else:
        booking.status, booking.cancelled_at = Status.CANCELLED, visit.cancelled_at or start
    return booking


def _money(salon: Salon, rows: list[tuple[Booking, PastVisit]], valid_days: int) -> None:
    paid = [(booking, visit) for booking, visit in rows if visit.paid]
    payments = Payment.objects.bulk_create(
        Payment(
            salon=salon,
            booking=booking,
            kind=PaymentKind.FULL if visit.full else PaymentKind.DEPOSIT,
            amount=visit.paid,
            currency=salon.currency,
            status=PaymentStatus.SUCCEEDED,
            provider="import",
            paid_at=visit.booked_at,
            outcome={
                MISSED: PaymentOutcome.FORFEITED,
                CANCELLED_LATE: visit.money or PaymentOutcome.CREDITED,
                CANCELLED_IN_TIME: visit.money or PaymentOutcome.REFUNDED,
            }.get(visit.ended, ""),
        )
        for booking, visit in paid
    )
    for payment, (_booking, visit) in zip(payments, paid, strict=True):
        payment.created_at = payment.updated_at = visit.booked_at
    Payment.objects.bulk_update(payments, ["created_at", "updated_at"], batch_size=1000)

    # Credit: a grant for each deposit turned into credit, and its use on the client's
    # next honoured visit when she spent it (written once the grants have their ids).
    honoured: dict[int, list[Booking]] = {}
    for booking, visit in rows:
        if visit.ended == HONOURED:
            honoured.setdefault(booking.customer_id, []).append(booking)
    grants: list[tuple[CreditEntry, dt.datetime, Booking | None]] = []
    for payment, (booking, visit) in zip(payments, paid, strict=True):
        if payment.outcome != PaymentOutcome.CREDITED:
            continue
        granted_at = visit.cancelled_at or booking.start
        expires_at = granted_at + dt.timedelta(days=valid_days)
        spent_on = next(
            (b for b in honoured.get(booking.customer_id, []) if granted_at < b.start < expires_at),
            None,
        )
        grant = CreditEntry(
            salon=salon,
            customer_id=booking.customer_id,
            kind=CreditKind.GRANTED,
            amount=payment.amount,
            currency=salon.currency,
            booking=booking,
            payment=payment,
            expires_at=expires_at,
        )
        grants.append((grant, granted_at, spent_on if visit.credit_used else None))
    CreditEntry.objects.bulk_create([grant for grant, _at, _on in grants])
    uses = [
        (
            CreditEntry(
                salon=salon,
                customer_id=grant.customer_id,
                kind=CreditKind.USED,
                amount=grant.amount,
                currency=salon.currency,
                grant_id=grant.pk,
                booking=spent_on,
            ),
            spent_on.start,
        )
        for grant, _at, spent_on in grants
        if spent_on is not None
    ]
    CreditEntry.objects.bulk_create([use for use, _at in uses])
    stamped = [(grant, at) for grant, at, _on in grants] + uses
    for entry, at in stamped:
        entry.created_at = at
    CreditEntry.objects.bulk_update([e for e, _at in stamped], ["created_at"], batch_size=1000)
