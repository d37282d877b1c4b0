"""The client's pages: book and pay on the salon's page, the confirmation and its calendar
file, and the manage page (cancel with what happens to the money, reschedule with credit).

The fast tests use Django's test client; the browser tests drive Debian's Chromium on a
live server, at a phone's and a desktop's size, in French and in English, with axe-core.
"""

import datetime as dt
import re

import icalendar
import pytest

from bookings.models import Booking, Status
from bookings.services import booking_manage_token
from core.money import money_format
from deposits.models import Payment, PaymentStatus
from deposits.services import policy_set
from tenants.scoping import salon_scope
from tests.conftest import MONDAY, book, local
from tests.factories import CustomerFactory
from web.public.ics import ics_event

POLICY = {
    "rule": {"kind": "fixed", "value": 1500},
    "ramp": [],
    "allow_full_payment": True,
    "cancellation_window_hours": 48,
    "late_cancellation": "credit",
    "credit_valid_days": 90,
}


def _policy(salon, **changes):
    with salon_scope(salon):
        policy_set(salon=salon, **{**POLICY, **changes})


def _form(catalogue, when, **changes):
    return {
        "service": catalogue.cut.pk,
        "staff": catalogue.alice.pk,
        "start": when.isoformat(),
        "name": "Léa Martin",
        "phone": "06 12 34 56 78",
        "email": "",
        "notes": "",
        "payment_option": "deposit",
        "action": "book",
        **changes,
    }


# Fast: Django's test client -------------------------------------------------------------

fast = pytest.mark.django_db


@fast
def test_salon_page_states_prices_deposit_and_terms(client, catalogue_a, monday):
    _policy(catalogue_a.salon)
    page = client.get("/bella/book/", HTTP_ACCEPT_LANGUAGE="fr")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Coupe" in text and "60,00\u00a0€" in text and "15,00\u00a0€" in text
    assert 'lang="fr"' in text
    details = {
        "services": catalogue_a.cut.pk,
        "staff": "any",
        "start": local(catalogue_a.salon, 3, 10).isoformat(),
        "step": "details",
    }
    text = client.get("/bella/book/", details, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert 'name="reminders_consent"' in text and 'name="marketing_consent"' in text
    assert not re.search(r'name="(reminders|marketing)_consent"[^>]*checked', text)
    recap = client.post(
        "/bella/book/",
        {**_form(catalogue_a, local(catalogue_a.salon, 3, 10)), "action": "details"},
        HTTP_ACCEPT_LANGUAGE="en",
    ).content.decode()
    assert "€60.00" in recap and "Free cancellation until Tuesday 2 March 10:00" in recap


@fast
def test_no_js_fallback_lists_the_times_of_the_chosen_day(client, catalogue_a, monday):
    page = client.get(
        f"/bella/book/?service={catalogue_a.cut.pk}&staff=any&step=time&day=2027-03-02"
    )
    assert 'value="2027-03-02T09:00:00+01:00"' in page.content.decode()


@fast
def test_bad_input_shows_form_errors(client, catalogue_a, monday):
    _policy(catalogue_a.salon)
    answer = client.post(
        "/bella/book/",
        _form(catalogue_a, local(catalogue_a.salon, 1, 10), name="", phone="", start="not a time"),
    )
    assert answer.status_code == 400
    text = answer.content.decode()
    assert "Tell us your name." in text
    assert "Give a phone number or an e-mail address." in text
    assert "Choose a time from the list." in text
    with salon_scope(catalogue_a.salon.pk):
        assert not Booking.objects.exists()
    answer = client.post(
        "/bella/book/",
        _form(catalogue_a, local(catalogue_a.salon, 1, 10), phone="12", service="999999"),
    )
    assert answer.status_code == 400


@fast
def test_a_slot_taken_meanwhile_says_so(client, catalogue_a, monday):
    start = local(catalogue_a.salon, 1, 10)
    with salon_scope(catalogue_a.salon):
        book(catalogue_a, CustomerFactory(salon=catalogue_a.salon), start, staff=catalogue_a.alice)
    answer = client.post("/bella/book/", _form(catalogue_a, start), HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 409
    assert "This time was just taken by someone else." in answer.content.decode()


@fast
def test_booking_without_deposit_goes_straight_to_confirmation(client, catalogue_a, monday):
    answer = client.post("/bella/book/", _form(catalogue_a, local(catalogue_a.salon, 1, 10)))
    assert answer.status_code == 302
    assert "/pay/" not in answer["Location"]
    done = client.get(answer["Location"], HTTP_ACCEPT_LANGUAGE="en")
    assert "Your appointment is confirmed" in done.content.decode()


@fast
def test_calendar_file(client, catalogue_a, monday):
    catalogue_a.salon.address = "12, rue des Lilas; Paris"
    catalogue_a.salon.save()
    answer = client.post("/bella/book/", _form(catalogue_a, local(catalogue_a.salon, 1, 10)))
    ics = client.get(answer["Location"] + "calendar.ics")
    assert ics["Content-Type"].startswith("text/calendar")
    text = ics.content.decode()
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert "BEGIN:VEVENT\r\n" in text and text.endswith("END:VEVENT\r\nEND:VCALENDAR\r\n")
    assert "DTSTART:20270302T090000Z\r\n" in text and "DTEND:20270302T094500Z\r\n" in text
    assert "DTSTAMP:20270301T070000Z\r\n" in text
    assert re.search(r"UID:booking-\d+-", text)
    assert "LOCATION:12\\, rue des Lilas\\; Paris\r\n" in text
    assert "SUMMARY:Coupe · Bella Coiffure\r\n" in text
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))


