"""The payment gateway: what the rest of the product knows of the payment provider.

Dataclass results and errors of our own; the Stripe SDK lives in `stripe_gateway` only
(STYLE.md). Every call that changes something carries an idempotency key derived from what
it does (DESIGN.md, invariant 5), and money is integer minor units.
"""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from typing import Any, Protocol

from django.conf import settings


class GatewayError(Exception):
    """The provider failed, timed out or refused: nothing may be taken as done."""


class WebhookRejected(Exception):
    """A webhook whose signature or timestamp does not check out."""


class WebhookMalformed(WebhookRejected):
    """A signed webhook that is not an event we can read: no id, type or object."""


@dataclass(frozen=True)
class Intent:
    id: str
    status: str  # requires_payment_method, requires_action, processing, succeeded, canceled, …
    amount: int
    currency: str  # ISO code, upper case
    client_secret: str
    metadata: dict[str, str] = field(default_factory=dict)
    amount_received: int = 0


@dataclass(frozen=True)
class CardSetup:
    """A SetupIntent: a card being saved for charges the client is not there for."""

    id: str
    status: str  # requires_payment_method, requires_action, succeeded, canceled, …
    client_secret: str
    customer: str
    payment_method: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    mandate: str | None = None
    usage: str = "off_session"


@dataclass(frozen=True)
class Card:
    id: str
    brand: str
    last4: str
    funding: str  # credit, debit, prepaid, unknown
    customer: str | None = None


@dataclass(frozen=True)
class CardCharge:
    """A charge of a saved card without the client: the intent as it stands, and when the
    card refused, why (`authentication_required`: the client must pay it herself)."""

    intent: Intent | None
    error_code: str = ""
    decline_code: str = ""

    @property
    def status(self) -> str:
        if self.intent is not None and self.intent.status in ("succeeded", "requires_capture"):
            return self.intent.status
        if self.error_code == "authentication_required" or (
            self.intent is not None and self.intent.status == "requires_action"
        ):
            return "requires_action"
        return "failed"


@dataclass(frozen=True)
class RefundResult:
    id: str
    status: str
    amount: int


@dataclass(frozen=True)
class WebhookEvent:
    id: str
    type: str
    data: dict[str, Any]
    account: str | None = None


@dataclass(frozen=True)
class ConnectedAccount:
    """A salon's connected Stripe account as Stripe tells it: may it take charges, has
    its owner given everything Stripe asks for."""

    id: str
    charges_enabled: bool
    details_submitted: bool


class PaymentGateway(Protocol):
    name: str

    @property
    def publishable_key(self) -> str: ...

    def create_intent(
        self,
        *,
        amount: int,
        currency: str,
        metadata: dict[str, str],
        idempotency_key: str,
        account: str | None = None,
    ) -> Intent: ...

    def retrieve_intent(self, *, intent_id: str, account: str | None = None) -> Intent: ...

    def cancel_intent(
        self, *, intent_id: str, idempotency_key: str, account: str | None = None
    ) -> Intent: ...

    def refund(
        self,
        *,
        intent_id: str,
        amount: int,
        idempotency_key: str,
        metadata: dict[str, str],
        account: str | None = None,
    ) -> RefundResult: ...

    def webhook_event(self, *, payload: bytes, signature: str) -> WebhookEvent: ...

    # Cards on file (the Stripe gateway only: `supports_cards`).

    supports_cards: bool

    def customer_create(
        self,
        *,
        name: str,
        email: str,
        metadata: dict[str, str],
        idempotency_key: str,
        account: str | None,
    ) -> str: ...

    def setup_create(
        self,
        *,
        customer: str,
        metadata: dict[str, str],
        idempotency_key: str,
        account: str | None,
    ) -> CardSetup: ...

    def setup_retrieve(self, *, setup_id: str, account: str | None) -> CardSetup: ...

    def card_retrieve(self, *, payment_method: str, account: str | None) -> Card: ...

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
    ) -> CardCharge: ...

    def capture_intent(
        self, *, intent_id: str, amount: int, idempotency_key: str, account: str | None
    ) -> Intent: ...

    def account_create(
        self, *, country: str, email: str, business_name: str, url: str, idempotency_key: str
    ) -> ConnectedAccount: ...

    def account_retrieve(self, *, account: str) -> ConnectedAccount: ...

    def account_link(
        self, *, account: str, refresh_url: str, return_url: str, idempotency_key: str
    ) -> str: ...


def platform_fee(amount: int) -> int:
    """The platform's application fee on a connected account's charge, half up."""
    percent = Decimal(str(settings.PLATFORM_FEE_PERCENT or "0"))
    return int((Decimal(amount) * percent / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@cache
def _stripe_gateway(api_key: str, api_base: str, timeout: float) -> PaymentGateway:
    from .stripe_gateway import StripeGateway

    return StripeGateway(api_key=api_key, api_base=api_base)


def test_mode() -> bool:
    """No Stripe keys, and the embedded default (debug) or an explicit PAYMENTS_TEST_MODE:
    a production without keys refuses payments rather than pretend to take them."""
    return not settings.STRIPE_SECRET_KEY and (settings.DEBUG or settings.PAYMENTS_TEST_MODE)


def payment_gateway() -> PaymentGateway:
    """The gateway the settings name: Stripe when STRIPE_SECRET_KEY is set, the labelled
    test-mode gateway in test mode."""
    if test_mode():
        from .testmode_gateway import TestModeGateway

        return TestModeGateway()
    if not settings.STRIPE_SECRET_KEY:
        raise GatewayError("No payment provider is configured (STRIPE_SECRET_KEY).")
    return _stripe_gateway(
        settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE, settings.STRIPE_TIMEOUT_SECONDS
    )
