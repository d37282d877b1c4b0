"""Every door that books goes through `checkout_place`, the one place of the "book and pay"
protocol (resolve, hold, commit, charge, release on provider failure): the booking API,
the booking page, rebooking with credit on the manage page and by the API, and a booking
taken by phone, by the API and at the desk.

`checkout_place` is wrapped, wherever a module holds it, by a spy that records the
request and hands it on, so each booking is made for real; and the protocol's steps
(hold, desk payment, charge, rebooking, phone take) are watched wherever a module
holds them: one run outside `checkout_place` is a door assembling the protocol itself."""

import datetime as dt
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.urls import get_resolver, resolve
from django.utils import translation

from bookings.models import Booking, Source, Status
from core.errors import Invalid, ProviderUnavailable, SlotTaken
from deposits import checkout, payments
from deposits.checkout import CheckoutRequest, DepositHandling, Rebooking
from deposits.models import Payment, PaymentOutcome, PaymentStatus
from deposits.services import policy_set
from tenants.scoping import salon_scope
from tests.conftest import local
from tests.factories import CustomerFactory
from web.problems import desk_problem, form_errors, page_problem

pytestmark = pytest.mark.django_db

BOOK = "/api/v1/salons/bella/bookings/"
PHONE = "/api/v1/salons/bella/backoffice/phone-bookings/"
PROJECT = ("core", "tenants", "customers", "bookings", "deposits", "messaging", "support", "web")
STEPS = (
    (payments, "checkout_hold"),
    (payments, "checkout_at_desk"),
    (payments, "checkout_charge"),
    (payments, "booking_rebook_with_credit"),
    (checkout, "phone_booking_take"),
)


@dataclass
class Placed:
    requests: list[Any] = field(default_factory=list)  # what checkout_place was given
    outside: list[str] = field(default_factory=list)  # steps run without it
    depth: int = 0


def _everywhere(monkeypatch, original: Callable, replacement: Callable) -> int:
    """`original` replaced by `replacement` in every project module that holds it."""
    replaced = 0
    for name, module in list(sys.modules.items()):
        if name.partition(".")[0] not in PROJECT or module is None:
            continue
        for attr, value in list(vars(module).items()):
            if value is original:
                monkeypatch.setattr(module, attr, replacement)
                replaced += 1
    return replaced


@pytest.fixture
def placed(monkeypatch, settings) -> Placed:
    settings.PAYMENTS_TEST_MODE = True
    settings.SMS_BACKEND = "locmem"
    assert get_resolver().url_patterns  # every door imported, holding what it holds
    record = Placed()
    real = checkout.checkout_place

    @wraps(real)
    def spy(request):
        record.requests.append(request)
        record.depth += 1
        try:
            return real(request)
        finally:
            record.depth -= 1

    # its module, the client's doors, and the phone booking's (support.phone)
    assert _everywhere(monkeypatch, real, spy) >= 5

    def watched(name: str, step: Callable) -> Callable:
        @wraps(step)
        def watch(*args: Any, **kwargs: Any) -> Any:
            if record.depth == 0:
                record.outside.append(name)
            return step(*args, **kwargs)

        return watch

    for module, name in STEPS:
        step = getattr(module, name)
        _everywhere(monkeypatch, step, watched(name, step))
    return record


@pytest.fixture
def deposit(team_a):
    with salon_scope(team_a.salon):
        policy_set(
            salon=team_a.salon,
            rule={"kind": "fixed", "value": 1500},
            ramp=[],
            cancellation_window_hours=48,
            late_cancellation="credit",
            credit_valid_days=90,
            payment_link_hours=24,
        )


def _booking(salon, pk: int) -> Booking:
    with salon_scope(salon):
        return Booking.objects.select_related("customer").get(pk=pk)


def _only(placed: Placed, kind: type) -> Any:
    """The one request the door gave `checkout_place`, and nothing run outside it."""
    assert [type(r) for r in placed.requests] == [kind]
    assert placed.outside == []
    return placed.requests[0]


