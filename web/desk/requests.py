"""The log of client requests at the desk: what clients asked or reported, classified,
answered and resolved (through support.services, like the API)."""

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from customers.models import Customer
from customers.selectors import customer_list
from support.models import CustomerRequest, RequestCategory, RequestChannel, RequestStatus
from support.selectors import RequestFilters, request_get, request_list, salon_customer
from support.services import request_open, request_update
from tenants.models import Salon
from web.desk.access import desk_context, desk_view
from web.problems import form_errors

PAGE_SIZE = 50

CHANNELS = RequestChannel.choices
CATEGORIES = RequestCategory.choices
STATUSES = RequestStatus.choices


class RequestForm(forms.Form):
    channel = forms.ChoiceField(label=gettext_lazy("Channel"), choices=CHANNELS)
    category = forms.ChoiceField(label=gettext_lazy("Category"), choices=CATEGORIES)
    summary = forms.CharField(
        label=gettext_lazy("What the client asked or reported"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    client = forms.CharField(
        label=gettext_lazy("Client (phone, name or e-mail; optional)"),
        max_length=150,
        required=False,
    )
    customer = forms.IntegerField(required=False, widget=forms.HiddenInput)
    status = forms.ChoiceField(
        label=gettext_lazy("Status"), choices=STATUSES, initial=RequestStatus.OPEN
    )
    resolution = forms.CharField(
        label=gettext_lazy("What the salon answered or did"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, salon: Salon, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.salon = salon

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["the_customer"] = None
        if data.get("customer"):
            found = salon_customer(salon=self.salon, pk=data["customer"])
            if found is None or found.erased:
                self.add_error("client", _("No such client."))
            data["the_customer"] = found
        elif (data.get("client") or "").strip():
            found_list: list[Customer] = list(
                customer_list(salon=self.salon, search=data["client"])[:6]
            )
            if not found_list:
                self.add_error("client", _("No client matches: leave it empty, or check it."))
            elif len(found_list) > 1:
                names = ", ".join(c.name or "?" for c in found_list[:5])
                self.add_error(
                    "client",
                    _("Several clients match (%(names)s): give the phone number.")
                    % {"names": names},
                )
            else:
                data["the_customer"] = found_list[0]
        return data


class RequestUpdateForm(forms.Form):
    status = forms.ChoiceField(label=gettext_lazy("Status"), choices=STATUSES)
    category = forms.ChoiceField(label=gettext_lazy("Category"), choices=CATEGORIES)
    resolution = forms.CharField(
        label=gettext_lazy("What the salon answered or did"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def _labels() -> dict[str, dict[str, str]]:
    return {
        "channel": {k: str(v) for k, v in CHANNELS},
        "category": {k: str(v) for k, v in CATEGORIES},
        "status": {k: str(v) for k, v in STATUSES},
    }


@desk_view
def request_log(request: HttpRequest, salon: Salon) -> HttpResponse:
    """The list (filters `status`, `category`), and the form to log a new request."""
    status_filter = request.GET.get("status") or None
    category_filter = request.GET.get("category") or None
    if status_filter not in dict(STATUSES):
        status_filter = None
    if category_filter not in dict(CATEGORIES):
        category_filter = None
    # `?customer=`: her requests, and the new request's form made hers (from a call).
    customer = None
    customer_id = request.GET.get("customer", "")
    if customer_id.isdigit():
        customer = salon_customer(salon=salon, pk=int(customer_id))
        if customer is not None and customer.erased:
            customer = None
    code = 200
    if request.method == "POST":
        form = RequestForm(request.POST, salon=salon)
        if form.is_valid():
            data = form.cleaned_data
            try:
                row = request_open(
                    salon=salon,
                    channel=data["channel"],
                    category=data["category"],
                    summary=data["summary"],
                    customer=data["the_customer"],
                    status=data["status"],
                    resolution=data["resolution"],
                    actor=request.user,
                )
            except ValidationError as exc:
                form_errors(form, exc)
            else:
                messages.success(request, _("Request logged."))
                return HttpResponseRedirect(
                    reverse("desk:requests", kwargs={"salon": salon.slug}) + f"#request-{row.pk}"
                )
        code = 400
    else:
        channel = request.GET.get("channel", "")
        initial: dict[str, Any] = {
            "channel": channel if channel in dict(CHANNELS) else RequestChannel.PHONE
        }
        if customer is not None:
            initial.update(customer=customer.pk, client=customer.name)
        form = RequestForm(salon=salon, initial=initial)
        if customer is not None or channel:
            # Opened from a call: what the client says is typed straight away.
            form.fields["summary"].widget.attrs["autofocus"] = True
    filters = RequestFilters(
        status=status_filter,
        category=category_filter,
        customer_id=None if customer is None else customer.pk,
    )
    rows = request_list(salon=salon, filters=filters)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "desk/requests.html",
        desk_context(
            salon,
            nav="requests",
            form=form,
            page=page,
            labels=_labels(),
            statuses=STATUSES,
            categories=CATEGORIES,
            status_filter=status_filter or "",
            category_filter=category_filter or "",
            customer=customer,
        ),
        status=code,
    )


@desk_view
def request_edit(request: HttpRequest, salon: Salon, pk: int) -> HttpResponse:
    row: CustomerRequest | None = request_get(salon=salon, pk=pk)
    if row is None:
        raise Http404
    code = 200
    if request.method == "POST":
        form = RequestUpdateForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                request_update(
                    customer_request=row,
                    status=data["status"],
                    category=data["category"],
                    resolution=data["resolution"],
                )
            except ValidationError as exc:
                form_errors(form, exc)
            else:
                messages.success(request, _("Request updated."))
                return HttpResponseRedirect(
                    reverse("desk:requests", kwargs={"salon": salon.slug}) + f"#request-{row.pk}"
                )
        code = 400
    else:
        form = RequestUpdateForm(
            initial={"status": row.status, "category": row.category, "resolution": row.resolution}
        )
    return render(
        request,
        "desk/request.html",
        desk_context(
            salon,
            nav="requests",
            form=form,
            row=row,
            labels=_labels(),
        ),
        status=code,
    )
