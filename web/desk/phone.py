"""A booking taken on the phone, in a few keystrokes: find the client by phone as they
give it (or create them), pick the service (or several, in order, and the people coming
with the client, each with their own), who, the day and a free time, and say how the
deposit is handled. The booking is placed by `checkout_place`, as the API's is
(`support.phone.phone_booking_place`)."""

import datetime as dt
import re
from typing import Any, cast

import phonenumbers
from django import forms
from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bookings.selectors import (
    VisitPart,
    availability_for,
    catalogue_get,
    service_list,
    staff_list,
    visit_availability_for,
)
from core.errors import Invalid, ProviderUnavailable, SlotTaken
from core.money import money_format
from core.query import FIRST_DAY, LAST_DAY, day_parse, id_parse
from customers.models import Channel, Customer
from customers.selectors import customer_list
from deposits.checkout import (
    MAX_SERVICES,
    CheckoutRequest,
    CustomerDetails,
    DepositHandling,
    Guest,
)
from deposits.models import policy_values
from deposits.rules import Rule, rule_in_force
from deposits.selectors import client_record, deposit_quote_visit, policy_get, salon_today
from support.desk_card import client_card
from support.phone import phone_booking_place
from support.selectors import salon_customer
from tenants.models import Salon
from web.desk.access import desk_context, desk_view
from web.desk.calendar import desk_day
from web.desk.card import card_context
from web.problems import desk_problem

NEW = "new"
MATCHES = 10
# The form's rows: the client's services, and people booked with the client (a couple,
# a mother and daughter, friends), each with up to two services.
SERVICE_ROWS = MAX_SERVICES
GUEST_ROWS = 3
GUEST_SERVICE_ROWS = 2

HANDLING_CHOICES = [
    (DepositHandling.PAYMENT_LINK, gettext_lazy("Send a payment link")),
    (DepositHandling.PAID_AT_DESK, gettext_lazy("Paid at the desk")),
    (DepositHandling.WAIVED, gettext_lazy("Waived (say why)")),
]
SEND_VIA_CHOICES = [
    ("", gettext_lazy("The client's preferred way")),
    (Channel.SMS, gettext_lazy("SMS")),
    (Channel.EMAIL, gettext_lazy("E-mail")),
]


