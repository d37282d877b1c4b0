"""Bookings taken by phone: the client found or created by phone number, the deposit sent
as a link (the pay page), paid at the desk, or waived with a reason; all audited."""

import datetime as dt
import json
import re

import pytest

from bookings.models import Booking, BookingEvent, Status
from bookings.services import holds_expire
from customers.models import Customer
from deposits.models import Payment, PaymentStatus
from messaging.models import Message, MessageKind, MessageStatus
from messaging.outbox import messages_run
from tenants.scoping import salon_scope
from tests.conftest import stripe_signature
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

PHONE = "/api/v1/salons/{slug}/backoffice/phone-bookings/"
POLICY = "/api/v1/salons/{slug}/backoffice/deposit-policy/"
SMS = re.compile(r"--- SMS (\S+) from .*? to (\S+)\n(.*?)\n---\n", re.S)


@pytest.fixture
def deposit(api, team_a, team_b):
    for team in (team_a, team_b):
        body = {"rule": {"kind": "fixed", "value": 1500}, "payment_link_hours": 24}
        answer = api(team.owner).put(POLICY.format(slug=team.salon.slug), body, format="json")
        assert answer.status_code == 200, answer.json()


@pytest.fixture
def test_mode(settings):
    settings.PAYMENTS_TEST_MODE = True
    settings.SMS_BACKEND = "console"
    settings.SMS_CONSOLE_SHOW_TEXT = True  # as under `make run`


def _request(catalogue, **changes):
    return {
        "service": catalogue.cut.pk,
        "start": "2027-03-03T10:00:00+01:00",
        "staff": catalogue.alice.pk,
        "customer": {"name": "Marcel Roux", "phone": "06 43 55 66 77"},
        "deposit_handling": "payment_link",
        **changes,
    }


def _sweep(salon):
    with salon_scope(salon):
        return messages_run(salon=salon)


def _sms(capsys):
    return [(to, body) for _ref, to, body in SMS.findall(capsys.readouterr().out)]


