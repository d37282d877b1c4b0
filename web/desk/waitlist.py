"""The salon's waitlist at the desk: who waits for which time (filtered by status), a
client taken off it on her behalf, and a phone client put on it (found by phone or
e-mail, or created, as a phone booking does; her consent stated on the phone). Every
change goes through support's services, as the client's own pages do."""

import datetime as dt
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from bookings.selectors import service_list, staff_list
from core.errors import Invalid
from core.query import FIRST_DAY, LAST_DAY, id_parse
from customers.models import Customer
from deposits.checkout import MAX_SERVICES
from deposits.selectors import salon_today
from support.models import PartOfDay, WaitlistEntry, WaitlistStatus
from support.selectors import salon_customer
from support.waitlist import ACTIVE, waitlist_leave
from support.waitlist_clients import waitlist_entries, waitlist_join_by_staff, waitlist_services
from tenants.models import Salon
from web.desk.access import desk_context, desk_view
from web.desk.phone import day_read
from web.problems import form_errors

PAGE_SIZE = 50
SERVICE_ROWS = 3
DEFAULT_DAYS = 14
ACTIVE_FILTER = "active"  # waiting or offered: those the refill may still offer a time


class DeskWaitlistForm(forms.Form):
    """A phone client's wishes, her details (unless she was chosen) and her consent."""

    name = forms.CharField(label=gettext_lazy("Name"), max_length=150, required=False)
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=40, required=False)
    email = forms.EmailField(label=gettext_lazy("E-mail"), max_length=254, required=False)
    staff = forms.TypedChoiceField(
        label=gettext_lazy("With"), coerce=int, required=False, empty_value=None
    )
    first = forms.CharField(label=gettext_lazy("From"), max_length=20)
    last = forms.CharField(label=gettext_lazy("To"), max_length=20)
    parts_of_day = forms.MultipleChoiceField(
        label=gettext_lazy("Parts of the day (none: any time)"),
        choices=PartOfDay.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    consent = forms.BooleanField(
        label=gettext_lazy(
            "The client agrees to be told by text message or e-mail when a time frees up, "
            "and knows she can leave the waitlist at any time."
        ),
        error_messages={"required": gettext_lazy("Ask the client whether she agrees to be told.")},
    )

    def __init__(
        self, *args: Any, salon: Salon, customer: Customer | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.salon = salon
        self.customer = customer
        self.services = {
            s.pk: s for s in service_list(salon=salon, active_only=True).order_by("name", "pk")
        }
        self.staff_members = {
            m.pk: m for m in staff_list(salon=salon, active_only=True).order_by("name", "pk")
        }
        staff_field = cast(forms.TypedChoiceField, self.fields["staff"])
        staff_field.choices = [("", _("Anyone free"))] + [
            (pk, m.name) for pk, m in self.staff_members.items()
        ]
        self.fields["first"].widget.attrs.update(inputmode="numeric", autocomplete="off")
        self.fields["last"].widget.attrs.update(inputmode="numeric", autocomplete="off")
        self.fields["phone"].widget.input_type = "tel"
        self.fields["phone"].widget.attrs.update(inputmode="tel", autocomplete="off")

    def _day(self, name: str) -> dt.date:
        day = day_read(self.cleaned_data[name], self.salon)
        if day is None:
            raise forms.ValidationError(_("Give the day as 12/03/2027."))
        if not FIRST_DAY <= day <= LAST_DAY:
            raise forms.ValidationError(_("Give a date from the year 2000 to 2999."))
        return day

    def clean_first(self) -> dt.date:
        return self._day("first")

    def clean_last(self) -> dt.date:
        return self._day("last")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        raw = [str(v) for v in cast(QueryDict, self.data).getlist("service") if str(v).strip()]
        ids = [id_parse(v) for v in raw]
        if any(pk not in self.services for pk in ids):
            self.add_error(None, _("Choose a service from the list."))
        elif not ids:
            self.add_error(None, _("Choose a service."))
        elif len(ids) > MAX_SERVICES:
            self.add_error(
                None,
                _("Choose at most %(n)s services for one appointment.") % {"n": MAX_SERVICES},
            )
        data["services"] = [self.services[pk] for pk in ids if pk in self.services]
        no_contact = not data.get("phone") and not data.get("email")
        if self.customer is None and no_contact and "email" not in self.errors:
            self.add_error("phone", _("Give the client's phone number or e-mail."))
        staff_id = data.get("staff")
        data["staff_member"] = self.staff_members.get(staff_id) if staff_id else None
        return data


def _chosen_customer(salon: Salon, source: Any) -> Customer | None:
    pk = id_parse(source.get("customer"))
    found = salon_customer(salon=salon, pk=pk) if pk is not None else None
    return found if found is not None and not found.erased else None


def _list_url(salon: Salon) -> str:
    return reverse("desk:waitlist", kwargs={"salon": salon.slug})


@desk_view
def waitlist_list(request: HttpRequest, salon: Salon) -> HttpResponse:
    """The salon's waitlist, those still waiting first (`?status=`: one status, or `all`)."""
    wanted = request.GET.get("status") or ACTIVE_FILTER
    if wanted not in (ACTIVE_FILTER, "all", *WaitlistStatus.values):
        wanted = ACTIVE_FILTER
    entries = waitlist_entries(salon=salon)
    if wanted == ACTIVE_FILTER:
        entries = entries.filter(status__in=ACTIVE)
    elif wanted != "all":
        entries = entries.filter(status=wanted)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    services = waitlist_services(salon, rows)
    parts = dict(PartOfDay.choices)
    return render(
        request,
        "desk/waitlist.html",
        desk_context(
            salon,
            nav="waitlist",
            page=page,
            rows=[
                {
                    "entry": entry,
                    "services": [services[pk].name for pk in entry.service_ids if pk in services],
                    "parts": [str(parts[p]) for p in entry.parts_of_day if p in parts],
                    "active": entry.status in ACTIVE,
                }
                for entry in rows
            ],
            filters=[
                (ACTIVE_FILTER, _("Waiting or offered")),
                *WaitlistStatus.choices,
                ("all", _("All")),
            ],
            status_filter=wanted,
        ),
    )


@desk_view
def waitlist_add(request: HttpRequest, salon: Salon) -> HttpResponse:
    """A phone client put on the waitlist (`?customer=`: a client chosen elsewhere)."""
    source = request.POST if request.method == "POST" else request.GET
    customer = _chosen_customer(salon, source)
    status = 200
    if request.method == "POST":
        form = DeskWaitlistForm(request.POST, salon=salon, customer=customer)
        if form.is_valid():
            data = form.cleaned_data
            try:
                entry = waitlist_join_by_staff(
                    salon=salon,
                    actor=request.user,
                    services=data["services"],
                    staff=data["staff_member"],
                    first=data["first"],
                    last=data["last"],
                    parts_of_day=data["parts_of_day"],
                    consent=data["consent"],
                    customer=customer,
                    name=data["name"],
                    phone=data["phone"] or None,
                    email=data["email"] or None,
                )
            except Invalid as exc:
                form_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("%(name)s is on the waitlist.")
                    % {"name": entry.customer.name or _("The client")},
                )
                return HttpResponseRedirect(_list_url(salon) + f"#entry-{entry.pk}")
        status = 400
        chosen = [str(v) for v in request.POST.getlist("service") if str(v).strip()]
    else:
        today = salon_today(salon)
        form = DeskWaitlistForm(
            salon=salon,
            customer=customer,
            initial={
                "first": today.strftime("%d/%m/%Y"),
                "last": (today + dt.timedelta(days=DEFAULT_DAYS - 1)).strftime("%d/%m/%Y"),
            },
        )
        chosen = [str(v) for v in request.GET.getlist("service") if str(v).strip()]
    chosen = (chosen + [""] * SERVICE_ROWS)[:SERVICE_ROWS]
    return render(
        request,
        "desk/waitlist_add.html",
        desk_context(
            salon,
            nav="waitlist",
            form=form,
            customer=customer,
            service_rows=[
                {"n": n, "value": value, "id": "id_service" if n == 1 else f"id_service_{n}"}
                for n, value in enumerate(chosen, start=1)
            ],
        ),
        status=status,
    )


@require_POST
@desk_view
def waitlist_remove(request: HttpRequest, salon: Salon, pk: int) -> HttpResponse:
    """The client leaves the list, as she asked the salon (another salon's: not found)."""
    entry: WaitlistEntry | None = waitlist_entries(salon=salon).filter(pk=pk).first()
    if entry is None:
        raise Http404
    waitlist_leave(entry=entry)
    messages.success(
        request,
        _("%(name)s left the waitlist.") % {"name": entry.customer.name or _("The client")},
    )
    return HttpResponseRedirect(_list_url(salon) + f"?status={ACTIVE_FILTER}")
