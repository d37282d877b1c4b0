"""The desk's scheduler: a day as a time grid, one column per staff member and per resource
unit (or a staff member's week, one column per day), bookings as blocks placed by their
minutes in the salon's time; an empty time is a link that starts a phone booking there; a
booking moves through the same service, and by the same rules, as the client's own move.

Server-rendered (a CSS grid of five-minute rows), it works without JavaScript; day.js adds
the live refresh (it polls `schedule/version/`) and drag and drop. The columns are written
here rather than by the template engine: a day of 20 staff members and 400 bookings is a
few thousand elements, drawn within the desk's budget (bench/desk_day.py)."""

import datetime as dt
import html
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from bookings.models import ACTIVE_STATUSES, Booking, StaffMember, Status, TimeOff
from bookings.schedule import (
    ScheduleItem,
    ScheduleWorld,
    items_fingerprint,
    schedule_items,
    schedule_world,
)
from bookings.selectors import catalogue_get
from core.errors import ApplicationError, SlotTaken
from core.query import FIRST_DAY, LAST_DAY, id_parse
from deposits.models import Payment
from deposits.moves import (
    NO_DEPOSIT,
    day_payments,
    deposit_states,
    move_outcome,
    payments_fingerprint,
)
from deposits.payments import booking_move
from deposits.selectors import salon_today
from messaging.outbox import money_text
from tenants.models import Salon
from web.desk.access import desk_context, desk_view
from web.desk.bookings import salon_booking_or_404
from web.desk.calendar import day_param
from web.desk.labels import DEPOSIT_STATE
from web.problems import desk_problem

ROW = 5  # minutes a grid row stands for
CELL = 15  # minutes of an empty time one can book
DAY_FROM, DAY_TO = 8 * 60, 20 * 60  # the least a day shows, in minutes after midnight
POLL_SECONDS = 15
PK = 987654321  # stands for a booking's id in the URLs reversed once a page


@dataclass(frozen=True)
class Band:
    """A stretch of a column, by grid rows (the end excluded); `label` says what it is."""

    row: int
    end: int
    label: str = ""


@dataclass(frozen=True)
class Cell:
    row: int
    end: int
    name: str  # the link's accessible name: "14:30 with Camille, free"
    href: str
    start: str  # ISO, UTC: what a dropped booking moves to


@dataclass(frozen=True)
class Block:
    """One service of a booking in one column."""

    booking_id: int
    row: int
    end: int
    times: str
    client: str
    service: str
    status: str
    status_label: str
    money: str
    money_label: str
    detail_url: str
    move_url: str | None
    processing: Band | None
    client_confirmed: bool = False


@dataclass
class Lane:
    key: str
    title: str
    day: dt.date
    staff: StaffMember | None = None
    resource: bool = False
    work: list[Band] = field(default_factory=list)
    breaks: list[Band] = field(default_factory=list)
    away: list[Band] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    cells: list[Cell] = field(default_factory=list)
    html: SafeString = field(default_factory=SafeString)


@dataclass(frozen=True)
class Window:
    """The minutes a page shows (after local midnight), whole hours."""

    first: int
    last: int

    @property
    def rows(self) -> int:
        return (self.last - self.first) // ROW

    def row(self, minute: int) -> int:
        """The grid row (1-based) a minute of the day falls in, kept inside the window."""
        minute = min(max(minute, self.first), self.last)
        return (minute - self.first) // ROW + 1

    def hours(self) -> list[dict[str, Any]]:
        return [
            {"row": self.row(m), "label": f"{m // 60:02d}:00"}
            for m in range(self.first, self.last, 60)
        ]


def _of(t: dt.time) -> int:
    return t.hour * 60 + t.minute


