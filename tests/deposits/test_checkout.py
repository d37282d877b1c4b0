"""Online booking with a deposit: the real Stripe SDK over HTTP against the stand-in,
signed webhooks, failures of the provider, late payments."""

import datetime as dt
import json
import random
import threading
from collections import Counter

import pytest
from django.db import connection

from bookings.models import Booking, BookingEvent, Status
from bookings.tasks import holds_apply
from deposits.models import Payment, PaymentStatus, Refund, StripeEvent
from messaging import sms
from messaging.models import Message, MessageKind, MessageStatus
from messaging.outbox import messages_run
from tenants.scoping import salon_scope
from tests.conftest import book, local, stripe_signature
from tests.factories import CustomerFactory

BOOK = "/api/v1/salons/bella/bookings/"
WEBHOOK = "/api/v1/stripe/webhook/"
POLICY = "/api/v1/salons/bella/backoffice/deposit-policy/"


@pytest.fixture
def deposit_policy(api, team_a):
    api(team_a.owner).put(
        POLICY,
        {"rule": {"kind": "percent", "value": 20}, "allow_full_payment": True, "hold_minutes": 15},
        format="json",
    )


def _request(catalogue, hour=10, day="2027-03-02", **extra):
    customer = {"name": "Léa Martin", "phone": f"06 12 34 56 {hour:02}"}
    return {
        "service": catalogue.cut.pk,
        "start": f"{day}T{hour:02}:00:00+01:00",
        "staff": catalogue.alice.pk,
        "customer": customer,
        **extra,
    }


def _event(event_id, kind, intent_id, amount=1200):
    return {
        "id": event_id,
        "object": "event",
        "type": kind,
        "data": {
            "object": {
                "id": intent_id,
                "object": "payment_intent",
                "amount": amount,
                "currency": "eur",
                "status": kind.rsplit(".", 1)[1],
            }
        },
    }


def _deliver(client, settings, event, secret=None, timestamp=None):
    payload = json.dumps(event).encode()
    signature = stripe_signature(payload, secret or settings.STRIPE_WEBHOOK_SECRET, timestamp)
    return client.generic(
        "POST", WEBHOOK, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )


def _starts(api, catalogue, day="2027-03-02"):
    body = (
        api()
        .get(
            "/api/v1/salons/bella/availability/",
            {"service": catalogue.cut.pk, "from": day, "to": day, "staff": catalogue.alice.pk},
        )
        .json()
    )
    return [s["start"] for s in body["slots"]]


@pytest.mark.django_db
def test_book_pay_webhook_confirmed(
    api, client, settings, stripe_api, catalogue_a, monday, deposit_policy
):
    response = api().post(BOOK, _request(catalogue_a), format="json")
    assert response.status_code == 201, response.json()
    booking = response.json()
    assert booking["status"] == "pending_payment"
    assert (booking["price"], booking["deposit_amount"], booking["amount_due_now"]) == (
        6000,
        1200,
        1200,
    )
    assert booking["hold_expires_at"] == "2027-03-01T08:15:00+01:00"
    payment = booking["payment"]
    assert payment["provider"] == "stripe"
    assert payment["publishable_key"] == "pk_test_acompte"
    assert payment["payment_intent"].startswith("pi_") and payment["client_secret"]
    sent = stripe_api.requests()[-1]
    assert sent["form"]["metadata[salon]"] == "bella"
    assert sent["form"]["metadata[booking]"] == str(booking["id"])
    assert sent["idempotency_key"].startswith("deposit:") and sent["idempotency_key"].endswith(
        ":create"
    )
    assert "2027-03-02T10:00:00+01:00" not in _starts(api, catalogue_a)  # held

    assert stripe_api.pay(payment["payment_intent"])["status"] == "succeeded"
    answer = _deliver(
        client, settings, _event("evt_ok", "payment_intent.succeeded", payment["payment_intent"])
    )
    assert answer.status_code == 200
    managed = api().get(f"/api/v1/manage/{booking['manage_token']}/").json()
    assert managed["status"] == "confirmed"
    with salon_scope(catalogue_a.salon):
        assert Payment.objects.get().status == PaymentStatus.SUCCEEDED