def _cancelled_with_credit(api, catalogue, placed: Placed) -> dict:
    """Booked online for 10 March, its deposit paid (test mode), then cancelled in time
    with the money kept as credit."""
    booking = (
        api()
        .post(
            BOOK,
            {
                "service": catalogue.cut.pk,
                "start": "2027-03-10T10:00:00+01:00",
                "staff": catalogue.alice.pk,
                "customer": {"name": "Léa", "phone": "06 12 34 56 78"},
            },
            format="json",
        )
        .json()
    )
    payment = booking["payment"]
    paid = api().post(
        f"/api/v1/test-mode/payments/{payment['payment_intent']}/pay/",
        {"client_secret": payment["client_secret"]},
        format="json",
    )
    assert paid.status_code == 200, paid.json()
    cancel = f"/api/v1/manage/{booking['manage_token']}/cancel/"
    cancelled = api().post(cancel, {"resolution": "credit"}, format="json")
    assert cancelled.json()["status"] == "cancelled", cancelled.json()
    with salon_scope(catalogue.salon):
        assert Payment.objects.get(booking_id=booking["id"]).outcome == PaymentOutcome.CREDITED
    placed.requests.clear()
    return booking


def test_the_booking_api(api, team_a, catalogue_a, deposit, monday, placed):
    answer = api().post(
        BOOK,
        {
            "service": catalogue_a.cut.pk,
            "start": "2027-03-03T10:00:00+01:00",
            "staff": catalogue_a.alice.pk,
            "customer": {"name": "Léa", "phone": "06 12 34 56 78"},
        },
        format="json",
    )
    assert answer.status_code == 201, answer.json()
    request = _only(placed, CheckoutRequest)
    assert (request.source, request.service_id, request.customer.name) == (
        Source.API,
        catalogue_a.cut.pk,
        "Léa",
    )
    booking = _booking(team_a.salon, answer.json()["id"])
    assert booking.status == Status.PENDING_PAYMENT
    assert answer.json()["payment"]["payment_intent"].startswith("pi_testmode_")


def test_the_booking_page(client, team_a, catalogue_a, deposit, monday, placed):
    form = {
        "service": catalogue_a.cut.pk,
        "staff": catalogue_a.alice.pk,
        "start": local(team_a.salon, 2, 10).isoformat(),
        "name": "Léa Martin",
        "phone": "06 12 34 56 78",
        "email": "",
        "notes": "",
        "payment_option": "deposit",
        "action": "book",
    }
    answer = client.post("/bella/book/", form)
    assert answer.status_code == 302 and answer["Location"].endswith("/pay/")
    request = _only(placed, CheckoutRequest)
    assert (request.source, request.customer.name) == (Source.WEB, "Léa Martin")
    with salon_scope(team_a.salon):
        booking = Booking.objects.get()
    assert booking.status == Status.PENDING_PAYMENT
    # The pay page it goes on to is the one a phone booking's link opens.
    pay = client.get(answer["Location"], HTTP_ACCEPT_LANGUAGE="en")
    assert pay.status_code == 200 and "Pay €15.00 (test mode)" in pay.content.decode()


def test_rebooking_with_credit_on_the_manage_page(
    api, client, team_a, catalogue_a, deposit, monday, placed
):
    booking = _cancelled_with_credit(api, catalogue_a, placed)
    page = f"/manage/{booking['manage_token']}/"
    answer = client.post(f"{page}reschedule/", {"start": "2027-03-12T11:00:00+01:00"})
    assert answer.status_code == 302 and answer["Location"] == page
    request = _only(placed, Rebooking)
    assert (request.booking.pk, request.proven) == (booking["id"], False)
    rebooked = _booking(team_a.salon, booking["id"])
    assert rebooked.status == Status.CONFIRMED
    assert rebooked.start == dt.datetime(2027, 3, 12, 10, tzinfo=dt.UTC)


