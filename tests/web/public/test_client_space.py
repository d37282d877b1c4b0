"""The client space, `/<salon>/me/`: signed in with a one-time code sent to the contact on
file, never with a phone number or an e-mail address alone; then her appointments, her
credit (which pays her next deposit) and her consents."""

import datetime as dt
import re

import pytest
import time_machine
from django.db.models import Sum

from bookings.models import Booking
from customers.models import ConsentEvent, ContactCode
from customers.selectors import consent_current
from customers.services import customer_update
from deposits.credit import credit_balance, credit_grant
from deposits.models import CreditEntry, CreditKind, Payment
from messaging.models import Message
from tenants.scoping import salon_scope
from tests.conftest import book, local, policy_put
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

SPACE = "/bella/me/"
LEA_PHONE = "06 12 34 56 78"
LEA_E164 = "+33612345678"
UNKNOWN_PHONE = "06 98 76 54 32"


@pytest.fixture
def lea(team_a, catalogue_a, monday):
    """A client of salon A (she pays deposits) with 10.00 of credit from an earlier
    appointment."""
    with salon_scope(team_a.salon):
        customer = CustomerFactory(
            salon=team_a.salon, name="Léa Martin", phone=LEA_E164, email="lea@example.org"
        )
    earlier = book(catalogue_a, customer, local(team_a.salon, 1, 10), staff=catalogue_a.bob)
    with salon_scope(team_a.salon):
        credit_grant(customer=customer, amount=1000, currency="EUR", valid_days=90, booking=earlier)
    return customer


def _code_sent(salon, to):
    with salon_scope(salon):
        message = Message.objects.filter(kind="identity_code", recipient=to).latest("id")
    return re.search(r"\b(\d{6})\b", message.body).group(1)


def _send(client, phone=LEA_PHONE, **extra):
    return client.post(SPACE, {"phone": phone, "action": "send"}, **extra)


def _check(client, code, phone=LEA_PHONE):
    return client.post(SPACE, {"phone": phone, "code": code, "action": "check"})


def _sign_in(client, salon):
    assert _send(client).status_code == 200
    answer = _check(client, _code_sent(salon, LEA_E164))
    assert answer.status_code == 302 and answer["Location"] == SPACE
    return answer


def _text(answer):
    return answer.content.decode()


def test_signing_in_shows_her_credit_and_appointments(client, team_a, lea, monday):
    monday.shift(dt.timedelta(days=2))  # her earlier appointment is past
    _sign_in(client, team_a.salon)
    page = client.get(SPACE)
    text = _text(page)
    assert page.status_code == 200
    assert "Léa Martin" in text
    assert re.search(r"10[.,]00", text)  # her credit
    assert 'name="robots" content="noindex"' in text
    assert "/manage/" in text  # each appointment's manage link
    assert "/bella/book/?service=" in text  # book the same again


def test_a_code_is_used_once(client, team_a, lea):
    _send(client)
    code = _code_sent(team_a.salon, LEA_E164)
    assert _check(client, code).status_code == 302
    client.post("/bella/me/sign-out/")
    assert "Léa Martin" not in _text(client.get(SPACE))
    again = _check(client, code)
    assert again.status_code == 400
    assert "Léa Martin" not in _text(client.get(SPACE))


def test_a_code_expires(client, team_a, lea, monday):
    _send(client)
    code = _code_sent(team_a.salon, LEA_E164)
    monday.shift(dt.timedelta(minutes=11))
    assert _check(client, code).status_code == 400
    assert "Léa Martin" not in _text(client.get(SPACE))


def test_the_sign_in_lapses(client, team_a, lea, monday):
    _sign_in(client, team_a.salon)
    monday.shift(dt.timedelta(hours=3))
    assert "Léa Martin" not in _text(client.get(SPACE))


@pytest.mark.rate_limits
def test_asking_for_codes_is_rate_limited(client, team_a, lea):
    answers = [_send(client, REMOTE_ADDR=f"10.0.0.{n}").status_code for n in range(6)]
    assert answers == [200] * 5 + [429]
    with salon_scope(team_a.salon):
        assert Message.objects.filter(kind="identity_code").count() == 5


@pytest.mark.rate_limits
def test_trying_codes_is_rate_limited(client, team_a, lea):
    _send(client)
    code = _code_sent(team_a.salon, LEA_E164)
    for _n in range(5):
        assert _check(client, "000000").status_code == 400
    assert _check(client, code).status_code == 400  # even the right one, now
    assert "Léa Martin" not in _text(client.get(SPACE))


def _neutral(answer, typed):
    """The page less what differs by construction: the CSRF token and what was typed."""
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", _text(answer))
    return text.replace(typed, "")