@pytest.mark.django_db
def test_paying_in_full_and_a_policy_that_refuses_it(
    api, team_a, stripe_api, catalogue_a, monday, deposit_policy
):
    full = api().post(BOOK, _request(catalogue_a, payment_option="full"), format="json").json()
    assert (full["deposit_amount"], full["amount_due_now"]) == (1200, 6000)
    api(team_a.owner).put(
        POLICY,
        {"rule": {"kind": "percent", "value": 20}, "allow_full_payment": False},
        format="json",
    )
    refused = api().post(BOOK, _request(catalogue_a, hour=12, payment_option="full"), format="json")
    assert refused.status_code == 400
    assert "payment_option" in refused.json()["fields"]


@pytest.mark.django_db
@pytest.mark.parametrize("mode", ["500", "timeout"])
def test_a_failing_provider_blocks_nothing(
    api, stripe_api, catalogue_a, monday, deposit_policy, mode
):
    stripe_api.fail(mode, times=10)
    response = api().post(BOOK, _request(catalogue_a), format="json")
    assert response.status_code == 502
    assert response.json()["code"] == "payment_provider_error"
    assert "2027-03-02T10:00:00+01:00" in _starts(api, catalogue_a)  # not held
    with salon_scope(catalogue_a.salon):
        assert Booking.objects.get().status == Status.EXPIRED
        assert Payment.objects.get().status == PaymentStatus.FAILED
    stripe_api.fail("500", times=0)
    again = api().post(BOOK, _request(catalogue_a), format="json")
    assert again.status_code == 201  # the slot is bookable again


@pytest.mark.django_db
def test_bad_signature_or_stale_timestamp_is_400_with_no_effect(
    client, settings, api, stripe_api, catalogue_a, monday, deposit_policy
):
    booking = api().post(BOOK, _request(catalogue_a), format="json").json()
    event = _event("evt_x", "payment_intent.succeeded", booking["payment"]["payment_intent"])
    assert _deliver(client, settings, event, secret="whsec_forged").status_code == 400
    assert _deliver(client, settings, event, timestamp=0).status_code == 400
    assert client.post(WEBHOOK, b"{}", content_type="application/json").status_code == 400
    assert not StripeEvent.objects.exists()
    with salon_scope(catalogue_a.salon):
        assert Booking.objects.get().status == Status.PENDING_PAYMENT


@pytest.mark.django_db
def test_late_payment_retakes_a_free_slot(
    api, client, settings, stripe_api, catalogue_a, monday, deposit_policy
):
    booking = api().post(BOOK, _request(catalogue_a), format="json").json()
    monday.shift(dt.timedelta(minutes=20))
    holds_apply(salon_id=catalogue_a.salon.pk)
    intent = booking["payment"]["payment_intent"]
    stripe_api.pay(intent)
    _deliver(client, settings, _event("evt_late", "payment_intent.succeeded", intent))
    with salon_scope(catalogue_a.salon):
        assert Booking.objects.get(pk=booking["id"]).status == Status.CONFIRMED
        assert not Refund.objects.exists()


def _paid_after_the_slot_was_lost(api, stripe_api, catalogue_a, monday) -> tuple[dict, str]:
    """A booking whose hold lapsed and whose time another client took, then paid anyway:
    the booking's answer and its intent."""
    booking = api().post(BOOK, _request(catalogue_a), format="json").json()
    monday.shift(dt.timedelta(minutes=20))
    holds_apply(salon_id=catalogue_a.salon.pk)
    tom = CustomerFactory(salon=catalogue_a.salon, name="Tom")
    book(catalogue_a, tom, local(catalogue_a.salon, 1, 10), staff=catalogue_a.alice)
    intent = booking["payment"]["payment_intent"]
    stripe_api.pay(intent)
    return booking, intent


@pytest.mark.django_db
def test_late_payment_for_a_taken_slot_is_refunded_never_double_booked(
    api, client, settings, stripe_api, catalogue_a, monday, deposit_policy
):
    booking, intent = _paid_after_the_slot_was_lost(api, stripe_api, catalogue_a, monday)
    for _ in range(2):  # delivered twice: refunded once
        _deliver(client, settings, _event("evt_lost", "payment_intent.succeeded", intent))
    with salon_scope(catalogue_a.salon):
        assert Booking.objects.get(pk=booking["id"]).status == Status.EXPIRED
        refund = Refund.objects.get()
        assert (refund.amount, refund.status, refund.reason) == (1200, "succeeded", "slot_lost")
        active = Booking.objects.filter(status__in=["confirmed", "pending_payment"])
        assert active.count() == 1
    refunds = [r for r in stripe_api.requests() if r["path"] == "/v1/refunds"]
    assert len(refunds) == 1