@fast
def test_the_calendar_file_reads_back_as_the_booking(client, catalogue_a, monday):
    catalogue_a.salon.address = "12, rue des Lilas;\nParis"
    catalogue_a.salon.save()
    answer = client.post("/bella/book/", _form(catalogue_a, local(catalogue_a.salon, 1, 10)))
    ics = client.get(answer["Location"] + "calendar.ics", HTTP_ACCEPT_LANGUAGE="en")
    (event,) = icalendar.Calendar.from_ical(ics.content).walk("VEVENT")
    assert event.decoded("DTSTART") == dt.datetime(2027, 3, 2, 9, 0, tzinfo=dt.UTC)
    assert event.decoded("DTEND") == dt.datetime(2027, 3, 2, 9, 45, tzinfo=dt.UTC)
    assert event.decoded("DTSTAMP") == dt.datetime(2027, 3, 1, 7, 0, tzinfo=dt.UTC)
    assert str(event["SUMMARY"]) == "Coupe · Bella Coiffure"
    assert str(event["LOCATION"]) == "12, rue des Lilas; Paris"
    assert re.fullmatch(r"booking-\d+-[\w-]+@[\w.-]+", str(event["UID"]))
    manage = str(event["URL"])
    assert "/manage/" in manage
    assert str(event["DESCRIPTION"]).endswith(f"Manage your booking: {manage}")


def test_calendar_text_is_escaped_and_folded():
    text = ics_event(
        uid="u1",
        start=MONDAY,
        end=MONDAY + dt.timedelta(hours=1),
        summary="a\\b;c,d\ne",
        location="é" * 80,
        description="x",
        url="http://x/",
        stamp=MONDAY,
    )
    assert "SUMMARY:a\\\\b\\;c\\,d\\ne\r\n" in text
    # Folded at most every 75 octets, never inside a character; unfolded, it is whole.
    assert "\r\n é" in text and "LOCATION:" + "é" * 80 + "\r\n" in text.replace("\r\n ", "")
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))


def test_money_is_written_for_the_language():
    assert money_format(1500, "EUR", "fr") == "15,00\u00a0€"
    assert money_format(1500, "EUR", "en") == "€15.00"
    assert money_format(123456, "CAD", "en") == "CA$1,234.56"
    assert money_format(500, "JPY", "en") == "¥500"