def test_the_answer_is_the_same_for_a_known_and_an_unknown_contact(client, team_a, lea):
    known = _send(client, LEA_PHONE)
    unknown = _send(client, UNKNOWN_PHONE)
    assert known.status_code == unknown.status_code == 200
    assert _neutral(known, LEA_PHONE) == _neutral(unknown, UNKNOWN_PHONE)
    with salon_scope(team_a.salon):
        assert ContactCode.objects.count() == 2  # a code recorded either way
        assert list(
            Message.objects.filter(kind="identity_code").values_list("recipient", flat=True)
        ) == [LEA_E164]  # and sent only to a client's contact
    wrong_known = _check(client, "000000", LEA_PHONE)
    wrong_unknown = _check(client, "000000", UNKNOWN_PHONE)
    assert wrong_known.status_code == wrong_unknown.status_code == 400
    assert _neutral(wrong_known, LEA_PHONE) == _neutral(wrong_unknown, UNKNOWN_PHONE)


def test_nothing_is_shown_without_the_code(client, team_a, lea):
    page = client.get(SPACE)
    assert page.status_code == 200
    assert "Léa Martin" not in _text(page) and not re.search(r"10[.,]00", _text(page))
    typed = _send(client)  # her phone, typed by anyone
    assert "Léa Martin" not in _text(typed) and not re.search(r"10[.,]00", _text(typed))
    assert "Léa Martin" not in _text(client.get(SPACE))


def test_she_signs_in_with_her_e_mail_address_too(client, team_a, lea):
    assert client.post(SPACE, {"email": "LEA@example.org", "action": "send"}).status_code == 200
    code = _code_sent(team_a.salon, "lea@example.org")
    answer = client.post(SPACE, {"email": "lea@example.org", "code": code, "action": "check"})
    assert answer.status_code == 302
    assert "Léa Martin" in _text(client.get(SPACE))


def test_the_booking_page_says_nothing_of_her_credit_without_the_code(client, team_a, lea):
    _send(client)  # her phone typed, no code
    page = _text(client.get("/bella/book/"))
    assert 'id="credit-applied"' not in page and "Léa Martin" not in page


def test_another_salons_client_is_not_visible(client, team_a, team_b, catalogue_b, lea):
    with salon_scope(team_b.salon):
        CustomerFactory(salon=team_b.salon, name="Léa Rival", phone="+33612345678")
    _sign_in(client, team_a.salon)
    other = client.get("/rival/me/")
    assert other.status_code == 200
    assert "Léa Rival" not in _text(other) and "Léa Martin" not in _text(other)
    # A code sent for salon A proves nothing in salon B.
    _send(client)
    code = _code_sent(team_a.salon, LEA_E164)
    answer = client.post("/rival/me/", {"phone": "+33 6 12 34 56 78", "code": code})
    assert answer.status_code == 400
    assert "Léa Rival" not in _text(client.get("/rival/me/"))


def test_she_changes_her_consents(client, team_a, lea):
    # Her consent to the salon keeping her allergies is not one of the messages' choices:
    # answering those leaves it as it is.
    with salon_scope(team_a.salon):
        customer_update(customer=lea, consents={"health": True})
    _sign_in(client, team_a.salon)
    answer = client.post("/bella/me/consents/", {"reminders": "on", "marketing": "on"})
    assert answer.status_code == 302
    with salon_scope(team_a.salon):
        assert consent_current(customer=lea) == {
            "reminders": True,
            "marketing": True,
            "health": True,
        }
    client.post("/bella/me/consents/", {"reminders": "on"})
    with salon_scope(team_a.salon):
        assert consent_current(customer=lea) == {
            "reminders": True,
            "marketing": False,
            "health": True,
        }
        events = ConsentEvent.objects.filter(customer=lea, purpose="marketing")
        assert [e.source for e in events] == ["online", "online"]


def test_consents_are_not_changed_without_the_code(client, team_a, lea):
    client.post("/bella/me/consents/", {"marketing": "on"})
    with salon_scope(team_a.salon):
        assert consent_current(customer=lea)["marketing"] is False


def _book_form(catalogue, salon, hour):
    return {
        "service": catalogue.cut.pk,
        "staff": catalogue.alice.pk,
        "name": "Léa Martin",
        "start": local(salon, 9, hour).isoformat(),
        "phone": LEA_PHONE,
        "email": "",
        "notes": "",
        "payment_option": "deposit",
        "action": "book",
    }


def _used(booking_id):
    return CreditEntry.objects.filter(booking_id=booking_id, kind=CreditKind.USED).aggregate(
        total=Sum("amount")
    )["total"]


