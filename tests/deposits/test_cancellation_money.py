"""What happens to the money when a booking is cancelled, moved or abandoned."""

import datetime as dt
import json

import pytest

from bookings.models import Booking
from bookings.services import holds_expire
from deposits.credit import credit_balance, credits_expire
from deposits.gateway.testmode_gateway import TestModeGateway
from deposits.models import CreditEntry, Payment, PaymentStatus, Refund
from deposits.payments import payments_abandon_lapsed, stripe_event_apply
from messaging.models import Message, MessageKind
from messaging.outbox import messages_run
from tenants.scoping import salon_scope
from tests.conftest import policy_put, stripe_signature

pytestmark = pytest.mark.django_db

BOOK = "/api/v1/salons/bella/bookings/"


def _paid_booking(api, client, settings, stripe_api, catalogue, day="2027-03-10", hour=10, **extra):
    request = {
        "service": catalogue.cut.pk,
        "start": f"{day}T{hour:02}:00:00+01:00",
        "staff": catalogue.alice.pk,
        "customer": {"name": "Léa", "phone": "06 12 34 56 78"},
        **extra,
    }
    if "services" in extra:  # a visit
        del request["service"], request["staff"]
    booking = api().post(BOOK, request, format="json").json()
    intent = booking["payment"]["payment_intent"]
    stripe_api.pay(intent)
    event = {
        "id": f"evt_{intent}",
        "object": "event",
        "type": "payment_intent.succeeded",
        "data": {
            "object": {
                "id": intent,
                "object": "payment_intent",
                "currency": "eur",
                "amount": booking["amount_due_now"],
            }
        },
    }
    payload = json.dumps(event).encode()
    signature = stripe_signature(payload, settings.STRIPE_WEBHOOK_SECRET)
    client.generic(
        "POST",
        "/api/v1/stripe/webhook/",
        payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature,
    )
    return booking


def _cancel(api, booking, resolution=None):
    body = {} if resolution is None else {"resolution": resolution}
    answer = api().post(f"/api/v1/manage/{booking['manage_token']}/cancel/", body, format="json")
    assert answer.status_code == 200, answer.json()
    return answer.json()


def test_early_cancellation_is_refunded(
    api, client, settings, stripe_api, team_a, catalogue_a, monday
):
    policy_put(api, team_a)
    booking = _paid_booking(api, client, settings, stripe_api, catalogue_a)
    managed = api().get(f"/api/v1/manage/{booking['manage_token']}/").json()
    assert managed["deposit"] == {"amount": 1500, "paid": 1500, "status": "paid"}
    assert managed["cancellation_deadline"] == "2027-03-08T10:00:00+01:00"
    answer = _cancel(api, booking)
    assert answer["status"] == "cancelled"
    assert answer["deposit"]["status"] == "refunded"
    refunds = [r for r in stripe_api.requests() if r["path"] == "/v1/refunds"]
    assert len(refunds) == 1
    assert refunds[0]["form"]["amount"] == "1500"
    assert refunds[0]["idempotency_key"].startswith("deposit:")
    _cancel(api, booking)  # twice: nothing more
    assert len([r for r in stripe_api.requests() if r["path"] == "/v1/refunds"]) == 1


def test_early_cancellation_may_become_credit_then_lapse(
    api, client, settings, stripe_api, team_a, catalogue_a, monday
):
    policy_put(api, team_a)
    booking = _paid_booking(api, client, settings, stripe_api, catalogue_a)
    answer = _cancel(api, booking, "credit")
    assert answer["deposit"]["status"] == "credited"
    assert answer["credit_balance"] == 1500
    with salon_scope(team_a.salon):
        payment = Payment.objects.get()
        customer = payment.booking.customer
    staff_view = (
        api(team_a.staff).get(f"/api/v1/salons/bella/backoffice/customers/{customer.pk}/").json()
    )
    assert staff_view["credit_balance"] == 1500
    assert staff_view["lifetime_value"] == 1500
    monday.shift(dt.timedelta(days=91))
    with salon_scope(team_a.salon):
        assert credit_balance(customer=customer) == 0
        assert credits_expire(salon_id=team_a.salon.pk) == 1
        assert credits_expire(salon_id=team_a.salon.pk) == 0
        assert CreditEntry.objects.filter(kind="expired").get().amount == 1500


