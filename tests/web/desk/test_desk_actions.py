"""What staff do with a booking at the desk, each through its service and in the audit
trail with who (and why): the client arrived, was served, did not come; and, for a booking
awaiting its payment link, paid at the desk, the link sent again or the other way, or the
deposit waived. Each is a form on the booking's page: a refusal is said on it, never a
500. The payment link is never "sent" by SMS to a landline. Two salons: one's staff never
act on the other's bookings."""

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client

from bookings.models import Booking, BookingEvent, Status
from bookings.services import TransitionRefused, booking_arrive, booking_mark_no_show
from core.errors import Invalid
from deposits.desk import deposit_paid_at_desk, deposit_waive
from deposits.models import DESK, Payment, PaymentStatus, Refund
from deposits.paylinks import pay_token_read, pay_url
from deposits.payments import deposit_state, payment_succeeded_fetched
from deposits.services import policy_set
from messaging.models import Message, MessageKind
from messaging.paylinks import RESEND_EVERY, payment_link_resend
from tenants.scoping import salon_scope
from tests.browser.harness import axe_violations
from tests.conftest import MONDAY, book, local
from tests.factories import PASSWORD, CustomerFactory

DESK_URL = "/desk/bella/"


@pytest.fixture
def link_world(settings, team_a, catalogue_a, monday):
    settings.SMS_BACKEND = "console"
    settings.PAYMENTS_TEST_MODE = True
    with salon_scope(team_a.salon):
        policy_set(
            salon=team_a.salon,
            rule={"kind": "fixed", "value": 1500},
            ramp=[],
            payment_link_hours=24,
        )
    return catalogue_a


def _client(salon, name="Jeanne Martin", phone="+33612345678", email=None):
    with salon_scope(salon):
        return CustomerFactory(salon=salon, name=name, phone=phone, email=email)


def _form(catalogue, customer, start: dt.datetime, **changes) -> dict:
    return {
        "step": "book",
        "customer": str(customer.pk),
        "service": str(catalogue.cut.pk),
        "staff": str(catalogue.alice.pk),
        "day": start.date().isoformat(),
        "start": start.astimezone(dt.UTC).isoformat(),
        "deposit_handling": "payment_link",
        "waiver_reason": "",
        "send_via": "",
        "notes": "",
        **changes,
    }


