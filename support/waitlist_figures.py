"""The owner's waitlist figures for a period (salon-local dates, inclusive): the times that
became free (a cancellation, a lapsed hold, a move...), those a waiting client booked, how
fast (the median from freed to refilled), what those bookings are worth, and how many
clients wait now.

A time counts in the period it was freed in. It is refilled when an offer of it made a
booking that did not lapse unpaid; the revenue is those bookings' price (the visit's, in
cents of the salon's currency), cancelled ones left out. Three queries, whatever the
period or the number of times."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum

from bookings.models import Status
from support.models import FreedTime, WaitlistEntry, WaitlistStatus
from support.selectors import local_day_start
from tenants.models import Salon


@dataclass(frozen=True)
class RefillFigures:
    first: dt.date
    last: dt.date
    freed: int
    refilled: int
    refill_median: dt.timedelta | None  # from freed to refilled, among those refilled
    revenue: int  # cents
    waiting: int  # entries waiting now (whatever the period)

    @property
    def refill_rate(self) -> float | None:
        return self.refilled / self.freed if self.freed else None


def refill_figures(*, salon: Salon, first: dt.date, last: dt.date) -> RefillFigures:
    freed = FreedTime.objects.filter(
        salon=salon,
        freed_at__gte=local_day_start(salon, first),
        freed_at__lt=local_day_start(salon, last + dt.timedelta(days=1)),
    )
    refilled = Q(refilled_by__isnull=False, refilled_at__isnull=False) & ~Q(
        refilled_by__status=Status.EXPIRED
    )
    totals = freed.aggregate(
        freed=Count("pk"),
        refilled=Count("pk", filter=refilled),
        revenue=Sum(
            "refilled_by__price", filter=refilled & ~Q(refilled_by__status=Status.CANCELLED)
        ),
    )
    median = None
    count = totals["refilled"]
    if count:
        # The one or two middle durations, read by the database with an offset: neither
        # the rows nor their durations come to Python.
        duration = ExpressionWrapper(F("refilled_at") - F("freed_at"), output_field=DurationField())
        middle = list(
            freed.filter(refilled)
            .annotate(duration=duration)
            .order_by("duration", "pk")
            .values_list("duration", flat=True)[(count - 1) // 2 : count // 2 + 1]
        )
        if middle:
            median = sum(middle, dt.timedelta()) / len(middle)
    waiting = WaitlistEntry.objects.filter(salon=salon, status=WaitlistStatus.WAITING).count()
    return RefillFigures(
        first=first,
        last=last,
        freed=totals["freed"],
        refilled=count,
        refill_median=median,
        revenue=totals["revenue"] or 0,
        waiting=waiting,
    )
