"""The booking page in steps: services → staff (or anyone) → time → details → recap → pay.

Each step is a server-rendered page that works without JavaScript. What the client chose
so far travels in the query string (services, staff, time) and then in hidden fields
(details); every step reads it all again and checks it against the salon's catalogue and
free times, so a step never trusts what an earlier one sent. The final POST books through
the same checkout as before (`web.public.booking._book`), which recomputes prices and
deposits.
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import phonenumbers
from babel import Locale
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bookings.models import Service, Source, page_source
from bookings.selectors import (
    Catalogue,
    VisitPart,
    availability_for,
    visit_availability_for,
    visit_parts,
)
from bookings.tokens import comeback_token_read
from core.money import babel_locale
from core.query import day_parse, id_parse
from deposits import terms
from deposits.checkout import MAX_SERVICES
from deposits.models import DepositPolicy, LateCancellation
from deposits.selectors import salon_today
from tenants.models import Salon
from tenants.phones import phone_parse
from web.public.forms import SlotField, ids_in_order

STEPS = ("services", "staff", "time", "details", "recap")
# Beside the time step, when no time suits: asking to be told when one frees up.
WAITLIST = "waitlist"
ANYONE = "any"

# Where a day's times are grouped: from this hour on, the afternoon, then the evening.
AFTERNOON, EVENING = 12, 17
# How far the "first available" jump looks ahead at a time (days).
FIRST_CHUNK = 28


@dataclass
class Choice:
    """What the client chose so far, read again from the request at every step."""

    services: list[Service]
    too_many: bool = False
    staff_given: bool = False
    staff_id: int | None = None
    start: dt.datetime | None = None
    start_problem: str = ""
    day: dt.date | None = None
    offering: frozenset[int] = field(default_factory=frozenset)
    # The channel the page was opened from (a share link's or the widget's `?source=`),
    # carried from step to step to the booking.
    source: str = Source.WEB
    # A come-back message's marker (`?n=`, bookings/tokens.py), carried to the booking
    # like the source; kept only when genuine.
    comeback: str = ""

    @property
    def order(self) -> str:
        return ",".join(str(s.pk) for s in self.services)

    @property
    def parts(self) -> list[VisitPart]:
        return [] if self.too_many else visit_parts(self.services)

    def query(self, *, upto: str, step: str | None = None, **extra: Any) -> str:
        """The query string that carries the choice into the step `upto` (the parts of
        the choice that step and the later ones need), plus `extra`; `step` names another
        page to show with it (the waitlist's, from the time step)."""
        index = STEPS.index(upto)
        params: list[tuple[str, str]] = [("services", str(s.pk)) for s in self.services]
        if self.services:
            params.append(("order", self.order))
        if index >= STEPS.index("time") and self.staff_given:
            params.append(("staff", str(self.staff_id) if self.staff_id else ANYONE))
        if index >= STEPS.index("details") and self.start is not None:
            params.append(("start", self.start.isoformat()))
        params += [(k, str(v)) for k, v in extra.items() if v not in (None, "")]
        if self.source != Source.WEB:
            params.append(("source", self.source))
        if self.comeback:
            params.append(("n", self.comeback))
        params.append(("step", step or upto))
        return "?" + urlencode(params)

    def hidden(self) -> list[tuple[str, str]]:
        """The choice as hidden fields of the details and recap forms."""
        fields = [("services", str(s.pk)) for s in self.services]
        fields.append(("order", self.order))
        fields.append(("staff", str(self.staff_id) if self.staff_id else ""))
        if self.start is not None:
            fields.append(("start", self.start.isoformat()))
        fields.append(("source", self.source))
        if self.comeback:
            fields.append(("n", self.comeback))
        return fields


def chosen_services(source: Any, services: dict[int, Service]) -> list[Service]:
    """The services asked for, in the order the client picked them: ticked (`services`,
    ordered by `order`), plus an add-on just added (`add`); or the one of a link
    (`service`). Unknown ids are left out."""
    ticked = [pk for pk in (id_parse(v) for v in source.getlist("services")) if pk]
    ids = ids_in_order(source.get("order"), ticked)
    added = id_parse(source.get("add"))
    if added is not None and added not in ids:
        ids.append(added)
    if not ids and (one := id_parse(source.get("service"))) is not None:
        ids = [one]
    return [services[pk] for pk in ids if pk in services]


def staff_offering(catalogue: Catalogue, services: Sequence[Service]) -> frozenset[int]:
    """Who can do every service of the visit."""
    if not services:
        return frozenset()
    sets = [catalogue.offering(s.pk) for s in services]
    return frozenset.intersection(*sets)


def free_starts(
    *,
    salon: Salon,
    parts: Sequence[VisitPart],
    staff_id: int | None,
    first: dt.date,
    last: dt.date,
    ignore_booking: int | None = None,
) -> list[dt.datetime]:
    """The starts of the visit free over the salon-local dates first..last."""
    if not parts or last < first:
        return []
    if len(parts) == 1 and parts[0].person == 0:
        slots: Sequence[Any] = availability_for(
            salon=salon,
            service=parts[0].service,
            first=first,
            last=last,
            staff_id=staff_id,
            ignore_booking=ignore_booking,
        )
    else:
        slots = visit_availability_for(
            salon=salon,
            parts=parts,
            first=first,
            last=last,
            staff_id=staff_id,
            ignore_booking=ignore_booking,
        )
    return [slot.start for slot in slots]


def start_still_free(
    *,
    salon: Salon,
    parts: Sequence[VisitPart],
    staff_id: int | None,
    start: dt.datetime,
    ignore_booking: int | None = None,
) -> bool:
    day = start.astimezone(salon.tz).date()
    starts = free_starts(
        salon=salon,
        parts=parts,
        staff_id=staff_id,
        first=day,
        last=day,
        ignore_booking=ignore_booking,
    )
    return start in starts


def choice_read(
    source: Any, *, salon: Salon, services: list[Service], catalogue: Catalogue
) -> Choice:
    """The choice in the request, each part checked: services offered, a staff member who
    does them, a start that is free."""
    chosen = chosen_services(source, {s.pk: s for s in services})
    if not chosen and len(services) == 1:
        chosen = services[:1]
    choice = Choice(
        services=chosen,
        too_many=len(chosen) > MAX_SERVICES,
        source=page_source(source.get("source")),
    )
    marker = source.get("n")
    if comeback_token_read(marker, salon_id=salon.pk) is not None:
        choice.comeback = str(marker)
    choice.day = day_parse(source.get("day"))
    if not chosen or choice.too_many:
        return choice
    choice.offering = staff_offering(catalogue, chosen)
    raw_staff = source.get("staff")
    if raw_staff is not None:
        staff_id = id_parse(raw_staff)
        if raw_staff in (ANYONE, ""):
            choice.staff_given = True
        elif staff_id is not None and staff_id in choice.offering:
            choice.staff_given, choice.staff_id = True, staff_id
    raw_start = source.get("start")
    if choice.staff_given and raw_start:
        try:
            start = SlotField().clean(raw_start)
        except forms.ValidationError:
            start = None
        if start is None:
            choice.start_problem = _("Choose a time from the list.")
        elif start_still_free(
            salon=salon, parts=choice.parts, staff_id=choice.staff_id, start=start
        ):
            choice.start = start
            choice.day = choice.day or start.astimezone(salon.tz).date()
        else:
            choice.start_problem = _("This time is no longer free: choose another.")
            choice.day = choice.day or start.astimezone(salon.tz).date()
    return choice


def step_reached(choice: Choice, asked: str | None) -> str:
    """The step to show: the one asked for, unless an earlier one is not done yet."""
    wanted = asked if asked in STEPS else "services"
    if not choice.services or choice.too_many:
        first_open = "services"
    elif not choice.staff_given:
        first_open = "staff"
    elif choice.start is None:
        first_open = "time"
    else:
        first_open = "details"
    return STEPS[min(STEPS.index(wanted), STEPS.index(first_open))]


# The time step ----------------------------------------------------------------------------


def _part_of_day(moment: dt.datetime) -> str:
    if moment.hour < AFTERNOON:
        return "morning"
    return "afternoon" if moment.hour < EVENING else "evening"


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _month_after(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def first_available(
    salon: Salon, choice: Choice, today: dt.date, last: dt.date
) -> dt.datetime | None:
    """The first free start from today, looked for a few weeks at a time."""
    first = today
    while first <= last:
        chunk_last = min(first + dt.timedelta(days=FIRST_CHUNK - 1), last)
        starts = free_starts(
            salon=salon, parts=choice.parts, staff_id=choice.staff_id, first=first, last=chunk_last
        )
        if starts:
            return min(starts)
        first = chunk_last + dt.timedelta(days=1)
    return None


def time_step(salon: Salon, choice: Choice) -> dict[str, Any]:
    """The week strip, the month, the chosen day's times grouped by part of the day, and
    the first available time; a day without time is shown as closed."""
    today = salon_today(salon)
    last = today + dt.timedelta(days=salon.max_advance_days)
    first_free = first_available(salon, choice, today, last)
    first_day = first_free.astimezone(salon.tz).date() if first_free else None
    day = choice.day or first_day or today
    day = min(max(day, today), last)
    week = day - dt.timedelta(days=day.weekday())
    month = _month_start(day)
    month_end = _month_after(month) - dt.timedelta(days=1)
    span_first = max(min(week, month), today)
    span_last = min(max(week + dt.timedelta(days=6), month_end), last)
    by_day: dict[dt.date, list[dt.datetime]] = {}
    for start in free_starts(
        salon=salon,
        parts=choice.parts,
        staff_id=choice.staff_id,
        first=span_first,
        last=span_last,
    ):
        local = start.astimezone(salon.tz)
        by_day.setdefault(local.date(), []).append(local)

    def link(to: dt.date) -> str:
        return choice.query(upto="time", day=to.isoformat())

    def cell(d: dt.date) -> dict[str, Any]:
        count = len(by_day.get(d, []))
        outside = d < today or d > last
        return {
            "date": d,
            "count": count,
            "closed": not outside and count == 0,
            "outside": outside,
            "selected": d == day,
            "url": link(d) if count else "",
        }

    groups: dict[str, list[dict[str, str]]] = {"morning": [], "afternoon": [], "evening": []}
    for local in sorted(by_day.get(day, [])):
        groups[_part_of_day(local)].append({"value": local.isoformat(), "label": f"{local:%H:%M}"})
    # The month as weeks of seven days, Monday first; days of other months left blank.
    grid_start = month - dt.timedelta(days=month.weekday())
    weeks: list[list[dict[str, Any] | None]] = []
    cursor = grid_start
    while cursor <= month_end:
        weeks.append(
            [
                cell(cursor + dt.timedelta(days=n))
                if (cursor + dt.timedelta(days=n)).month == month.month
                else None
                for n in range(7)
            ]
        )
        cursor += dt.timedelta(days=7)
    previous_month = month - dt.timedelta(days=1)
    next_month = _month_after(month)
    week_before = week - dt.timedelta(days=7)
    week_after = week + dt.timedelta(days=7)
    return {
        "day": day,
        "today": today,
        "week": [cell(week + dt.timedelta(days=n)) for n in range(7)],
        "previous_week": link(max(week_before, today)) if week > today else "",
        "next_week": link(week_after) if week_after <= last else "",
        "month": month,
        "month_weeks": weeks,
        "weekdays": [grid_start + dt.timedelta(days=n) for n in range(7)],
        "previous_month": link(max(_month_start(previous_month), today))
        if previous_month >= today
        else "",
        "next_month": link(next_month) if next_month <= last else "",
        "groups": [
            {"key": key, "label": label, "slots": groups[key]}
            for key, label in (
                ("morning", _("Morning")),
                ("afternoon", _("Afternoon")),
                ("evening", _("Evening")),
            )
            if groups[key]
        ],
        "first_free": first_free.astimezone(salon.tz) if first_free else None,
        "first_free_url": choice.query(upto="details", start=first_free.isoformat())
        if first_free
        else "",
        # None of these times suits her: the waitlist, from the day she is looking at.
        "waitlist_url": choice.query(upto="time", step=WAITLIST, day=day.isoformat()),
    }


# The details step -------------------------------------------------------------------------


class ContactForm(forms.Form):
    """Who the client is and how the salon reaches her, made for phones: the details step's
    fields, and the waitlist's."""

    name = forms.CharField(
        max_length=150,
        label=gettext_lazy("Your name"),
        error_messages={"required": gettext_lazy("Tell us your name.")},
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    phone = forms.CharField(
        max_length=40,
        required=False,
        label=gettext_lazy("Phone"),
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "tel"}),
    )
    email = forms.EmailField(
        max_length=254,
        required=False,
        label=gettext_lazy("E-mail"),
        widget=forms.EmailInput(attrs={"inputmode": "email", "autocomplete": "email"}),
    )

    def __init__(self, *args: Any, country: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.country = country

    def clean_phone(self) -> str:
        value = (self.cleaned_data.get("phone") or "").strip()
        if not value:
            return value
        try:
            phone_parse(value, country=self.country)
        except ValidationError as exc:
            hint = phone_hint(value, country=self.country)
            raise forms.ValidationError(hint or exc.messages[0], code="invalid_phone") from exc
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        contact = (data.get("phone") or "").strip() or (data.get("email") or "").strip()
        if not contact and "email" not in self.errors and "phone" not in self.errors:
            self.add_error("phone", _("Give a phone number or an e-mail address."))
        return data


class DetailsForm(ContactForm):
    """The details step: her contact, a note for the salon, the messages she agrees to."""

    notes = forms.CharField(
        max_length=2000,
        required=False,
        label=gettext_lazy("Notes for the salon"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    reminders_consent = forms.BooleanField(required=False)
    marketing_consent = forms.BooleanField(required=False)


# When a number reads as several countries' national numbers, the example names the first
# of these (the countries a salon's visitors most often come from), else any.
LIKELY_REGIONS = ("GB", "DE", "ES", "IT", "BE", "CH", "NL", "PT", "FR", "IE", "LU", "AT", "US")


def phone_hint(value: str, *, country: str) -> str:
    """When a number is not one of the salon's country but reads as another country's
    national number: ask for its country code, with an example ("+44 for the United
    Kingdom")."""
    if value.strip().startswith(("+", "00")):
        return ""
    found: list[tuple[str, int]] = []
    for region in phonenumbers.SUPPORTED_REGIONS - {country}:
        try:
            number = phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            found.append((region, int(number.country_code or 0)))
    if not found:
        return ""
    rank = {region: n for n, region in enumerate(LIKELY_REGIONS)}
    region, code = min(found, key=lambda item: (rank.get(item[0], len(rank)), item[0]))
    locale = Locale.parse(babel_locale(translation.get_language() or "en"))
    return _(
        "This is not a number of %(home)s. If it is from another country, add its country "
        "code in front (for example +%(code)s for %(country)s)."
    ) % {
        "home": locale.territories.get(country, country),
        "code": code,
        "country": locale.territories.get(region, region),
    }


# The recap --------------------------------------------------------------------------------


def recap_deposit_terms(
    policy: DepositPolicy, *, start: dt.datetime, deposit: int, currency: str
) -> dict[str, Any]:
    """What the money is (acompte or arrhes) and what that means, the right of withdrawal
    and, for an appointment within its 14 days, the express request's box: the words the
    booking keeps once made (deposits/agreements.py)."""
    late_credit = policy.late_cancellation == LateCancellation.CREDIT
    tz = timezone.get_current_timezone()
    return {
        "kind": policy.deposit_kind,
        "kind_name": terms.kind_name(policy.deposit_kind),
        "kind_text": terms.kind_sentence(
            policy.deposit_kind, late_credit=late_credit, amount=deposit, currency=currency
        )
        if deposit
        else "",
        "withdrawal": terms.withdrawal_info(policy.withdrawal_refund, start=start, tz=tz),
        "express_asked": terms.express_asked(policy.withdrawal_refund, start=start),
        "express_label": terms.express_label(),
    }


def recap_terms(policy: DepositPolicy, start: dt.datetime) -> dict[str, Any]:
    """The cancellation terms of this very time: free until the deadline, or, when the
    time is already inside the notice, what becomes of the deposit."""
    deadline = start - dt.timedelta(hours=policy.cancellation_window_hours)
    return {
        "deadline": deadline,
        "inside_notice": deadline <= timezone.now(),
        "late_credit": policy.late_cancellation == LateCancellation.CREDIT,
        "credit_valid_days": policy.credit_valid_days,
    }