class _Clock:
    """Minutes after a day's local midnight, in the salon's zone (0 before the day, 1440
    after it); each moment converted once."""

    def __init__(self, salon: Salon) -> None:
        self.tz = salon.tz
        self.seen: dict[dt.datetime, dt.datetime] = {}

    def local(self, moment: dt.datetime) -> dt.datetime:
        local = self.seen.get(moment)
        if local is None:
            local = self.seen[moment] = moment.astimezone(self.tz)
        return local

    def minute(self, moment: dt.datetime, day: dt.date) -> int:
        local = self.local(moment)
        if local.date() < day:
            return 0
        if local.date() > day:
            return 24 * 60
        return local.hour * 60 + local.minute

    def hour(self, moment: dt.datetime) -> str:
        return self.local(moment).strftime("%H:%M")


def _window(
    world: ScheduleWorld, items: list[ScheduleItem], days: list[dt.date], clock: _Clock
) -> Window:
    first, last = DAY_FROM, DAY_TO
    weekdays = {d.weekday() for d in days}
    for per_day in world.hours.values():
        for weekday, ranges in per_day.items():
            if weekday in weekdays:
                first = min([first, *(_of(a) for a, _b in ranges)])
                last = max([last, *(_of(b) for _a, b in ranges)])
    for item in items:
        day = clock.local(item.start).date()
        first = min(first, clock.minute(item.start, day))
        last = max(last, clock.minute(item.end, day))
    return Window(first // 60 * 60, min(24 * 60, -(-last // 60) * 60))


class _Painter:
    """Lays the days' facts out on lanes, for one window."""

    def __init__(self, salon: Salon, window: Window, clock: _Clock) -> None:
        self.salon, self.window, self.clock = salon, window, clock
        self.now = timezone.now()
        self.language = translation.get_language() or "en"
        slug = salon.slug
        self.book_url = reverse("desk:book", kwargs={"salon": slug})
        self.detail = reverse("desk:booking", kwargs={"salon": slug, "pk": PK})
        self.move = reverse("desk:booking-move", kwargs={"salon": slug, "pk": PK})
        self.states: dict[int, dict[str, object]] = {}
        self.money: dict[tuple[str, str, int], tuple[str, str]] = {}
        self.status_labels = {value: str(label) for value, label in Status.choices}
        self.free = _("%(time)s with %(name)s, free")
        self.processing = _("Processing: %(name)s is free")
        self.no_name = _("(no name)")

    def band(self, start: int, end: int, label: str = "") -> Band | None:
        row, last = self.window.row(start), self.window.row(end)
        return Band(row, last, label) if last > row else None

    def working(self, lane: Lane, ranges: list[tuple[dt.time, dt.time]]) -> None:
        spans = sorted((_of(a), _of(b)) for a, b in ranges)
        for start, end in spans:
            if band := self.band(start, end):
                lane.work.append(band)
        for (_a, end), (start, _b) in itertools.pairwise(spans):
            if start > end and (band := self.band(end, start, _("Break"))):
                lane.breaks.append(band)

    def away(self, lane: Lane, time_off: list[TimeOff]) -> None:
        for off in time_off:
            if off.staff_id not in (None, lane.staff.pk if lane.staff else None):
                continue
            label = off.reason or (_("Salon closed") if off.staff_id is None else _("Time off"))
            start = self.clock.minute(off.start, lane.day)
            if band := self.band(start, self.clock.minute(off.end, lane.day), label):
                lane.away.append(band)

    def _money(self, item: ScheduleItem) -> tuple[str, str]:
        state = self.states.get(item.booking_id, NO_DEPOSIT)
        status, amount = str(state["status"]), int(str(state["amount"]))
        key = (status, item.currency, amount)
        if key not in self.money:
            label = str(DEPOSIT_STATE.get(status, status))
            if amount:
                label = f"{label} · {money_text(amount, item.currency, self.language)}"
            self.money[key] = (status, label)
        return self.money[key]

    def block(self, lane: Lane, item: ScheduleItem) -> Block:
        start = self.clock.minute(item.start, lane.day)
        end = self.clock.minute(item.end, lane.day)
        processing = None
        if item.processing_minutes and lane.staff is not None:
            begins = start + item.processing_offset
            processing = self.band(
                begins,
                begins + item.processing_minutes,
                self.processing % {"name": lane.staff.name},
            )
        movable = item.status in ACTIVE_STATUSES and item.booking_start > self.now
        money, money_label = self._money(item)
        row = self.window.row(start)
        pk = str(item.booking_id)
        block = Block(
            booking_id=item.booking_id,
            row=row,
            end=max(self.window.row(end), row + 1),
            times=f"{self.clock.hour(item.start)}\u2013{self.clock.hour(item.end)}",
            client=(item.client or self.no_name) + (f" ({item.guest})" if item.guest else ""),
            service=item.service,
            status=item.status,
            status_label=self.status_labels.get(item.status, item.status),
            money=money,
            money_label=money_label,
            detail_url=self.detail.replace(str(PK), pk),
            move_url=self.move.replace(str(PK), pk) if movable else None,
            processing=processing,
            client_confirmed=item.confirmed_by_client_at is not None,
        )
        lane.blocks.append(block)
        return block

    def cells(self, lane: Lane, taken: list[tuple[int, int]]) -> None:
        """The free quarters of the staff member's working time, from now on."""
        if lane.staff is None:
            return
        busy = taken + [(b.row, b.end) for b in lane.away]
        name, staff_id = lane.staff.name, lane.staff.pk
        midnight = dt.datetime.combine(lane.day, dt.time(), self.salon.tz)
        step = CELL // ROW
        for band in lane.work:
            for row in range(band.row, band.end, step):
                end = min(row + step, band.end)
                if any(row < b and a < end for a, b in busy):
                    continue
                minute = self.window.first + (row - 1) * ROW
                moment = (midnight + dt.timedelta(minutes=minute)).astimezone(self.salon.tz)
                if moment < self.now:
                    continue
                start = moment.astimezone(dt.UTC).isoformat()
                time = f"{minute // 60:02d}:{minute % 60:02d}"
                query = urlencode({"day": lane.day.isoformat(), "staff": staff_id, "start": start})
                lane.cells.append(
                    Cell(
                        row=row,
                        end=end,
                        name=self.free % {"time": time, "name": name},
                        href=f"{self.book_url}?{query}",
                        start=start,
                    )
                )


def escape(value: object) -> str:
    """HTML-escaped, quotes included (the standard library's: the page's thousands of
    values are not lazy strings, and Django's `escape` costs a wrapper each)."""
    return html.escape(str(value), quote=True)


def _rows(row: int, end: int) -> str:
    return f'style="grid-row: {row} / {end}"'


def lane_html(
    lane: Lane, *, now_row: int | None, move_text: str, confirmed_text: str
) -> SafeString:
    """A column's lane: working time, breaks, time off, the "now" line, the free quarters
    (links) and the bookings (blocks), every value escaped."""
    parts: list[str] = []
    add = parts.append
    for band in lane.work:
        add(f'<div class="day-work" {_rows(band.row, band.end)} aria-hidden="true"></div>')
    for kind, bands in (("break", lane.breaks), ("away", lane.away)):
        for band in bands:
            add(
                f'<div class="day-{kind}" {_rows(band.row, band.end)}>'
                f"<span>{escape(band.label)}</span></div>"
            )
    if now_row:
        add(f'<div class="day-now" style="grid-row: {now_row}" aria-hidden="true"></div>')
    staff = f' data-staff="{lane.staff.pk}"' if lane.staff else ""
    for cell in lane.cells:
        add(
            f'<a class="day-cell" {_rows(cell.row, cell.end)} href="{escape(cell.href)}" '
            f'data-start="{escape(cell.start)}"{staff}>'
            f'<span class="visually-hidden">{escape(cell.name)}</span></a>'
        )
    for block in lane.blocks:
        client = escape(block.client)
        drag = (
            f' draggable="true" data-move-url="{escape(block.move_url)}"' if block.move_url else ""
        )
        confirmed = (
            f'<span class="day-confirmed" title="{escape(confirmed_text)}">'
            f'<span aria-hidden="true">\u2713</span>'
            f'<span class="visually-hidden">{escape(confirmed_text)}</span></span> '
            if block.client_confirmed
            else ""
        )
        add(
            f'<div class="day-block status-{escape(block.status)} money-{escape(block.money)}" '
            f'{_rows(block.row, block.end)} data-booking="{block.booking_id}"{drag}>'
            f'<a href="{escape(block.detail_url)}"><span class="day-times">{block.times}</span> '
            f"{confirmed}<strong>{client}</strong> <span>{escape(block.service)}</span> "
            f'<span class="day-state">{escape(block.status_label)} · '
            f"{escape(block.money_label)}</span></a>"
        )
        if block.move_url:
            add(
                f'<a class="day-move" href="{escape(block.move_url)}">{escape(move_text)}'
                f'<span class="visually-hidden"> {client}, {block.times}</span></a>'
            )
        add("</div>")
        if block.processing:
            band = block.processing
            add(
                f'<div class="day-processing" {_rows(band.row, band.end)}>'
                f"<span>{escape(band.label)}</span></div>"
            )
    # Every value above is escaped.
    return mark_safe("".join(parts))  # noqa: S308  # nosec B308 B703


def _fill(
    painter: _Painter,
    lanes: dict[Any, Lane],
    items: Iterable[ScheduleItem],
    key: Callable[[ScheduleItem], list[Any]],
) -> None:
    """Each item in its lanes (`key(item)` names them), then the free quarters left."""
    taken: dict[Any, list[tuple[int, int]]] = {k: [] for k in lanes}
    for item in items:
        for lane_key in key(item):
            lane = lanes.get(lane_key)
            if lane is None:
                continue
            block = painter.block(lane, item)
            if item.status in ACTIVE_STATUSES:
                taken[lane_key].append((block.row, block.end))
    for lane_key, lane in lanes.items():
        painter.cells(lane, taken[lane_key])


def _page(
    request: HttpRequest, salon: Salon, lanes: list[Lane], window: Window, **extra: Any
) -> HttpResponse:
    clock = _Clock(salon)
    now = timezone.now()
    today = salon_today(salon)
    now_row = None
    if any(lane.day == today for lane in lanes):
        minute = clock.minute(now, today)
        if window.first <= minute < window.last:
            now_row = window.row(minute)
    move_text, confirmed_text = _("Move"), _("Confirmed by the client")
    for lane in lanes:
        lane.html = lane_html(
            lane,
            now_row=now_row if lane.day == today else None,
            move_text=move_text,
            confirmed_text=confirmed_text,
        )
    return render(
        request,
        "desk/day.html",
        desk_context(
            salon,
            nav="schedule",
            lanes=lanes,
            window=window,
            hours=window.hours(),
            rows=window.rows,
            now_row=now_row,
            now_time=clock.hour(now),
            today=today,
            poll_seconds=POLL_SECONDS,
            **extra,
        ),
    )


def _version(items: list[ScheduleItem], payments: list[Payment]) -> str:
    """What the live refresh compares: the page's bookings and their payments."""
    return items_fingerprint(items) + payments_fingerprint(payments)


@require_GET
@desk_view
def day_view(request: HttpRequest, salon: Salon) -> HttpResponse:
    """The day per staff member and resource unit: a fixed number of queries."""
    day = day_param(request, salon)
    world = schedule_world(salon=salon, first=day, last=day)
    items = schedule_items(salon=salon, first=day, last=day)
    clock = _Clock(salon)
    window = _window(world, items, [day], clock)
    painter = _Painter(salon, window, clock)
    payments = day_payments(salon=salon, first=day, last=day)
    painter.states = deposit_states(payments)
    staff_lanes: dict[Any, Lane] = {}
    for member in world.staff:
        staff_lanes[("staff", member.pk)] = Lane(f"staff-{member.pk}", member.name, day, member)
    for item in items:  # a former staff member still shows with their bookings
        if ("staff", item.staff_id) not in staff_lanes:
            former = StaffMember(pk=item.staff_id, name=item.staff_name, salon_id=salon.pk)
            staff_lanes[("staff", item.staff_id)] = Lane(
                f"staff-{item.staff_id}", item.staff_name, day, former
            )
    for key, lane in staff_lanes.items():
        painter.working(lane, world.hours.get(key[1], {}).get(day.weekday(), []))
        painter.away(lane, world.time_off)
    unit_lanes: dict[Any, Lane] = {}
    for resource in world.resources:
        for unit in range(1, resource.quantity + 1):
            title = resource.name if resource.quantity == 1 else f"{resource.name} {unit}"
            lane = Lane(f"unit-{resource.pk}-{unit}", title, day, resource=True)
            painter.away(lane, world.time_off)
            unit_lanes[("unit", resource.pk, unit)] = lane
    lanes = {**staff_lanes, **unit_lanes}
    _fill(
        painter,
        lanes,
        items,
        lambda item: [("staff", item.staff_id), ("unit", item.resource_id, item.resource_unit)],
    )
    return _page(
        request,
        salon,
        list(lanes.values()),
        window,
        day=day,
        week=False,
        member=None,
        previous=day - dt.timedelta(days=1),
        next=day + dt.timedelta(days=1),
        count=len({item.booking_id for item in items}),
        version=_version(items, payments),
        version_url=reverse("desk:schedule-version", kwargs={"salon": salon.slug})
        + f"?date={day.isoformat()}",
    )


@require_GET
@desk_view
def staff_week(request: HttpRequest, salon: Salon, staff: int) -> HttpResponse:
    """A staff member's week, Monday to Sunday, one column a day."""
    day = day_param(request, salon)
    days = [day - dt.timedelta(days=day.weekday() - n) for n in range(7)]
    world = schedule_world(salon=salon, first=days[0], last=days[-1], staff_id=staff)
    if not world.staff:
        raise Http404
    member = world.staff[0]
    items = schedule_items(salon=salon, first=days[0], last=days[-1], staff_id=member.pk)
    clock = _Clock(salon)
    window = _window(world, items, days, clock)
    painter = _Painter(salon, window, clock)
    payments = day_payments(salon=salon, first=days[0], last=days[-1])
    painter.states = deposit_states(payments)
    lanes: dict[Any, Lane] = {}
    for d in days:
        lane = Lane(f"day-{d.isoformat()}", "", d, member)
        painter.working(lane, world.hours[member.pk].get(d.weekday(), []))
        painter.away(lane, world.time_off)
        lanes[d] = lane
    _fill(painter, lanes, items, lambda item: [clock.local(item.start).date()])
    return _page(
        request,
        salon,
        list(lanes.values()),
        window,
        day=day,
        days=days,
        week=True,
        member=member,
        previous=day - dt.timedelta(days=7),
        next=day + dt.timedelta(days=7),
        count=len({item.booking_id for item in items}),
        version=_version(items, payments),
        version_url=reverse("desk:schedule-version", kwargs={"salon": salon.slug})
        + f"?date={days[0].isoformat()}&days=7&staff={member.pk}",
    )


@require_GET
@desk_view
def day_version(request: HttpRequest, salon: Salon) -> HttpResponse:
    """`?date=&days=&staff=`: the version of the days' page (a staff member's week: 7 days
    and their id), as JSON and as an ETag; 304 when unchanged. Two queries."""
    first = day_param(request, salon)
    last = first + dt.timedelta(days=6 if request.GET.get("days") == "7" else 0)
    staff_id = id_parse(request.GET.get("staff"))
    items = schedule_items(salon=salon, first=first, last=last, staff_id=staff_id)
    version = _version(items, day_payments(salon=salon, first=first, last=last))
    etag = f'"{version}"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    else:
        response = JsonResponse({"version": version})
    response["ETag"] = etag
    return response


# Moving a booking. ----------------------------------------------------------------------


class MoveForm(forms.Form):
    staff = forms.TypedChoiceField(label=gettext_lazy("With"), coerce=int)
    day = forms.DateField(
        label=gettext_lazy("Day"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    time = forms.TimeField(
        label=gettext_lazy("Time"), widget=forms.TimeInput(attrs={"type": "time", "step": 300})
    )

    def __init__(self, *args: Any, staff: list[StaffMember], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["staff"].choices = [(m.pk, m.name) for m in staff]  # type: ignore[attr-defined]

    def clean_day(self) -> dt.date:
        day: dt.date = self.cleaned_data["day"]
        if not FIRST_DAY <= day <= LAST_DAY:
            raise ValidationError(_("Give a date from the year 2000 to 2999."))
        return day


def _move_initial(request: HttpRequest, booking: Booking, salon: Salon) -> dict[str, Any]:
    """What the form starts from: the booking's own time and staff member, or the time and
    staff a booking was dropped on (`?start=` ISO, `?staff=`)."""
    start = booking.start
    given = request.GET.get("start", "")
    if given:
        try:
            parsed = dt.datetime.fromisoformat(given)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            start = parsed
    local = timezone.localtime(start, salon.tz)
    staff = id_parse(request.GET.get("staff")) or booking.staff_id
    return {"staff": staff, "day": local.date(), "time": local.time().replace(second=0)}


@desk_view
def booking_move_page(request: HttpRequest, salon: Salon, pk: int) -> HttpResponse:
    """GET: choose the new time and staff member (`?review=1`, or a booking dropped on a
    time: what the move does with the money, and a button to confirm). POST: the move."""
    booking = salon_booking_or_404(salon, pk)
    back = reverse("desk:schedule", kwargs={"salon": salon.slug})
    catalogue = catalogue_get(salon=salon)
    offering = catalogue.offering(booking.service_id)
    staff = [
        m
        for m in StaffMember.objects.filter(active=True).order_by("name", "id")
        if m.pk in offering
    ]
    if booking.staff not in staff:
        staff.insert(0, booking.staff)
    if booking.status not in ACTIVE_STATUSES or booking.start <= timezone.now():
        messages.error(
            request, _("Only a held or confirmed booking that has not begun can be moved.")
        )
        return HttpResponseRedirect(reverse("desk:booking", kwargs={"salon": salon.slug, "pk": pk}))
    reviewing = request.method == "POST" or "review" in request.GET or "start" in request.GET
    if request.method == "POST":
        form = MoveForm(request.POST, staff=staff)
    elif reviewing:
        given = {k: str(v) for k, v in _move_initial(request, booking, salon).items()}
        for name in ("staff", "day", "time"):
            if request.GET.get(name) and "start" not in request.GET:
                given[name] = request.GET[name]
        form = MoveForm(given, staff=staff)
    else:
        form = MoveForm(initial=_move_initial(request, booking, salon), staff=staff)
    outcome, new_start, member, status = None, None, None, 200
    if form.is_bound and form.is_valid():
        chosen = form.cleaned_data
        new_start = dt.datetime.combine(chosen["day"], chosen["time"], salon.tz).astimezone(dt.UTC)
        member = next(m for m in staff if m.pk == chosen["staff"])
        if request.method == "POST":
            try:
                booking_move(booking=booking, start=new_start, staff=member, actor=request.user)
            except (ValidationError, ApplicationError) as exc:
                if isinstance(exc, ApplicationError) and not isinstance(exc, SlotTaken):
                    form.add_error(None, str(exc.detail))
                else:
                    desk_problem(form, exc, slot="time")
                status = 400
            else:
                local = timezone.localtime(new_start, salon.tz)
                messages.success(
                    request,
                    _("Moved to %(day)s at %(time)s with %(name)s.")
                    % {
                        "day": formats.date_format(local, "l j F Y"),
                        "time": local.strftime("%H:%M"),
                        "name": member.name,
                    },
                )
                return HttpResponseRedirect(f"{back}?date={local.date().isoformat()}")
        outcome = move_outcome(booking=booking, start=new_start)
    elif form.is_bound:
        status = 400
    language = translation.get_language() or "en"
    return render(
        request,
        "desk/move.html",
        desk_context(
            salon,
            nav="schedule",
            booking=booking,
            form=form,
            outcome=outcome,
            amount=money_text(outcome.amount, outcome.currency, language) if outcome else "",
            new_start=new_start,
            member=member,
            back=f"{back}?date={timezone.localtime(booking.start, salon.tz).date().isoformat()}",
        ),
        status=status,
    )
