"""The client pages' forms: what a person types, checked before any service is called."""

import datetime as dt
from typing import Any, cast

from django import forms
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from bookings.models import page_source
from core.query import id_parse
from deposits.checkout import MAX_SERVICES


class SlotField(forms.CharField):
    """A slot's start as the picker sends it: ISO 8601 with its offset."""

    default_error_messages = {
        "required": _("Choose a time."),
        "invalid": _("Choose a time from the list."),
    }

    def to_python(self, value: Any) -> dt.datetime | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        try:
            parsed = parse_datetime(text)
        except ValueError:
            parsed = None
        if parsed is None or parsed.tzinfo is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return parsed.astimezone(dt.UTC)


def ids_in_order(order: Any, chosen: list[int]) -> list[int]:
    """The services chosen, in the order the client picked them (`order`, ids separated
    by commas, kept by the page), then any chosen without it, in the list's order."""
    picked = [pk for pk in (id_parse(part) for part in str(order or "").split(",")) if pk]
    first = [pk for pk in dict.fromkeys(picked) if pk in chosen]
    return first + [pk for pk in dict.fromkeys(chosen) if pk not in first]


class BookingForm(forms.Form):
    """One service (`service`, as a link or an older page sends it) or a visit of several
    (`services`, ticked, in the order `order` says)."""

    service = forms.TypedChoiceField(
        coerce=int,
        required=False,
        empty_value=None,
        label=_("Service"),
        error_messages={"invalid_choice": _("Choose a service from the list.")},
    )
    services = forms.TypedMultipleChoiceField(
        coerce=int,
        required=False,
        label=_("Services"),
        error_messages={"invalid_choice": _("Choose a service from the list.")},
    )
    order = forms.CharField(required=False, max_length=200)
    staff = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, label=_("With"))
    start = SlotField(label=_("Time"))
    name = forms.CharField(
        max_length=150, label=_("Your name"), error_messages={"required": _("Tell us your name.")}
    )
    phone = forms.CharField(max_length=40, required=False, label=_("Phone"))
    email = forms.EmailField(max_length=254, required=False, label=_("E-mail"))
    notes = forms.CharField(
        max_length=2000,
        required=False,
        label=_("Notes for the salon"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    reminders_consent = forms.BooleanField(required=False)
    marketing_consent = forms.BooleanField(required=False)
    # The client's express request that an appointment within the withdrawal period go
    # ahead (a box of its own, never ticked for her); the booking keeps it.
    express_request = forms.BooleanField(required=False)
    payment_option = forms.ChoiceField(
        choices=[("deposit", "deposit"), ("full", "full")], required=False
    )
    # The channel the client came from (`?source=`, carried by the steps: web/public/steps.py);
    # an unknown one is recorded as the booking page's own, never refused.
    source = forms.CharField(required=False, max_length=16)
    # A come-back message's marker (`?n=`), checked where it is read (bookings/tokens.py).
    n = forms.CharField(required=False, max_length=40)

    def clean_source(self) -> str:
        return page_source(self.cleaned_data.get("source"))

    def __init__(self, *args: Any, services: list[Any], staff: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        service_field = cast(forms.ChoiceField, self.fields["service"])
        services_field = cast(forms.MultipleChoiceField, self.fields["services"])
        staff_field = cast(forms.ChoiceField, self.fields["staff"])
        service_field.choices = [(s.pk, s.name) for s in services]
        services_field.choices = service_field.choices
        staff_field.choices = [("", "")] + [(m.pk, m.name) for m in staff]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        contact = (data.get("phone") or "").strip() or (data.get("email") or "").strip()
        if not contact and "email" not in self.errors:
            self.add_error("phone", _("Give a phone number or an e-mail address."))
        data["payment_option"] = data.get("payment_option") or "deposit"
        if "service" not in self.errors and "services" not in self.errors:
            chosen = data.get("services") or []
            ids = ids_in_order(data.get("order"), chosen) if chosen else []
            if not ids and data.get("service") is not None:
                ids = [data["service"]]
            if not ids:
                self.add_error("services", _("Choose a service."))
            elif len(ids) > MAX_SERVICES:
                self.add_error(
                    "services",
                    _("Choose at most %(n)s services for one appointment.") % {"n": MAX_SERVICES},
                )
            data["service_ids"] = ids
        return data


class CancelForm(forms.Form):
    resolution = forms.ChoiceField(
        choices=[("refund", "refund"), ("credit", "credit")], required=False
    )


class RescheduleForm(forms.Form):
    start = SlotField(label=_("Time"))
    staff = forms.IntegerField(required=False, min_value=1)