@pytest.mark.parametrize(("late", "outcome"), [("credit", "credited"), ("forfeit", "forfeited")])
def test_late_cancellation_follows_the_policy(
    api, client, settings, stripe_api, team_a, catalogue_a, monday, late, outcome
):
    policy_put(api, team_a, late_cancellation=late)
    booking = _paid_booking(api, client, settings, stripe_api, catalogue_a, day="2027-03-02")
    answer = _cancel(api, booking, "refund")  # asked for, but too late for a refund
    assert answer["deposit"]["status"] == outcome
    assert not [r for r in stripe_api.requests() if r["path"] == "/v1/refunds"]


def test_the_salon_cancelling_refunds_in_full_even_late(
    api, client, settings, stripe_api, team_a, catalogue_a, monday
):
    policy_put(api, team_a, late_cancellation="forfeit")
    booking = _paid_booking(api, client, settings, stripe_api, catalogue_a, day="2027-03-02")
    answer = api(team_a.staff).post(
        f"/api/v1/salons/bella/backoffice/bookings/{booking['id']}/cancel/",
        {"reason": "Fermeture exceptionnelle"},
        format="json",
    )
    assert answer.status_code == 200
    managed = api().get(f"/api/v1/manage/{booking['manage_token']}/").json()
    assert managed["deposit"]["status"] == "refunded"
    assert len([r for r in stripe_api.requests() if r["path"] == "/v1/refunds"]) == 1


def test_rescheduling_keeps_what_was_paid(
    api, client, settings, stripe_api, team_a, catalogue_a, monday
):
    policy_put(api, team_a)
    booking = _paid_booking(api, client, settings, stripe_api, catalogue_a)
    moved = (
        api()
        .post(
            f"/api/v1/manage/{booking['manage_token']}/reschedule/",
            {"start": "2027-03-11T15:00:00+01:00"},
            format="json",
        )
        .json()
    )
    assert moved["id"] == booking["id"]
    assert moved["deposit"] == {"amount": 1500, "paid": 1500, "status": "paid"}


def test_an_unpaid_cancelled_or_lapsed_hold_cancels_its_intent(
    api, stripe_api, team_a, catalogue_a, monday
):
    policy_put(api, team_a)
    request = {
        "service": catalogue_a.cut.pk,
        "staff": catalogue_a.alice.pk,
        "customer": {"name": "Léa", "phone": "06 12 34 56 78"},
    }
    first = (
        api().post(BOOK, {**request, "start": "2027-03-10T10:00:00+01:00"}, format="json").json()
    )
    second = (
        api().post(BOOK, {**request, "start": "2027-03-10T12:00:00+01:00"}, format="json").json()
    )
    assert _cancel(api, first)["deposit"]["status"] == "none"
    monday.shift(dt.timedelta(minutes=20))
    with salon_scope(team_a.salon):
        holds_expire(salon=team_a.salon)
        assert payments_abandon_lapsed(salon_id=team_a.salon.pk) == 1
        assert payments_abandon_lapsed(salon_id=team_a.salon.pk) == 0
        assert set(Payment.objects.values_list("status", flat=True)) == {PaymentStatus.CANCELED}
    cancels = {r["path"] for r in stripe_api.requests() if r["path"].endswith("/cancel")}
    intents = {first["payment"]["payment_intent"], second["payment"]["payment_intent"]}
    assert cancels == {f"/v1/payment_intents/{intent}/cancel" for intent in intents}


def test_payments_and_credit_in_the_admin_one_salon_only(
    api, client, settings, stripe_api, team_a, team_b, catalogue_a, monday
):
    policy_put(api, team_a)
    booking = _paid_booking(api, client, settings, stripe_api, catalogue_a)
    _cancel(api, booking, "credit")
    client.force_login(team_a.owner)
    payments = client.get("/admin/deposits/payment/")
    assert payments.status_code == 200
    assert len(payments.context["cl"].result_list) == 1
    assert len(client.get("/admin/deposits/creditentry/").context["cl"].result_list) == 1
    client.force_login(team_b.owner)
    assert len(client.get("/admin/deposits/payment/").context["cl"].result_list) == 0
    with salon_scope(team_a.salon):
        payment = Payment.objects.get()
    assert client.get(f"/admin/deposits/payment/{payment.pk}/change/").status_code == 404