@pytest.mark.django_db(transaction=True)
def test_webhook_chaos_each_event_applied_once(
    api, settings, stripe_api, catalogue_a, monday, deposit_policy
):
    from django.test import Client

    settings.SMS_BACKEND = "locmem"
    sms.outbox.clear()
    intents = []
    for n in range(25):
        day = f"2027-03-{2 + n // 9:02}"
        request = _request(catalogue_a, hour=9 + n % 9, day=day)
        request["customer"]["phone"] = f"06 11 22 33 {n:02}"
        answer = api().post(BOOK, request, format="json")
        assert answer.status_code == 201, answer.json()
        intents.append(answer.json()["payment"]["payment_intent"])
    events = []
    for n, intent in enumerate(intents):
        events.append(_event(f"evt_fail_{n}", "payment_intent.payment_failed", intent))
        events.append(_event(f"evt_ok_{n}", "payment_intent.succeeded", intent))
    deliveries = [e for e in events for _ in range(3)]
    random.Random(7).shuffle(deliveries)  # noqa: S311 - a reproducible order, not a secret
    codes: list[int] = []
    lock = threading.Lock()

    def deliver(batch):
        web = Client()
        try:
            for event in batch:
                code = _deliver(web, settings, event).status_code
                with lock:
                    codes.append(code)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(deliveries[i::6],)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert Counter(codes) == {200: 150}
    assert StripeEvent.objects.count() == 50
    with salon_scope(catalogue_a.salon):
        assert set(Booking.objects.values_list("status", flat=True)) == {Status.CONFIRMED}
        assert Payment.objects.filter(status=PaymentStatus.SUCCEEDED).count() == 25
        confirmations = Counter(
            BookingEvent.objects.filter(kind="confirmed").values_list("booking_id", flat=True)
        )
        assert set(confirmations.values()) == {1}

    # One confirmation message per booking, however many sweeps run at once (beat's, and
    # those each webhook's commit sent through the broker).
    def sweep():
        try:
            with salon_scope(catalogue_a.salon):
                messages_run(salon=catalogue_a.salon)
        finally:
            connection.close()

    sweeps = [threading.Thread(target=sweep) for _ in range(4)]
    for t in sweeps:
        t.start()
    for t in sweeps:
        t.join(timeout=60)
    sweep()
    with salon_scope(catalogue_a.salon):
        messages = Message.objects.filter(kind=MessageKind.CONFIRMATION)
        assert Counter(messages.values_list("booking_id", flat=True)) == Counter(
            dict.fromkeys(Booking.objects.values_list("pk", flat=True), 1)
        )
        assert set(messages.values_list("status", flat=True)) == {MessageStatus.SENT}
    texts = [m for m in sms.outbox if "confirm" in m.body]
    assert len(texts) == 25
    assert len({m.to for m in texts}) == 25


@pytest.mark.django_db
def test_refund_events_settle_refunds_forward_only(
    client, settings, stripe_api, catalogue_a, monday
):
    lea = CustomerFactory(salon=catalogue_a.salon)
    booking = book(catalogue_a, lea, local(catalogue_a.salon, 1, 10))
    with salon_scope(catalogue_a.salon):
        payment = Payment.objects.create(
            salon=catalogue_a.salon,
            booking=booking,
            kind="deposit",
            amount=1200,
            currency="EUR",
            status="succeeded",
            intent_id="pi_refunded",
        )
        refund = Refund.objects.create(
            salon=catalogue_a.salon,
            payment=payment,
            amount=1200,
            reason="client_cancelled",
            refund_id="re_1",
        )

    def refund_event(event_id, status):
        refund = {"id": "re_1", "object": "refund", "status": status}
        return {
            "id": event_id,
            "object": "event",
            "type": "refund.updated",
            "data": {"object": refund},
        }

    assert _deliver(client, settings, refund_event("evt_r1", "succeeded")).status_code == 200
    _deliver(client, settings, refund_event("evt_r2", "pending"))  # late and stale: ignored
    refund.refresh_from_db()
    assert refund.status == "succeeded"


@pytest.mark.django_db
def test_after_a_provider_failure_nothing_payable_is_left(
    api, stripe_api, catalogue_a, monday, deposit_policy
):
    from deposits.payments import payments_reconcile

    stripe_api.fail("500", times=3)  # the SDK's three attempts all fail
    assert api().post(BOOK, _request(catalogue_a), format="json").status_code == 502
    with salon_scope(catalogue_a.salon):
        payment = Payment.objects.get()
        assert payments_reconcile(salon_id=catalogue_a.salon.pk) == 1
        assert payments_reconcile(salon_id=catalogue_a.salon.pk) == 0
        payment.refresh_from_db()
    assert payment.status == PaymentStatus.FAILED
    sent = stripe_api.requests()
    create = next(r for r in sent if r["path"] == "/v1/payment_intents")
    assert create["idempotency_key"] == f"deposit:{payment.pk}:create"
    assert any(r["path"] == f"/v1/payment_intents/{payment.intent_id}/cancel" for r in sent)


