"""The desk's calendar: a day (or a week) of bookings in columns per staff member."""

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import BadRequest
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from bookings.models import Booking, StaffMember, Status
from bookings.selectors import booking_list, staff_list
from core.query import FIRST_DAY, LAST_DAY, day_parse
from deposits.models import Payment
from deposits.payments import deposit_state
from deposits.selectors import salon_today
from messaging.outbox import money_text
from tenants.models import Salon
from web.desk.access import desk_context, desk_view
from web.desk.labels import DEPOSIT_STATE


@dataclass(frozen=True)
class BookingRow:
    booking: Booking
    status: str
    deposit: str
    deposit_status: str
    deposit_amount: str


@dataclass
class StaffColumn:
    staff: StaffMember
    rows: list[BookingRow] = field(default_factory=list)
    days: list[list[BookingRow]] = field(default_factory=list)  # aligned with the page's days


def desk_day(value: str | None, salon: Salon, *, strict: bool = True) -> dt.date:
    """A `YYYY-MM-DD` the desk was given; today (in the salon) when absent or not a date.
    A date outside the years the desk shows is a 400 page (`strict`) or today."""
    day = day_parse(value)
    if day is None:
        return salon_today(salon)
    if FIRST_DAY <= day <= LAST_DAY:
        return day
    if strict:
        raise BadRequest(_("Give a date from the year 2000 to 2999."))
    return salon_today(salon)


def day_param(request: HttpRequest, salon: Salon) -> dt.date:
    """`?date=YYYY-MM-DD`; today (in the salon) when absent or not a date."""
    return desk_day(request.GET.get("date"), salon)


def booking_rows(salon: Salon, bookings: list[Booking]) -> list[BookingRow]:
    language = translation.get_language() or "en"
    rows = []
    for booking in bookings:
        state = deposit_state(booking, list(booking.payments.all()))
        amount = int(str(state["amount"]))
        rows.append(
            BookingRow(
                booking=booking,
                status=booking.get_status_display(),
                deposit=str(DEPOSIT_STATE.get(str(state["status"]), state["status"])),
                deposit_status=str(state["status"]),
                deposit_amount=money_text(amount, booking.currency, language) if amount else "",
            )
        )
    return rows


def _bookings(salon: Salon, first: dt.date, last: dt.date) -> list[Booking]:
    """The days' bookings that hold or held a slot (lapsed holds left out), with their
    payments: two queries."""
    return list(
        booking_list(salon=salon, first=first, last=last)
        .exclude(status=Status.EXPIRED)
        .prefetch_related(Prefetch("payments", queryset=Payment.objects.all()))
        .order_by("start", "id")
    )


@desk_view
def calendar(request: HttpRequest, salon: Salon) -> HttpResponse:
    day = day_param(request, salon)
    week = request.GET.get("view") == "week"
    first = day - dt.timedelta(days=day.weekday()) if week else day
    days = [first + dt.timedelta(days=n) for n in range(7 if week else 1)]
    bookings = _bookings(salon, days[0], days[-1])
    columns = {staff.pk: StaffColumn(staff) for staff in staff_list(salon=salon, active_only=True)}
    for booking in bookings:  # a former staff member still shows with their bookings
        if booking.staff_id not in columns:
            columns[booking.staff_id] = StaffColumn(booking.staff)
    for column in columns.values():
        column.days = [[] for _day in days]
    for row in booking_rows(salon, bookings):
        column = columns[row.booking.staff_id]
        column.rows.append(row)
        column.days[days.index(timezone.localtime(row.booking.start, salon.tz).date())].append(row)
    step = dt.timedelta(days=7 if week else 1)
    return render(
        request,
        "desk/calendar.html",
        desk_context(
            salon,
            nav="calendar",
            day=day,
            days=days,
            week=week,
            columns=list(columns.values()),
            previous=day - step,
            next=day + step,
            today=salon_today(salon),
            count=len(bookings),
        ),
    )
