"""The benchmarks' URLs, on top of the product's (bench/settings.py).

- `/bench/salons/<salon>/staff-day/?staff=&day=`: the reference, a plain view doing one
  indexed SELECT (what keeps a staff member busy that day), through the same middleware;
- `/bench/uncached/salons/<salon>/availability/`: the product's availability view, whose
  answers are not found in the cache (each is computed, then stored, as on a miss).
"""

import datetime as dt
import itertools
import json
import os
from contextvars import ContextVar
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from bookings.models import BusyTime
from web.public.api.salon import AvailabilityView

_uncached: ContextVar[bool] = ContextVar("bench_uncached", default=False)
_counter = itertools.count()


def cache_key(key: str, key_prefix: str, version: Any) -> str:
    """Django's key, made unique for an availability answer asked through /bench/uncached/
    (the version keys, the catalogue and the salon stay shared)."""
    if (
        _uncached.get()
        and key.startswith("availability:")
        and not key.startswith("availability:version:")
    ):
        key = f"{key}:miss:{os.getpid()}:{next(_counter)}"
    return f"{key_prefix}:{version}:{key}"


def staff_day(request: HttpRequest, salon: str) -> HttpResponse:
    """One indexed SELECT: what keeps the staff member busy that salon-local day (the
    bookings' busy time, on its index of active rows, busytime_staff_active)."""
    tz = request.salon.tz  # type: ignore[attr-defined]
    day = dt.date.fromisoformat(request.GET["day"])
    start = dt.datetime.combine(day, dt.time(), tz)
    rows = (
        BusyTime.objects.filter(
            active=True,
            staff__isnull=False,
            staff_id=int(request.GET["staff"]),
            start__gte=start,
            start__lt=start + dt.timedelta(days=1),
        )
        .order_by("start")
        .values_list("start", "end")
    )
    body = [{"start": a.isoformat(), "end": b.isoformat()} for a, b in rows]
    return HttpResponse(json.dumps(body), content_type="application/json")


_availability = AvailabilityView.as_view()


def uncached_availability(request: HttpRequest, salon: str) -> Any:
    token = _uncached.set(True)
    try:
        return _availability(request, salon=salon)
    finally:
        _uncached.reset(token)


urlpatterns = [
    path("bench/salons/<slug:salon>/staff-day/", staff_day),
    path("bench/uncached/salons/<slug:salon>/availability/", uncached_availability),
    path("", include("config.urls")),
]
