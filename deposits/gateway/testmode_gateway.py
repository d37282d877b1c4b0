"""The test-mode gateway: stands in for Stripe when no keys are set, in debug (the
embedded default) or when PAYMENTS_TEST_MODE=1. Clearly labelled: its intents are
`pi_testmode_…`, its provider is "test_mode", and no money ever moves. A payment is
completed by the labelled test-mode pay endpoint, never by a card."""

import secrets

from django.db import IntegrityError, transaction
from django.db.models import F
from django_scopes import scopes_disabled

from ..models import Payment, TestModeIntent
from . import (
    Card,
    CardCharge,
    CardSetup,
    ConnectedAccount,
    GatewayError,
    Intent,
    RefundResult,
    WebhookEvent,
    WebhookRejected,
)


class TestModeGateway:
    name = "test_mode"
    # Cards are not kept in test mode: a policy asking for one takes bookings without it.
    supports_cards = False
    publishable_key = "pk_test_mode_no_money_moves"

    @staticmethod
    def _intent(row: TestModeIntent) -> Intent:
        return Intent(
            id=row.intent_id,
            status=row.status,
            amount=row.amount,
            currency=row.currency,
            metadata=row.metadata,
            client_secret=f"{row.intent_id}_secret_testmode",
        )

    @staticmethod
    def _row(intent_id: str) -> TestModeIntent:
        row = TestModeIntent.objects.filter(intent_id=intent_id).first()
        if row is None:
            raise GatewayError(f"No test-mode intent {intent_id}.")
        return row

    def create_intent(
        self,
        *,
        amount: int,
        currency: str,
        metadata: dict[str, str],
        idempotency_key: str,
        account: str | None = None,
    ) -> Intent:
        try:
            with transaction.atomic():
                row, _created = TestModeIntent.objects.get_or_create(
                    idempotency_key=idempotency_key,
                    defaults={
                        "intent_id": f"pi_testmode_{secrets.token_hex(8)}",
                        "amount": amount,
                        "currency": currency,
                        "metadata": metadata,
                    },
                )
        except IntegrityError as exc:
            raise GatewayError(str(exc)) from exc
        return self._intent(row)

    def retrieve_intent(self, *, intent_id: str, account: str | None = None) -> Intent:
        return self._intent(self._row(intent_id))

    def cancel_intent(
        self, *, intent_id: str, idempotency_key: str, account: str | None = None
    ) -> Intent:
        TestModeIntent.objects.filter(intent_id=intent_id).exclude(status="succeeded").update(
            status="canceled"
        )
        return self.retrieve_intent(intent_id=intent_id)

    def refund(
        self,
        *,
        intent_id: str,
        amount: int,
        idempotency_key: str,
        metadata: dict[str, str],
        account: str | None = None,
    ) -> RefundResult:
        self._row(intent_id)
        TestModeIntent.objects.filter(intent_id=intent_id).update(refunded=F("refunded") + amount)
        return RefundResult(id=f"re_testmode_{idempotency_key}", status="succeeded", amount=amount)

    def webhook_event(self, *, payload: bytes, signature: str) -> WebhookEvent:
        # Test mode has no webhooks: its payments are applied by the test-mode pay endpoint.
        raise WebhookRejected("The test-mode gateway sends no webhooks.")

    def pay(self, *, intent_id: str, succeed: bool = True) -> WebhookEvent:
        """What a card payment would do, as an event: the intent succeeds (or fails)."""
        if succeed:
            TestModeIntent.objects.filter(
                intent_id=intent_id, status="requires_payment_method"
            ).update(status="succeeded")
        row = self._row(intent_id)
        if succeed and row.status != "succeeded":
            raise GatewayError(f"This payment is {row.status}; it can no longer be made.")
        kind = "payment_intent.succeeded" if succeed else "payment_intent.payment_failed"
        # As Stripe would: on the connected account the intent was made for.
        with scopes_disabled():
            account = (
                Payment.objects.filter(intent_id=intent_id)
                .values_list("account", flat=True)
                .first()
            )
        return WebhookEvent(
            id=f"evt_testmode_{secrets.token_hex(8)}",
            type=kind,
            data={
                "id": intent_id,
                "object": "payment_intent",
                "status": row.status,
                "amount": row.amount,
                "currency": row.currency.lower(),
            },
            account=account or None,
        )

    # No Stripe account to connect in test mode: the salon's payments are the labelled
    # test-mode gateway's, and the setup checklist says so.
    def account_create(
        self, *, country: str, email: str, business_name: str, url: str, idempotency_key: str
    ) -> ConnectedAccount:
        raise GatewayError("Test mode: there is no Stripe account to connect.")

    def account_retrieve(self, *, account: str) -> ConnectedAccount:
        raise GatewayError("Test mode: there is no Stripe account to read.")

    def account_link(
        self, *, account: str, refresh_url: str, return_url: str, idempotency_key: str
    ) -> str:
        raise GatewayError("Test mode: there is no Stripe account to connect.")

    # Cards are not kept in test mode (`supports_cards`): nothing asks for one.

    def _no_cards(self) -> GatewayError:
        return GatewayError("The test-mode gateway keeps no cards.")

    def customer_create(self, **kwargs: object) -> str:
        raise self._no_cards()

    def setup_create(self, **kwargs: object) -> CardSetup:
        raise self._no_cards()

    def setup_retrieve(self, **kwargs: object) -> CardSetup:
        raise self._no_cards()

    def card_retrieve(self, **kwargs: object) -> Card:
        raise self._no_cards()

    def card_charge(self, **kwargs: object) -> CardCharge:
        raise self._no_cards()

    def capture_intent(self, **kwargs: object) -> Intent:
        raise self._no_cards()
