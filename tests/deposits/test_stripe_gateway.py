"""The Stripe gateway: the real SDK, over HTTP, against the local stand-in."""

import json
import time

import pytest

from deposits.gateway import GatewayError, WebhookRejected, payment_gateway
from tests.conftest import stripe_signature

META = {"salon": "bella", "booking": "41", "payment": "7"}


def _create(gateway, key="deposit:7:create", **kw):
    return gateway.create_intent(
        amount=1200, currency="EUR", metadata=META, idempotency_key=key, **kw
    )


def test_create_sends_what_stripe_needs(stripe_api):
    intent = _create(payment_gateway())
    assert intent.id.startswith("pi_")
    assert (intent.status, intent.amount, intent.currency) == (
        "requires_payment_method",
        1200,
        "EUR",
    )
    assert intent.client_secret
    assert intent.metadata == META
    sent = stripe_api.requests()[-1]
    assert sent["idempotency_key"] == "deposit:7:create"
    assert sent["form"]["automatic_payment_methods[enabled]"] == "true"
    assert sent["form"]["metadata[booking]"] == "41"
    assert sent["stripe_account"] is None
    assert "application_fee_amount" not in sent["form"]


def test_connected_accounts_get_direct_charges_with_the_platform_fee(stripe_api, settings):
    settings.PLATFORM_FEE_PERCENT = "2.5"
    _create(payment_gateway(), account="acct_1Salon")
    sent = stripe_api.requests()[-1]
    assert sent["stripe_account"] == "acct_1Salon"
    assert sent["form"]["application_fee_amount"] == "30"  # 2.5 % of 12.00


def test_the_same_key_gets_the_same_intent(stripe_api):
    gateway = payment_gateway()
    assert _create(gateway).id == _create(gateway).id
    assert _create(gateway, key="deposit:8:create").id != _create(gateway).id


def test_pay_retrieve_refund_and_cancel(stripe_api):
    gateway = payment_gateway()
    paid = _create(gateway)
    assert stripe_api.pay(paid.id)["status"] == "succeeded"
    assert gateway.retrieve_intent(intent_id=paid.id).status == "succeeded"
    refund = gateway.refund(
        intent_id=paid.id, amount=1200, idempotency_key="deposit:7:refund", metadata=META
    )
    assert (refund.status, refund.amount) == ("succeeded", 1200)

    unpaid = _create(gateway, key="deposit:9:create")
    cancelled = gateway.cancel_intent(intent_id=unpaid.id, idempotency_key="deposit:9:cancel")
    assert cancelled.status == "canceled"


def test_a_passing_failure_is_retried_with_the_same_key(stripe_api):
    stripe_api.fail("500", times=2)
    intent = _create(payment_gateway())
    assert intent.id.startswith("pi_")


def test_a_failing_provider_is_a_gateway_error(stripe_api):
    stripe_api.fail("500", times=10)
    with pytest.raises(GatewayError):
        _create(payment_gateway())


def test_a_silent_provider_is_a_gateway_error_within_seconds(stripe_api):
    stripe_api.fail("timeout", times=10)
    start = time.monotonic()
    with pytest.raises(GatewayError):
        _create(payment_gateway())
    assert time.monotonic() - start < 15


def test_no_keys_no_stripe(settings):
    settings.STRIPE_SECRET_KEY = ""
    with pytest.raises(GatewayError):
        payment_gateway()


EVENT = {
    "id": "evt_1",
    "object": "event",
    "type": "payment_intent.succeeded",
    "data": {"object": {"id": "pi_1", "object": "payment_intent", "amount": 1200}},
}


def test_webhooks_are_checked_by_signature(stripe_api, settings):
    payload = json.dumps(EVENT).encode()
    gateway = payment_gateway()
    event = gateway.webhook_event(
        payload=payload, signature=stripe_signature(payload, settings.STRIPE_WEBHOOK_SECRET)
    )
    assert (event.id, event.type) == ("evt_1", "payment_intent.succeeded")
    assert event.data["id"] == "pi_1"
    with pytest.raises(WebhookRejected):
        gateway.webhook_event(payload=payload, signature=stripe_signature(payload, "whsec_other"))
    stale = stripe_signature(payload, settings.STRIPE_WEBHOOK_SECRET, int(time.time()) - 3600)
    with pytest.raises(WebhookRejected):
        gateway.webhook_event(payload=payload, signature=stale)
    with pytest.raises(WebhookRejected):
        gateway.webhook_event(payload=b"{not json", signature="t=1,v1=00")