def test_a_cancellation_turns_into_a_reschedule_paid_by_credit(
    api, client, settings, stripe_api, team_a, catalogue_a, monday
):
    policy_put(api, team_a)
    booking = _paid_booking(api, client, settings, stripe_api, catalogue_a)
    _cancel(api, booking, "credit")
    url = f"/api/v1/manage/{booking['manage_token']}/reschedule/"
    back = api().post(url, {"start": "2027-03-12T11:00:00+01:00"}, format="json")
    assert back.status_code == 200, back.json()
    body = back.json()
    assert (body["id"], body["status"], body["start"]) == (
        booking["id"],
        "confirmed",
        "2027-03-12T11:00:00+01:00",
    )
    assert body["credit_balance"] == 0
    assert body["amount_due_now"] == 0
    assert "2027-03-12T11:00:00+01:00" not in [
        s["start"]
        for s in api()
        .get(
            "/api/v1/salons/bella/availability/",
            {
                "service": catalogue_a.cut.pk,
                "from": "2027-03-12",
                "to": "2027-03-12",
                "staff": catalogue_a.alice.pk,
            },
        )
        .json()["slots"]
    ]


def _credited_then_the_deposit_went_up(
    api, client, settings, stripe_api, team_a, catalogue_a
) -> tuple[dict, str]:
    """A 15.00 deposit paid, the booking cancelled with credit, the deposit then raised to
    20.00: the booking's answer and its reschedule URL."""
    policy_put(api, team_a)
    booking = _paid_booking(api, client, settings, stripe_api, catalogue_a)
    _cancel(api, booking, "credit")
    policy_put(api, team_a, rule={"kind": "fixed", "value": 2000})  # the deposit went up
    return booking, f"/api/v1/manage/{booking['manage_token']}/reschedule/"


def test_a_reschedule_with_too_little_credit_is_held_for_the_difference(
    api, client, settings, stripe_api, team_a, catalogue_a, monday
):
    _booking, url = _credited_then_the_deposit_went_up(
        api, client, settings, stripe_api, team_a, catalogue_a
    )
    body = api().post(url, {"start": "2027-03-12T11:00:00+01:00"}, format="json").json()
    assert body["status"] == "pending_payment"
    assert body["amount_due_now"] == 500
    assert body["payment"]["payment_intent"].startswith("pi_")
    assert body["credit_balance"] == 0


def test_a_refunded_cancellation_cannot_be_rescheduled(
    api, client, settings, stripe_api, team_a, catalogue_a, monday
):
    policy_put(api, team_a)
    booking = _paid_booking(api, client, settings, stripe_api, catalogue_a)
    _cancel(api, booking, "refund")
    url = f"/api/v1/manage/{booking['manage_token']}/reschedule/"
    refused = api().post(url, {"start": "2027-03-12T11:00:00+01:00"}, format="json")
    assert refused.status_code == 400


def test_credit_spent_on_a_rebooked_booking_comes_back_when_it_is_cancelled_again(
    api, client, settings, stripe_api, team_a, catalogue_a, monday
):
    policy_put(api, team_a)
    booking = _paid_booking(api, client, settings, stripe_api, catalogue_a)
    _cancel(api, booking, "credit")
    url = f"/api/v1/manage/{booking['manage_token']}/reschedule/"
    back = api().post(url, {"start": "2027-03-12T11:00:00+01:00"}, format="json").json()
    assert (back["status"], back["credit_balance"]) == ("confirmed", 0)
    again = _cancel(api, booking)
    assert again["credit_balance"] == 1500
    _cancel(api, booking)  # twice: nothing more comes back
    with salon_scope(team_a.salon):
        customer = Payment.objects.get().booking.customer
        assert credit_balance(customer=customer) == 1500
        grants = CreditEntry.objects.filter(kind="granted").order_by("id")
        # Valid as long as the credit it came from.
        assert grants[1].expires_at == grants[0].expires_at
    # The credit comes back for the next appointment.
    third = api().post(url, {"start": "2027-03-13T11:00:00+01:00"}, format="json").json()
    assert (third["status"], third["amount_due_now"], third["credit_balance"]) == (
        "confirmed",
        0,
        0,
    )


def test_credit_spent_on_a_booking_cancelled_late_under_forfeit_is_kept(
    api, client, settings, stripe_api, team_a, catalogue_a, monday
):
    policy_put(api, team_a)
    booking = _paid_booking(api, client, settings, stripe_api, catalogue_a)
    _cancel(api, booking, "credit")
    url = f"/api/v1/manage/{booking['manage_token']}/reschedule/"
    api().post(url, {"start": "2027-03-02T11:00:00+01:00"}, format="json")  # tomorrow: late
    policy_put(api, team_a, late_cancellation="forfeit")
    assert _cancel(api, booking)["credit_balance"] == 0


