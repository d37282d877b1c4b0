"""The desk's calendar: a day (or a week) of bookings in columns per staff member."""

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import BadRequest
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from bookings.models import Booking, BookingItem, StaffMember, Status
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
class ItemRow:
    """One service of a visit as the desk shows it; `processing` is the stretch inside it
    when its staff member is free for someone else (a colour setting), or None."""

    item: BookingItem
    processing: tuple[dt.datetime, dt.datetime] | None


@dataclass(frozen=True)
class BookingRow:
    booking: Booking
    status: str
    deposit: str
    deposit_status: str
    deposit_amount: str
    items: list[ItemRow] = field(default_factory=list)

    @property
    def staff_ids(self) -> list[int]:
        """Who works on it: each staff member once, the first item's first."""
        ids = [row.item.staff_id for row in self.items] or [self.booking.staff_id]
        return list(dict.fromkeys(ids))

    @property
    def several(self) -> bool:
        return len(self.items) > 1 or any(row.processing for row in self.items)


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


def item_rows(booking: Booking) -> list[ItemRow]:
    rows = []
    for item in booking.items.all():
        service = item.service
        processing = None
        if service.processing_minutes:
            begins = item.start + dt.timedelta(minutes=service.processing_offset_minutes)
            processing = (begins, begins + dt.timedelta(minutes=service.processing_minutes))
        rows.append(ItemRow(item, processing))
    return sorted(rows, key=lambda row: row.item.position)


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
                items=item_rows(booking),
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
    rows = booking_rows(salon, bookings)
    for row in rows:  # a former staff member still shows with their bookings
        workers = {i.item.staff_id: i.item.staff for i in row.items} or {
            row.booking.staff_id: row.booking.staff
        }
        for staff_id, member in workers.items():
            columns.setdefault(staff_id, StaffColumn(member))
    for column in columns.values():
        column.days = [[] for _day in days]
    # A visit shows in the column of each staff member who works on it.
    for row in rows:
        for staff_id in row.staff_ids:
            column = columns[staff_id]
            column.rows.append(row)
            local = timezone.localtime(row.booking.start, salon.tz).date()
            column.days[days.index(local)].append(row)
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
