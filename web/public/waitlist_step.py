"""The booking steps' waitlist: when no time suits (none on the days she looked at, or
none she can make), the client asks to be told when one frees up, for the services she
chose, with the staff member she chose or anyone, between two dates, in the parts of the
day that suit her.

A page of its own beside the time step, working without JavaScript like the others: the
choice so far comes with it (web/public/steps.py), the form asks the rest, and joining
goes through `support.waitlist_clients.waitlist_join_online`, which finds the client as an
online booking does (knowing a number proves nothing). Rate-limited as the booking POSTs.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bookings.models import StaffMember
from core.errors import Invalid
from core.query import FIRST_DAY, LAST_DAY
from core.ratelimit import BOOKING, client_ip, contact_keys, limit_reached
from customers.models import Customer
from deposits.selectors import salon_today
from support.models import PartOfDay, WaitlistEntry, WaitlistSource
from support.waitlist import consent_text
from support.waitlist_clients import waitlist_join_online
from tenants.models import Salon
from web.problems import form_errors
from web.public.steps import ANYONE, Choice, ContactForm

# The dates the form starts with: from the day she was looking at, two weeks.
DEFAULT_DAYS = 14
# Where the form was opened from: her client space (recorded as the entry's source).
FROM_SPACE = "space"


class WaitlistForm(ContactForm):
    """The wishes (staff, dates, parts of the day), her contact and her consent."""

    staff = forms.ChoiceField(label=gettext_lazy("With"), required=False)
    parts_of_day = forms.MultipleChoiceField(
        label=gettext_lazy("Which parts of the day suit you?"),
        choices=PartOfDay.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": gettext_lazy("Choose from the list.")},
    )
    # The box's own words are `consent_text()`, the words stored with the entry.
    consent = forms.BooleanField(
        label=gettext_lazy("Your consent"),
        error_messages={
            "required": gettext_lazy(
                "Agree to be told when a time frees up, or we cannot tell you."
            )
        },
    )

    def __init__(self, *args: Any, country: str, staff: list[StaffMember], **kwargs: Any) -> None:
        super().__init__(*args, country=country, **kwargs)
        staff_field = cast(forms.ChoiceField, self.fields["staff"])
        staff_field.choices = [(ANYONE, _("Anyone available"))] + [(m.pk, m.name) for m in staff]
        self.staff_members = {str(m.pk): m for m in staff}
        for name, label in (("from", gettext_lazy("From")), ("to", gettext_lazy("To"))):
            self.fields[name] = forms.DateField(
                label=label,
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                error_messages={
                    "required": gettext_lazy("Give a date."),
                    "invalid": gettext_lazy("Give a date as 2027-03-12."),
                },
            )
        self.consent_text = consent_text()
        self.order_fields(["staff", "from", "to", "parts_of_day", "name", "phone", "email"])

    def clean_staff(self) -> StaffMember | None:
        value = self.cleaned_data.get("staff") or ANYONE
        return None if value == ANYONE else self.staff_members.get(value)

    def _day(self, name: str) -> dt.date | None:
        day = self.cleaned_data.get(name)
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            raise forms.ValidationError(_("Give a date from the year 2000 to 2999."))
        return day

    def clean_from(self) -> dt.date | None:
        return self._day("from")

    def clean_to(self) -> dt.date | None:
        return self._day("to")


def waitlist_initial(
    salon: Salon, choice: Choice, proven: Customer | None = None
) -> dict[str, Any]:
    """What the form starts with: the staff member she chose (or anyone), the days she was
    looking at and the two weeks after (within the salon's horizon); a proven client's
    own name and contact."""
    today = salon_today(salon)
    horizon = today + dt.timedelta(days=salon.max_advance_days)
    first = min(max(choice.day or today, today), horizon)
    last = min(first + dt.timedelta(days=DEFAULT_DAYS - 1), horizon)
    initial: dict[str, Any] = {
        "staff": str(choice.staff_id) if choice.staff_id else ANYONE,
        "from": first,
        "to": last,
    }
    if proven is not None:
        initial |= {
            "name": proven.name,
            "phone": str(proven.phone or ""),
            "email": proven.email or "",
        }
    return initial


def waitlist_form(
    request: HttpRequest,
    *,
    salon: Salon,
    choice: Choice,
    staff: list[StaffMember],
    proven: Customer | None,
) -> WaitlistForm:
    """The step's form: bound to a POST, else filled with the defaults."""
    offering = [m for m in staff if m.pk in choice.offering]
    if request.method == "POST":
        return WaitlistForm(request.POST, country=salon.country, staff=offering)
    return WaitlistForm(
        initial=waitlist_initial(salon, choice, proven), country=salon.country, staff=offering
    )


@dataclass
class Joined:
    """What the POST came to: the entry, or the page's problem, status and wait."""

    entry: WaitlistEntry | None = None
    problem: str = ""
    status: int = 200
    wait: int | None = None


def waitlist_join_post(
    request: HttpRequest,
    *,
    salon: Salon,
    choice: Choice,
    form: WaitlistForm,
    language: str,
    proven: Customer | None,
) -> Joined:
    """Join, from the form: every wish checked again by the service. Rate-limited per
    address, then per phone and e-mail, as booking is."""
    wait = limit_reached(request, group=BOOKING, keys={"ip": client_ip(request)})
    if wait is not None:
        return Joined(problem="too_many_attempts", status=429, wait=wait)
    if not form.is_valid():
        return Joined(status=400)
    data = form.cleaned_data
    keys = contact_keys(phone=data["phone"], email=data["email"], country=salon.country)
    wait = limit_reached(request, group=BOOKING, keys=keys)
    if wait is not None:
        return Joined(problem="too_many_attempts", status=429, wait=wait)
    from_space = request.POST.get("origin") == FROM_SPACE and proven is not None
    try:
        entry = waitlist_join_online(
            salon=salon,
            services=choice.services,
            staff=data["staff"],
            first=data["from"],
            last=data["to"],
            parts_of_day=data["parts_of_day"],
            consent=data["consent"],
            name=data["name"],
            phone=data["phone"] or None,
            email=data["email"] or None,
            language=language,
            proven=proven,
            source=WaitlistSource.SPACE if from_space else WaitlistSource.WEB,
        )
    except Invalid as exc:
        form_errors(form, exc)
        return Joined(status=400)
    return Joined(entry=entry)
