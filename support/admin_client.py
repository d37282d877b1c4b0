"""The client's page in the salon's admin: her record (customers.admin) and, below it,
her appointments past and coming with their money, her payments and refunds, her credit
and her requests, read by one selector (support.client_page), in the salon's time zone
and currency."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy

from bookings.models import Booking, StaffMember
from core.money import money_format
from customers.admin import CustomerAdmin
from customers.models import Customer, Purpose
from deposits.models import Payment, PaymentStatus

from .client_page import ClientPage, client_page

# A refund's state as the provider reports it (Stripe's words), for the owner.
REFUND_STATES = {
    "pending": gettext_lazy("In progress"),
    "requires_action": gettext_lazy("In progress"),
    "succeeded": gettext_lazy("Refunded"),
    "failed": gettext_lazy("Failed"),
    "canceled": gettext_lazy("Cancelled"),
}

# Payments that took no money: not part of what the booking's money became.
_NO_MONEY = (PaymentStatus.CANCELED, PaymentStatus.FAILED)


def _payment_state(payment: Payment) -> str:
    """What became of a payment, in the words of its model's choices."""
    if payment.status == PaymentStatus.SUCCEEDED and payment.outcome:
        return str(payment.get_outcome_display())
    return str(payment.get_status_display())


class ClientPageAdmin(CustomerAdmin):
    change_form_template = "admin/customers/customer/change_form.html"

    def staff_choices(self, salon_id: int | None) -> list[tuple[str, str]]:
        if salon_id is None:
            return []
        staff = StaffMember.objects.filter(salon_id=salon_id, active=True).order_by("name", "id")
        return [(str(pk), name) for pk, name in staff.values_list("pk", "name")]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        customer = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if customer is not None and self.has_view_permission(request, customer):
            context["client_page"] = self.page_rows(client_page(customer=customer), customer)
        return super().change_view(request, object_id, form_url, context)

    def page_rows(self, page: ClientPage, customer: Customer) -> dict[str, Any]:
        """The page's sections as the template writes them: amounts in the salon's
        currency and the admin's language, times in the salon's zone (the template's)."""
        salon = customer.salon
        language = get_language() or "en"

        def money(cents: int, currency: str | None = None) -> str:
            return money_format(cents, currency or str(salon.currency), language)

        def booking_url(booking_id: int) -> str:
            return reverse("admin:bookings_booking_change", args=[booking_id])

        def appointment(booking: Booking) -> dict[str, Any]:
            items = list(booking.items.all())
            paid = [p for p in booking.payments.all() if p.status not in _NO_MONEY]
            return {
                "booking": booking,
                "url": booking_url(booking.pk),
                "services": ", ".join(i.service.name for i in items) or booking.service.name,
                "staff": ", ".join(dict.fromkeys(i.staff.name for i in items))
                or (booking.staff.name if booking.staff else ""),
                "status": booking.get_status_display(),
                "price": money(booking.price, booking.currency),
                "money": [
                    f"{p.get_kind_display()} {money(p.amount, p.currency)} · {_payment_state(p)}"
                    for p in paid
                ],
            }

        payments = [
            {
                "payment": payment,
                "url": booking_url(payment.booking_id),
                "reference": payment.booking.reference,
                "amount": money(payment.amount, payment.currency),
                "state": _payment_state(payment),
                "refunds": [
                    {
                        "refund": refund,
                        "amount": money(refund.amount, payment.currency),
                        "state": REFUND_STATES.get(refund.status, refund.status),
                    }
                    for refund in payment.refunds.all()
                ],
            }
            for payment in page.payments
        ]
        credit = [
            {
                "entry": entry,
                "amount": money(entry.amount, entry.currency),
                "url": booking_url(entry.booking_id) if entry.booking_id else "",
                "reference": entry.booking.reference if entry.booking else "",
            }
            for entry in page.credit_entries
        ]
        requests = [
            {
                "request": row,
                "url": reverse("admin:support_customerrequest_change", args=[row.pk]),
                "summary": row.summary if len(row.summary) <= 80 else f"{row.summary[:79]}…",
            }
            for row in page.requests
        ]
        return {
            "zone": salon.tz,
            "upcoming": [appointment(b) for b in page.upcoming],
            "past": [appointment(b) for b in page.past],
            "payments": payments,
            "credit": credit,
            "credit_balance": money(page.credit_balance),
            "credit_open": [
                {"left": money(g.left, g.grant.currency), "expires_at": g.grant.expires_at}
                for g in page.credit_open
            ],
            "requests": requests,
            "consents": [
                (label, page.consents.get(value, False)) for value, label in Purpose.choices
            ],
        }


admin.site.unregister(Customer)
admin.site.register(Customer, ClientPageAdmin)
