"""The owner's figures (deposits/figures.py) with the requests answered and how fast: by
month (when the request was opened, salon-local) and by the staff member who logged it.

A request is answered once staff first acted on it (`first_response_at`, stamped by the
services); its first-response time runs from `opened_at`. One more query, whatever the
number of requests."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict

from django.utils import timezone

from deposits.figures import OwnerFigures, Row, owner_figures
from tenants.models import Salon

from .models import CustomerRequest

OTHERS = "others"  # requests logged by someone who is not on the staff list, or by no one


def salon_figures(
    *, salon: Salon, months: int = 12, now: dt.datetime | None = None
) -> OwnerFigures:
    now = now or timezone.now()
    figures = owner_figures(salon=salon, months=months, now=now)
    tz = salon.tz
    since = dt.datetime.combine(figures.since, dt.time(), tzinfo=tz)
    by_month = {row.key: row for row in figures.months}
    by_staff = {row.key: row for row in figures.staff}
    waits: defaultdict[object, list[dt.timedelta]] = defaultdict(list)
    rows = CustomerRequest.objects.filter(
        salon=salon, opened_at__gte=since, opened_at__lt=now
    ).values_list("opened_at", "first_response_at", "opened_by_id")
    for opened_at, answered_at, user_id in rows:
        month = by_month.get(opened_at.astimezone(tz).date().replace(day=1))
        staff_id = figures.staff_users.get(user_id) if user_id is not None else None
        staff = by_staff.get(staff_id) if staff_id is not None else None
        if staff is None:
            staff = by_staff.setdefault(OTHERS, Row(OTHERS, ""))
        for row in (month, staff):
            if row is None:
                continue
            row.requests += 1
            if answered_at is not None:
                row.answered += 1
                waits[id(row)].append(max(answered_at - opened_at, dt.timedelta()))
    for row in [*figures.months, *by_staff.values()]:
        if waits[id(row)]:
            seconds = statistics.median(w.total_seconds() for w in waits[id(row)])
            row.response_median = dt.timedelta(seconds=seconds)
    if OTHERS in by_staff and by_staff[OTHERS] not in figures.staff:
        figures.staff.append(by_staff[OTHERS])
    return figures
