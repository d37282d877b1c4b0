"""What deposits recovered for a salon: no-shows, what was kept, refunded or credited, and
the credit still owed, by month and by ramp step (the owner's dashboard in the admin)."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.utils import timezone

from bookings.models import Booking, Status
from core.dates import today_in
from tenants.models import Salon

from .credit import credit_live, credit_total
from .models import CreditEntry, Payment, PaymentOutcome, PaymentStatus
from .selectors import policy_get


@dataclass
class Figures:
    label: str
    appointments: int = 0  # that took place or were missed: completed, no-show
    no_shows: int = 0
    cancelled: int = 0
    paid: int = 0  # deposits and full prepayments taken, in cents
    kept: int = 0  # kept by the salon: a no-show's deposit, a late cancellation forfeited
    refunded: int = 0
    credited: int = 0

    @property
    def no_show_rate(self) -> float | None:
        return self.no_shows / self.appointments if self.appointments else None


@dataclass
class Recovery:
    currency: str
    months: list[Figures] = field(default_factory=list)
    steps: list[Figures] = field(default_factory=list)
    credit_outstanding: int = 0


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def deposits_recovered(
    *, salon: Salon, months: int = 12, now: dt.datetime | None = None
) -> Recovery:
    """The last `months` calendar months (salon-local), the current one included.

    Two queries for the bookings and their payments, one for the credit."""
    now = now or timezone.now()
    tz = salon.tz
    first = _month_start(today_in(tz, now))
    for _ in range(months - 1):
        first = _month_start(first - dt.timedelta(days=1))
    since = dt.datetime.combine(first, dt.time(), tzinfo=tz)
    bookings = list(
        Booking.objects.filter(start__gte=since, start__lt=now)
        .exclude(status=Status.EXPIRED)
        .values_list("pk", "start", "created_at", "status")
    )
    payments: defaultdict[int, list[tuple[int, str]]] = defaultdict(list)
    for booking_id, amount, outcome in Payment.objects.filter(
        booking_id__in=[b[0] for b in bookings], status=PaymentStatus.SUCCEEDED
    ).values_list("booking_id", "amount", "outcome"):
        payments[booking_id].append((amount, outcome))

    _policy, ramp = policy_get(salon=salon)
    steps = sorted(ramp, key=lambda s: s.starts_on)
    by_month: dict[dt.date, Figures] = {}
    month = first
    while month <= today_in(tz, now):
        by_month[month] = Figures(label=month.strftime("%Y-%m"))
        month = _month_start(month + dt.timedelta(days=32))
    by_step = {None: Figures(label="base")} | {s.pk: Figures(label=str(s.starts_on)) for s in steps}

    for pk, start, created_at, status in bookings:
        booked_on = created_at.astimezone(tz).date()
        step = next((s.pk for s in reversed(steps) if s.starts_on <= booked_on), None)
        for figures in (by_month[_month_start(start.astimezone(tz).date())], by_step[step]):
            _count(figures, status, payments.get(pk, []))

    granted, spent = credit_live(CreditEntry.objects.all(), now)
    outstanding = credit_total(granted) - credit_total(spent)
    return Recovery(
        currency=salon.currency,
        months=list(by_month.values()),
        steps=list(by_step.values()),
        credit_outstanding=int(outstanding),
    )


def _count(figures: Figures, status: str, paid: list[tuple[int, str]]) -> None:
    if status in (Status.COMPLETED, Status.NO_SHOW):
        figures.appointments += 1
    if status == Status.NO_SHOW:
        figures.no_shows += 1
    if status == Status.CANCELLED:
        figures.cancelled += 1
    for amount, outcome in paid:
        figures.paid += amount
        if status == Status.NO_SHOW or outcome == PaymentOutcome.FORFEITED:
            figures.kept += amount
        elif outcome == PaymentOutcome.REFUNDED:
            figures.refunded += amount
        elif outcome == PaymentOutcome.CREDITED:
            figures.credited += amount
