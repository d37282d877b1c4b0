from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.text import capfirst
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core.money import money_format
from tenants.admin import ReadOnlyTenantInline, TenantAdmin, may_admin
from tenants.scoping import salon_scope

from .models import (
    Booking,
    BookingEvent,
    BookingItem,
    Resource,
    ResourceKind,
    Service,
    ServiceCategory,
    StaffMember,
    StaffService,
    TimeOff,
    WorkingHours,
)
from .services import (
    booking_complete,
    booking_mark_no_show,
    catalogue_service_delete,
    catalogue_service_save,
    resource_delete,
    resource_kind_delete,
    resource_kind_save,
    resource_save,
    service_category_delete,
    service_category_save,
    staff_delete,
    staff_hours_set,
    staff_save,
    time_off_delete,
    time_off_save,
)


class TenantInline(admin.TabularInline):
    """Editable rows of a salon's object; new rows take the parent's salon."""

    extra = 0

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_admin(request, getattr(obj, "salon_id", None))

    has_change_permission = has_view_permission
    has_delete_permission = has_view_permission

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_admin(request, getattr(obj, "salon_id", None))

    # A table's cells have no label of their own (the column's header is not one for a
    # screen reader): each input is named after its column.

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None:
            widget: Any = getattr(field.widget, "widget", field.widget)  # in "add another"
            widget.attrs.setdefault("aria-label", capfirst(field.label or db_field.verbose_name))
        return field

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)

        def add_fields(self: Any, form: Any, index: Any) -> None:
            formset.add_fields(self, form, index)
            if "DELETE" in form.fields:
                form.fields["DELETE"].widget.attrs["aria-label"] = _("Delete")

        return type(formset.__name__, (formset,), {"add_fields": add_fields})


def inline_rows(formset: Any) -> list[dict[str, Any]]:
    """What an inline formset asks for, row by row (deleted and blank rows left out), for
    a service to save in place of `formset.save()`; the formset still tells the admin's
    history what was added, changed and deleted."""
    deleted = formset.deleted_forms if formset.can_delete else []
    kept = [f for f in formset.forms if f.cleaned_data and f not in deleted]
    formset.new_objects = [f.instance for f in kept if f.instance.pk is None]
    formset.changed_objects = [
        (f.instance, f.changed_data) for f in kept if f.instance.pk is not None and f.has_changed()
    ]
    formset.deleted_objects = [f.instance for f in deleted if f.instance.pk is not None]
    return [f.cleaned_data for f in kept]