def _awaiting(client, team, catalogue, customer=None, hour=10) -> Booking:
    """A phone booking whose deposit is to be paid through a link sent by SMS."""
    customer = customer or _client(team.salon, email="jeanne@example.org")
    client.force_login(team.staff)
    form = _form(catalogue, customer, local(team.salon, 1, hour))
    answer = client.post(DESK_URL + "book/", form, HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 302, answer.content.decode()[:2000]
    with salon_scope(team.salon):
        booking = Booking.objects.get(customer=customer)
    assert booking.status == Status.PENDING_PAYMENT
    return booking


def _events(booking, kind):
    with salon_scope(booking.salon_id):
        return list(BookingEvent.objects.filter(booking=booking, kind=kind))


def _text(answer) -> str:
    return re.sub(r"\s+", " ", answer.content.decode())


# The client arrived, was served, did not come. ------------------------------------------


@pytest.mark.django_db
def test_a_client_checked_in_is_stamped_audited_and_never_a_no_show(team_a, catalogue_a, monday):
    booking = book(catalogue_a, _client(team_a.salon), local(team_a.salon, 0, 10))
    with salon_scope(team_a.salon):
        arrived = booking_arrive(booking=booking, actor=team_a.staff)
        assert arrived.arrived_at == MONDAY and arrived.status == Status.CONFIRMED
        again = booking_arrive(booking=booking, actor=team_a.staff)
        assert again.arrived_at == MONDAY
        monday.move_to(MONDAY + dt.timedelta(hours=4))
        with pytest.raises(TransitionRefused):
            booking_mark_no_show(booking=booking, actor=team_a.staff)
    [event] = _events(booking, "arrived")
    assert event.actor == team_a.staff and event.by == "staff"
    booking.refresh_from_db()
    assert booking.status == Status.CONFIRMED


@pytest.mark.django_db
def test_a_client_is_checked_in_on_the_day_only(team_a, catalogue_a, monday):
    tomorrow = book(catalogue_a, _client(team_a.salon), local(team_a.salon, 1, 10))
    with salon_scope(team_a.salon), pytest.raises(TransitionRefused):
        booking_arrive(booking=tomorrow, actor=team_a.staff)
    tomorrow.refresh_from_db()
    assert tomorrow.arrived_at is None


@pytest.mark.django_db
def test_the_desk_checks_a_client_in_then_completes_the_booking(
    client, team_a, catalogue_a, monday
):
    booking = book(catalogue_a, _client(team_a.salon), local(team_a.salon, 0, 10))
    client.force_login(team_a.staff)
    page = client.get(f"{DESK_URL}bookings/{booking.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert 'id="arrived"' in page.content.decode()
    answer = client.post(f"{DESK_URL}bookings/{booking.pk}/arrived/")
    assert answer.status_code == 302
    page = client.get(f"{DESK_URL}bookings/{booking.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    text = _text(page)
    assert 'id="booking-arrived">Checked in at 08:00' in text  # 07:00 UTC, in Paris
    assert 'id="arrived"' not in text and "no-show" not in text.lower().split("actions")[-1]
    assert client.post(f"{DESK_URL}bookings/{booking.pk}/complete/").status_code == 302
    booking.refresh_from_db()
    assert booking.status == Status.COMPLETED and booking.arrived_at is not None


@pytest.mark.django_db
def test_checking_in_too_early_is_a_message_not_an_error(client, team_a, catalogue_a, monday):
    booking = book(catalogue_a, _client(team_a.salon), local(team_a.salon, 2, 10))
    client.force_login(team_a.staff)
    answer = client.post(
        f"{DESK_URL}bookings/{booking.pk}/arrived/", follow=True, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert answer.status_code == 200
    assert "checked in on the day of the appointment" in answer.content.decode()
    booking.refresh_from_db()
    assert booking.arrived_at is None


# Paid at the desk, the link sent again, the deposit waived. -----------------------------


@pytest.mark.django_db
def test_a_booking_awaiting_its_link_is_paid_at_the_desk_without_the_provider(
    client, settings, team_a, link_world
):
    booking = _awaiting(client, team_a, link_world)
    page = client.get(f"{DESK_URL}bookings/{booking.pk}/", HTTP_ACCEPT_LANGUAGE="fr")
    assert 'name="amount"' in page.content.decode() and 'value="15,00"' in page.content.decode()
    answer = client.post(
        f"{DESK_URL}bookings/{booking.pk}/paid-at-desk/",
        {"amount": "15,00", "method": "card_terminal", "note": "TPE n° 2"},
    )
    assert answer.status_code == 302
    booking.refresh_from_db()
    assert booking.status == Status.CONFIRMED
    with salon_scope(team_a.salon):
        link, desk = Payment.objects.filter(booking=booking).order_by("pk")
        state = deposit_state(booking)
    assert (desk.provider, desk.status, desk.amount) == (DESK, PaymentStatus.SUCCEEDED, 1500)
    assert desk.method == "card_terminal" and desk.recorded_by == team_a.staff
    assert link.status == PaymentStatus.CANCELED and link.replaced_by_id == desk.pk
    assert state == {"amount": 1500, "paid": 1500, "status": "paid_at_desk"}
    [event] = _events(booking, "deposit_paid_at_desk")
    assert event.actor == team_a.staff and event.data["method"] == "card_terminal"
    assert event.data["note"] == "TPE n° 2" and event.data["amount"] == 1500
    page = client.get(f"{DESK_URL}bookings/{booking.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert 'id="payment-link"' not in page.content.decode()
    assert "Paid at the desk" in page.content.decode()
    # The link the client has says there is nothing left to pay.
    with salon_scope(team_a.salon):
        old_link = pay_url(link).removeprefix(settings.SITE_URL)
    shown = client.get(old_link)
    assert shown.status_code == 200 and 'id="settled"' in shown.content.decode()
    assert "Amount to pay now" not in shown.content.decode()


@pytest.mark.django_db
def test_a_link_paid_all_the_same_after_the_desk_took_the_money_is_refunded(
    client, team_a, link_world
):
    booking = _awaiting(client, team_a, link_world)
    with salon_scope(team_a.salon):
        link = Payment.objects.get(booking=booking)
        deposit_paid_at_desk(booking=booking, amount=1500, method="cash", actor=team_a.staff)
    # The provider says the client paid the link meanwhile (its cancel came too late).
    payment_succeeded_fetched(link)
    booking.refresh_from_db()
    assert booking.status == Status.CONFIRMED
    with salon_scope(team_a.salon):
        link.refresh_from_db()
        assert link.status == PaymentStatus.SUCCEEDED and link.outcome == "refunded"
        assert Refund.objects.get(payment=link).amount == 1500
        assert deposit_state(booking) == {"amount": 1500, "paid": 1500, "status": "paid_at_desk"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("amount", "method", "said"),
    [
        ("", "cash", "Give the amount paid."),
        ("quinze", "cash", "Give the amount paid, e.g. 15,00."),
        ("15,001", "cash", "Give the amount paid, e.g. 15,00."),
        ("-3", "cash", "Give the amount paid, e.g. 15,00."),
        ("600", "cash", "The amount paid is more than the price of the booking."),
        ("15", "", "Choose how the client paid."),
        ("15", "cheque-en-bois", "Choose how the client paid."),
    ],
)
def test_a_desk_payment_the_form_cannot_take_is_a_form_error(
    client, team_a, link_world, amount, method, said
):
    booking = _awaiting(client, team_a, link_world)
    answer = client.post(
        f"{DESK_URL}bookings/{booking.pk}/paid-at-desk/",
        {"amount": amount, "method": method},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert answer.status_code == 400
    assert said.replace("'", "&#x27;") in answer.content.decode()
    booking.refresh_from_db()
    assert booking.status == Status.PENDING_PAYMENT


@pytest.mark.django_db
def test_a_booking_no_longer_awaiting_is_not_paid_twice(client, team_a, link_world):
    booking = _awaiting(client, team_a, link_world)
    with salon_scope(team_a.salon):
        deposit_paid_at_desk(booking=booking, amount=1500, method="cash", actor=team_a.staff)
        with pytest.raises(Invalid):
            deposit_paid_at_desk(booking=booking, amount=1500, method="cash", actor=team_a.staff)
    answer = client.post(
        f"{DESK_URL}bookings/{booking.pk}/waive/",
        {"reason": "Erreur"},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )
    assert answer.status_code == 200
    assert "no longer awaiting a payment" in answer.content.decode()
    with salon_scope(team_a.salon):
        assert Payment.objects.filter(booking=booking, provider=DESK).count() == 1


@pytest.mark.django_db
def test_the_deposit_is_waived_with_a_reason_only(client, team_a, link_world):
    booking = _awaiting(client, team_a, link_world)
    url = f"{DESK_URL}bookings/{booking.pk}/waive/"
    answer = client.post(url, {"reason": "  "}, HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 400 and "Say why the deposit is waived." in answer.content.decode()
    assert 'aria-invalid="true" aria-describedby="waive_reason-error"' in answer.content.decode()
    with salon_scope(team_a.salon), pytest.raises(Invalid):
        deposit_waive(booking=booking, reason="", actor=team_a.staff)
    booking.refresh_from_db()
    assert booking.status == Status.PENDING_PAYMENT
    assert client.post(url, {"reason": "Cliente fidèle, oubli du lien"}).status_code == 302
    booking.refresh_from_db()
    assert booking.status == Status.CONFIRMED
    with salon_scope(team_a.salon):
        waived = Payment.objects.get(booking=booking, provider=DESK)
        state = deposit_state(booking)
    assert waived.status == PaymentStatus.WAIVED and waived.note == "Cliente fidèle, oubli du lien"
    assert state["status"] == "waived" and state["amount"] == 1500
    [event] = _events(booking, "deposit_waived")
    assert event.actor == team_a.staff and event.data["reason"] == "Cliente fidèle, oubli du lien"


@pytest.mark.django_db
def test_the_same_link_is_sent_again_then_by_e_mail_and_not_too_often(
    client, team_a, link_world, monday
):
    booking = _awaiting(client, team_a, link_world)
    with salon_scope(team_a.salon):
        [first] = Message.objects.filter(booking=booking, kind=MessageKind.PAYMENT_LINK)
    assert first.channel == "sms"
    url = f"{DESK_URL}bookings/{booking.pk}/resend/"
    # Just sent: not again at once.
    answer = client.post(url, {"send_via": "sms"}, HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 400 and "less than two minutes ago" in answer.content.decode()
    monday.move_to(MONDAY + RESEND_EVERY + dt.timedelta(seconds=1))
    assert client.post(url, {"send_via": "sms"}).status_code == 302
    monday.move_to(MONDAY + 2 * RESEND_EVERY + dt.timedelta(seconds=2))
    assert client.post(url, {"send_via": "email"}).status_code == 302
    with salon_scope(team_a.salon):
        sent = list(
            Message.objects.filter(booking=booking, kind=MessageKind.PAYMENT_LINK).order_by("pk")
        )
    assert [(m.channel, m.recipient) for m in sent] == [
        ("sms", "+33612345678"),
        ("sms", "+33612345678"),
        ("email", "jeanne@example.org"),
    ]
    # The same link: each names the same payment, under the same revocation nonce.
    token_in = re.compile(r"http\S+/pay/([^/\s]+)/")
    assert len({pay_token_read(token_in.search(m.body).group(1)) for m in sent}) == 1
    events = _events(booking, "payment_link_resent")
    assert [e.data["channel"] for e in events] == ["sms", "email"]
    assert all(e.actor == team_a.staff for e in events)
    page = client.get(f"{DESK_URL}bookings/{booking.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Last sent by e-mail to jeanne@example.org." in page.content.decode()


@pytest.mark.django_db
def test_a_link_is_sent_again_a_few_times_only(team_a, link_world, client, monday):
    booking = _awaiting(client, team_a, link_world)
    with salon_scope(team_a.salon):
        for n in range(1, 6):
            monday.move_to(MONDAY + n * (RESEND_EVERY + dt.timedelta(seconds=1)))
            payment_link_resend(booking=booking, via=None, actor=team_a.staff)
        monday.move_to(MONDAY + dt.timedelta(hours=1))
        with pytest.raises(Invalid, match="6 times already"):
            payment_link_resend(booking=booking, via=None, actor=team_a.staff)


# A link is never "sent" where it cannot arrive. -----------------------------------------


@pytest.mark.django_db
def test_a_payment_link_is_not_sent_by_sms_to_a_landline(client, team_a, link_world):
    """It was "sent" by SMS to a French landline (01 …), with no warning."""
    fixed = _client(team_a.salon, "Marcel Roux", "+33143556677")
    client.force_login(team_a.staff)
    for via in ("sms", ""):
        form = _form(link_world, fixed, local(team_a.salon, 1, 10), send_via=via)
        answer = client.post(DESK_URL + "book/", form, HTTP_ACCEPT_LANGUAGE="en")
        assert answer.status_code == 400
        text = _text(answer)
        assert "01 43 55 66 77 is a landline: it cannot receive an SMS." in text
        assert "or take the deposit at the desk" in text
    with salon_scope(team_a.salon):
        assert not Booking.objects.exists() and not Message.objects.exists()


@pytest.mark.django_db
def test_a_landline_clients_link_goes_by_e_mail_when_they_have_one(client, team_a, link_world):
    fixed = _client(team_a.salon, "Marcel Roux", "+33143556677", email="marcel@example.org")
    client.force_login(team_a.staff)
    form = _form(link_world, fixed, local(team_a.salon, 1, 10), send_via="sms")
    answer = client.post(DESK_URL + "book/", form, HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 400
    assert "is a landline: it cannot receive an SMS. Send the link by e-mail" in _text(answer)
    # The client's preferred way (SMS) steered to the e-mail address.
    answer = client.post(DESK_URL + "book/", {**form, "send_via": ""})
    assert answer.status_code == 302
    with salon_scope(team_a.salon):
        [message] = Message.objects.filter(kind=MessageKind.PAYMENT_LINK)
    assert (message.channel, message.recipient) == ("email", "marcel@example.org")


@pytest.mark.django_db
def test_a_link_is_not_sent_again_by_sms_to_a_landline(client, team_a, link_world, monday):
    marcel = _client(team_a.salon, "Marcel Roux", "+33143556677", email="marcel@example.org")
    booking = _awaiting(client, team_a, link_world, marcel)
    monday.move_to(MONDAY + dt.timedelta(minutes=10))
    answer = client.post(
        f"{DESK_URL}bookings/{booking.pk}/resend/", {"send_via": "sms"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert answer.status_code == 400 and "is a landline" in answer.content.decode()
    with salon_scope(team_a.salon):
        assert Message.objects.filter(booking=booking, channel="sms").count() == 0


@pytest.mark.django_db
def test_a_number_that_may_be_a_mobile_is_texted(settings, team_b, catalogue_b, monday):
    """North American numbers are FIXED_LINE_OR_MOBILE: the link goes by SMS."""
    from customers.selectors import link_channel, phone_is_landline

    toronto = _client(team_b.salon, "Ann Lee", "+14165550123")
    assert not phone_is_landline(toronto.phone)
    assert link_channel(toronto, "sms") == "sms" and link_channel(toronto, None) == "sms"


@pytest.mark.django_db
def test_choosing_e_mail_for_a_client_without_one_says_so(client, team_a, link_world):
    """It said "no phone number or e-mail" of a client with a phone."""
    jeanne = _client(team_a.salon)
    client.force_login(team_a.staff)
    form = _form(link_world, jeanne, local(team_a.salon, 1, 10), send_via="email")
    answer = client.post(DESK_URL + "book/", form, HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 400
    text = _text(answer)
    assert "This client has no e-mail address: send the link by SMS" in text
    assert "no phone number or e-mail" not in text
    fr = client.post(DESK_URL + "book/", form, HTTP_ACCEPT_LANGUAGE="fr")
    assert "Ce client n\u2019a pas d\u2019adresse e-mail" in fr.content.decode()


# Every action: CSRF, and another salon's booking is not found. --------------------------


@pytest.mark.django_db
def test_the_actions_need_the_forms_csrf_token(team_a, link_world):
    booking = _awaiting(Client(), team_a, link_world)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(team_a.staff)
    for action, body in (
        ("arrived", {}),
        ("paid-at-desk", {"amount": "15", "method": "cash"}),
        ("resend", {"send_via": "sms"}),
        ("waive", {"reason": "x"}),
    ):
        assert strict.post(f"{DESK_URL}bookings/{booking.pk}/{action}/", body).status_code == 403
    booking.refresh_from_db()
    assert booking.status == Status.PENDING_PAYMENT


@pytest.mark.django_db
def test_another_salons_booking_is_not_found_by_any_action(
    client, team_a, team_b, link_world, catalogue_b
):
    theirs = book(
        catalogue_b,
        _client(team_b.salon, "Ann Lee", "+14165550123"),
        local(team_b.salon, 0, 10),
    )
    client.force_login(team_a.staff)
    for action, body in (
        ("arrived", {}),
        ("paid-at-desk", {"amount": "15", "method": "cash"}),
        ("resend", {"send_via": "sms"}),
        ("waive", {"reason": "x"}),
    ):
        answer = client.post(f"{DESK_URL}bookings/{theirs.pk}/{action}/", body)
        assert answer.status_code == 404, action
    theirs.refresh_from_db()
    assert theirs.arrived_at is None
    with salon_scope(team_b.salon):
        assert not BookingEvent.objects.filter(booking=theirs, by="staff").exists()


# In a browser, French and English. ------------------------------------------------------


def _desk_log_in(page, username: str) -> None:
    page.goto("/desk/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/desk/bella/$"))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("locale", ["fr-FR", "en-GB"])
def test_the_payment_actions_of_a_booking_awaiting_its_link_in_a_browser(
    chromium, pages_server, settings, team_a, catalogue_a, locale
):
    from playwright.sync_api import expect

    settings.SMS_BACKEND = "console"
    settings.PAYMENTS_TEST_MODE = True
    french = locale.startswith("fr")
    with time_machine.travel(MONDAY, tick=True):
        with salon_scope(team_a.salon):
            policy_set(
                salon=team_a.salon,
                rule={"kind": "fixed", "value": 1500},
                ramp=[],
                payment_link_hours=24,
            )
        first = _awaiting(Client(), team_a, catalogue_a)
        second = _awaiting(
            Client(),
            team_a,
            catalogue_a,
            _client(team_a.salon, "Luc Bernard", "+33699887766", email="luc@example.org"),
            hour=11,
        )
    context = chromium.new_context(locale=locale, base_url=pages_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        with time_machine.travel(MONDAY + dt.timedelta(minutes=5), tick=True):
            _desk_log_in(page, "bella-staff")
            page.goto(f"/desk/bella/bookings/{first.pk}/")
            assert axe_violations(page) == []
            # The link, by e-mail instead of the SMS it went by.
            page.click("#resend-other")
            expect(page.locator(".desk-messages")).to_contain_text("jeanne@example.org")
            # Paid at the desk, by card terminal.
            expect(page.locator("#id_amount")).to_have_value("15,00" if french else "15.00")
            page.check("#method-card_terminal")
            page.click("#paid-at-desk")
            expect(page.locator("#booking-status")).to_have_text(
                "Confirmé" if french else "Confirmed"
            )
            expect(page.locator("#booking-deposit")).to_contain_text(
                "Payé à l\u2019accueil" if french else "Paid at the desk"
            )
            assert axe_violations(page) == []

            page.goto(f"/desk/bella/bookings/{second.pk}/")
            # Waived: the reason is asked first.
            page.click("#waive")
            expect(page.locator("#waive_reason-error")).to_be_visible()
            assert axe_violations(page) == []
            page.fill("#id_waive_reason", "Client fidèle")
            page.click("#waive")
            expect(page.locator("#booking-deposit")).to_contain_text(
                "Acompte offert" if french else "Deposit waived"
            )
            assert axe_violations(page) == []
    finally:
        context.close()
    with salon_scope(team_a.salon):
        assert Payment.objects.get(booking=first, provider=DESK).method == "card_terminal"
        assert Payment.objects.get(booking=second, provider=DESK).status == PaymentStatus.WAIVED
