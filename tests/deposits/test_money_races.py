"""Money under real races: concurrent requests, each on its own connection to PostgreSQL.

Paying while cancelling never loses the money, and two rebookings at once never spend
the same credit; neither ever answers 503 (a deadlock) or 500."""

import json
import threading
from collections import Counter
from functools import partial

import pytest
from django.db import connection
from django.db.models import Sum
from django.test import Client
from rest_framework.test import APIClient

from bookings.models import Booking, Status
from bookings.services import booking_manage_token
from deposits.models import CreditEntry, Payment, PaymentOutcome, PaymentStatus, Refund
from deposits.payments import booking_cancel_with_money
from tenants.scoping import salon_scope
from tests.conftest import book, local, stripe_signature
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)

RUNS = 20
POLICY = "/api/v1/salons/bella/backoffice/deposit-policy/"


def _race(*calls):
    """Run the calls at once, each in its own thread and connection; their results."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(n, call):
        try:
            barrier.wait(timeout=30)
            results[n] = call()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n, c)) for n, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def _request(catalogue, run):
    return {
        "service": catalogue.cut.pk,
        "staff": catalogue.alice.pk,
        "start": f"2027-03-{10 + run // 10}T{9 + run % 10:02}:00:00+01:00",
        "customer": {"name": f"Client {run}", "phone": f"06 12 34 00 {run:02}"},
    }


def test_paying_while_cancelling_never_loses_the_money(
    api, settings, stripe_api, team_a, catalogue_a, monday
):
    """The client pays in the Payment Element and cancels before the webhook arrives; the
    webhook and the cancellation then race. Whichever wins, the money is refunded once."""
    api(team_a.owner).put(
        POLICY,
        {"rule": {"kind": "fixed", "value": 1500}, "cancellation_window_hours": 48},
        format="json",
    )
    codes: Counter[int] = Counter()
    for run in range(RUNS):
        booking = (
            api()
            .post("/api/v1/salons/bella/bookings/", _request(catalogue_a, run), format="json")
            .json()
        )
        intent = booking["payment"]["payment_intent"]
        assert stripe_api.pay(intent)["status"] == "succeeded"
        event = {
            "id": f"evt_race_{run}",
            "object": "event",
            "type": "payment_intent.succeeded",
            "data": {
                "object": {
                    "id": intent,
                    "object": "payment_intent",
                    "amount": 1500,
                    "currency": "eur",
                }
            },
        }
        payload = json.dumps(event).encode()
        signature = stripe_signature(payload, settings.STRIPE_WEBHOOK_SECRET)
        cancel_url = f"/api/v1/manage/{booking['manage_token']}/cancel/"
        webhook, cancel = _race(
            partial(
                Client().generic,
                "POST",
                "/api/v1/stripe/webhook/",
                payload,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=signature,
            ),
            partial(APIClient().post, cancel_url, {}, format="json"),
        )
        codes.update([webhook.status_code, cancel.status_code])
        assert cancel.json()["deposit"]["status"] == "refunded", (run, cancel.json())
        with salon_scope(team_a.salon):
            payment = Payment.objects.get(intent_id=intent)
            assert (payment.status, payment.outcome) == (
                PaymentStatus.SUCCEEDED,
                PaymentOutcome.REFUNDED,
            ), run
            assert Booking.objects.get(pk=booking["id"]).status == Status.CANCELLED
            refund = Refund.objects.get(payment=payment)
            assert (refund.amount, refund.status) == (1500, "succeeded")
        asked = [
            r
            for r in stripe_api.requests()
            if r["path"] == "/v1/refunds" and r["form"]["payment_intent"] == intent
        ]
        assert len(asked) == 1, run
    assert codes == {200: 2 * RUNS}  # never a 503 (deadlock) nor a 500


def test_rebooking_two_cancellations_at_once_never_spends_credit_twice(
    api, stripe_api, team_a, catalogue_a, monday
):
    """Two bookings of one client cancelled with credit (2 x 12.00), the deposit raised to
    24.00, both rebooked at once: the credit pays once; the other is charged or refused."""
    salon = team_a.salon
    api(team_a.owner).put(
        POLICY,
        {"rule": {"kind": "fixed", "value": 2400}, "cancellation_window_hours": 48},
        format="json",
    )
    codes: Counter[int] = Counter()
    open_days = [d for d in range(8, 40) if d % 7 != 6][:RUNS]  # the salon closes on Sundays
    for run, day in enumerate(open_days):
        lea = CustomerFactory(salon=salon, name=f"Léa {run}")
        tokens = []
        for n in range(2):
            booking = book(catalogue_a, lea, local(salon, day, 9 + 2 * n), staff=catalogue_a.alice)
            with salon_scope(salon):
                Payment.objects.create(
                    salon=salon,
                    booking=booking,
                    kind="deposit",
                    amount=1200,
                    currency="EUR",
                    status="succeeded",
                    provider="stripe",
                    intent_id=f"pi_credit_{run}_{n}",
                )
                booking_cancel_with_money(booking=booking, resolution="credit")
            tokens.append(booking_manage_token(booking))
        answers = _race(
            *[
                partial(
                    APIClient().post,
                    f"/api/v1/manage/{token}/reschedule/",
                    {"start": local(salon, day, 14 + 2 * n).isoformat()},
                    format="json",
                )
                for n, token in enumerate(tokens)
            ]
        )
        codes.update(a.status_code for a in answers)
        with salon_scope(salon):
            entries = CreditEntry.objects.filter(customer=lea)
            used = entries.filter(kind="used").aggregate(total=Sum("amount"))["total"] or 0
            assert used <= 2400, run
            for answer in answers:
                if answer.status_code != 200:
                    continue
                body = answer.json()
                spent = (
                    entries.filter(kind="used", booking_id=body["id"]).aggregate(
                        total=Sum("amount")
                    )["total"]
                    or 0
                )
                due = sum(
                    p.amount
                    for p in Payment.objects.filter(
                        booking_id=body["id"], status=PaymentStatus.PENDING
                    )
                )
                assert spent + due == 2400, (run, spent, due)  # paid in full, never twice
                assert body["amount_due_now"] == due
                assert body["status"] == ("confirmed" if due == 0 else "pending_payment")
    assert set(codes) <= {200, 400}, codes  # never a 503 (deadlock) nor a 500
    assert codes[200] >= RUNS  # the first of each pair always rebooks


def test_paying_in_test_mode_while_cancelling_never_leaves_a_charged_card(
    api, settings, team_a, catalogue_a, monday
):
    """Test mode (no Stripe keys): the labelled pay button and the cancellation at once. A
    card charged is refunded; a payment refused leaves nothing charged."""
    from deposits.models import TestModeIntent

    settings.PAYMENTS_TEST_MODE = True
    api(team_a.owner).put(POLICY, {"rule": {"kind": "fixed", "value": 1500}}, format="json")
    codes: Counter[tuple[int, int]] = Counter()
    for run in range(RUNS):
        booking = (
            api()
            .post("/api/v1/salons/bella/bookings/", _request(catalogue_a, run), format="json")
            .json()
        )
        payment = booking["payment"]
        pay_url = f"/api/v1/test-mode/payments/{payment['payment_intent']}/pay/"
        cancel_url = f"/api/v1/manage/{booking['manage_token']}/cancel/"
        pay, cancel = _race(
            partial(
                APIClient().post,
                pay_url,
                {"client_secret": payment["client_secret"]},
                format="json",
            ),
            partial(APIClient().post, cancel_url, {}, format="json"),
        )
        codes[(pay.status_code, cancel.status_code)] += 1
        charged = TestModeIntent.objects.get(intent_id=payment["payment_intent"])
        with salon_scope(team_a.salon):
            paid = Payment.objects.get(intent_id=payment["payment_intent"])
            if charged.status == "succeeded":
                assert (paid.status, paid.outcome) == ("succeeded", "refunded"), run
                assert charged.refunded == 1500, run
            else:
                assert paid.status == PaymentStatus.CANCELED, run
                assert charged.refunded == 0, run
    assert set(codes) <= {(200, 200), (400, 200)}, codes  # never a 503 nor a 500