def test_her_credit_pays_part_of_her_next_deposit(
    client, api, stripe_api, team_a, catalogue_a, lea
):
    policy_put(api, team_a)  # a €15 deposit
    _sign_in(client, team_a.salon)
    assert re.search(r"10[.,]00", _text(client.get("/bella/book/")))  # her credit, said
    form = _book_form(catalogue_a, team_a.salon, 10)
    booked = client.post("/bella/book/", form)
    assert booked.status_code == 302 and "/pay/" in booked["Location"]
    pay = client.get(booked["Location"])
    assert re.search(r"5[.,]00", _text(pay))  # the deposit less her credit
    with salon_scope(team_a.salon):
        booking = Booking.objects.get(customer=lea, start=local(team_a.salon, 9, 10))
        assert Payment.objects.get(booking=booking).amount == 500
        assert _used(booking.pk) == 1000
        assert credit_balance(customer=lea) == 0
    # The same form again (a double click, a retry): nothing more is spent.
    again = client.post("/bella/book/", form)
    assert again.status_code in (302, 400, 409)
    with salon_scope(team_a.salon):
        assert CreditEntry.objects.filter(kind=CreditKind.USED).count() == 1
        assert Booking.objects.filter(customer=lea, start=form["start"]).count() == 1


def test_through_the_api_with_a_proof_her_credit_pays_too(
    api, stripe_api, team_a, catalogue_a, lea
):
    policy_put(api, team_a)
    api().post("/api/v1/salons/bella/identity/code/", {"phone": LEA_PHONE}, format="json")
    code = _code_sent(team_a.salon, LEA_E164)
    proof = (
        api()
        .post(
            "/api/v1/salons/bella/identity/verify/",
            {"phone": LEA_PHONE, "code": code},
            format="json",
        )
        .json()["proof"]
    )
    request = {
        "service": catalogue_a.cut.pk,
        "start": local(team_a.salon, 9, 10).isoformat(),
        "staff": catalogue_a.alice.pk,
        "customer": {"name": "Léa Martin", "phone": LEA_PHONE},
    }
    answer = api().post(
        "/api/v1/salons/bella/bookings/", request, format="json", HTTP_X_CLIENT_PROOF=proof
    )
    assert answer.status_code == 201, answer.json()
    assert (answer.json()["deposit_amount"], answer.json()["amount_due_now"]) == (1500, 500)
    # Without the proof, the same phone spends nothing.
    request["start"] = local(team_a.salon, 9, 14).isoformat()
    stranger = api().post("/api/v1/salons/bella/bookings/", request, format="json")
    assert stranger.json()["amount_due_now"] == 1500


def test_book_again_names_the_same_service_and_staff(client, team_a, catalogue_a, lea, monday):
    monday.shift(dt.timedelta(days=2))
    _sign_in(client, team_a.salon)
    text = _text(client.get(SPACE))
    again = f"/bella/book/?service={catalogue_a.cut.pk}&amp;staff={catalogue_a.bob.pk}"
    assert again in text


def test_the_header_links_to_the_space(client, team_a, lea):
    assert 'href="/bella/me/"' in _text(client.get("/bella/book/"))


