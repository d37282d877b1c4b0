import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, QuerySet

from bookings.models import Booking
from customers.models import Customer
from support.models import CustomerRequest, RequestCategory, RequestChannel, RequestStatus
from tenants.models import Salon


@dataclass(frozen=True)
class RequestFilters:
    """The list's filters; None is "any". Dates are salon-local and inclusive."""

    status: str | None = None
    category: str | None = None
    channel: str | None = None
    customer_id: int | None = None
    first: dt.date | None = None
    last: dt.date | None = None


def local_day_start(salon: Salon, day: dt.date) -> dt.datetime:
    """The instant a salon-local date begins (midnight there, whatever DST does)."""
    return dt.datetime.combine(day, dt.time(), salon.tz)


def _opened_between(
    requests: QuerySet[CustomerRequest], salon: Salon, first: dt.date | None, last: dt.date | None
) -> QuerySet[CustomerRequest]:
    if first is not None:
        requests = requests.filter(opened_at__gte=local_day_start(salon, first))
    if last is not None:
        requests = requests.filter(opened_at__lt=local_day_start(salon, last + dt.timedelta(1)))
    return requests


def request_list(
    *, salon: Salon, filters: RequestFilters | None = None
) -> QuerySet[CustomerRequest]:
    """The salon's requests, newest first, with their customer and who opened them."""
    filters = filters or RequestFilters()
    requests = CustomerRequest.objects.select_related("customer", "opened_by")
    if filters.status is not None:
        requests = requests.filter(status=filters.status)
    if filters.category is not None:
        requests = requests.filter(category=filters.category)
    if filters.channel is not None:
        requests = requests.filter(channel=filters.channel)
    if filters.customer_id is not None:
        requests = requests.filter(customer_id=filters.customer_id)
    return _opened_between(requests, salon, filters.first, filters.last).order_by(
        "-opened_at", "-id"
    )


def request_get(*, salon: Salon, pk: int) -> CustomerRequest | None:
    return request_list(salon=salon).filter(pk=pk).first()


def salon_customer(*, salon: Salon, pk: int) -> Customer | None:
    """One of the salon's customers; another salon's id finds nothing, like a missing one."""
    return Customer.objects.filter(pk=pk).first()


def salon_booking(*, salon: Salon, pk: int) -> Booking | None:
    return Booking.objects.filter(pk=pk).first()


def _median_seconds(
    requests: QuerySet[CustomerRequest], since: str, until: str, count: int
) -> int | None:
    """The median of `until - since` over `count` rows, in whole seconds, found by the
    database.

    Both engines can order by a difference of two timestamps; the one or two middle
    values are then read with an offset, so neither the rows nor their durations come
    to Python (PostgreSQL's percentile_cont has no SQLite counterpart).
    """
    if count == 0:
        return None
    duration = ExpressionWrapper(F(until) - F(since), output_field=DurationField())
    middle = list(
        requests.filter(**{f"{until}__isnull": False})
        .annotate(duration=duration)
        .order_by("duration", "id")
        .values_list("duration", flat=True)[(count - 1) // 2 : count // 2 + 1]
    )
    if not middle:  # the rows changed between the count and this read
        return None
    return round(sum(d.total_seconds() for d in middle) / len(middle))


@dataclass(frozen=True)
class RequestStats:
    total: int
    by_category: dict[str, int]
    by_status: dict[str, int]
    by_channel: dict[str, int]
    responded: int
    resolved: int
    median_first_response_seconds: int | None
    median_resolution_seconds: int | None


def request_stats(*, salon: Salon, date_from: dt.date, date_to: dt.date) -> RequestStats:
    """Figures of the requests opened from `date_from` to `date_to` (salon-local, inclusive).

    Counts by category, status and channel (every value present, zeros included); the
    median time to a first response among the requests answered, and to the resolution
    among those resolved now. Three queries, whatever the period.
    """
    requests = _opened_between(CustomerRequest.objects.all(), salon, date_from, date_to)
    by_category = dict.fromkeys(RequestCategory.values, 0)
    by_status = dict.fromkeys(RequestStatus.values, 0)
    by_channel = dict.fromkeys(RequestChannel.values, 0)
    responded = resolved = 0
    groups = (
        requests.order_by()
        .values("category", "status", "channel")
        .annotate(
            n=Count("id"),
            responded=Count("id", filter=Q(first_response_at__isnull=False)),
            resolved=Count("id", filter=Q(resolved_at__isnull=False)),
        )
    )
    for group in groups:
        by_category[group["category"]] = by_category.get(group["category"], 0) + group["n"]
        by_status[group["status"]] = by_status.get(group["status"], 0) + group["n"]
        by_channel[group["channel"]] = by_channel.get(group["channel"], 0) + group["n"]
        responded += group["responded"]
        resolved += group["resolved"]
    return RequestStats(
        total=sum(by_status.values()),
        by_category=by_category,
        by_status=by_status,
        by_channel=by_channel,
        responded=responded,
        resolved=resolved,
        median_first_response_seconds=_median_seconds(
            requests, "opened_at", "first_response_at", responded
        ),
        median_resolution_seconds=_median_seconds(requests, "opened_at", "resolved_at", resolved),
    )
