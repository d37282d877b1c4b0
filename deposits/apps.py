from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _credit_balance() -> Any:
    from django.db.models.functions import Coalesce, Now

    from customers.figures import sum_per_customer

    from .credit import credit_live
    from .models import CreditEntry

    granted, spent = credit_live(CreditEntry.objects.all(), Now())
    return Coalesce(sum_per_customer(granted, "amount"), 0) - Coalesce(
        sum_per_customer(spent, "amount"), 0
    )


def _lifetime_value() -> Any:
    from django.db.models.functions import Coalesce

    from customers.figures import sum_per_customer

    from .models import Payment, PaymentStatus, Refund

    paid = sum_per_customer(
        Payment.objects.filter(status=PaymentStatus.SUCCEEDED),
        "amount",
        customer_field="booking__customer",
    )
    refunded = sum_per_customer(
        Refund.objects.filter(status="succeeded"),
        "amount",
        customer_field="payment__booking__customer",
    )
    return Coalesce(paid, 0) - Coalesce(refunded, 0)


def _credit_link_lifetime(booking: Any) -> Any:
    """A booking cancelled with credit is rescheduled through its manage link while the
    credit is valid (API.md): the link lives as long as that credit."""
    from django.db.models import Max

    from .models import CreditEntry, CreditKind

    return CreditEntry.objects.filter(booking=booking, kind=CreditKind.GRANTED).aggregate(
        until=Max("expires_at")
    )["until"]


class DepositsConfig(AppConfig):
    name = "deposits"
    verbose_name = _("Deposits")

    def ready(self) -> None:
        from bookings.tokens import link_lifetime_extend
        from customers.figures import figure_provide
        from customers.gdpr import PersonalData, personal_data_register

        from .models import BookingTerms, CreditEntry, FeeCharge, OwedEntry, Payment, SavedCard

        link_lifetime_extend(_credit_link_lifetime)
        figure_provide("credit_balance", _credit_balance)
        figure_provide("lifetime_value", _lifetime_value)
        # Kept for accounting, without identity once the customer is erased.
        personal_data_register(
            PersonalData(
                section="payments",
                model=Payment,
                customer_lookup="booking__customer",
                exported=(
                    "id",
                    "booking",
                    "kind",
                    "amount",
                    "currency",
                    "status",
                    "outcome",
                    "created_at",
                    "paid_at",
                    "note",
                    "method",
                ),
                erase={"note": ""},
                internal=(
                    "salon",
                    "provider",
                    "intent_id",
                    "client_secret",
                    "account",
                    "updated_at",
                    "recorded_by",
                    "replaced_by",
                ),
            )
        )
        personal_data_register(
            PersonalData(
                section="credit",
                model=CreditEntry,
                customer_lookup="customer",
                exported=(
                    "id",
                    "kind",
                    "amount",
                    "currency",
                    "booking",
                    "expires_at",
                    "created_at",
                ),
                internal=("salon", "customer", "grant", "payment"),
            )
        )
        # The terms each booking was made under, and what the salon owed beyond refunds:
        # kept (contract and accounting evidence), without identity once erased.
        personal_data_register(
            PersonalData(
                section="terms",
                model=BookingTerms,
                customer_lookup="booking__customer",
                exported=(
                    "id",
                    "booking",
                    "policy_version",
                    "deposit_kind",
                    "withdrawal_refund",
                    "language",
                    "text",
                    "withdrawal_info",
                    "accepted_at",
                    "channel",
                    "express_request",
                    "created_at",
                ),
                internal=("salon", "accepted_by"),
            )
        )
        personal_data_register(
            PersonalData(
                section="owed",
                model=OwedEntry,
                customer_lookup="customer",
                exported=("id", "booking", "kind", "amount", "currency", "how", "created_at"),
                internal=("salon", "customer", "credit", "recorded_by"),
            )
        )
        # A card on file and what the client agreed to: the evidence of a charged fee.
        personal_data_register(
            PersonalData(
                section="cards",
                model=SavedCard,
                customer_lookup="customer",
                exported=(
                    "id",
                    "booking",
                    "status",
                    "brand",
                    "last4",
                    "funding",
                    "amount",
                    "currency",
                    "authorisation_text",
                    "language",
                    "accepted_at",
                    "consent",
                    "created_at",
                ),
                internal=(
                    "salon",
                    "customer",
                    "account",
                    "provider_customer",
                    "setup_intent",
                    "client_secret",
                    "payment_method",
                    "updated_at",
                ),
            )
        )
        personal_data_register(
            PersonalData(
                section="fees",
                model=FeeCharge,
                customer_lookup="booking__customer",
                exported=(
                    "id",
                    "booking",
                    "kind",
                    "amount",
                    "currency",
                    "status",
                    "hold",
                    "created_at",
                    "paid_at",
                ),
                internal=(
                    "salon",
                    "card",
                    "intent_id",
                    "client_secret",
                    "error_code",
                    "desk_task_at",
                    "requested_by",
                    "updated_at",
                ),
            )
        )