def test_rescheduling_with_credit_by_the_api(api, team_a, catalogue_a, deposit, monday, placed):
    booking = _cancelled_with_credit(api, catalogue_a, placed)
    answer = api().post(
        f"/api/v1/manage/{booking['manage_token']}/reschedule/",
        {"start": "2027-03-12T11:00:00+01:00"},
        format="json",
    )
    assert answer.status_code == 200, answer.json()
    assert (answer.json()["status"], answer.json()["amount_due_now"]) == ("confirmed", 0)
    request = _only(placed, Rebooking)
    assert request.booking.pk == booking["id"]
    assert _booking(team_a.salon, booking["id"]).status == Status.CONFIRMED


def test_a_phone_booking_by_the_api(api, team_a, catalogue_a, deposit, monday, placed):
    answer = api(team_a.staff).post(
        PHONE,
        {
            "service": catalogue_a.cut.pk,
            "start": "2027-03-03T10:00:00+01:00",
            "staff": catalogue_a.alice.pk,
            "customer": {"name": "Marcel Roux", "phone": "06 43 55 66 77"},
            "deposit_handling": "payment_link",
        },
        format="json",
    )
    assert answer.status_code == 201, answer.json()
    request = _only(placed, CheckoutRequest)
    assert (request.source, request.deposit_handling, request.actor) == (
        Source.PHONE,
        DepositHandling.PAYMENT_LINK,
        team_a.staff,
    )
    assert answer.json()["payment_link"]["url"]
    booking = _booking(team_a.salon, answer.json()["id"])
    assert (booking.status, booking.source) == (Status.PENDING_PAYMENT, Source.PHONE)


