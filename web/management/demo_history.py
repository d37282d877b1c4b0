"""A year of the demo salon's past, so that every figure an owner looks at shows something
real on first run: appointments honoured, missed and cancelled, deposits taken from the
day the salon turned them on (six months ago), kept after no-shows, refunded or turned
into credit after cancellations, and some of that credit spent since.

The salon's rates follow what the seed articles report: about one appointment in nine
missed before deposits, one in thirty after. Written in bulk (thousands of rows in a
few statements): these appointments are over, so none holds any time; the same seed
draws the same year."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass

from bookings.models import Booking, BookingItem, Service, Source, StaffMember, Status
from customers.models import Customer
from customers.services import customer_create
from deposits.models import (
    CreditEntry,
    CreditKind,
    Payment,
    PaymentKind,
    PaymentOutcome,
    PaymentStatus,
)
from tenants.models import Salon

FIRST_NAMES = [
    "Camille",
    "Chloé",
    "Emma",
    "Inès",
    "Jade",
    "Julie",
    "Léna",
    "Louise",
    "Manon",
    "Margaux",
    "Nina",
    "Sarah",
    "Anaïs",
    "Clara",
    "Élise",
    "Lucie",
    "Mathilde",
    "Pauline",
    "Adam",
    "Arthur",
    "Gabriel",
    "Hugo",
    "Jules",
    "Louis",
    "Lucas",
    "Nathan",
    "Paul",
    "Raphaël",
    "Théo",
    "Victor",
]
LAST_NAMES = [
    "Bernard",
    "Dubois",
    "Durand",
    "Fontaine",
    "Garnier",
    "Girard",
    "Lambert",
    "Lefebvre",
    "Leroy",
    "Mercier",
    "Moreau",
    "Morel",
    "Perrin",
    "Robin",
    "Rousseau",
    "Simon",
    "Vincent",
    "Blanc",
    "Chevalier",
    "Faure",
]


@dataclass(frozen=True)
class Rates:
    no_show: float
    late_cancel: float
    early_cancel: float


BEFORE_DEPOSITS = Rates(no_show=0.11, late_cancel=0.06, early_cancel=0.07)
WITH_DEPOSITS = Rates(no_show=0.03, late_cancel=0.03, early_cancel=0.08)


def history_seed(
    *,
    salon: Salon,
    staff: Sequence[tuple[StaffMember, Sequence[Service]]],
    customers: Sequence[Customer],
    now: dt.datetime,
    days: int = 365,
    seed: int = 7,
) -> int:
    """The last `days` days of `staff`'s appointments (each with the services they offer),
    for `customers` and some forty regulars more; deposits from six months ago. Returns
    how many appointments were written."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not a secret
    tz = salon.tz
    today = now.astimezone(tz).date()
    deposits_from = (today - dt.timedelta(days=182)).replace(day=1)
    pool = list(customers) + _regulars(salon, rng, 40)
    # A few clients come back often; most now and then.
    weights = [6 if n < 12 else 1 for n in range(len(pool))]

    rows: list[tuple[Booking, str, bool]] = []  # (booking, its fate, booked with a deposit)
    for back in range(days, 0, -1):
        day = today - dt.timedelta(days=back)
        if day.weekday() in (0, 6):  # closed on Sunday and Monday
            continue
        closes = dt.time(17) if day.weekday() == 5 else dt.time(19)
        for member, offered in staff:
            at = dt.datetime.combine(day, dt.time(9), tzinfo=tz)
            end_of_day = dt.datetime.combine(day, closes, tzinfo=tz)
            while True:
                at += dt.timedelta(minutes=rng.choice((0, 0, 15, 30, 45, 60, 90)))
                service = rng.choice(offered)
                end = at + dt.timedelta(minutes=service.duration_minutes)
                if end > end_of_day:
                    break
                booked = at - dt.timedelta(days=rng.randint(1, 21), hours=rng.randint(0, 9))
                with_deposit = booked.date() >= deposits_from
                rates = WITH_DEPOSITS if with_deposit else BEFORE_DEPOSITS
                fate = _fate_drawn(rng, rates)
                booking = Booking(
                    salon=salon,
                    customer=rng.choices(pool, weights)[0],
                    service=service,
                    staff=member,
                    start=at.astimezone(dt.UTC),
                    end=end.astimezone(dt.UTC),
                    busy_start=at.astimezone(dt.UTC),
                    busy_end=(end + dt.timedelta(minutes=service.buffer_after_minutes)).astimezone(
                        dt.UTC
                    ),
                    price=service.price,
                    currency=salon.currency,
                    source=Source.PHONE if rng.random() < 0.25 else Source.ONLINE,
                    status=fate,
                    confirmed_at=booked,
                )
                booking.created_at = booked
                if fate == Status.COMPLETED:
                    booking.completed_at = end
                elif fate == Status.NO_SHOW:
                    booking.no_show_at = at + dt.timedelta(minutes=20)
                else:
                    late = fate == "late"
                    booking.status = Status.CANCELLED
                    booking.cancelled_at = at - dt.timedelta(
                        hours=rng.randint(2, 40) if late else rng.randint(50, 200)
                    )
                    if booking.cancelled_at < booked:
                        booking.cancelled_at = booked + dt.timedelta(minutes=30)
                rows.append((booking, fate, with_deposit))
                at = end + dt.timedelta(minutes=service.buffer_after_minutes)

    bookings = Booking.objects.bulk_create([booking for booking, _f, _d in rows])
    for booking, _f, _d in rows:
        booking.created_at = booking.confirmed_at or booking.start  # bulk_create: now
    Booking.objects.bulk_update(bookings, ["created_at"], batch_size=1000)
    BookingItem.objects.bulk_create(
        [
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
        ]
    )
    _money(salon, rng, rows)
    return len(bookings)