@pytest.mark.parametrize(
    ("late", "option", "outcome"),
    [
        ("forfeit", "deposit", "forfeited"),
        ("credit", "deposit", "credited"),
        ("forfeit", "full", "forfeited"),
        ("credit", "full", "credited"),
    ],
)
def test_a_move_keeps_the_deadline_the_booking_already_passed(
    api, client, settings, stripe_api, team_a, catalogue_a, monday, late, option, outcome
):
    """Booked inside the window (tomorrow, 48 hours' notice asked), paid, moved weeks
    ahead: cancelling then is still late, and nothing is refunded."""
    policy_put(api, team_a, late_cancellation=late)
    booking = _paid_booking(
        api, client, settings, stripe_api, catalogue_a, day="2027-03-02", payment_option=option
    )
    paid = 1500 if option == "deposit" else 6000
    manage = f"/api/v1/manage/{booking['manage_token']}/"
    moved = api().post(
        f"{manage}reschedule/", {"start": "2027-03-24T10:00:00+01:00"}, format="json"
    )
    assert moved.status_code == 200, moved.json()
    assert moved.json()["cancellation_deadline"] == "2027-02-28T10:00:00+01:00"
    again = (
        api()
        .post(f"{manage}reschedule/", {"start": "2027-03-25T10:00:00+01:00"}, format="json")
        .json()
    )  # moved once more: the same deadline
    assert again["cancellation_deadline"] == "2027-02-28T10:00:00+01:00"
    page = client.get(f"/manage/{booking['manage_token']}/cancel/")
    assert page.context["outcome"].outcome == ("credit" if late == "credit" else "forfeit")
    answer = _cancel(api, booking, "refund")
    assert answer["deposit"] == {"amount": paid, "paid": paid, "status": outcome}
    assert not [r for r in stripe_api.requests() if r["path"] == "/v1/refunds"]
    assert answer["credit_balance"] == (paid if late == "credit" else 0)


def test_a_move_before_the_deadline_keeps_the_free_cancellation(
    api, client, settings, stripe_api, team_a, catalogue_a, monday
):
    policy_put(api, team_a)
    booking = _paid_booking(api, client, settings, stripe_api, catalogue_a, day="2027-03-10")
    manage = f"/api/v1/manage/{booking['manage_token']}/"
    moved = (
        api()
        .post(f"{manage}reschedule/", {"start": "2027-03-24T10:00:00+01:00"}, format="json")
        .json()
    )
    assert moved["cancellation_deadline"] == "2027-03-22T10:00:00+01:00"
    assert _cancel(api, booking)["deposit"]["status"] == "refunded"


def test_a_move_on_the_manage_page_keeps_the_deadline_too(
    api, client, settings, stripe_api, team_a, catalogue_a, monday
):
    policy_put(api, team_a, late_cancellation="forfeit")
    booking = _paid_booking(api, client, settings, stripe_api, catalogue_a, day="2027-03-02")
    page = f"/manage/{booking['manage_token']}/"
    moved = client.post(
        f"{page}reschedule/", {"start": "2027-03-24T10:00:00+01:00", "staff": catalogue_a.alice.pk}
    )
    assert moved.status_code == 302
    assert _cancel(api, booking, "refund")["deposit"]["status"] == "forfeited"


