"""Legal interest on money paid in advance (Code de la consommation, L214-2).

A sum a consumer pays in advance bears interest at the legal rate from three months after
it was paid until the service is performed (or the sum handed back). A deposit paid four
months before the appointment has earned a month of interest by then; the salon owes it,
so it is deducted from what the client pays at the appointment and stated wherever the
money is (the manage page, the desk).

Interest is simple, counted in days on a 365-day year (as French courts count it), on each
payment the salon still holds, from the day three calendar months after it was paid to
the appointment's day, and rounded to the cent, half up.
"""

import calendar
import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

from bookings.models import ACTIVE_STATUSES, Booking
from deposits.models import Payment, PaymentStatus

# The delay after which money paid in advance bears interest.
INTEREST_AFTER_MONTHS = 3


def legal_rate() -> Decimal:
    """The legal interest rate in force, in percent a year (settings.LEGAL_INTEREST_RATE)."""
    return Decimal(str(settings.LEGAL_INTEREST_RATE))


def months_after(day: dt.date, months: int) -> dt.date:
    """The same day `months` calendar months later (the month's last day when it has
    fewer days: three months after 30 November is 28 or 29 February)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def interest_on(amount: int, *, paid_on: dt.date, until: dt.date, rate: Decimal) -> int:
    """Interest in cents on `amount` cents paid on `paid_on` and held until `until`."""
    start = months_after(paid_on, INTEREST_AFTER_MONTHS)
    days = (until - start).days
    if days <= 0 or amount <= 0 or rate <= 0:
        return 0
    value = Decimal(amount) * rate / Decimal(100) * Decimal(days) / Decimal(365)
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Interest:
    amount: int  # cents
    rate: Decimal  # percent a year
    since: dt.date  # the first day it runs (three months after the earliest payment)
    until: dt.date  # the appointment's day


def booking_interest(booking: Booking, payments: list[Payment] | None = None) -> Interest | None:
    """The legal interest the salon owes on what it holds for the booking, counted to the
    appointment's day (in the salon's calendar), or None when there is none."""
    if payments is None:
        payments = list(Payment.objects.filter(booking=booking))
    tz = booking.salon.tz
    until = booking.start.astimezone(tz).date()
    rate = legal_rate()
    held = [
        p
        for p in payments
        if p.status == PaymentStatus.SUCCEEDED
        and not p.outcome
        and p.replaced_by_id is None
        and p.paid_at is not None
    ]
    amount = sum(
        interest_on(p.amount, paid_on=p.paid_at.astimezone(tz).date(), until=until, rate=rate)
        for p in held
        if p.paid_at is not None
    )
    if not amount:
        return None
    first = min(p.paid_at.astimezone(tz).date() for p in held if p.paid_at is not None)
    return Interest(
        amount=amount,
        rate=rate,
        since=months_after(first, INTEREST_AFTER_MONTHS),
        until=until,
    )


def interest_and_balance(
    booking: Booking, payments: list[Payment] | None = None
) -> tuple[Interest | None, int]:
    """The legal interest owed on what the salon holds for the booking (or None), and what
    the client still pays at the appointment: the price, less what the salon holds, less
    that interest (never below zero); nothing for a booking that is no longer to come
    (cancelled, expired, completed, missed). The payments are read once, when not given."""
    if booking.status not in ACTIVE_STATUSES:
        return None, 0
    if payments is None:
        payments = list(Payment.objects.filter(booking=booking))
    held = sum(
        p.amount
        for p in payments
        if p.status == PaymentStatus.SUCCEEDED and not p.outcome and p.replaced_by_id is None
    )
    interest = booking_interest(booking, payments)
    return interest, max(booking.price - held - (interest.amount if interest else 0), 0)