class CatalogueAdmin(TenantAdmin):
    """The catalogue is saved and deleted through its services (bookings/services.py):
    the API's checks, and the caches they move on."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change and not obj.salon_id:
            obj.salon_id = self.salon_for_new(request)
        self.service_save(obj)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        self.service_delete(obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            self.service_delete(obj)

    def service_save(self, obj: Any) -> None:
        raise NotImplementedError

    def service_delete(self, obj: Any) -> None:
        raise NotImplementedError


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


@admin.register(Service)
class ServiceAdmin(CatalogueAdmin):
    """Its deposit override is checked by `Rule.parse`, as everywhere (the model's
    validation, run by the form)."""

    list_display = ["name", "category", "duration_minutes", "price_text", "active"]
    list_filter = ["active", "category"]
    search_fields = ["name"]
    filter_horizontal = ["addons"]
    money_fields = ("price",)
    list_select_related = ["salon", "category"]

    @admin.display(description=_("Price"), ordering="price")
    def price_text(self, service: Service) -> str:
        return admin_money(service.price, service.salon.currency)

    def service_save(self, obj: Service) -> None:
        catalogue_service_save(salon=obj.salon, service=obj)

    def service_delete(self, obj: Service) -> None:
        catalogue_service_delete(service=obj)


@admin.register(ServiceCategory)
class ServiceCategoryAdmin(CatalogueAdmin):
    """The headings of the salon's page, in the salon's order (smallest position first)."""

    list_display = ["name", "position"]
    list_editable = ["position"]
    search_fields = ["name"]

    def service_save(self, obj: ServiceCategory) -> None:
        service_category_save(salon=obj.salon, category=obj)

    def service_delete(self, obj: ServiceCategory) -> None:
        service_category_delete(category=obj)


@admin.register(ResourceKind)
class ResourceKindAdmin(CatalogueAdmin):
    list_display = ["name"]
    search_fields = ["name"]

    def service_save(self, obj: ResourceKind) -> None:
        resource_kind_save(salon=obj.salon, kind=obj)

    def service_delete(self, obj: ResourceKind) -> None:
        try:
            resource_kind_delete(kind=obj)
        except ValidationError as exc:
            raise PermissionDenied(exc.messages[0]) from exc


@admin.register(Resource)
class ResourceAdmin(CatalogueAdmin):
    """Rooms, chairs, basins and machines: a service of their kind keeps one unit."""

    list_display = ["name", "kind", "quantity", "active"]
    list_filter = ["active"]
    search_fields = ["name"]

    def service_save(self, obj: Resource) -> None:
        resource_save(salon=obj.salon, resource=obj)

    def service_delete(self, obj: Resource) -> None:
        resource_delete(resource=obj)


@admin.register(StaffMember)
class StaffMemberAdmin(CatalogueAdmin):
    list_display = ["name", "active"]
    list_filter = ["active"]
    search_fields = ["name"]
    fields = ["salon", "name", "active", "photo", "bio"]
    inlines = [StaffServiceInline, HoursInline]

    def service_save(self, obj: StaffMember) -> None:
        # The photo as the form left it: a new upload is resized, a kept one stays.
        staff_save(salon=obj.salon, staff=obj, photo=obj.photo)

    def service_delete(self, obj: StaffMember) -> None:
        staff_delete(staff=obj)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        """The services offered and the hours, each replaced by its service."""
        staff, rows = form.instance, inline_rows(formset)
        if formset.model is StaffService:
            staff_save(salon=staff.salon, staff=staff, service_ids=[r["service"].pk for r in rows])
        elif formset.model is WorkingHours:
            ranges = [{"weekday": r["weekday"], "start": r["start"], "end": r["end"]} for r in rows]
            staff_hours_set(staff=staff, ranges=ranges)
        else:
            raise NotImplementedError(formset.model)


@admin.register(TimeOff)
class TimeOffAdmin(CatalogueAdmin):
    list_display = ["staff", "start", "end", "reason"]
    list_filter = ["staff"]

    def service_save(self, obj: TimeOff) -> None:
        time_off_save(
            salon=obj.salon,
            staff=obj.staff,
            start=obj.start,
            end=obj.end,
            reason=obj.reason,
            time_off=obj,
        )

    def service_delete(self, obj: TimeOff) -> None:
        time_off_delete(time_off=obj)


class EventInline(ReadOnlyTenantInline):
    model = BookingEvent
    fields = ("at", "kind", "by", "actor", "data")
    readonly_fields = fields
    verbose_name_plural = _("History")


class ItemInline(ReadOnlyTenantInline):
    model = BookingItem
    fields = (
        "guest",
        "service",
        "staff",
        "start",
        "end",
        "resource",
        "resource_unit",
        "price_text",
    )
    readonly_fields = fields
    verbose_name_plural = _("Services of the visit")

    @admin.display(description=_("Price"))
    def price_text(self, item: BookingItem) -> str:
        return admin_money(item.price, item.booking.currency)


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
        "price_text",
        "source",
        "hold_expires_at",
        "cancellation_reason",
    ]
    fields = [*readonly_fields, "notes"]
    inlines = [ItemInline, EventInline]
    # The salon's cancellation settles the money: deposits/admin.py adds it.
    actions = ["complete", "no_show"]

    @admin.display(description=_("Price"))
    def price_text(self, booking: Booking) -> str:
        return admin_money(booking.price, booking.currency)

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


def admin_money(cents: int, currency: str) -> str:
    """An amount in the admin's language, as every other page writes it."""
    return money_format(cents, currency, get_language() or "en")