@pytest.mark.parametrize(
    ("resolution", "outcome"), [("refund", "refunded"), ("credit", "credited")]
)
def test_money_taken_while_the_client_cancels_is_refunded_or_credited_and_said(
    api, client, settings, stripe_api, team_a, catalogue_a, monday, resolution, outcome
):
    """Paid in the Payment Element, cancelled before the webhook came: the intent cannot
    be cancelled any more (it succeeded); the money is settled as the cancellation said,
    at once, and the webhook arriving later changes nothing more."""
    settings.SMS_BACKEND = "locmem"
    policy_put(api, team_a)
    request = {
        "service": catalogue_a.cut.pk,
        "start": "2027-03-10T10:00:00+01:00",
        "staff": catalogue_a.alice.pk,
        "customer": {"name": "Léa", "phone": "06 12 34 56 78"},
    }
    booking = api().post(BOOK, request, format="json").json()
    intent = booking["payment"]["payment_intent"]
    assert stripe_api.pay(intent)["status"] == "succeeded"
    answer = _cancel(api, booking, resolution)
    assert answer["deposit"] == {"amount": 1500, "paid": 1500, "status": outcome}
    assert answer["credit_balance"] == (1500 if outcome == "credited" else 0)
    event = {
        "id": "evt_after",
        "object": "event",
        "type": "payment_intent.succeeded",
        "data": {
            "object": {"id": intent, "object": "payment_intent", "amount": 1500, "currency": "eur"}
        },
    }
    payload = json.dumps(event).encode()
    signature = stripe_signature(payload, settings.STRIPE_WEBHOOK_SECRET)
    client.generic(
        "POST",
        "/api/v1/stripe/webhook/",
        payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature,
    )
    refunds = [r for r in stripe_api.requests() if r["path"] == "/v1/refunds"]
    assert len(refunds) == (1 if outcome == "refunded" else 0)
    with salon_scope(team_a.salon):
        payment = Payment.objects.get()
        assert (payment.status, payment.outcome) == ("succeeded", outcome)
        assert CreditEntry.objects.filter(kind="granted").count() == (outcome == "credited")
        messages_run(salon=team_a.salon)
        told = Message.objects.filter(kind=MessageKind.CANCELLATION)  # once, what became of it
        assert told.count() == 1
        assert "15" in told.get().body


def test_money_settled_after_the_cancellation_message_is_told_in_another(
    api, client, settings, stripe_api, team_a, catalogue_a, monday
):
    """The provider cannot be reached when the client cancels (its intent, paid, is
    neither cancelled nor fetched): the cancellation's message says nothing was paid; the
    webhook then settles the money, and a second message says it is refunded."""
    policy_put(api, team_a)
    request = {
        "service": catalogue_a.cut.pk,
        "start": "2027-03-10T10:00:00+01:00",
        "staff": catalogue_a.alice.pk,
        "customer": {"name": "Léa", "phone": "06 12 34 56 78"},
    }
    booking = api().post(BOOK, request, format="json").json()
    intent = booking["payment"]["payment_intent"]
    stripe_api.pay(intent)
    stripe_api.fail("500", times=6)  # the cancel and the fetch, each tried three times
    assert _cancel(api, booking)["deposit"]["status"] == "none"
    stripe_api.fail("500", times=0)
    with salon_scope(team_a.salon):
        messages_run(salon=team_a.salon)
    event = {
        "id": "evt_later",
        "object": "event",
        "type": "payment_intent.succeeded",
        "data": {
            "object": {"id": intent, "object": "payment_intent", "amount": 1500, "currency": "eur"}
        },
    }
    payload = json.dumps(event).encode()
    signature = stripe_signature(payload, settings.STRIPE_WEBHOOK_SECRET)
    client.generic(
        "POST",
        "/api/v1/stripe/webhook/",
        payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature,
    )
    managed = api().get(f"/api/v1/manage/{booking['manage_token']}/").json()
    assert managed["deposit"] == {"amount": 1500, "paid": 1500, "status": "refunded"}
    assert len([r for r in stripe_api.requests() if r["path"] == "/v1/refunds"]) == 1
    with salon_scope(team_a.salon):
        messages_run(salon=team_a.salon)
        told = Message.objects.filter(kind=MessageKind.CANCELLATION).order_by("id")
        assert [m.key.split(":")[0] for m in told] == ["cancelled", "paid_late"]
        assert "15" in told[1].body


def test_a_test_mode_payment_made_while_cancelling_is_refunded(
    api, settings, team_a, catalogue_a, monday
):
    """Test mode: the card is charged while the client cancels; the payment is not left
    `canceled` on a charged card."""
    settings.PAYMENTS_TEST_MODE = True
    policy_put(api, team_a)
    request = {
        "service": catalogue_a.cut.pk,
        "start": "2027-03-10T10:00:00+01:00",
        "customer": {"name": "Léa", "phone": "06 12 34 56 78"},
    }
    booking = api().post(BOOK, request, format="json").json()
    intent = booking["payment"]["payment_intent"]
    charged = TestModeGateway().pay(intent_id=intent)  # the card is charged; its event waits
    assert _cancel(api, booking)["deposit"]["status"] == "refunded"
    assert stripe_event_apply(charged) == "applied"  # then applied: nothing more
    with salon_scope(team_a.salon):
        payment = Payment.objects.get()
        assert (payment.status, payment.outcome) == ("succeeded", "refunded")
        assert Refund.objects.get().status == "succeeded"