@pytest.mark.django_db
def test_a_refund_the_provider_missed_is_asked_again(
    api, client, settings, stripe_api, catalogue_a, monday, deposit_policy
):
    from deposits.payments import booking_cancel_with_money, payments_reconcile

    booking = api().post(BOOK, _request(catalogue_a, day="2027-03-20"), format="json").json()
    intent = booking["payment"]["payment_intent"]
    stripe_api.pay(intent)
    _deliver(client, settings, _event("evt_paid", "payment_intent.succeeded", intent))
    stripe_api.fail("500", times=3)
    with salon_scope(catalogue_a.salon):
        booking_cancel_with_money(booking=Booking.objects.get(pk=booking["id"]))
        refund = Refund.objects.get()
        assert (refund.status, refund.refund_id) == ("pending", None)
        assert payments_reconcile(salon_id=catalogue_a.salon.pk) == 1
        refund.refresh_from_db()
    assert refund.status == "succeeded"
    assert refund.refund_id


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "status", "code"), [("get", 405, "method_not_allowed"), ("post", 400, "invalid")]
)
def test_the_webhook_refuses_in_the_error_shape(client, settings, method, status, code):
    """It answered an empty 405 to a GET, and a 400 without `fields`."""
    settings.STRIPE_SECRET_KEY = "sk_test_acompte"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_acompte_test"
    response = client.generic(
        method.upper(),
        WEBHOOK,
        b"not json",
        content_type="text/plain",
        HTTP_STRIPE_SIGNATURE="t=1,v1=00",
    )
    assert response.status_code == status
    assert response.json()["code"] == code
    if code == "invalid":
        assert "Stripe-Signature" in response.json()["fields"]


@pytest.mark.django_db
def test_a_refund_for_a_lost_slot_is_shown_as_refunded(
    api, client, settings, stripe_api, catalogue_a, monday, deposit_policy
):
    booking, intent = _paid_after_the_slot_was_lost(api, stripe_api, catalogue_a, monday)
    _deliver(client, settings, _event("evt_lost", "payment_intent.succeeded", intent))
    managed = api().get(f"/api/v1/manage/{booking['manage_token']}/").json()
    assert managed["status"] == "expired"
    assert managed["deposit"] == {"amount": 1200, "paid": 1200, "status": "refunded"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"amount": 1}, "amount"),
        ({"currency": "usd"}, "currency"),
        ({"account": "acct_someone_else"}, "account"),
        ({"amount": None}, "amount"),
    ],
)
def test_an_event_that_is_not_the_payments_changes_nothing(
    api, client, settings, stripe_api, catalogue_a, monday, deposit_policy, change, problem, caplog
):
    booking = api().post(BOOK, _request(catalogue_a), format="json").json()
    intent = booking["payment"]["payment_intent"]
    stripe_api.pay(intent)
    event = _event("evt_odd", "payment_intent.succeeded", intent)
    if "account" in change:
        event["account"] = change["account"]
    else:
        event["data"]["object"].update(change)
    answer = _deliver(client, settings, event)
    assert answer.status_code == 200
    assert answer.json()["outcome"] == "mismatch"
    assert StripeEvent.objects.get().status == "mismatch"
    assert problem in StripeEvent.objects.get().error
    assert "evt_odd" in caplog.text
    with salon_scope(catalogue_a.salon):
        assert Booking.objects.get().status == Status.PENDING_PAYMENT
        assert Payment.objects.get().status == PaymentStatus.PENDING


@pytest.mark.django_db
def test_a_signature_dated_in_the_future_is_refused(
    client, settings, api, stripe_api, catalogue_a, monday, deposit_policy
):
    import time

    booking = api().post(BOOK, _request(catalogue_a), format="json").json()
    event = _event("evt_ahead", "payment_intent.succeeded", booking["payment"]["payment_intent"])
    ahead = int(time.time()) + 3600
    assert _deliver(client, settings, event, timestamp=ahead).status_code == 400
    assert not StripeEvent.objects.exists()
    assert _deliver(client, settings, event, timestamp=int(time.time()) + 60).status_code == 200
