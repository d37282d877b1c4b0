"""The figures an owner acts on, by month and by staff member: no-shows and late
cancellations before and after deposits were turned on or raised, the deposits taken,
kept, refunded or turned into credit, the credit still owed and what of it lapses soon,
and the cancellations that were rebooked.

Every figure is counted in SQL, grouped by month, staff member and period of the policy
(the ramp's steps), so the number of queries is the same for ten bookings or a hundred
thousand. A closed month (before the current one) is counted once and kept, exact, in
its summary (deposits/summaries.py), read instead until a write marks it; the current
month is always counted. The requests answered and the invitations to come back are
added by support/figures.py (support comes after deposits and messaging)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import (
    Case,
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Least
from django.utils import timezone

from bookings.models import Booking, StaffMember, Status
from bookings.rules import Rule
from core.dates import today_in
from tenants.models import Salon

from .credit import credit_live
from .models import CreditEntry, CreditKind, Payment, PaymentOutcome, PaymentStatus
from .selectors import policy_get
from .summaries import MonthSummaries, signature_of

EXPIRING_DAYS = 30


@dataclass
class Row:
    """One line of a table: a month, a staff member or a period of the policy."""

    key: object
    label: str
    appointments: int = 0  # that took place or were missed: completed, no-show
    no_shows: int = 0
    cancelled: int = 0  # by anyone
    client_cancelled: int = 0  # by the client (the salon's own never count as late)
    late_cancelled: int = 0  # by the client, after the free-cancellation deadline
    rebooked: int = 0  # cancellations the client rebooked (or that spent their credit)
    paid: int = 0  # deposits and full prepayments taken, in cents
    kept: int = 0  # kept by the salon: a no-show's deposit, a late cancellation forfeited
    refunded: int = 0
    credited: int = 0
    # Filled by support/figures.py.
    requests: int = 0
    answered: int = 0
    response_median: dt.timedelta | None = None
    nudges: int = 0  # invitations to come back sent (a service's rebooking interval)
    nudges_rebooked: int = 0  # of them, followed by a booking of the client

    @property
    def no_show_rate(self) -> float | None:
        """No-shows among the appointments that took place or were missed."""
        return self.no_shows / self.appointments if self.appointments else None

    @property
    def late_cancel_rate(self) -> float | None:
        """Late cancellations among the appointments the client kept, missed or cancelled."""
        booked = self.appointments + self.client_cancelled
        return self.late_cancelled / booked if booked else None

    def add(self, other: Row) -> None:
        for name in COUNTED:
            setattr(self, name, getattr(self, name) + getattr(other, name))


COUNTED = (
    "appointments",
    "no_shows",
    "cancelled",
    "client_cancelled",
    "late_cancelled",
    "rebooked",
    "paid",
    "kept",
    "refunded",
    "credited",
)


@dataclass(frozen=True)
class Period:
    """A stretch of the policy: bookings made from `starts_on` (None: before any step)
    under `rule`; `deposit` says whether the rule asks one."""

    starts_on: dt.date | None
    rule: Rule

    @property
    def deposit(self) -> bool:
        return self.rule.kind != "none"


@dataclass
class OwnerFigures:
    currency: str
    since: dt.date  # the first month's first day, salon-local
    months: list[Row] = field(default_factory=list)
    staff: list[Row] = field(default_factory=list)
    periods: list[tuple[Period, Row]] = field(default_factory=list)
    before: Row = field(default_factory=lambda: Row(None, "before"))  # no deposit asked yet
    after: Row = field(default_factory=lambda: Row(None, "after"))  # since the first deposit
    first_deposit: Period | None = None  # the change "after" follows
    month_period: dict[object, Period] = field(default_factory=dict)  # in force on the 1st
    credit_outstanding: int = 0
    credit_expiring: int = 0  # of it, what lapses in the next EXPIRING_DAYS days
    staff_users: dict[int, int] = field(default_factory=dict)  # user id -> staff member id


@contextmanager
def no_jit() -> Iterator[None]:
    """Inside a transaction: PostgreSQL's JIT compilation off until it ends. The figures'
    aggregates over a large history cost enough for the planner to compile them, which
    takes longer (hundreds of milliseconds) than running them does."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
    yield


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def owner_figures(
    *, salon: Salon, months: int = 12, now: dt.datetime | None = None
) -> OwnerFigures:
    """The last `months` calendar months (salon-local), the current one included: the
    appointments that started in them, by month, by staff member and by period of the
    policy (when the booking was made). Ten queries (and the policy's, when not cached),
    whatever the history's size, the number of months or of staff members, or of the
    closed months' summaries read or counted again."""
    now = now or timezone.now()
    tz = salon.tz
    today = today_in(tz, now)
    first = _month_start(today)
    for _ in range(months - 1):
        first = _month_start(first - dt.timedelta(days=1))

    policy, steps = policy_get(salon=salon)
    steps = sorted(steps, key=lambda s: s.starts_on)
    periods = [Period(None, policy.rule)] + [Period(s.starts_on, s.rule) for s in steps]
    figures = OwnerFigures(currency=salon.currency, since=first)

    by_month: dict[dt.date, Row] = {}
    month = first
    while month <= today:
        by_month[month] = Row(month, month.strftime("%Y-%m"))
        month = _month_start(month + dt.timedelta(days=32))
    month_rows = list(by_month.values())

    def month_of(prefix: str) -> Case:
        """The index in `month_rows` of the month a booking starts in, in SQL: compared
        with each month's first instant (salon-local midnight, as UTC), not converted to
        the salon's time zone row by row."""
        return Case(
            *[
                When(
                    **{f"{prefix}start__gte": dt.datetime.combine(day, dt.time(), tz)},
                    then=Value(index),
                )
                for index, day in reversed(list(enumerate(by_month)))
                if index
            ],
            default=Value(0),
            output_field=IntegerField(),
        )

    def period_of(prefix: str) -> Case:
        """The index in `periods` of the period a booking was made in, in SQL."""
        return Case(
            *[
                When(
                    **{f"{prefix}created_at__gte": dt.datetime.combine(p.starts_on, dt.time(), tz)},
                    then=Value(index),
                )
                for index, p in reversed(list(enumerate(periods)))
                if p.starts_on is not None
            ],
            default=Value(0),
            output_field=IntegerField(),
        )

    window = dt.timedelta(hours=policy.cancellation_window_hours)
    deadline = ExpressionWrapper(
        Least(F("start") - window, Coalesce(F("cancellation_deadline"), F("start") - window)),
        output_field=DateTimeField(),
    )
    valid = dt.timedelta(days=policy.credit_valid_days)
    # A cancellation is rebooked when the client booked again within the credit's validity
    # (or spent the credit it left). Each test stands alone in its query's WHERE, where
    # PostgreSQL joins it (a hash semi-join over the salon's bookings) instead of probing
    # once per cancellation, as it must for two tests joined by OR.
    rebooked = Exists(
        Booking.objects.filter(
            customer_id=OuterRef("customer_id"),
            created_at__gt=OuterRef("cancelled_at"),
            created_at__lte=ExpressionWrapper(
                OuterRef("cancelled_at") + valid, output_field=DateTimeField()
            ),
        ).exclude(status=Status.EXPIRED)
    )
    credit_spent = Exists(
        CreditEntry.objects.filter(kind=CreditKind.USED, grant__booking_id=OuterRef("pk"))
    )
    cancelled = Q(status=Status.CANCELLED)
    by_client = cancelled & Q(cancelled_by_salon=False)

    def counted(live: list[tuple[dt.datetime, dt.datetime]]) -> Iterator[tuple[int, int, int, Row]]:
        """The appointments that started in the `live` stretches, counted: (month, staff
        member, period, counts) for each group; four queries, one stretch or many."""
        if not live:
            return
        in_stretches = Q()
        paid_for = Q()
        for lo, hi in live:
            in_stretches |= Q(start__gte=lo, start__lt=hi)
            paid_for |= Q(booking__start__gte=lo, booking__start__lt=hi)
        in_window = Booking.objects.filter(in_stretches, salon=salon)
        groups = (
            in_window.exclude(status=Status.EXPIRED)
            .annotate(month=month_of(""), period=period_of(""))
            .values("month", "staff_id", "period")
            .annotate(
                appointments=Count("pk", filter=Q(status__in=[Status.COMPLETED, Status.NO_SHOW])),
                no_shows=Count("pk", filter=Q(status=Status.NO_SHOW)),
                cancelled=Count("pk", filter=cancelled),
                client_cancelled=Count("pk", filter=by_client),
                late_cancelled=Count("pk", filter=by_client & Q(cancelled_at__gt=deadline)),
            )
            .order_by()
        )
        # Apart, over the cancellations alone: those rebooked, then those that were not
        # but whose credit was spent.
        rebookings = [
            in_window.filter(cancelled)
            .filter(*tests)
            .annotate(month=month_of(""), period=period_of(""))
            .values("month", "staff_id", "period")
            .annotate(rebooked=Count("pk"))
            .order_by()
            for tests in ((rebooked,), (~rebooked, credit_spent))
        ]
        kept = Q(booking__status=Status.NO_SHOW) | Q(outcome=PaymentOutcome.FORFEITED)
        money = (
            Payment.objects.filter(paid_for, salon=salon, status=PaymentStatus.SUCCEEDED)
            .exclude(booking__status=Status.EXPIRED)
            .annotate(month=month_of("booking__"), period=period_of("booking__"))
            .values("month", "booking__staff_id", "period")
            .annotate(
                paid=Sum("amount"),
                kept=Sum("amount", filter=kept),
                refunded=Sum("amount", filter=~kept & Q(outcome=PaymentOutcome.REFUNDED)),
                credited=Sum("amount", filter=~kept & Q(outcome=PaymentOutcome.CREDITED)),
            )
            .order_by()
        )
        for group in groups:
            row = Row(None, "")
            for name in COUNTED[:5]:
                setattr(row, name, group[name])
            yield group["month"], group["staff_id"], group["period"], row
        for query in rebookings:
            for group in query:
                row = Row(None, "", rebooked=group["rebooked"])
                yield group["month"], group["staff_id"], group["period"], row
        for group in money:
            row = Row(None, "")
            for name in ("paid", "kept", "refunded", "credited"):
                setattr(row, name, group[name] or 0)
            yield group["month"], group["booking__staff_id"], group["period"], row

    by_staff: dict[int, Row] = {}
    by_period = [Row(index, str(p.starts_on or "")) for index, p in enumerate(periods)]

    def place(month: int, staff_id: int, period: int, counted: Row) -> None:
        rows = (
            month_rows[month],
            by_staff.setdefault(staff_id, Row(staff_id, "")),
            by_period[period],
        )
        for row in rows:
            row.add(counted)

    starts = [dt.datetime.combine(day, dt.time(), tz) for day in by_month]
    with transaction.atomic(savepoint=False), no_jit():
        # The closed months from their summaries (deposits/summaries.py) where still
        # exact; the others, and the current month, counted now.
        summaries = MonthSummaries(
            salon, signature=signature_of(salon, policy, [p.starts_on for p in periods])
        )
        stored = summaries.read([day for day in by_month if day < _month_start(today)])
        live: list[tuple[dt.datetime, dt.datetime]] = []
        for index, day in enumerate(by_month):
            if day in stored:
                for staff_id, period, *values in stored[day]:
                    row = Row(None, "")
                    for name, value in zip(COUNTED, values, strict=True):
                        setattr(row, name, value)
                    place(index, staff_id, period, row)
                continue
            end = starts[index + 1] if index + 1 < len(starts) else now
            if live and live[-1][1] == starts[index]:
                live[-1] = (live[-1][0], end)
            else:
                live.append((starts[index], end))
        cells: dict[tuple[int, int, int], Row] = {}
        for at, staff_id, period, row in counted(live):
            cells.setdefault((at, staff_id, period), Row(None, "")).add(row)
            place(at, staff_id, period, row)
        counted_months: dict[dt.date, list[list[int]]] = {
            day: [] for day in by_month if day < _month_start(today) and day not in stored
        }
        months_list = list(by_month)
        for (at, staff_id, period), row in sorted(cells.items()):
            if months_list[at] in counted_months:
                counted_months[months_list[at]].append(
                    [staff_id, period, *(getattr(row, name) for name in COUNTED)]
                )
        summaries.write(counted_months)

    team = StaffMember.objects.filter(salon=salon).values_list("pk", "name", "user_id", "active")
    for pk, name, user_id, active in sorted(team, key=lambda t: (t[1].casefold(), t[0])):
        if active or pk in by_staff:
            by_staff.setdefault(pk, Row(pk, "")).label = name
        if user_id is not None:
            figures.staff_users[user_id] = pk
    figures.staff = sorted(by_staff.values(), key=lambda r: (r.label.casefold(), str(r.key)))

    figures.months = month_rows
    figures.periods = list(zip(periods, by_period, strict=True))
    for month_start, row in by_month.items():
        in_force = [p for p in periods if p.starts_on is None or p.starts_on <= month_start]
        figures.month_period[row.key] = in_force[-1]
    started = next((i for i, p in enumerate(periods) if p.deposit), None)
    if started is not None:
        figures.first_deposit = periods[started]
    for index, row in enumerate(by_period):
        (figures.after if started is not None and index >= started else figures.before).add(row)

    granted, spent = credit_live(CreditEntry.objects.filter(salon=salon), now)
    soon = now + dt.timedelta(days=EXPIRING_DAYS)
    given = granted.aggregate(all=Sum("amount"), soon=Sum("amount", filter=Q(expires_at__lte=soon)))
    gone = spent.aggregate(
        all=Sum("amount"), soon=Sum("amount", filter=Q(grant__expires_at__lte=soon))
    )
    figures.credit_outstanding = (given["all"] or 0) - (gone["all"] or 0)
    figures.credit_expiring = (given["soon"] or 0) - (gone["soon"] or 0)
    return figures
