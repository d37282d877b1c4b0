from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from tenants.admin import ReadOnlyTenantInline, TenantAdmin, may_admin
from tenants.scoping import salon_scope

from .models import Booking, BookingEvent, Service, StaffMember, StaffService, TimeOff, WorkingHours
from .selectors import catalogue_changed
from .services import amount_rule_check, booking_complete, booking_mark_no_show


class TenantInline(admin.TabularInline):
    """Editable rows of a salon's object; new rows take the parent's salon."""

    extra = 0

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_admin(request, getattr(obj, "salon_id", None))

    has_change_permission = has_view_permission
    has_delete_permission = has_view_permission

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_admin(request, getattr(obj, "salon_id", None))


class CatalogueAdmin(TenantAdmin):
    """Changes made here change availability: what was cached goes."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        catalogue_changed(obj.salon_id)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        super().delete_model(request, obj)
        catalogue_changed(obj.salon_id)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        salons = set(queryset.values_list("salon_id", flat=True))
        super().delete_queryset(request, queryset)
        for salon_id in salons:
            catalogue_changed(salon_id)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        super().save_formset(request, form, formset, change)
        catalogue_changed(form.instance.salon_id)


class HoursInline(TenantInline):
    model = WorkingHours
    fields = ["weekday", "start", "end"]


class StaffServiceInline(TenantInline):
    model = StaffService
    fields = ["service"]
    verbose_name_plural = _("Services offered")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "service":
            kwargs["queryset"] = Service.objects.all()  # the request's scope: own salons
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ServiceForm(forms.ModelForm):
    def clean_deposit_override(self) -> Any:
        """The API's rule for an amount rule (`amount_rule_check`): a malformed one made
        every quote for the service fail."""
        rule = self.cleaned_data.get("deposit_override")
        if rule is not None:
            amount_rule_check(rule)
        return rule


@admin.register(Service)
class ServiceAdmin(CatalogueAdmin):
    form = ServiceForm
    list_display = ["name", "duration_minutes", "price", "active"]
    list_filter = ["active"]
    search_fields = ["name"]


@admin.register(StaffMember)
class StaffMemberAdmin(CatalogueAdmin):
    list_display = ["name", "active"]
    list_filter = ["active"]
    search_fields = ["name"]
    fields = ["salon", "name", "active"]
    inlines = [StaffServiceInline, HoursInline]


@admin.register(TimeOff)
class TimeOffAdmin(CatalogueAdmin):
    list_display = ["staff", "start", "end", "reason"]
    list_filter = ["staff"]


class EventInline(ReadOnlyTenantInline):
    model = BookingEvent
    fields = ("at", "kind", "by", "actor", "data")
    readonly_fields = fields
    verbose_name_plural = _("History")


@admin.register(Booking)
class BookingAdmin(TenantAdmin):
    list_display = ["reference", "start", "service", "staff", "customer", "status", "source"]
    list_filter = ["status", "source", "staff", "service"]
    search_fields = ["reference", "customer__search_text"]
    date_hierarchy = "start"
    list_select_related = ["service", "staff", "customer"]
    readonly_fields = [
        "reference",
        "status",
        "start",
        "end",
        "service",
        "staff",
        "customer",
        "price",
        "currency",
        "source",
        "hold_expires_at",
        "cancellation_reason",
    ]
    fields = [*readonly_fields, "notes"]
    inlines = [EventInline]
    # The salon's cancellation settles the money: deposits/admin.py adds it.
    actions = ["complete", "no_show"]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False  # bookings are taken through availability: the front desk or online

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # cancelled, never deleted: the history and accounting need them

    def _apply(self, request: HttpRequest, queryset: QuerySet[Booking], action: Any) -> None:
        done, refused = 0, 0
        for booking in queryset:
            try:
                with salon_scope(booking.salon_id):
                    action(booking)
                done += 1
            except ValidationError:
                refused += 1
        self.message_user(
            request,
            _("%(done)d done, %(refused)d refused.") % {"done": done, "refused": refused},
            messages.INFO,
        )

    @admin.action(description=_("Mark completed"))
    def complete(self, request: HttpRequest, queryset: QuerySet[Booking]) -> None:
        self._apply(request, queryset, lambda b: booking_complete(booking=b, actor=request.user))

    @admin.action(description=_("Mark no-show"))
    def no_show(self, request: HttpRequest, queryset: QuerySet[Booking]) -> None:
        self._apply(
            request, queryset, lambda b: booking_mark_no_show(booking=b, actor=request.user)
        )