@fast
def test_another_salons_token_or_unknown_slug_is_not_found(
    client, catalogue_a, catalogue_b, monday
):
    answer = client.post("/bella/book/", _form(catalogue_a, local(catalogue_a.salon, 1, 10)))
    token = answer["Location"].rstrip("/").split("/")[-1]
    assert client.get(f"/bella/booking/{token}/").status_code == 200
    assert client.get(f"/rival/booking/{token}/").status_code == 404
    assert client.get(f"/rival/booking/{token}/calendar.ics").status_code == 404
    assert client.get(f"/rival/booking/{token}/pay/").status_code == 404
    assert client.get("/nosuchsalon/").status_code == 404
    assert client.get("/manage/forged-token/").status_code == 404
    assert client.get(f"/manage/{token}x/").status_code == 404
    assert client.get("/rival/").status_code == 200


@fast
def test_the_page_speaks_the_salons_language_only(client, catalogue_b, monday):
    catalogue_b.salon.languages = ["en"]
    catalogue_b.salon.save()
    page = client.get("/rival/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert 'lang="en"' in page and "Book online" in page


@fast
def test_test_mode_payment_then_cancel_late_turns_into_credit(
    client, settings, catalogue_a, monday
):
    settings.PAYMENTS_TEST_MODE = True
    _policy(catalogue_a.salon)
    answer = client.post("/bella/book/", _form(catalogue_a, local(catalogue_a.salon, 1, 10)))
    assert answer["Location"].endswith("/pay/")
    pay = client.get(answer["Location"], HTTP_ACCEPT_LANGUAGE="en")
    assert "TEST MODE" in pay.content.decode()
    done = client.post(answer["Location"])
    assert client.get(done["Location"]).status_code == 200
    with salon_scope(catalogue_a.salon.pk):
        booking = Booking.objects.get()
    assert booking.status == Status.CONFIRMED
    token = booking_manage_token(booking)
    preview = client.get(f"/manage/{token}/cancel/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "becomes credit, valid 90 days" in preview
    assert client.post(f"/manage/{token}/cancel/").status_code == 302
    page = client.get(f"/manage/{token}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "kept as credit for you" in page and "Your credit with the salon: €15.00" in page
    with salon_scope(catalogue_a.salon.pk):
        payment = Payment.objects.get()
    assert payment.status == PaymentStatus.SUCCEEDED and payment.outcome == "credited"


@fast
def test_cancelling_in_time_needs_a_choice(client, settings, catalogue_a, monday):
    settings.PAYMENTS_TEST_MODE = True
    _policy(catalogue_a.salon)
    answer = client.post("/bella/book/", _form(catalogue_a, local(catalogue_a.salon, 7, 10)))
    client.post(answer["Location"])
    with salon_scope(catalogue_a.salon.pk):
        booking = Booking.objects.get()
    token = booking_manage_token(booking)
    refused = client.post(f"/manage/{token}/cancel/", HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 400
    assert "Choose a refund or credit." in refused.content.decode()
    assert client.post(f"/manage/{token}/cancel/", {"resolution": "refund"}).status_code == 302
    booking.refresh_from_db()
    assert booking.status == Status.CANCELLED
    with salon_scope(catalogue_a.salon.pk):
        payment = Payment.objects.get()
    assert payment.outcome == "refunded"


# Browser: Debian's Chromium on the live server ------------------------------------------


def _ahead(salon, days: int) -> dt.date:
    """A working day (the fixture's staff work Monday to Saturday) `days` or more ahead."""
    day = dt.datetime.now(salon.tz).date() + dt.timedelta(days=days)
    return day + dt.timedelta(days=1) if day.weekday() == 6 else day


def _watch(page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def _no_axe_violations(page) -> None:
    from tests.browser.harness import axe_violations

    assert axe_violations(page) == []


def _ready(page) -> None:
    """The picker has drawn the answer to the latest choice."""
    page.locator("[data-slot-picker][data-state=ready]").wait_for(state="attached")


def _pick(page, day: dt.date, time: str = "10:00") -> None:
    """Through the picker's script: the week, the day, then the time."""
    _ready(page)
    link = page.locator(f'a[data-day="{day.isoformat()}"]')
    if link.count() == 0:
        page.locator("a[data-week-nav=next]").click()
        _ready(page)
        link.wait_for()
    link.click()
    page.locator(f'a[data-day="{day.isoformat()}"][aria-current]').wait_for()
    page.locator(".times label", has_text=time).click()
    assert (
        page.locator(".times input:checked").input_value().startswith(f"{day.isoformat()}T{time}")
    )


def _book_on_page(page, catalogue, day: dt.date, *, full: bool = False) -> None:
    """Through the booking steps, to the recap: the cut, Alice, the day at 10:00, the
    client's details (the recap's buttons then book)."""
    from playwright.sync_api import expect

    page.goto("/bella/book/")
    page.locator(f"label[for=service-{catalogue.cut.pk}]").click()
    page.locator("#next").click()
    page.locator(f"label[for=staff-{catalogue.alice.pk}]").click()
    page.locator("#next").click()
    expect(page.locator("#step-time")).to_be_visible()
    if page.locator(f'a.day[data-day="{day.isoformat()}"]').count() == 0:
        page.locator("#next-week").click()
    page.locator(f'a.day[data-day="{day.isoformat()}"]').click()
    page.locator(f'button.time[value^="{day.isoformat()}T10:00"]').click()
    expect(page.locator("#step-details")).to_be_visible()
    page.fill("#id_name", "Léa Martin")
    page.fill("#id_phone", "06 12 34 56 78")
    page.check("#id_reminders_consent")
    page.locator("#next").click()
    expect(page.locator("#step-recap")).to_be_visible()
    if full:
        assert "60" in page.locator("#book-full").inner_text()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_a_client_books_and_pays_a_deposit(
    browser_page, settings, catalogue_a, catalogue_b, viewport
):
    from tests.browser.harness import DESKTOP, PHONE, SCREENSHOTS

    settings.PAYMENTS_TEST_MODE = True
    _policy(catalogue_a.salon)
    page = browser_page
    page.set_viewport_size(PHONE if viewport == "phone" else DESKTOP)
    errors = _watch(page)
    day = _ahead(catalogue_a.salon, 2)
    page.goto("/bella/book/")
    assert page.locator("html").get_attribute("lang") == "fr"
    _no_axe_violations(page)
    _book_on_page(page, catalogue_a, day)
    assert "15,00" in page.locator("#due-now").inner_text()
    _no_axe_violations(page)
    if viewport == "desktop":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "booking.png"), full_page=True)
    page.locator("#book").click()
    page.wait_for_url(re.compile(r"/bella/booking/[^/]+/pay/$"))
    assert "MODE TEST" in page.content()
    _no_axe_violations(page)
    page.locator("#pay").click()
    page.wait_for_url(re.compile(r"/bella/booking/[^/]+/$"))
    assert page.locator("h1").inner_text() == "Votre rendez-vous est confirmé"
    assert "15,00" in page.locator("main").inner_text()
    _no_axe_violations(page)
    with salon_scope(catalogue_a.salon.pk):
        booking = Booking.objects.get()
    assert booking.status == Status.CONFIRMED and booking.staff_id == catalogue_a.alice.pk
    assert booking.start.astimezone(catalogue_a.salon.tz).date() == day
    with salon_scope(catalogue_a.salon.pk):
        payment = Payment.objects.get()
    assert (payment.amount, payment.kind, payment.status) == (1500, "deposit", "succeeded")
    assert errors == []


@pytest.mark.django_db(transaction=True)
def test_a_client_pays_in_full_in_english(chromium, pages_server, settings, catalogue_a):
    from tests.browser.harness import PHONE

    settings.PAYMENTS_TEST_MODE = True
    _policy(catalogue_a.salon)
    context = chromium.new_context(viewport=PHONE, locale="en-US", base_url=pages_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors = _watch(page)
    try:
        _book_on_page(page, catalogue_a, _ahead(catalogue_a.salon, 3), full=True)
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.locator("#book-full").inner_text() == "Pay €60.00 now"
        _no_axe_violations(page)
        page.locator("#book-full").click()
        page.wait_for_url(re.compile(r"/pay/$"))
        assert "Amount to pay now: €60.00" in page.locator("main").inner_text()
        _no_axe_violations(page)
        page.locator("#pay").click()
        page.wait_for_url(re.compile(r"/bella/booking/[^/]+/$"))
        assert page.locator("h1").inner_text() == "Your appointment is confirmed"
        _no_axe_violations(page)
    finally:
        context.close()
    with salon_scope(catalogue_a.salon.pk):
        payment = Payment.objects.get()
    assert (payment.amount, payment.kind, payment.status) == (6000, "full", "succeeded")
    assert errors == []


@pytest.mark.django_db(transaction=True)
def test_a_client_cancels_early_for_credit_then_rebooks_with_it(
    browser_page, chromium, pages_server, settings, catalogue_a
):
    from tests.browser.harness import SCREENSHOTS

    settings.PAYMENTS_TEST_MODE = True
    _policy(catalogue_a.salon)
    page = browser_page
    errors = _watch(page)
    _book_on_page(page, catalogue_a, _ahead(catalogue_a.salon, 4))
    page.locator("#book").click()
    page.wait_for_url(re.compile(r"/pay/$"))
    page.locator("#pay").click()
    page.wait_for_url(re.compile(r"/bella/booking/[^/]+/$"))
    page.locator("#manage-link").click()
    page.wait_for_url(re.compile(r"/manage/[^/]+/$"))
    manage_path = page.url
    assert "15,00" in page.locator("#deposit-status").inner_text()
    _no_axe_violations(page)
    page.locator("#cancel").click()
    page.wait_for_url(re.compile(r"/cancel/$"))
    assert "remboursé" in page.locator("#outcome").inner_text()
    _no_axe_violations(page)
    page.locator("#confirm-cancel").click()  # no choice yet: the page asks for one
    page.locator("#resolution-error").wait_for()
    page.check("#resolution-credit")
    page.locator("#confirm-cancel").click()
    page.wait_for_url(manage_path)
    assert "15,00" in page.locator("#credit").inner_text()
    with salon_scope(catalogue_a.salon.pk):
        booking = Booking.objects.get()
    assert booking.status == Status.CANCELLED

    page.locator("#reschedule").click()
    page.wait_for_url(re.compile(r"/reschedule/$"))
    _no_axe_violations(page)
    new_day = _ahead(catalogue_a.salon, 5)
    _pick(page, new_day, "11:00")
    page.locator("#confirm-reschedule").click()
    page.wait_for_url(manage_path)
    booking.refresh_from_db()
    assert booking.status == Status.CONFIRMED
    assert booking.start.astimezone(catalogue_a.salon.tz).date() == new_day
    with salon_scope(catalogue_a.salon):
        assert not Payment.objects.filter(status=PaymentStatus.PENDING).exists()
    assert "Confirmé" in page.locator("#details-title").inner_text()
    assert "15,00\u00a0€ payés avec votre avoir" in page.locator("#deposit-status").inner_text()
    _no_axe_violations(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "manage.png"), full_page=True)
    assert errors == []

    english = chromium.new_context(locale="en-US", base_url=pages_server.url)
    try:
        other = english.new_page()
        other.goto(manage_path)
        assert other.locator("h1").inner_text() == "My booking"
        _no_axe_violations(other)
    finally:
        english.close()


@pytest.mark.django_db
def test_the_payment_step_carries_the_payment_element_with_stripe(
    api, client, settings, stripe_api, catalogue_a, monday
):
    _policy(catalogue_a.salon)
    request = {
        "service": catalogue_a.cut.pk,
        "start": "2027-03-03T10:00:00+01:00",
        "customer": {"name": "Léa", "phone": "06 12 34 56 78"},
    }
    booking = api().post("/api/v1/salons/bella/bookings/", request, format="json").json()
    page = client.get(f"/bella/booking/{booking['manage_token']}/pay/")
    assert page.status_code == 200
    html = page.content.decode()
    assert '"pk_test_acompte"' in html and booking["payment"]["client_secret"] in html
    assert settings.STRIPE_JS_URL in html and 'id="payment-element"' in html
    assert "MODE TEST" not in html