def test_credit_spent_on_a_rebooking_whose_hold_lapses_comes_back(
    api, client, settings, stripe_api, team_a, catalogue_a, monday
):
    booking, url = _credited_then_the_deposit_went_up(
        api, client, settings, stripe_api, team_a, catalogue_a
    )
    held = api().post(url, {"start": "2027-03-12T11:00:00+01:00"}, format="json").json()
    assert (held["status"], held["amount_due_now"], held["credit_balance"]) == (
        "pending_payment",
        500,
        0,
    )
    monday.shift(dt.timedelta(minutes=20))  # the difference is never paid
    with salon_scope(team_a.salon):
        holds_expire(salon=team_a.salon)
        payments_abandon_lapsed(salon_id=team_a.salon.pk)
        payments_abandon_lapsed(salon_id=team_a.salon.pk)  # twice: restored once
        customer = Booking.objects.get(pk=booking["id"]).customer
        assert credit_balance(customer=customer) == 1500
    managed = api().get(f"/api/v1/manage/{booking['manage_token']}/").json()
    assert (managed["status"], managed["credit_balance"]) == ("expired", 1500)
    # The expired rebooking comes back again with its credit.
    back = api().post(url, {"start": "2027-03-13T11:00:00+01:00"}, format="json")
    assert back.status_code == 200, back.json()
    assert (back.json()["status"], back.json()["amount_due_now"]) == ("pending_payment", 500)
    with salon_scope(team_a.salon):
        assert credit_balance(customer=customer) == 0


# A visit of several services: its money is one deposit, cancelled and moved whole.


def test_a_visits_deposit_is_refunded_whole_and_its_deadline_is_its_first_service(
    api, client, settings, stripe_api, team_a, catalogue_a, monday
):
    policy_put(api, team_a, rule={"kind": "percent", "value": 20})
    services = [catalogue_a.colour.pk, catalogue_a.cut.pk]
    booking = _paid_booking(api, client, settings, stripe_api, catalogue_a, services=services)
    assert [i["deposit_amount"] for i in booking["items"]] == [1800, 1200]
    managed = api().get(f"/api/v1/manage/{booking['manage_token']}/").json()
    assert managed["deposit"] == {"amount": 3000, "paid": 3000, "status": "paid"}
    # 48 hours before the visit's first service, not before the cut that follows it.
    assert managed["cancellation_deadline"] == "2027-03-08T10:00:00+01:00"
    answer = _cancel(api, booking)
    assert answer["deposit"]["status"] == "refunded"
    refunds = [r for r in stripe_api.requests() if r["path"] == "/v1/refunds"]
    assert [r["form"]["amount"] for r in refunds] == ["3000"]


def test_a_late_visit_keeps_its_whole_deposit(
    api, client, settings, stripe_api, team_a, catalogue_a, monday
):
    policy_put(api, team_a, rule={"kind": "percent", "value": 20}, late_cancellation="forfeit")
    services = [catalogue_a.colour.pk, catalogue_a.cut.pk]
    booking = _paid_booking(
        api, client, settings, stripe_api, catalogue_a, day="2027-03-02", services=services
    )
    answer = _cancel(api, booking, "refund")
    assert answer["deposit"]["status"] == "forfeited"
    assert not [r for r in stripe_api.requests() if r["path"] == "/v1/refunds"]


def test_a_moved_visit_keeps_its_payment_and_credit_pays_a_whole_visit(
    api, client, settings, stripe_api, team_a, catalogue_a, monday
):
    policy_put(api, team_a, rule={"kind": "percent", "value": 20})
    services = [catalogue_a.colour.pk, catalogue_a.cut.pk]
    booking = _paid_booking(api, client, settings, stripe_api, catalogue_a, services=services)
    token = booking["manage_token"]
    moved = api().post(
        f"/api/v1/manage/{token}/reschedule/", {"start": "2027-03-11T10:00:00+01:00"}, format="json"
    )
    assert moved.status_code == 200, moved.json()
    assert [i["start"] for i in moved.json()["items"]] == [
        "2027-03-11T10:00:00+01:00",
        "2027-03-11T11:00:00+01:00",
    ]
    managed = api().get(f"/api/v1/manage/{token}/").json()
    assert managed["deposit"] == {"amount": 3000, "paid": 3000, "status": "paid"}
    assert not [r for r in stripe_api.requests() if r["path"] == "/v1/refunds"]
    answer = _cancel(api, booking, "credit")
    assert answer["credit_balance"] == 3000
