"""The client pages' forms: what a person types, checked before any service is called."""

import datetime as dt
from typing import Any, cast

from django import forms
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _


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


class BookingForm(forms.Form):
    service = forms.TypedChoiceField(
        coerce=int, label=_("Service"), error_messages={"required": _("Choose a service.")}
    )
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
    payment_option = forms.ChoiceField(
        choices=[("deposit", "deposit"), ("full", "full")], required=False
    )

    def __init__(self, *args: Any, services: list[Any], staff: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        service_field = cast(forms.ChoiceField, self.fields["service"])
        staff_field = cast(forms.ChoiceField, self.fields["staff"])
        service_field.choices = [(s.pk, s.name) for s in services]
        staff_field.choices = [("", "")] + [(m.pk, m.name) for m in staff]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        contact = (data.get("phone") or "").strip() or (data.get("email") or "").strip()
        if not contact and "email" not in self.errors:
            self.add_error("phone", _("Give a phone number or an e-mail address."))
        data["payment_option"] = data.get("payment_option") or "deposit"
        return data


class CancelForm(forms.Form):
    resolution = forms.ChoiceField(
        choices=[("refund", "refund"), ("credit", "credit")], required=False
    )


class RescheduleForm(forms.Form):
    start = SlotField(label=_("Time"))
    staff = forms.IntegerField(required=False, min_value=1)