def _fate_drawn(rng: random.Random, rates: Rates) -> str:
    draw = rng.random()
    if draw < rates.no_show:
        return Status.NO_SHOW
    if draw < rates.no_show + rates.late_cancel:
        return "late"
    if draw < rates.no_show + rates.late_cancel + rates.early_cancel:
        return "early"
    return Status.COMPLETED


def _regulars(salon: Salon, rng: random.Random, count: int) -> list[Customer]:
    people = []
    for n in range(count):
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        people.append(
            customer_create(
                salon=salon,
                name=name,
                phone=f"06 {n // 100 + 20:02d} {n % 100:02d} {rng.randint(10, 99)} "
                f"{rng.randint(10, 99)}",
                consents={"reminders": True, "marketing": rng.random() < 0.5},
            )
        )
    return people


def _money(salon: Salon, rng: random.Random, rows: list[tuple[Booking, str, bool]]) -> None:
    """Deposits (20 %, at least €5; sometimes the full price) on the appointments booked
    with deposits on, and what became of them; a late cancellation's deposit becomes
    credit, of which about half is spent on a later visit."""
    payments: list[Payment] = []
    for booking, fate, with_deposit in rows:
        if not with_deposit:
            continue
        full = rng.random() < 0.1
        amount = booking.price if full else min(booking.price, max(500, booking.price // 5))
        outcome = {
            Status.NO_SHOW: PaymentOutcome.FORFEITED,
            "late": PaymentOutcome.CREDITED,
            "early": rng.choice((PaymentOutcome.REFUNDED, PaymentOutcome.CREDITED)),
        }.get(fate, "")
        payment = Payment(
            salon=salon,
            booking=booking,
            kind=PaymentKind.FULL if full else PaymentKind.DEPOSIT,
            amount=amount,
            currency=salon.currency,
            status=PaymentStatus.SUCCEEDED,
            provider="test",
            paid_at=booking.created_at,
            outcome=outcome,
        )
        payments.append(payment)
    Payment.objects.bulk_create(payments)
    for payment in payments:
        payment.created_at = payment.updated_at = payment.paid_at or payment.booking.start
    Payment.objects.bulk_update(payments, ["created_at", "updated_at"], batch_size=1000)

    # (entry, when it was written): bulk_create stamps `created_at` with the present.
    grants: list[tuple[CreditEntry, dt.datetime]] = []
    for payment in payments:
        if payment.outcome != PaymentOutcome.CREDITED:
            continue
        booking = payment.booking
        cancelled_at = booking.cancelled_at or booking.start
        grant = CreditEntry(
            salon=salon,
            customer=booking.customer,
            kind=CreditKind.GRANTED,
            amount=payment.amount,
            currency=salon.currency,
            booking=booking,
            payment=payment,
            expires_at=cancelled_at + dt.timedelta(days=90),
        )
        grants.append((grant, cancelled_at))
    visits: dict[int, list[Booking]] = {}
    for booking, fate, _dep in rows:
        if fate == Status.COMPLETED:
            visits.setdefault(booking.customer_id, []).append(booking)
    uses: list[tuple[CreditEntry, dt.datetime]] = []
    for grant, granted_at in grants:
        after = [
            b
            for b in visits.get(grant.customer_id, [])
            if granted_at < b.created_at < (grant.expires_at or granted_at)
        ]
        if after and rng.random() < 0.5:
            use = CreditEntry(
                salon=salon,
                customer_id=grant.customer_id,
                kind=CreditKind.USED,
                amount=grant.amount,
                currency=salon.currency,
                grant=grant,
                booking=after[0],
            )
            uses.append((use, after[0].created_at))
    CreditEntry.objects.bulk_create([grant for grant, _at in grants])
    for use, _at in uses:
        use.grant_id = use.grant.pk if use.grant else None  # saved just now
    CreditEntry.objects.bulk_create([use for use, _at in uses])
    for entry, at in grants + uses:
        entry.created_at = at
    CreditEntry.objects.bulk_update(
        [entry for entry, _at in grants + uses], ["created_at"], batch_size=1000
    )
