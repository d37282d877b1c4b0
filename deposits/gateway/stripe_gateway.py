"""Stripe, through the official SDK: the only module that imports it.

One `StripeClient` per key and API base, both from settings (STRIPE_API_BASE points the
SDK at a local stand-in in tests). PaymentIntents use automatic payment methods; on a
salon's connected account they are direct charges carrying the platform's fee.
"""

import time
from typing import Any

import stripe
import stripe.params
from django.conf import settings

from . import (
    Card,
    CardCharge,
    CardSetup,
    ConnectedAccount,
    GatewayError,
    Intent,
    RefundResult,
    WebhookEvent,
    WebhookMalformed,
    WebhookRejected,
    platform_fee,
)

# The SDK retries network failures and 5xx itself, with the same idempotency key.
NETWORK_RETRIES = 2
# How far a webhook signature's time may be from now, either way (Stripe's default).
WEBHOOK_TOLERANCE = 300


def _signed_at(signature: str) -> int:
    """The time in a Stripe-Signature header (`t=...`), checked by the SDK already."""
    for part in signature.split(","):
        key, _sep, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            return int(value)
    raise WebhookRejected("The signature carries no time.")


class StripeGateway:
    name = "stripe"
    supports_cards = True

    def __init__(self, *, api_key: str, api_base: str) -> None:
        self.client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base},
            max_network_retries=NETWORK_RETRIES,
            http_client=stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT_SECONDS),
        )

    @property
    def publishable_key(self) -> str:
        return str(settings.STRIPE_PUBLISHABLE_KEY)

    @staticmethod
    def _options(idempotency_key: str | None, account: str | None) -> stripe.RequestOptions:
        options: stripe.RequestOptions = {}
        if idempotency_key:
            options["idempotency_key"] = idempotency_key
        if account:
            options["stripe_account"] = account
        return options

    @staticmethod
    def _intent(obj: Any) -> Intent:
        return Intent(
            id=obj.id,
            status=obj.status,
            amount=int(obj.amount),
            currency=str(obj.currency).upper(),
            client_secret=obj.client_secret or "",
            metadata=obj.metadata.to_dict() if obj.metadata else {},
            amount_received=int(getattr(obj, "amount_received", 0) or 0),
        )

    def create_intent(
        self,
        *,
        amount: int,
        currency: str,
        metadata: dict[str, str],
        idempotency_key: str,
        account: str | None = None,
    ) -> Intent:
        params: stripe.params.PaymentIntentCreateParams = {
            "amount": amount,
            "currency": currency.lower(),
            "metadata": metadata,
            "automatic_payment_methods": {"enabled": True},
        }
        fee = platform_fee(amount) if account else 0
        if fee:
            params["application_fee_amount"] = fee
        try:
            obj = self.client.v1.payment_intents.create(
                params=params, options=self._options(idempotency_key, account)
            )
        except stripe.StripeError as exc:
            raise GatewayError(str(exc)) from exc
        return self._intent(obj)

    def retrieve_intent(self, *, intent_id: str, account: str | None = None) -> Intent:
        try:
            obj = self.client.v1.payment_intents.retrieve(
                intent_id, options=self._options(None, account)
            )
        except stripe.StripeError as exc:
            raise GatewayError(str(exc)) from exc
        return self._intent(obj)

    def cancel_intent(
        self, *, intent_id: str, idempotency_key: str, account: str | None = None
    ) -> Intent:
        try:
            obj = self.client.v1.payment_intents.cancel(
                intent_id, options=self._options(idempotency_key, account)
            )
        except stripe.StripeError as exc:
            raise GatewayError(str(exc)) from exc
        return self._intent(obj)

    def refund(
        self,
        *,
        intent_id: str,
        amount: int,
        idempotency_key: str,
        metadata: dict[str, str],
        account: str | None = None,
    ) -> RefundResult:
        try:
            obj = self.client.v1.refunds.create(
                params={"payment_intent": intent_id, "amount": amount, "metadata": metadata},
                options=self._options(idempotency_key, account),
            )
        except stripe.StripeError as exc:
            raise GatewayError(str(exc)) from exc
        return RefundResult(id=obj.id, status=obj.status or "pending", amount=int(obj.amount))

    def webhook_event(self, *, payload: bytes, signature: str) -> WebhookEvent:
        try:
            event = stripe.Webhook.construct_event(
                payload, signature, settings.STRIPE_WEBHOOK_SECRET, WEBHOOK_TOLERANCE
            )
        except (ValueError, stripe.SignatureVerificationError) as exc:
            raise WebhookRejected(str(exc)) from exc
        except (AttributeError, TypeError) as exc:  # signed, but JSON that is no object
            raise WebhookMalformed("The event is not a JSON object.") from exc
        # The SDK refuses a signature older than the tolerance only; one dated ahead of
        # now is refused too, or a captured one could be replayed for as long as it says.
        if _signed_at(signature) > time.time() + WEBHOOK_TOLERANCE:
            raise WebhookRejected("The signature is dated in the future.")
        return _event_read(event)

    # Cards on file: a Customer and a SetupIntent in the salon's connected account, then
    # charges the client is not there for (merchant-initiated, off-session).

    def customer_create(
        self,
        *,
        name: str,
        email: str,
        metadata: dict[str, str],
        idempotency_key: str,
        account: str | None,
    ) -> str:
        params: stripe.params.CustomerCreateParams = {"metadata": metadata}
        if name:
            params["name"] = name
        if email:
            params["email"] = email
        try:
            obj = self.client.v1.customers.create(
                params=params, options=self._options(idempotency_key, account)
            )
        except stripe.StripeError as exc:
            raise GatewayError(str(exc)) from exc
        return str(obj.id)

    @staticmethod
    def _setup(obj: Any) -> CardSetup:
        method = obj.payment_method
        mandate = getattr(obj, "mandate", None)
        return CardSetup(
            id=obj.id,
            status=obj.status,
            client_secret=obj.client_secret or "",
            customer=str(obj.customer or ""),
            payment_method=method if isinstance(method, str) or method is None else method.id,
            metadata=obj.metadata.to_dict() if obj.metadata else {},
            mandate=mandate if isinstance(mandate, str) or mandate is None else mandate.id,
            usage=str(getattr(obj, "usage", "") or "off_session"),
        )

    def setup_create(
        self,
        *,
        customer: str,
        metadata: dict[str, str],
        idempotency_key: str,
        account: str | None,
    ) -> CardSetup:
        try:
            obj = self.client.v1.setup_intents.create(
                params={
                    "customer": customer,
                    "usage": "off_session",
                    "metadata": metadata,
                    "automatic_payment_methods": {"enabled": True},
                },
                options=self._options(idempotency_key, account),
            )
        except stripe.StripeError as exc:
            raise GatewayError(str(exc)) from exc
        return self._setup(obj)

    def setup_retrieve(self, *, setup_id: str, account: str | None) -> CardSetup:
        try:
            obj = self.client.v1.setup_intents.retrieve(
                setup_id, options=self._options(None, account)
            )
        except stripe.StripeError as exc:
            raise GatewayError(str(exc)) from exc
        return self._setup(obj)

    def card_retrieve(self, *, payment_method: str, account: str | None) -> Card:
        try:
            obj = self.client.v1.payment_methods.retrieve(
                payment_method, options=self._options(None, account)
            )
        except stripe.StripeError as exc:
            raise GatewayError(str(exc)) from exc
        card = getattr(obj, "card", None)
        return Card(
            id=obj.id,
            brand=str(getattr(card, "brand", "") or ""),
            last4=str(getattr(card, "last4", "") or ""),
            funding=str(getattr(card, "funding", "") or "unknown"),
            customer=str(obj.customer) if getattr(obj, "customer", None) else None,
        )

    def card_charge(
        self,
        *,
        amount: int,
        currency: str,
        customer: str,
        payment_method: str,
        metadata: dict[str, str],
        idempotency_key: str,
        account: str | None,
        hold: bool = False,
    ) -> CardCharge:
        """The saved card charged while the client is away (`off_session`), or the amount
        only held on it (`hold`: captured or cancelled later). A card that needs its
        holder, or refuses, is an answer here, not an error: the PaymentIntent stays,
        for the client to pay it herself."""
        params: stripe.params.PaymentIntentCreateParams = {
            "amount": amount,
            "currency": currency.lower(),
            "customer": customer,
            "payment_method": payment_method,
            "off_session": True,
            "confirm": True,
            "metadata": metadata,
        }
        if hold:
            params["capture_method"] = "manual"
        fee = platform_fee(amount) if account else 0
        if fee:
            params["application_fee_amount"] = fee
        try:
            obj = self.client.v1.payment_intents.create(
                params=params, options=self._options(idempotency_key, account)
            )
        except stripe.CardError as exc:
            error = exc.error
            found = getattr(error, "payment_intent", None) if error is not None else None
            return CardCharge(
                intent=self._intent(found) if found is not None else None,
                error_code=str(exc.code or "card_declined"),
                decline_code=str(getattr(error, "decline_code", "") or ""),
            )
        except stripe.StripeError as exc:
            raise GatewayError(str(exc)) from exc
        return CardCharge(intent=self._intent(obj))

    def capture_intent(
        self, *, intent_id: str, amount: int, idempotency_key: str, account: str | None
    ) -> Intent:
        try:
            obj = self.client.v1.payment_intents.capture(
                intent_id,
                params={"amount_to_capture": amount},
                options=self._options(idempotency_key, account),
            )
        except stripe.StripeError as exc:
            raise GatewayError(str(exc)) from exc
        return self._intent(obj)

    # Connect: a salon's own account, onboarded through Stripe's hosted pages.

    @staticmethod
    def _account(obj: Any) -> ConnectedAccount:
        return ConnectedAccount(
            id=obj.id,
            charges_enabled=bool(getattr(obj, "charges_enabled", False)),
            details_submitted=bool(getattr(obj, "details_submitted", False)),
        )

    def account_create(
        self, *, country: str, email: str, business_name: str, url: str, idempotency_key: str
    ) -> ConnectedAccount:
        params: stripe.params.AccountCreateParams = {
            "type": "express",
            "country": country,
            "business_profile": {"name": business_name, "mcc": "7230"},  # beauty and barber
            "capabilities": {
                "card_payments": {"requested": True},
                "transfers": {"requested": True},
            },
        }
        if email:
            params["email"] = email
        if url.startswith("https://"):  # Stripe refuses a local address
            params["business_profile"]["url"] = url
        try:
            obj = self.client.v1.accounts.create(
                params=params, options=self._options(idempotency_key, None)
            )
        except stripe.StripeError as exc:
            raise GatewayError(str(exc)) from exc
        return self._account(obj)

    def account_retrieve(self, *, account: str) -> ConnectedAccount:
        try:
            obj = self.client.v1.accounts.retrieve(account)
        except stripe.StripeError as exc:
            raise GatewayError(str(exc)) from exc
        return self._account(obj)

    def account_link(
        self, *, account: str, refresh_url: str, return_url: str, idempotency_key: str
    ) -> str:
        try:
            obj = self.client.v1.account_links.create(
                params={
                    "account": account,
                    "type": "account_onboarding",
                    "refresh_url": refresh_url,
                    "return_url": return_url,
                },
                options=self._options(idempotency_key, None),
            )
        except stripe.StripeError as exc:
            raise GatewayError(str(exc)) from exc
        return str(obj.url)


def _text(value: Any, longest: int) -> bool:
    return isinstance(value, str) and 0 < len(value) <= longest


def _event_read(event: stripe.Event) -> WebhookEvent:
    """The parts of a verified event we use, once their shape is checked: a signed body is
    still only what the sender wrote (an event's ids are stored in columns of 255)."""
    body = event.to_dict()
    data = body.get("data")
    found = data.get("object") if isinstance(data, dict) else None
    account = body.get("account")
    if not (
        _text(body.get("id"), 255)
        and _text(body.get("type"), 100)
        and isinstance(found, dict)
        and (account is None or _text(account, 255))
    ):
        raise WebhookMalformed("The event needs an id, a type and a data.object.")
    return WebhookEvent(id=body["id"], type=body["type"], data=found, account=account)