# Browser: Debian's Chromium on the live server ------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_returning_client_signs_in_and_her_credit_pays_part_of_the_deposit(
    chromium, pages_server, settings, catalogue_a, team_b
):
    from playwright.sync_api import expect

    from tests.browser.harness import PHONE, SCREENSHOTS, axe_violations
    from tests.web.public.test_client import _ahead, _policy

    settings.PAYMENTS_TEST_MODE = True
    salon = catalogue_a.salon
    _policy(salon)  # a €15 deposit
    with salon_scope(salon):
        lea = CustomerFactory(salon=salon, name="Léa Martin", phone=LEA_E164, email=None)
    # Her earlier appointment, three weeks ago (booked a week before it).
    then = _ahead(salon, -21)
    with time_machine.travel(
        dt.datetime.combine(then, dt.time(8), salon.tz) - dt.timedelta(days=7)
    ):
        earlier = book(
            catalogue_a,
            lea,
            dt.datetime.combine(then, dt.time(10), salon.tz),
            staff=catalogue_a.bob,
        )
    with salon_scope(salon):
        credit_grant(customer=lea, amount=1000, currency="EUR", valid_days=90, booking=earlier)
    context = chromium.new_context(viewport=PHONE, locale="fr-FR", base_url=pages_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto("/bella/book/")
        link = page.locator("header a.space-link")
        expect(link).to_have_text("Mon espace")
        link.focus()
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/bella/me/$"))
        assert axe_violations(page) == []
        # Sign in by the keyboard: her phone, the code the SMS carried, Enter.
        page.locator("#phone").focus()
        page.keyboard.type(LEA_PHONE)
        page.keyboard.press("Enter")  # the form's only button: "Send me a code"
        expect(page.locator("#code-sent")).to_be_visible()
        code = _code_sent(salon, LEA_E164)
        page.locator("#code").focus()
        page.keyboard.type(code)
        page.keyboard.press("Enter")  # the first button: sign in
        expect(page.locator("#credit-balance")).to_contain_text("10,00")
        expect(page.locator("#space-hello")).to_contain_text("Léa Martin")
        assert page.locator('meta[name="robots"]').get_attribute("content") == "noindex"
        assert axe_violations(page) == []
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "space-credit.png"), full_page=True)
        # Book again the service she had: her credit pays part of the deposit.
        page.locator("#past a", has_text="Réserver à nouveau").first.click()
        page.wait_for_url(re.compile(r"/bella/book/\?service="))
        expect(page.locator("#credit-applied")).to_contain_text("10,00")
        day = _ahead(salon, 2)
        page.locator("#next").click()
        page.locator(f"label[for=staff-{catalogue_a.alice.pk}]").click()
        page.locator("#next").click()
        if page.locator(f'a.day[data-day="{day.isoformat()}"]').count() == 0:
            page.locator("#next-week").click()
        page.locator(f'a.day[data-day="{day.isoformat()}"]').click()
        page.locator(f'button.time[value^="{day.isoformat()}T10:00"]').click()
        page.fill("#id_name", "Léa Martin")
        page.fill("#id_phone", LEA_PHONE)
        assert axe_violations(page) == []
        page.locator("#next").click()
        expect(page.locator("#book")).to_contain_text("5,00")  # the deposit less her credit
        assert axe_violations(page) == []
        page.locator("#book").focus()
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/bella/booking/[^/]+/pay/$"))
        expect(page.locator(".due")).to_contain_text("5,00")
        expect(page.locator("#credit-spent")).to_contain_text("10,00")
        assert axe_violations(page) == []
        page.locator("#pay").focus()
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/bella/booking/[^/]+/$"))
        expect(page.locator("h1")).to_have_text("Votre rendez-vous est confirmé")
        assert errors == []
    finally:
        context.close()
    with salon_scope(salon):
        booking = Booking.objects.filter(customer=lea).latest("created_at")
        payment = Payment.objects.get(booking=booking)
        assert (payment.amount, payment.status) == (500, "succeeded")
        assert _used(booking.pk) == 1000
        assert credit_balance(customer=lea) == 0


def test_credit_covering_the_deposit_confirms_without_paying(
    client, api, stripe_api, team_a, catalogue_a, lea
):
    policy_put(api, team_a, rule={"kind": "fixed", "value": 800})  # less than her credit
    _sign_in(client, team_a.salon)
    booked = client.post("/bella/book/", _book_form(catalogue_a, team_a.salon, 10))
    assert booked.status_code == 302 and "/pay/" not in booked["Location"]
    done = _text(client.get(booked["Location"]))
    assert re.search(r"8[.,]00", done) and 'id="credit-spent"' in done
    with salon_scope(team_a.salon):
        booking = Booking.objects.get(customer=lea, start=local(team_a.salon, 9, 10))
        assert booking.status == "confirmed"
        assert not Payment.objects.filter(booking=booking).exists()
        assert credit_balance(customer=lea) == 200


def test_she_withdraws_the_health_consent_from_her_space_and_her_allergies_go(client, team_a, lea):
    with salon_scope(team_a.salon):
        customer_update(customer=lea, consents={"health": True}, preferences={"allergies": "Latex"})
    _sign_in(client, team_a.salon)
    page = _text(client.get(SPACE))
    assert 'id="consent-health"' in page
    # Saving her message choices with the box still ticked keeps it.
    client.post("/bella/me/consents/", {"reminders": "on", "health_shown": "1", "health": "on"})
    with salon_scope(team_a.salon):
        lea.refresh_from_db()
        assert consent_current(customer=lea)["health"] is True
        assert lea.preferences["allergies"] == "Latex"
    client.post("/bella/me/consents/", {"reminders": "on", "health_shown": "1"})
    with salon_scope(team_a.salon):
        lea.refresh_from_db()
        assert consent_current(customer=lea)["health"] is False
        assert "allergies" not in lea.preferences
        (withdrawn,) = ConsentEvent.objects.filter(customer=lea, purpose="health", granted=False)
        assert withdrawn.source == "online"
    # Withdrawn, the space no longer asks (it is given at the salon, with the notes).
    assert 'id="consent-health"' not in _text(client.get(SPACE))
