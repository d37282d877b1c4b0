from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from bookings.admin import BookingAdmin, admin_money
from bookings.models import Booking
from tenants.admin import ReadOnlyTenantInline, TenantAdmin, may_admin
from tenants.models import Salon
from tenants.scoping import salon_scope
from tenants.selectors import admin_salon_ids

from .admin_policy import PolicyPageAdmin
from .admin_setup import SetupPagesAdmin
from .models import CreditEntry, DepositPolicy, Payment, Refund
from .payments import booking_cancel_with_money
from .recovered import Figures, deposits_recovered


@admin.register(DepositPolicy)
class DepositPolicyAdmin(SetupPagesAdmin, PolicyPageAdmin):
    """The policy's page (admin_policy.py), with the figures of what deposits recovered
    and the salon's setup checklist (admin_setup.py)."""

    def get_urls(self) -> list[Any]:
        recovered = path(
            "recovered/", self.admin_site.admin_view(self.recovered_view), name="deposits_recovered"
        )
        return [recovered, *self.setup_urls(), *super().get_urls()]

    def recovered_view(self, request: HttpRequest) -> HttpResponse:
        """What deposits recovered: no-shows, money kept, refunded, credited, by month and
        by ramp step, for one of the user's salons (`?salon=<id>` when they run several)."""
        salon_ids = sorted(
            Salon.objects.values_list("pk", flat=True)
            if request.user.is_superuser
            else admin_salon_ids(request.user)  # type: ignore[arg-type]
        )
        wanted = request.GET.get("salon", "")
        salon_id = int(wanted) if wanted.isascii() and wanted.isdigit() else None
        if salon_id not in salon_ids:
            salon_id = salon_ids[0] if salon_ids else None
        if salon_id is None or not may_admin(request, salon_id):
            raise PermissionDenied
        salon = Salon.objects.get(pk=salon_id)
        with salon_scope(salon):
            recovery = deposits_recovered(salon=salon)
        peak = max([m.paid for m in recovery.months] + [1])

        def row(figures: Figures) -> dict[str, Any]:
            rate = figures.no_show_rate
            return {
                "label": figures.label,
                "appointments": figures.appointments,
                "no_shows": figures.no_shows,
                "cancelled": figures.cancelled,
                "rate": "-" if rate is None else f"{100 * rate:.1f} %",
                **{
                    key: admin_money(getattr(figures, key), salon.currency)
                    for key in ("paid", "kept", "refunded", "credited")
                },
                # Bar heights of the chart, out of 200 px.
                "paid_h": (paid := round(200 * figures.paid / peak)),
                "paid_y": 200 - paid,
                "kept_h": (kept := round(200 * figures.kept / peak)),
                "kept_y": 200 - kept,
            }

        context = {
            **self.admin_site.each_context(request),
            "title": _("What deposits recovered"),
            "salon": salon,
            "months": [row(m) for m in recovery.months],
            "steps": [row(s) for s in recovery.steps],
            "width": 100 * len(recovery.months),
            "outstanding": admin_money(recovery.credit_outstanding, salon.currency),
            "salons": Salon.objects.filter(pk__in=salon_ids) if len(salon_ids) > 1 else [],
        }
        return TemplateResponse(request, "admin/deposits/recovered.html", context)


class RefundInline(ReadOnlyTenantInline):
    model = Refund
    fields = ("created_at", "amount_text", "reason", "status", "refund_id")
    readonly_fields = fields

    @admin.display(description=_("Amount"))
    def amount_text(self, refund: Refund) -> str:
        return admin_money(refund.amount, refund.payment.currency)


@admin.register(Payment)
class PaymentAdmin(TenantAdmin):
    """Payments are taken by the checkout and settled by the provider's events: the
    admin shows them, it does not edit them."""

    list_display = ["booking", "kind", "amount_text", "status", "outcome", "provider", "created_at"]
    list_filter = ["status", "outcome", "kind", "provider"]
    search_fields = ["intent_id", "booking__reference"]
    readonly_fields = (
        "booking",
        "kind",
        "amount_text",
        "status",
        "outcome",
        "provider",
        "intent_id",
        "account",
        "created_at",
        "paid_at",
        "recorded_by",
        "note",
    )
    fields = readonly_fields
    inlines = [RefundInline]

    @admin.display(description=_("Amount"), ordering="amount")
    def amount_text(self, payment: Payment) -> str:
        return admin_money(payment.amount, payment.currency)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CreditEntry)
class CreditEntryAdmin(TenantAdmin):
    """The credit ledger, read only: entries are written by cancellations and bookings."""

    list_display = ["customer", "kind", "amount_text", "expires_at", "created_at"]
    list_filter = ["kind"]
    readonly_fields = (
        "customer",
        "kind",
        "amount_text",
        "grant",
        "booking",
        "payment",
        "expires_at",
        "created_at",
    )
    fields = readonly_fields

    @admin.display(description=_("Amount"), ordering="amount")
    def amount_text(self, entry: CreditEntry) -> str:
        return admin_money(entry.amount, entry.currency)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class BookingMoneyAdmin(BookingAdmin):
    """The bookings' admin, with the salon's cancellation, which refunds what the client
    paid in full, as the desk's and the staff API's do (one service for all three)."""

    actions = ["cancel", *BookingAdmin.actions]

    @admin.action(description=_("Cancel (by the salon)"))
    def cancel(self, request: HttpRequest, queryset: QuerySet[Booking]) -> None:
        self._apply(
            request,
            queryset,
            lambda b: booking_cancel_with_money(
                booking=b, by_salon=True, actor=request.user, reason="admin"
            ),
        )


admin.site.unregister(Booking)
admin.site.register(Booking, BookingMoneyAdmin)