def test_a_client_without_email_pays_by_an_sms_link_end_to_end(
    api, client, settings, team_a, catalogue_a, deposit, test_mode, monday, capsys
):
    answer = api(team_a.staff).post(
        PHONE.format(slug="bella"), _request(catalogue_a), format="json"
    )
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert (body["status"], body["deposit_amount"], body["deposit_handling"]) == (
        "pending_payment",
        1500,
        "payment_link",
    )
    link = body["payment_link"]
    assert link["url"].startswith(f"{settings.SITE_URL}/pay/")
    # The link holds the slot for the policy's 24 hours, stated in the salon's time.
    assert link["expires_at"] == "2027-03-02T08:00:00+01:00"
    assert body["hold_expires_at"] == link["expires_at"]
    assert (link["channel"], link["sent_to"]) == ("sms", "+33643556677")

    # The link goes out once, whatever runs again.
    _sweep(team_a.salon)
    _sweep(team_a.salon)
    sent = _sms(capsys)
    assert len(sent) == 1
    to, text = sent[0]
    assert to == "+33643556677"
    assert link["url"] in text and "15,00 €" in text  # SMS: the GSM alphabet

    # The pay page opens, labelled test mode, and paying confirms the booking.
    path = link["url"].split("://", 1)[1].split("/", 1)[1]
    page = client.get(f"/{path}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "MODE TEST" in html and "15,00\u00a0€" in html
    assert client.post(f"/{path}").status_code == 302
    with salon_scope(team_a.salon):
        booking = Booking.objects.get(pk=body["id"])
        assert booking.status == Status.CONFIRMED
        assert Payment.objects.get(booking=booking).status == PaymentStatus.SUCCEEDED
    assert "votre rendez-vous est confirmé" in client.get(f"/{path}").content.decode()

    # The confirmation follows, once, by the client's channel.
    _sweep(team_a.salon)
    _sweep(team_a.salon)
    confirmations = _sms(capsys)
    assert len(confirmations) == 1
    assert booking.reference in confirmations[0][1]
    manage = api().get(f"/api/v1/manage/{body['manage_token']}/").json()
    assert manage["deposit"] == {"amount": 1500, "paid": 1500, "status": "paid"}


def test_an_expired_link_frees_the_slot_and_tells_the_client(
    api, client, team_a, catalogue_a, deposit, test_mode, monday, capsys
):
    body = (
        api(team_a.staff)
        .post(PHONE.format(slug="bella"), _request(catalogue_a), format="json")
        .json()
    )
    _sweep(team_a.salon)
    capsys.readouterr()
    path = "/" + body["payment_link"]["url"].split("://", 1)[1].split("/", 1)[1]

    monday.shift(dt.timedelta(hours=24, minutes=1))
    with salon_scope(team_a.salon):
        assert holds_expire(salon=team_a.salon) == [body["id"]]
    _sweep(team_a.salon)
    _sweep(team_a.salon)
    told = _sms(capsys)
    assert len(told) == 1
    assert told[0][0] == "+33643556677" and "Marcel" in told[0][1]
    slots = (
        api()
        .get(
            "/api/v1/salons/bella/availability/",
            {
                "service": catalogue_a.cut.pk,
                "from": "2027-03-03",
                "to": "2027-03-03",
                "staff": catalogue_a.alice.pk,
            },
        )
        .json()["slots"]
    )
    assert "2027-03-03T10:00:00+01:00" in [s["start"] for s in slots]
    # A late click is told the link expired, and nothing can be paid.
    page = client.get(path)
    assert page.status_code == 410
    assert "a expiré" in page.content.decode()
    late = client.post(path)  # the same friendly page, never a 404; nothing is paid
    assert late.status_code == 410 and "a expiré" in late.content.decode()


def test_a_link_paid_through_stripe_confirms_by_the_webhook(
    api, client, settings, stripe_api, team_a, catalogue_a, deposit, monday
):
    settings.SMS_BACKEND = "locmem"
    body = (
        api(team_a.staff)
        .post(PHONE.format(slug="bella"), _request(catalogue_a), format="json")
        .json()
    )
    path = "/" + body["payment_link"]["url"].split("://", 1)[1].split("/", 1)[1]
    page = client.get(path).content.decode()
    intent = body["payment"]["payment_intent"]
    # The page carries the Payment Element's keys, from settings and the intent.
    assert '"pk_test_acompte"' in page and body["payment"]["client_secret"] in page
    assert settings.STRIPE_JS_URL in page
    stripe_api.pay(intent)
    event = {
        "id": f"evt_{intent}",
        "object": "event",
        "type": "payment_intent.succeeded",
        "data": {
            "object": {
                "id": intent,
                "object": "payment_intent",
                "amount": body["amount_due_now"],
                "currency": "eur",
            }
        },
    }
    payload = json.dumps(event).encode()
    answer = client.generic(
        "POST",
        "/api/v1/stripe/webhook/",
        payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=stripe_signature(payload, settings.STRIPE_WEBHOOK_SECRET),
    )
    assert answer.status_code == 200
    with salon_scope(team_a.salon):
        assert Booking.objects.get(pk=body["id"]).status == Status.CONFIRMED
    # The metadata names the salon, the booking and the payment.
    create = next(r for r in stripe_api.requests() if r["path"] == "/v1/payment_intents")
    assert create["form"]["metadata[booking]"] == str(body["id"])


def test_a_provider_failure_leaves_nothing_held_and_sends_no_link(
    api, settings, stripe_api, team_a, catalogue_a, deposit, monday
):
    settings.SMS_BACKEND = "locmem"
    stripe_api.fail("500", times=10)
    answer = api(team_a.staff).post(
        PHONE.format(slug="bella"), _request(catalogue_a), format="json"
    )
    assert answer.status_code == 502
    assert answer.json()["code"] == "payment_provider_error"
    with salon_scope(team_a.salon):
        assert not Booking.objects.filter(status__in=["pending_payment", "confirmed"]).exists()
        assert not Message.objects.filter(kind=MessageKind.PAYMENT_LINK).exists()


def test_paid_at_the_desk_is_confirmed_and_audited(api, team_a, catalogue_a, deposit, monday):
    answer = api(team_a.staff).post(
        PHONE.format(slug="bella"),
        _request(catalogue_a, deposit_handling="paid_at_desk"),
        format="json",
    )
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert (body["status"], body["payment"], body["payment_link"]) == ("confirmed", None, None)
    assert body["amount_due_now"] == 0
    manage = api().get(f"/api/v1/manage/{body['manage_token']}/").json()
    assert manage["deposit"] == {"amount": 1500, "paid": 1500, "status": "paid_at_desk"}
    with salon_scope(team_a.salon):
        payment = Payment.objects.get(booking_id=body["id"])
        assert (payment.provider, payment.recorded_by) == ("desk", team_a.staff)
        event = BookingEvent.objects.get(booking_id=body["id"], kind="deposit_paid_at_desk")
        assert (event.actor, event.by, event.data["amount"]) == (team_a.staff, "staff", 1500)
        assert Booking.objects.get(pk=body["id"]).source == "phone"


def test_a_waiver_needs_a_reason_and_records_who_and_why(api, team_a, catalogue_a, deposit, monday):
    url = PHONE.format(slug="bella")
    refused = api(team_a.staff).post(
        url, _request(catalogue_a, deposit_handling="waived"), format="json"
    )
    assert refused.status_code == 400
    assert refused.json()["code"] == "invalid" and "waiver_reason" in refused.json()["fields"]
    with salon_scope(team_a.salon):
        assert not Booking.objects.exists()
        assert not Customer.objects.exists()  # nothing half-written
    answer = api(team_a.manager).post(
        url,
        _request(
            catalogue_a,
            deposit_handling="waived",
            waiver_reason="Cliente fidèle, paiement impossible ce soir",
        ),
        format="json",
    )
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert body["status"] == "confirmed"
    manage = api().get(f"/api/v1/manage/{body['manage_token']}/").json()
    assert manage["deposit"] == {"amount": 1500, "paid": 0, "status": "waived"}
    with salon_scope(team_a.salon):
        event = BookingEvent.objects.get(booking_id=body["id"], kind="deposit_waived")
        assert event.actor == team_a.manager
        assert event.data["reason"] == "Cliente fidèle, paiement impossible ce soir"
        assert Payment.objects.get(booking_id=body["id"]).status == PaymentStatus.WAIVED


def test_the_client_is_found_by_phone_in_any_format(api, team_a, catalogue_a, deposit, monday):
    known = CustomerFactory(
        salon=team_a.salon, name="Marcel Roux", phone="+33643556677", email=None
    )
    request = _request(
        catalogue_a,
        deposit_handling="paid_at_desk",
        customer={"name": "M. Roux", "phone": "+33 6 43 55 66 77"},
    )
    body = api(team_a.staff).post(PHONE.format(slug="bella"), request, format="json").json()
    with salon_scope(team_a.salon):
        assert Booking.objects.get(pk=body["id"]).customer_id == known.pk
        assert Customer.objects.count() == 1
    by_id = _request(
        catalogue_a,
        deposit_handling="paid_at_desk",
        customer={"id": known.pk},
        start="2027-03-04T10:00:00+01:00",
    )
    answer = api(team_a.staff).post(PHONE.format(slug="bella"), by_id, format="json")
    assert answer.status_code == 201, answer.json()


def test_a_link_needs_somewhere_to_go(api, team_a, catalogue_a, deposit, test_mode, monday):
    no_email = _request(catalogue_a, send_via="email")
    answer = api(team_a.staff).post(PHONE.format(slug="bella"), no_email, format="json")
    assert answer.status_code == 400
    assert "send_via" in answer.json()["fields"]
    by_email = _request(
        catalogue_a,
        send_via="email",
        customer={"name": "Zoé", "phone": "0611223344", "email": "zoe@example.org"},
    )
    body = api(team_a.staff).post(PHONE.format(slug="bella"), by_email, format="json").json()
    assert (body["payment_link"]["channel"], body["payment_link"]["sent_to"]) == (
        "email",
        "zoe@example.org",
    )


def test_nothing_due_means_no_link(api, team_a, catalogue_a, test_mode, monday):
    # The default policy asks no deposit: the phone booking is confirmed at once.
    body = (
        api(team_a.staff)
        .post(PHONE.format(slug="bella"), _request(catalogue_a), format="json")
        .json()
    )
    assert (body["status"], body["payment_link"], body["payment"]) == ("confirmed", None, None)


def test_phone_bookings_stay_within_their_salon(
    api, team_a, team_b, catalogue_a, catalogue_b, deposit, test_mode, monday
):
    url = PHONE.format(slug="bella")
    assert api().post(url, _request(catalogue_a), format="json").status_code == 401
    outsider = api(team_b.owner).post(url, _request(catalogue_a), format="json")
    assert outsider.status_code == 403
    assert outsider.json()["code"] == "not_allowed"
    # B's client, service and staff ids are unknown in A.
    theirs = CustomerFactory(salon=team_b.salon, phone="+14165550100")
    for body, field in [
        (_request(catalogue_a, customer={"id": theirs.pk}), "customer"),
        (_request(catalogue_a, service=catalogue_b.cut.pk), "service"),
        (_request(catalogue_a, staff=catalogue_b.alice.pk), "staff"),
    ]:
        answer = api(team_a.staff).post(url, body, format="json")
        assert answer.status_code == 400, body
        assert field in answer.json()["fields"]
    # B's own phone booking: read in Canada, in Toronto time, and B's to see.
    b_body = _request(
        catalogue_b,
        start="2027-03-03T10:00:00-05:00",
        customer={"name": "Sam", "phone": "(416) 555-0199"},
    )
    answer = api(team_b.staff).post(PHONE.format(slug="rival"), b_body, format="json")
    assert answer.status_code == 201, answer.json()
    assert answer.json()["payment_link"]["sent_to"] == "+14165550199"
    assert answer.json()["payment_link"]["expires_at"].endswith("-05:00")
    with salon_scope(team_a.salon):
        assert not Booking.objects.exists()
    _sweep(team_a.salon)
    with salon_scope(team_b.salon):
        # A's sweep sent nothing of B's.
        assert Message.objects.get(kind=MessageKind.PAYMENT_LINK).status == MessageStatus.PENDING
    _sweep(team_b.salon)
    with salon_scope(team_b.salon):
        assert Message.objects.get(kind=MessageKind.PAYMENT_LINK).status == MessageStatus.SENT


def test_bad_input_is_a_clear_400(api, team_a, catalogue_a, deposit, monday):
    url = PHONE.format(slug="bella")
    for changes, field in [
        ({"deposit_handling": "cash"}, "deposit_handling"),
        ({"send_via": "pigeon"}, "send_via"),
        ({"start": "tomorrow"}, "start"),
        ({"customer": {"name": "X"}}, "customer"),
    ]:
        answer = api(team_a.staff).post(url, _request(catalogue_a, **changes), format="json")
        assert answer.status_code == 400, changes
        assert field in answer.json()["fields"], answer.json()


def test_a_payment_link_and_its_hold_end_at_the_appointment(
    api, client, team_a, catalogue_a, deposit, test_mode, monday
):
    # Booked at 08:00 for 13:30 the same day: the policy's 24 hours would run to tomorrow.
    start = "2027-03-01T13:30:00+01:00"
    answer = api(team_a.staff).post(
        PHONE.format(slug="bella"), _request(catalogue_a, start=start), format="json"
    )
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert body["payment_link"]["expires_at"] == start
    assert body["hold_expires_at"] == start
    manage = api().get(f"/api/v1/manage/{body['manage_token']}/").json()
    assert manage["hold_expires_at"] == start
    path = "/" + body["payment_link"]["url"].split("://", 1)[1].split("/", 1)[1]
    assert client.get(path).status_code == 200
    # Once the appointment has begun nothing can be paid, and the slot is no longer held.
    monday.shift(dt.timedelta(hours=5, minutes=31))
    assert client.get(path).status_code == 410
    assert client.post(path).status_code == 410  # as the page says: nothing can be paid
    with salon_scope(team_a.salon):
        assert holds_expire(salon=team_a.salon) == [body["id"]]


def test_an_online_hold_never_outlives_the_start(api, team_a, catalogue_a, test_mode, monday):
    policy = {"rule": {"kind": "fixed", "value": 1500}, "hold_minutes": 600}
    assert (
        api(team_a.owner).put(POLICY.format(slug="bella"), policy, format="json").status_code == 200
    )
    with salon_scope(team_a.salon):
        team_a.salon.min_notice_minutes = 0
        team_a.salon.save()
    start = "2027-03-01T10:00:00+01:00"
    answer = api().post(
        "/api/v1/salons/bella/bookings/",
        {
            "service": catalogue_a.cut.pk,
            "start": start,
            "staff": catalogue_a.alice.pk,
            "customer": {"name": "Marcel Roux", "phone": "06 43 55 66 77"},
        },
        format="json",
    )
    assert answer.status_code == 201, answer.json()
    assert answer.json()["hold_expires_at"] == start


def _taken_then_crashed(team, catalogue, *, source="phone"):
    """A booking committed with its payment, and the process gone before the provider
    was called (the state a crash between the commit and the call leaves)."""
    from django.db import transaction

    from deposits.checkout import DepositHandling, phone_booking_take
    from deposits.payments import checkout_hold

    salon = team.salon
    with salon_scope(salon), transaction.atomic():
        customer = CustomerFactory(salon=salon, name="Marcel Roux", phone="+33643556677")
        start = dt.datetime(2027, 3, 3, 10, tzinfo=salon.tz)
        if source == "phone":
            checkout = phone_booking_take(
                salon=salon,
                actor=team.staff,
                service=catalogue.cut,
                start=start,
                customer=customer,
                staff=catalogue.alice,
                deposit_handling=DepositHandling.PAYMENT_LINK,
            )
        else:
            checkout = checkout_hold(
                salon=salon,
                service=catalogue.cut,
                start=start,
                customer=customer,
                staff=catalogue.alice,
            )
    return checkout.booking, checkout.payment


def test_a_phone_booking_stranded_before_the_provider_call_gets_its_link(
    api, client, settings, stripe_api, team_a, catalogue_a, deposit, monday
):
    from deposits.payments import payments_reconcile

    settings.SMS_BACKEND = "locmem"
    from messaging import sms

    sms.outbox.clear()
    _booking, payment = _taken_then_crashed(team_a, catalogue_a)
    # A sweep while the request may still be on its way leaves it alone.
    with salon_scope(team_a.salon):
        assert payments_reconcile(salon_id=team_a.salon.pk) == 0
    monday.shift(dt.timedelta(minutes=3))
    with salon_scope(team_a.salon):
        assert payments_reconcile(salon_id=team_a.salon.pk) == 1
        assert payments_reconcile(salon_id=team_a.salon.pk) == 0
        payment.refresh_from_db()
    assert payment.intent_id and payment.status == PaymentStatus.PENDING
    create = [r for r in stripe_api.requests() if r["path"] == "/v1/payment_intents"]
    assert [r["idempotency_key"] for r in create] == [f"deposit:{payment.pk}:create"]
    _sweep(team_a.salon)
    _sweep(team_a.salon)
    assert len(sms.outbox) == 1
    assert sms.outbox[0].to == "+33643556677"
    url = re.search(r"https?://\S+/pay/\S+/", sms.outbox[0].body).group(0)
    path = "/" + url.split("://", 1)[1].split("/", 1)[1]
    page = client.get(path)
    assert page.status_code == 200
    assert payment.client_secret in page.content.decode()


def test_an_online_hold_stranded_before_the_provider_call_is_released(
    api, stripe_api, team_a, catalogue_a, deposit, monday
):
    from deposits.payments import payments_reconcile

    booking, payment = _taken_then_crashed(team_a, catalogue_a, source="web")
    monday.shift(dt.timedelta(minutes=3))
    with salon_scope(team_a.salon):
        assert payments_reconcile(salon_id=team_a.salon.pk) >= 1
        booking.refresh_from_db()
        payment.refresh_from_db()
    assert booking.status == Status.EXPIRED
    assert payment.status == PaymentStatus.FAILED
    # Whatever the provider made under the payment's key is cancelled.
    sent = stripe_api.requests()
    assert any(r["path"] == f"/v1/payment_intents/{payment.intent_id}/cancel" for r in sent)