class PhoneBookingForm(forms.Form):
    customer = forms.CharField(
        required=False, error_messages={"required": gettext_lazy("Choose the client.")}
    )
    name = forms.CharField(label=gettext_lazy("Name"), max_length=150, required=False)
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=40, required=False)
    email = forms.EmailField(label=gettext_lazy("E-mail"), max_length=254, required=False)
    # The client's services in order: the `service` selects, repeated (read in `clean`).
    service = forms.CharField(label=gettext_lazy("Service"), required=False)
    staff = forms.TypedChoiceField(
        label=gettext_lazy("With"), coerce=int, required=False, empty_value=None
    )
    # A text field, one tab stop: Chromium's date field takes four (day, month, year and
    # its picker). Read by `day_read`: 12/03, 12/03/2027, 2027-03-12.
    day = forms.CharField(label=gettext_lazy("Day"), max_length=20)
    start = forms.CharField(required=False)
    deposit_handling = forms.ChoiceField(
        label=gettext_lazy("Deposit"),
        choices=HANDLING_CHOICES,
        widget=forms.RadioSelect,
        initial=DepositHandling.PAYMENT_LINK,
    )
    waiver_reason = forms.CharField(
        label=gettext_lazy("Why the deposit is waived"), max_length=300, required=False
    )
    send_via = forms.ChoiceField(
        label=gettext_lazy("Send the link by"), choices=SEND_VIA_CHOICES, required=False
    )
    notes = forms.CharField(
        label=gettext_lazy("Notes (what the client said)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    # Consent is the client's to give: the box starts unticked, staff tick it when asked.
    reminders_consent = forms.BooleanField(
        label=gettext_lazy("The client agrees to receive reminders"), required=False
    )

    def __init__(self, *args: Any, salon: Salon, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.salon = salon
        self.service_choices = [
            (s.pk, s.name) for s in service_list(salon=salon, active_only=True).order_by("name")
        ]
        for n in range(1, GUEST_ROWS + 1):
            self.fields[f"guest-{n}-name"] = forms.CharField(
                label=gettext_lazy("Name"), max_length=120, required=False
            )
            self.fields[f"guest-{n}-service"] = forms.CharField(
                label=gettext_lazy("Service"), required=False
            )
        self.fields["staff"].choices = [("", _("Anyone free"))] + [  # type: ignore[attr-defined]
            (s.pk, s.name) for s in staff_list(salon=salon, active_only=True).order_by("name")
        ]

    def _services(self, name: str) -> list[int] | None:
        """The services chosen in the repeated `name` selects, in order, empty ones left
        out; None (and the field's error) when one is not the salon's."""
        data = cast(QueryDict, self.data)
        raw = [str(v) for v in data.getlist(name) if str(v).strip()]
        known = {pk for pk, _name in self.service_choices}
        ids = [id_parse(v) for v in raw]
        if any(pk not in known for pk in ids):
            self.add_error(name, _("Choose a service from the list."))
            return None
        return [pk for pk in ids if pk is not None]

    def clean_day(self) -> dt.date:
        day = day_read(self.cleaned_data["day"], self.salon)
        if day is None:
            raise forms.ValidationError(_("Give the day as 12/03/2027."))
        if not FIRST_DAY <= day <= LAST_DAY:
            raise forms.ValidationError(_("Give a date from the year 2000 to 2999."))
        return day

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        own = self._services("service") if self.is_bound else []
        if own is not None:
            if not own:
                self.add_error("service", _("Choose a service."))
            elif len(own) > MAX_SERVICES:
                self.add_error(
                    "service",
                    _("Choose at most %(n)s services for one appointment.") % {"n": MAX_SERVICES},
                )
        data["service_ids"] = own or []
        guests = []
        for n in range(1, GUEST_ROWS + 1):
            name = (data.get(f"guest-{n}-name") or "").strip()
            services = self._services(f"guest-{n}-service") if self.is_bound else []
            if services is None:
                continue
            if services and not name:
                self.add_error(f"guest-{n}-name", _("Tell us this guest's name."))
            elif name and not services:
                self.add_error(f"guest-{n}-service", _("Choose a service for this guest."))
            elif len(services) > MAX_SERVICES:
                self.add_error(
                    f"guest-{n}-service",
                    _("Choose at most %(n)s services for one appointment.") % {"n": MAX_SERVICES},
                )
            elif name:
                guests.append(Guest(name=name, service_ids=tuple(services)))
        data["guests"] = guests
        choice = data.get("customer") or ""
        if not choice:
            self.add_error("customer", _("Choose the client, or create a new one."))
        elif choice == NEW:
            if not data.get("phone") and not data.get("email"):
                self.add_error("phone", _("Give the new client's phone number or e-mail."))
        elif not choice.isdigit():
            self.add_error("customer", _("Choose the client, or create a new one."))
        if not data.get("start"):
            self.add_error("start", _("Choose a free time."))
        else:
            try:
                start = dt.datetime.fromisoformat(data["start"])
            except ValueError:
                start = None
            if start is None or start.tzinfo is None:
                self.add_error("start", _("Choose a free time."))
            else:
                data["start"] = start
        if (
            data.get("deposit_handling") == DepositHandling.WAIVED
            and not (data.get("waiver_reason") or "").strip()
        ):
            self.add_error("waiver_reason", _("Say why the deposit is waived."))
        return data


def _rule_words(rule: Rule, currency: str, language: str) -> str:
    if rule.kind == "none":
        return _("no deposit")
    if rule.kind == "full":
        return _("the full price")
    if rule.kind == "percent":
        return _("%(n)s%% of the price") % {"n": rule.value}
    return money_format(rule.value or 0, currency, language)


def deposit_preview(
    salon: Salon, customer: Customer | None, parts: list[VisitPart]
) -> dict[str, str] | None:
    """What this client (a new one when None) pays as deposit for this visit if booked now,
    and why (the client's record, the service's own rule, the ramp's step, the salon's
    rule), in the page's language. None when no service is chosen."""
    if not parts:
        return None
    language = translation.get_language() or "en"
    policy, steps = policy_get(salon=salon)
    day = salon_today(salon)
    quote = deposit_quote_visit(
        salon=salon,
        services=[part.service for part in parts],
        day=day,
        customer=customer,
        policy=(policy, steps),
    )
    client = None if customer is None else client_record(policy=policy, customer=customer)
    words = _rule_words(quote.rule, salon.currency, language)
    if quote.source == "trusted_customer" and client is not None and client.trusted:
        why = _("A trusted client: no deposit.")
    elif quote.source == "trusted_customer" and client is not None:
        why = _("%(visits)s visits without a no-show: no deposit.") % {"visits": client.visits}
    elif quote.source == "no_show_history" and client is not None:
        why = _("%(count)s missed appointments: the full price is paid up front.") % {
            "count": client.no_shows
        }
    elif quote.source == "ramp_step":
        _rule, since = rule_in_force(policy_values(policy, steps), day)
        when = date_format(since, "DATE_FORMAT") if since else ""
        why = _("The ramp's step in force since %(date)s: %(rule)s.") % {
            "date": when,
            "rule": words,
        }
    elif quote.source == "service_override":
        why = _("The service's own rule: %(rule)s.") % {"rule": words}
    else:
        why = _("The salon's rule: %(rule)s.") % {"rule": words}
    return {
        "amount": money_format(quote.amount, salon.currency, language),
        "why": str(why),
        "none": "1" if quote.amount == 0 else "",
    }


def _customer_for_preview(salon: Salon, value: object) -> Customer | None:
    pk = id_parse(value)
    if pk is None:
        return None
    found = salon_customer(salon=salon, pk=pk)
    return found if found is not None and not found.erased else None


def _carried(query: str) -> dict[str, str]:
    """What a search that matched no one carries into the new client's form: a number as
    the phone, an address as the e-mail, else the name."""
    text = query.strip()
    if not text:
        return {}
    if "@" in text:
        return {"email": text}
    digits = sum(char.isdigit() for char in text)
    if digits >= 6 and digits >= len(text.replace(" ", "")) - 2:
        return {"phone": text}
    return {"name": text}


def _matches(salon: Salon, query: str) -> list[Customer]:
    if len(query.strip()) < 2:
        return []
    return list(customer_list(salon=salon, search=query)[:MATCHES])


def _national(salon: Salon, customer: Customer) -> str:
    if not customer.phone:
        return ""
    number = phonenumbers.parse(str(customer.phone))
    same_country = phonenumbers.region_code_for_number(number) == salon.country
    style = phonenumbers.PhoneNumberFormat
    return phonenumbers.format_number(
        number, style.NATIONAL if same_country else style.INTERNATIONAL
    )


def _parts(salon: Salon, service_ids: list[int], guests: list[Guest]) -> list[VisitPart]:
    """The visit the form describes, as the engine reads it (unknown services left out)."""
    catalogue = catalogue_get(salon=salon)
    people = [("", service_ids)] + [(g.name, list(g.service_ids)) for g in guests]
    return [
        VisitPart(service, person, name)
        for person, (name, ids) in enumerate(people)
        for service in (catalogue.active_service(pk) for pk in ids)
        if service is not None
    ]


def _slots(
    salon: Salon, parts: list[VisitPart], staff_id: Any, day: dt.date | None
) -> list[dict[str, str]]:
    """The free times of the day, as the form offers them: value (ISO, UTC) and label
    (with the visit's end when it holds several services)."""
    if not parts or not any(p.person == 0 for p in parts) or day is None:
        return []
    staff = staff_id if isinstance(staff_id, int) else None
    if len(parts) == 1:
        starts = [
            (slot.start, slot.end)
            for slot in availability_for(
                salon=salon, service=parts[0].service, first=day, last=day, staff_id=staff
            )
        ]
    else:
        starts = [
            (slot.start, slot.end)
            for slot in visit_availability_for(
                salon=salon, parts=parts, first=day, last=day, staff_id=staff
            )
        ]

    def hour(moment: dt.datetime) -> str:
        return timezone.localtime(moment, salon.tz).strftime("%H:%M")

    return [
        {
            "value": start.astimezone(dt.UTC).isoformat(),
            "label": hour(start) if len(parts) == 1 else f"{hour(start)}\u2013{hour(end)}",
        }
        for start, end in starts
    ]


def _asked(salon: Salon, source: Any) -> list[VisitPart]:
    """The visit a page or a script asks the free times of, read from its fields as they
    are (a half-filled guest counts once she has a service)."""
    own = [pk for pk in (id_parse(v) for v in source.getlist("service")) if pk]
    guests = []
    for n in range(1, GUEST_ROWS + 1):
        ids = [pk for pk in (id_parse(v) for v in source.getlist(f"guest-{n}-service")) if pk]
        if ids:
            name = str(source.get(f"guest-{n}-name") or "").strip()
            guests.append(Guest(name=name or f"{n}", service_ids=tuple(ids[:MAX_SERVICES])))
    return _parts(salon, own[:MAX_SERVICES], guests)


_DAY = re.compile(r"^\s*(\d{1,2})\s*[/.\-]\s*(\d{1,2})(?:\s*[/.\-]\s*(\d{2}|\d{4}))?\s*$")


def day_read(text: str, salon: Salon) -> dt.date | None:
    """A day as the desk types it: `YYYY-MM-DD`, or day first (`12/03/2027`, `12.03.27`,
    `12/03`: the next 12 March, this year or next). None when it is no day."""
    iso = day_parse(text.strip())
    if iso is not None:
        return iso
    found = _DAY.match(text or "")
    if found is None:
        return None
    day, month, year = int(found.group(1)), int(found.group(2)), found.group(3)
    today = salon_today(salon)
    try:
        if year is not None:
            return dt.date(int(year) + (2000 if len(year) == 2 else 0), month, day)
        guess = dt.date(today.year, month, day)
        return guess if guess >= today else dt.date(today.year + 1, month, day)
    except ValueError:
        return None


def _day(value: Any, salon: Salon, *, strict: bool = True) -> dt.date:
    """The day the form or the script names; today when none (a 400 page, `strict`, for
    a day outside the years the desk shows)."""
    read = day_read(value, salon) if isinstance(value, str) else None
    return desk_day(read.isoformat() if read else None, salon, strict=strict)


def _place(request: HttpRequest, salon: Salon, form: PhoneBookingForm) -> HttpResponse | None:
    """The booking, then its page; None with the form's errors when it could not be made."""
    data = form.cleaned_data
    new = data["customer"] == NEW
    try:
        checkout = phone_booking_place(
            CheckoutRequest(
                salon=salon,
                service_id=data["service_ids"][0] if len(data["service_ids"]) == 1 else None,
                service_ids=tuple(data["service_ids"]) if len(data["service_ids"]) > 1 else (),
                guests=tuple(data["guests"]),
                start=data["start"],
                staff_id=data.get("staff"),
                customer=CustomerDetails(
                    name=data.get("name") or "",
                    phone=data.get("phone") or None,
                    email=data.get("email") or None,
                    reminders_consent=bool(data.get("reminders_consent")),
                ),
                customer_id=None if new else int(data["customer"]),
                notes=data["notes"],
                actor=request.user,
                deposit_handling=data["deposit_handling"],
                waiver_reason=data["waiver_reason"],
                send_via=data["send_via"] or None,
            )
        )
    except Invalid as exc:
        desk_problem(form, _on_rows(exc), slot="start")
        return None
    except (SlotTaken, ProviderUnavailable) as exc:
        desk_problem(form, exc, slot="start")
        return None
    if checkout.link is not None:
        messages.success(request, _("Booking taken. The payment link was sent to the client."))
    else:
        messages.success(request, _("Booking taken and confirmed."))
    return HttpResponseRedirect(
        reverse("desk:booking", kwargs={"salon": salon.slug, "pk": checkout.booking.pk})
    )


def _on_rows(error: Invalid) -> Invalid:
    """The checkout's refusal by field, on this form's rows: the client's services on
    `service`, each guest's on hers."""
    fields = dict(error.fields) if isinstance(error.fields, dict) else {None: error.fields}
    if "services" in fields:
        fields["service"] = fields.pop("services")
    guests = fields.pop("guests", None)
    if isinstance(guests, list):
        for n, problems in enumerate(guests, start=1):
            if isinstance(problems, dict):
                for key, messages_ in problems.items():
                    fields[f"guest-{n}-{'name' if key == 'name' else 'service'}"] = messages_
            elif problems:
                fields.setdefault(NON_FIELD_ERRORS, []).append(problems)
    return Invalid(fields)


@desk_view
def phone_booking(request: HttpRequest, salon: Salon) -> HttpResponse:
    """GET: the form (`?q=` finds the client, `?day=` the day, `?staff=` and `?start=` a
    free time chosen on the schedule). POST `step=slots` shows the
    day's free times again; `step=book` takes the booking."""
    source = request.POST if request.method == "POST" else request.GET
    query = source.get("q", "").strip()
    status = 200
    if request.method == "POST" and request.POST.get("step") == "book":
        form = PhoneBookingForm(request.POST, salon=salon)
        if form.is_valid():
            done = _place(request, salon, form)
            if done is not None:
                return done
        status = 400
    elif request.method == "POST":
        form = PhoneBookingForm(salon=salon, initial=request.POST.dict())
    else:
        services = PhoneBookingForm(salon=salon).service_choices
        initial = {
            "day": _day(request.GET.get("day"), salon).isoformat(),
            "service": str(services[0][0]) if services else "",
            "deposit_handling": DepositHandling.PAYMENT_LINK,
            # A free time chosen on the schedule: its staff member and start (ISO, UTC).
            "staff": id_parse(request.GET.get("staff")),
            "start": request.GET.get("start", ""),
        }
        form = PhoneBookingForm(salon=salon, initial=initial)

    matches = _matches(salon, query)
    carried = _carried(query) if len(query) >= 2 and not matches else {}
    if carried and not form.is_bound:
        # A number that matched no one is the new client's: the form starts there.
        form.initial = {"customer": NEW, **carried, **form.initial}

    def value(name: str) -> Any:
        return form[name].value()

    chosen = id_parse(value("customer"))
    if chosen is not None and all(c.pk != chosen for c in matches):
        picked = salon_customer(salon=salon, pk=chosen)
        if picked is not None and not picked.erased:
            matches.insert(0, picked)
    # The form says what is wrong with a day it was given; the page shows today meanwhile.
    day = _day(value("day"), salon, strict=False)
    # The visit asked for: as posted, or the form's first service when it first opens.
    visit = request.POST.copy() if request.method == "POST" else QueryDict(mutable=True)
    if request.method != "POST":
        visit.setlist("service", [str(form.initial.get("service", ""))])
    parts = _asked(salon, visit)
    slots = _slots(salon, parts, id_parse(value("staff")), day)
    chosen_customer = _customer_for_preview(salon, value("customer"))
    card = None if chosen_customer is None else client_card(salon=salon, pk=chosen_customer.pk)
    return render(
        request,
        "desk/phone_booking.html",
        desk_context(
            salon,
            nav="book",
            form=form,
            query=query,
            matches=[{"customer": c, "phone": _national(salon, c)} for c in matches],
            chosen=str(value("customer") or ""),
            day=day,
            slots=slots,
            start=str(value("start") or ""),
            service_rows=_service_rows(visit),
            guest_rows=_guest_rows(form, visit),
            new=NEW,
            searched=len(query) >= 2,
            existing=chosen_customer is not None,
            new_client_errors=any(form.errors.get(f) for f in ("name", "phone", "email")),
            focus_search=not form.errors,
            deposit=deposit_preview(salon, chosen_customer, parts),
            **card_context(card),
        ),
        status=status,
    )


def _service_rows(source: Any) -> list[dict[str, Any]]:
    """The client's service selects: those chosen, then empty ones up to the most."""
    chosen = [str(v) for v in source.getlist("service") if str(v).strip()][:SERVICE_ROWS]
    values = chosen + [""] * (SERVICE_ROWS - len(chosen))
    return [
        {"n": n, "value": value, "id": "id_service" if n == 1 else f"id_service_{n}"}
        for n, value in enumerate(values, start=1)
    ]


def _guest_rows(form: PhoneBookingForm, source: Any) -> list[dict[str, Any]]:
    rows = []
    for n in range(1, GUEST_ROWS + 1):
        chosen = [str(v) for v in source.getlist(f"guest-{n}-service") if str(v).strip()]
        chosen = chosen[:GUEST_SERVICE_ROWS]
        rows.append(
            {
                "n": n,
                "name": str(source.get(f"guest-{n}-name") or ""),
                "services": chosen + [""] * (GUEST_SERVICE_ROWS - len(chosen)),
                "name_id": f"guest-{n}-name",
                "service_id": f"guest-{n}-service",
                "name_errors": form.errors.get(f"guest-{n}-name", []),
                "service_errors": form.errors.get(f"guest-{n}-service", []),
            }
        )
    return rows


@desk_view
def customer_search_json(request: HttpRequest, salon: Salon) -> JsonResponse:
    """`?q=`: the clients a phone number (any format), a name or an e-mail finds."""
    return JsonResponse(
        {
            "results": [
                {"id": c.pk, "name": c.name, "phone": _national(salon, c), "email": c.email or ""}
                for c in _matches(salon, request.GET.get("q", ""))
            ]
        }
    )


@desk_view
def slots_json(request: HttpRequest, salon: Salon) -> JsonResponse:
    """`?service=&staff=&day=&customer=`: the day's free times for the service (`service`
    repeated for several, in order, and `guest-N-service` for the people booked with the
    client), and the deposit this client (a new one without `customer`) would pay."""
    day = _day(request.GET.get("day"), salon)
    parts = _asked(salon, request.GET)
    customer = _customer_for_preview(salon, request.GET.get("customer"))
    return JsonResponse(
        {
            "slots": _slots(salon, parts, id_parse(request.GET.get("staff")), day),
            "deposit": deposit_preview(salon, customer, parts),
        }
    )