def test_a_phone_booking_at_the_desk(client, team_a, catalogue_a, deposit, monday, placed):
    with salon_scope(team_a.salon):
        jeanne = CustomerFactory(salon=team_a.salon, name="Jeanne Martin", phone="+33612345678")
    start = local(team_a.salon, 1, 10)
    client.force_login(team_a.staff)
    answer = client.post(
        "/desk/bella/book/",
        {
            "step": "book",
            "customer": str(jeanne.pk),
            "service": str(catalogue_a.cut.pk),
            "staff": str(catalogue_a.alice.pk),
            "day": start.date().isoformat(),
            "start": start.astimezone(dt.UTC).isoformat(),
            "deposit_handling": "paid_at_desk",
            "waiver_reason": "",
            "send_via": "",
            "notes": "",
        },
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    request = _only(placed, CheckoutRequest)
    assert (request.customer_id, request.deposit_handling) == (
        jeanne.pk,
        DepositHandling.PAID_AT_DESK,
    )
    with salon_scope(team_a.salon):
        booking = Booking.objects.get()
        payment = Payment.objects.get(booking=booking)
    assert (booking.status, booking.customer_id) == (Status.CONFIRMED, jeanne.pk)
    assert (payment.provider, payment.status) == ("desk", PaymentStatus.SUCCEEDED)


def test_the_watch_sees_a_step_taken_outside_checkout_place(team_a, catalogue_a, monday, placed):
    """What a door assembling the protocol itself would do is seen."""
    with salon_scope(team_a.salon):
        customer = CustomerFactory(salon=team_a.salon)
        payments.checkout_hold(
            salon=team_a.salon,
            service=catalogue_a.cut,
            start=local(team_a.salon, 1, 10),
            customer=customer,
        )
    assert placed.outside == ["checkout_hold"]
    assert placed.requests == []


# What checkout_place refuses, as each door says it ----------------------------------------


def test_a_refusal_keeps_the_shape_of_the_request_in_the_api(
    api, team_a, team_b, catalogue_a, deposit, monday, placed
):
    online = api().post(
        BOOK,
        {
            "service": catalogue_a.cut.pk,
            "start": "2027-03-03T10:00:00+01:00",
            "customer": {"name": "Léa", "phone": "12"},
        },
        format="json",
    )
    assert online.status_code == 400, online.json()
    assert online.json()["code"] == "invalid"
    assert list(online.json()["fields"]) == ["customer"]
    assert list(online.json()["fields"]["customer"]) == ["phone"]
    assert online.json()["detail"].startswith("customer.phone: ")
    with salon_scope(team_b.salon):
        theirs = CustomerFactory(salon=team_b.salon)
    staff = api(team_a.staff).post(
        PHONE,
        {
            "service": catalogue_a.cut.pk,
            "start": "2027-03-03T10:00:00+01:00",
            "customer": {"id": theirs.pk},
            "deposit_handling": "paid_at_desk",
        },
        format="json",
    )
    assert staff.status_code == 400
    assert staff.json()["fields"] == {"customer": {"id": ["No such client."]}}
    assert len(placed.requests) == 2 and placed.outside == []
    with salon_scope(team_a.salon):
        assert not Booking.objects.exists()


def test_the_pages_put_a_refusal_on_the_deepest_field_they_have():
    class Form(forms.Form):
        phone = forms.CharField(required=False)
        start = forms.CharField(required=False)

    form = Form({})
    assert form.is_valid()
    form_errors(
        form,
        Invalid(
            {
                "customer": {"phone": ["Not a phone number."]},
                "staff": ["Nobody."],
                "non_field_errors": ["Not now."],
            }
        ),
    )
    assert form.errors == {"phone": ["Not a phone number."], "__all__": ["Nobody.", "Not now."]}
    form = Form({})
    assert form.is_valid()
    assert page_problem(form, SlotTaken()) == ("slot_taken", 409)
    assert page_problem(form, ProviderUnavailable()) == ("payment_unavailable", 502)
    assert page_problem(form, ValidationError("Too late.")) == ("", 400)
    assert form.errors == {"__all__": ["Too late."]}
    form = Form({})
    assert form.is_valid()
    with translation.override("en"):
        desk_problem(form, SlotTaken(), slot="start")
        desk_problem(form, ProviderUnavailable(), slot="start")
    assert form.errors["start"] == [
        "This time was just taken, or is no longer free: choose another."
    ]
    assert form.errors["__all__"][0].startswith("The payment provider could not be reached.")


# One pay page ------------------------------------------------------------------------------


def test_one_pay_page_serves_the_online_checkout_and_a_phone_link(
    api, client, team_a, catalogue_a, deposit, monday, placed
):
    assert resolve("/pay/token/").func is resolve("/bella/booking/token/pay/").func
    online = api().post(
        BOOK,
        {
            "service": catalogue_a.cut.pk,
            "start": "2027-03-03T10:00:00+01:00",
            "customer": {"name": "Léa", "phone": "06 12 34 56 78"},
        },
        format="json",
    )
    by_phone = api(team_a.staff).post(
        PHONE,
        {
            "service": catalogue_a.cut.pk,
            "start": "2027-03-03T11:00:00+01:00",
            "customer": {"name": "Marcel Roux", "phone": "06 43 55 66 77", "email": None},
            "language": "en",
            "deposit_handling": "payment_link",
        },
        format="json",
    )
    assert by_phone.status_code == 201, by_phone.json()
    checkout_page = client.get(
        f"/bella/booking/{online.json()['manage_token']}/pay/", HTTP_ACCEPT_LANGUAGE="en"
    )
    link = by_phone.json()["payment_link"]["url"]
    link_page = client.get("/" + link.split("://", 1)[1].split("/", 1)[1])
    for answer in (checkout_page, link_page):
        assert answer.status_code == 200
        assert answer.templates[0].name == "public/pay.html"
        assert "Pay €15.00 (test mode)" in answer.content.decode()
    # Paid (test mode), the checkout goes on to its confirmation; the link says so itself.
    done = client.post(checkout_page.wsgi_request.path)
    assert done["Location"] == f"/bella/booking/{online.json()['manage_token']}/"
    paid = client.post(link_page.wsgi_request.path)
    assert paid["Location"] == link_page.wsgi_request.path
    confirmed = client.get(paid["Location"]).content.decode()
    assert "Paid, thank you: your appointment is confirmed." in confirmed
