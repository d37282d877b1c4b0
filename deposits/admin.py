from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from bookings.admin import BookingAdmin, admin_money
from bookings.models import Booking
from tenants.admin import ReadOnlyTenantInline, TenantAdmin

from .admin_policy import PolicyPageAdmin
from .admin_setup import SetupPagesAdmin
from .models import BookingTerms, CreditEntry, DepositPolicy, OwedEntry, Payment, Refund
from .payments import booking_cancel_with_money


@admin.register(DepositPolicy)
class DepositPolicyAdmin(SetupPagesAdmin, PolicyPageAdmin):
    """The policy's page (admin_policy.py) and the salon's setup checklist
    (admin_setup.py); the figures of what deposits recovered are support's
    (support/admin_figures.py), which reads requests too."""

    def get_urls(self) -> list[Any]:
        return [*self.setup_urls(), *super().get_urls()]


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


class BookingTermsInline(ReadOnlyTenantInline):
    """The terms the booking was made under, as the client was shown them: never edited."""

    model = BookingTerms
    fields = (
        "policy_version",
        "deposit_kind",
        "text",
        "withdrawal_info",
        "express_request",
        "accepted_at",
        "accepted_by",
        "channel",
        "language",
    )
    readonly_fields = fields


class OwedEntryInline(ReadOnlyTenantInline):
    """What the salon owed the client beyond refunds (arrhes repaid twice), and how it
    was settled: settled from the desk or the staff API, never here."""

    model = OwedEntry
    fields = ("created_at", "kind", "amount_text", "how", "recorded_by")
    readonly_fields = fields

    @admin.display(description=_("Amount"))
    def amount_text(self, entry: OwedEntry) -> str:
        return admin_money(entry.amount, entry.currency)


class BookingMoneyAdmin(BookingAdmin):
    """The bookings' admin, with the salon's cancellation, which refunds what the client
    paid in full, as the desk's and the staff API's do (one service for all three), and
    the terms the booking was made under."""

    actions = ["cancel", *BookingAdmin.actions]
    inlines = [*BookingAdmin.inlines, BookingTermsInline, OwedEntryInline]

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
