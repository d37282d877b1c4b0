from __future__ import annotations

import copy
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from support.models import CustomerRequest
from support.services import request_check, request_open, request_update
from tenants.admin import TenantAdmin
from tenants.models import Salon
from tenants.scoping import salon_scope

# What staff write; the rest is stamped by the services.
EDITABLE = [
    "customer",
    "booking",
    "channel",
    "category",
    "summary",
    "status",
    "resolution",
    "item_description",
    "item_location",
    "item_returned_at",
]


class CustomerRequestAdminForm(forms.ModelForm):
    """Checked by the same rules as every other door: the client and the booking are the
    salon's, the item fields belong to lost items."""

    # No Meta: the admin builds the form per request, inside the user's tenant scope, so
    # the client and booking choices are never queried outside it.
    salon_for_new: int | None = None  # set by CustomerRequestAdmin.get_form

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        salon = data.get("salon") or (
            self.instance.salon
            if self.instance.pk
            else Salon.objects.filter(pk=self.salon_for_new or 0).first()
        )
        if salon is None or self.errors:
            return data
        row = copy.copy(self.instance)
        for name in EDITABLE:
            if name in data:
                setattr(row, name, data[name])
        try:
            with salon_scope(salon):
                request_check(
                    row,
                    salon=salon,
                    now=timezone.now(),
                    new_customer=row.customer_id != self.instance.customer_id,
                )
        except ValidationError as exc:
            self.add_error(None, exc)
        return data


@admin.register(CustomerRequest)
class CustomerRequestAdmin(TenantAdmin):
    list_display = [
        "opened_at",
        "category",
        "channel",
        "status",
        "customer",
        "short_summary",
        "first_response_at",
        "resolved_at",
    ]
    list_filter = ["status", "category", "channel", "opened_at"]
    search_fields = ["summary", "customer__name", "item_description"]
    date_hierarchy = "opened_at"
    list_select_related = ["customer"]
    autocomplete_fields = ["customer", "booking"]
    readonly_fields = ["opened_by", "opened_at", "first_response_at", "resolved_at"]
    form = CustomerRequestAdminForm
    fields = ["salon", *EDITABLE, *readonly_fields]

    @admin.display(description=_("summary"))
    def short_summary(self, row: CustomerRequest) -> str:
        return row.summary if len(row.summary) <= 80 else f"{row.summary[:79]}…"

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: Any = None,
    ) -> Any:
        # The services commit the change and its time stamps in their own durable
        # transaction, which the admin's usual surrounding one would nest. Only the admin's
        # log entry is written after it.
        return self._changeform_view(  # type: ignore[attr-defined]
            request, object_id, form_url, extra_context
        )

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        setattr(form, "salon_for_new", self.salon_for_new(request))  # noqa: B010
        return form

    def get_queryset(self, request: HttpRequest) -> QuerySet[CustomerRequest]:
        return super().get_queryset(request).select_related("customer")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # Through the services, like every other door: the response and resolution times.
        data = {name: form.cleaned_data[name] for name in EDITABLE if name in form.cleaned_data}
        if change:
            with salon_scope(obj.salon_id):
                request_update(customer_request=obj, **data)
        else:
            salon = form.cleaned_data.get("salon") or Salon.objects.get(
                pk=self.salon_for_new(request) or 0
            )
            with salon_scope(salon):
                created = request_open(salon=salon, actor=request.user, **data)
            obj.pk, obj.salon_id = created.pk, created.salon_id


# The owner's figures page and the client page.
from . import admin_client, admin_figures  # noqa: E402, F401
