"""Booking in steps: services → staff or anyone → time → details → recap → pay.

The fast tests walk each step through Django's test client, without JavaScript (GET and
POST as a browser without scripts sends them); the browser tests drive Debian's Chromium
through the steps at a phone's size in French and a desktop's in English, with the
keyboard, axe-core at every step, and take the README's screenshots of the steps.
"""

import datetime as dt
import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.management import call_command

from bookings.models import Booking, Status
from deposits.models import Payment
from deposits.services import policy_set
from tenants.models import Salon
from tenants.scoping import salon_scope
from tests.conftest import local

POLICY = {
    "rule": {"kind": "fixed", "value": 1500},
    "ramp": [],
    "allow_full_payment": True,
    "cancellation_window_hours": 48,
    "late_cancellation": "credit",
    "credit_valid_days": 90,
}
TUESDAY = "2027-03-02"


def _policy(salon, **changes):
    with salon_scope(salon):
        policy_set(salon=salon, **{**POLICY, **changes})


def _text(answer) -> str:
    return answer.content.decode()


def _details(catalogue, start: dt.datetime, **changes):
    return {
        "action": "details",
        "services": [catalogue.cut.pk],
        "order": str(catalogue.cut.pk),
        "staff": str(catalogue.alice.pk),
        "start": start.isoformat(),
        "name": "Léa Martin",
        "phone": "06 12 34 56 78",
        "email": "",
        "notes": "",
        **changes,
    }


def _hidden(html: str) -> list[tuple[str, str]]:
    """The recap form's hidden fields, as the browser would send them back."""
    form = html[html.index('id="step-form"') :]
    form = form[: form.index("</form>")]
    return re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form)


fast = pytest.mark.django_db


@fast
def test_the_services_step_preselects_the_service_of_a_link(client, catalogue_a, monday):
    _policy(catalogue_a.salon)
    page = client.get(f"/bella/book/?service={catalogue_a.cut.pk}", HTTP_ACCEPT_LANGUAGE="fr")
    assert page.status_code == 200
    text = _text(page)
    assert 'id="step-services"' in text
    assert re.search(
        rf'id="service-{catalogue_a.cut.pk}" value="{catalogue_a.cut.pk}"\s+checked', text
    )
    assert not re.search(rf'id="service-{catalogue_a.colour.pk}" value="\d+"\s+checked', text)
    # The summary carries the choice and what is due now.
    assert "Coupe" in text and "15,00\u00a0€" in text and 'id="due-now"' in text
    assert 'aria-current="step"' in text


@fast
def test_each_step_works_without_javascript(client, catalogue_a, monday, settings):
    settings.PAYMENTS_TEST_MODE = True
    _policy(catalogue_a.salon)
    cut, alice = catalogue_a.cut.pk, catalogue_a.alice.pk
    # Services chosen: the staff step, with "anyone" and those who do the service.
    staff = _text(client.get("/bella/book/", {"services": cut, "step": "staff"}))
    assert 'id="step-staff"' in staff and 'value="any"' in staff
    assert f'id="staff-{alice}"' in staff and f'id="staff-{catalogue_a.bob.pk}"' in staff
    # Two services: only Alice does both.
    both = _text(
        client.get("/bella/book/", {"services": [cut, catalogue_a.colour.pk], "step": "staff"})
    )
    assert f'id="staff-{alice}"' in both and f'id="staff-{catalogue_a.bob.pk}"' not in both
    # Staff chosen: the time step, times grouped, Sunday closed, a first available jump.
    time = _text(
        client.get(
            "/bella/book/", {"services": cut, "staff": alice, "step": "time", "day": TUESDAY}
        )
    )
    assert 'id="step-time"' in time
    assert 'value="2027-03-02T09:00:00+01:00"' in time
    assert "Morning" in time and "Afternoon" in time and "Evening" in time
    assert 'class="day closed" data-day="2027-03-07"' in time
    assert 'id="first-free"' in time and "2027-03-01T09" not in time.split('id="first-free"')[0]
    assert '<table class="calendar">' in time
    # A time chosen: the details step, its fields made for phones.
    details = _text(
        client.get(
            "/bella/book/",
            {
                "services": cut,
                "staff": alice,
                "start": "2027-03-02T09:00:00+01:00",
                "step": "details",
            },
        )
    )
    assert 'id="step-details"' in details
    assert re.search(r'type="tel"[^>]*inputmode="tel"[^>]*autocomplete="tel"', details) or (
        'type="tel"' in details and 'inputmode="tel"' in details and 'autocomplete="tel"' in details
    )
    assert 'autocomplete="name"' in details and 'autocomplete="email"' in details
    assert 'inputmode="email"' in details
    # Details given: the recap, the real deadline, the button states the amount.
    recap = client.post(
        "/bella/book/",
        _details(catalogue_a, local(catalogue_a.salon, 3, 10)),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert recap.status_code == 200
    text = _text(recap)
    assert 'id="step-recap"' in text
    assert "Free cancellation until Tuesday 2 March 10:00" in text
    assert "Pay the €15.00 deposit" in text and "Pay €60.00 now" in text
    # Paying: the recap's hidden fields book.
    fields = _hidden(text)
    data: dict[str, list[str]] = {}
    for name, value in fields:
        data.setdefault(name, []).append(value)
    answer = client.post("/bella/book/", {**data, "payment_option": "deposit"})
    assert answer.status_code == 302 and answer["Location"].endswith("/pay/")
    with salon_scope(catalogue_a.salon.pk):
        booking = Booking.objects.select_related("customer").get()
        payment = Payment.objects.get()
    assert booking.staff_id == alice and booking.customer.name == "Léa Martin"
    assert (payment.amount, payment.kind) == (1500, "deposit")


@fast
def test_the_recap_goes_back_to_the_details_as_typed(client, catalogue_a, monday):
    start = local(catalogue_a.salon, 3, 10)
    data = {
        **_details(catalogue_a, start, email="lea@example.org"),
        "action": "edit",
        "reminders_consent": "on",
    }
    answer = client.post("/bella/book/", data)
    assert answer.status_code == 200
    text = _text(answer)
    assert 'id="step-details"' in text and 'value="Léa Martin"' in text
    assert 'value="lea@example.org"' in text
    assert 'id="id_reminders_consent" checked' in text
    assert 'id="id_marketing_consent" checked' not in text


@fast
def test_a_step_ahead_of_the_choice_shows_the_first_step_not_done(client, catalogue_a, monday):
    cut = catalogue_a.cut.pk
    # No staff said: the staff step, whatever was asked for.
    page = _text(client.get("/bella/book/", {"services": cut, "step": "details"}))
    assert 'id="step-staff"' in page
    # A time that is not free: the time step says so.
    page = _text(
        client.get(
            "/bella/book/",
            {
                "services": cut,
                "staff": "any",
                "start": "2027-03-07T10:00:00+01:00",
                "step": "details",
            },
            HTTP_ACCEPT_LANGUAGE="en",
        )
    )
    assert 'id="step-time"' in page and "This time is no longer free" in page
    # A staff member who does not do the service: asked again.
    page = _text(
        client.get(
            "/bella/book/",
            {"services": catalogue_a.colour.pk, "staff": catalogue_a.bob.pk, "step": "time"},
        )
    )
    assert 'id="step-staff"' in page
    # An add-on's button keeps the services step.
    page = _text(client.get("/bella/book/", {"services": cut, "add": catalogue_a.colour.pk}))
    assert 'id="step-services"' in page


@fast
def test_the_details_step_checks_the_contact_and_hints_at_a_country_code(
    client, catalogue_a, monday
):
    start = local(catalogue_a.salon, 3, 10)
    answer = client.post(
        "/bella/book/", _details(catalogue_a, start, name="", phone=""), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert answer.status_code == 400
    text = _text(answer)
    assert 'id="step-details"' in text
    assert "Tell us your name." in text and "Give a phone number or an e-mail address." in text
    # A British number written as in Britain, at a French salon.
    answer = client.post(
        "/bella/book/",
        _details(catalogue_a, start, phone="07400 123456"),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert answer.status_code == 400
    assert "add its country code in front (for example +44 for United Kingdom)" in _text(answer)
    assert "This is not a number of France." in _text(answer)
    # With its code, it goes on.
    answer = client.post("/bella/book/", _details(catalogue_a, start, phone="+44 7400 123456"))
    assert answer.status_code == 200 and 'id="step-recap"' in _text(answer)


@fast
def test_a_time_inside_the_notice_says_the_deposit_will_not_be_refunded(
    client, catalogue_a, monday
):
    _policy(catalogue_a.salon)
    # Tuesday 10:00 is 25 hours away: inside the 48 hours' notice.
    answer = client.post(
        "/bella/book/",
        _details(catalogue_a, local(catalogue_a.salon, 1, 10)),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    text = _text(answer)
    assert "This time is inside the salon's notice: the deposit will not be refunded" in text
    assert "it becomes credit valid 90 days" in text
    assert "Free cancellation" not in text
    french = _text(
        client.post(
            "/bella/book/",
            _details(catalogue_a, local(catalogue_a.salon, 3, 10)),
            HTTP_ACCEPT_LANGUAGE="fr",
        )
    )
    assert "Annulation gratuite jusqu\u2019au mardi 2 mars 10:00" in french
    assert "Payer l\u2019acompte de 15,00\u00a0€" in french
    _policy(catalogue_a.salon, late_cancellation="forfeit")
    kept = _text(
        client.post(
            "/bella/book/",
            _details(catalogue_a, local(catalogue_a.salon, 1, 10)),
            HTTP_ACCEPT_LANGUAGE="en",
        )
    )
    assert "the deposit will not be refunded, the salon keeps it" in kept


@fast
def test_nothing_due_confirms_the_booking(client, catalogue_a, monday):
    answer = client.post(
        "/bella/book/",
        _details(catalogue_a, local(catalogue_a.salon, 3, 10)),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert ">Confirm the booking</button>" in _text(answer)


@fast
def test_the_final_post_recomputes_and_rechecks(client, catalogue_a, monday, settings):
    """What the client sends for money is never read; a time taken meanwhile says so."""
    settings.PAYMENTS_TEST_MODE = True
    _policy(catalogue_a.salon)
    start = local(catalogue_a.salon, 3, 10)
    form = {**_details(catalogue_a, start), "action": "book", "payment_option": "full"}
    form["price"] = "1"
    form["deposit"] = "1"
    answer = client.post("/bella/book/", form)
    assert answer.status_code == 302
    with salon_scope(catalogue_a.salon.pk):
        assert Payment.objects.get().amount == 6000
    again = client.post(
        "/bella/book/", {**form, "phone": "06 99 99 99 99"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert again.status_code == 409
    assert "This time was just taken by someone else." in _text(again)
    assert 'id="step-time"' in _text(again)


@fast
def test_a_pay_after_the_hold_lapsed_answers_the_friendly_page(
    client, catalogue_a, monday, settings
):
    settings.PAYMENTS_TEST_MODE = True
    _policy(catalogue_a.salon)
    start = local(catalogue_a.salon, 3, 10)
    answer = client.post("/bella/book/", {**_details(catalogue_a, start), "action": "book"})
    pay = answer["Location"]
    monday.shift(dt.timedelta(hours=2))  # the hold lapsed
    for method in (client.get, client.post):
        page = method(pay, HTTP_ACCEPT_LANGUAGE="en")
        assert page.status_code == 410
        text = _text(page)
        assert "is no longer held" in text
        assert "This time is still free." in text
        again = re.search(r'id="book-again" href="([^"]+)"', text)
        assert again is not None and "step=details" in again.group(1)
    # The same time again: the details step of the same visit.
    link = again.group(1).replace("&amp;", "&")
    query = parse_qs(urlparse(link).query)
    assert query["start"] == [start.isoformat()] and query["staff"] == [str(catalogue_a.alice.pk)]
    assert 'id="step-details"' in _text(client.get(link))
    with salon_scope(catalogue_a.salon.pk):
        assert Booking.objects.get().status != Status.CONFIRMED
    # Taken by someone else meanwhile: the page offers to book again, not that time.
    client.post(
        "/bella/book/", {**_details(catalogue_a, start, phone="06 99 99 99 99"), "action": "book"}
    )
    text = _text(client.post(pay, HTTP_ACCEPT_LANGUAGE="en"))
    assert "This time is still free." not in text and 'id="book-again"' in text


# Browser: Chromium, a phone in French and a desktop in English ----------------------------


def _ahead(salon, days: int) -> dt.date:
    day = dt.datetime.now(salon.tz).date() + dt.timedelta(days=days)
    return day + dt.timedelta(days=1) if day.weekday() == 6 else day


def _clean(page) -> None:
    from tests.browser.harness import axe_violations

    assert axe_violations(page) == []


def _shot(page, name: str) -> None:
    from tests.browser.harness import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def _tab_to(page, selector: str, presses: int = 120) -> None:
    """Tab (as a person at a keyboard does) until the control has the focus."""
    target = page.locator(selector).first
    for _n in range(presses):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"{selector} never took the focus")


def _through_the_steps(page, *, service: str, staff: str, shots: bool = False) -> None:
    """Services, staff and time with the mouse, each step checked by axe."""
    from playwright.sync_api import expect

    expect(page.locator("#step-services")).to_be_visible()
    _clean(page)
    page.get_by_label(service, exact=True).check()
    if shots:
        _shot(page, "steps-services.png")
    page.locator("#next").click()
    expect(page.locator("#step-staff")).to_be_visible()
    _clean(page)
    page.get_by_label(staff, exact=True).check()
    page.locator("#next").click()
    expect(page.locator("#step-time")).to_be_visible()
    _clean(page)
    page.locator("#month summary").click()
    expect(page.locator("table.calendar")).to_be_visible()
    _clean(page)
    if shots:
        _shot(page, "steps-time.png")


@pytest.mark.django_db(transaction=True)
def test_a_phone_in_french_books_with_a_deposit_using_the_keyboard(
    chromium, pages_server, settings, catalogue_a
):
    from playwright.sync_api import expect

    from tests.browser.harness import PHONE

    settings.PAYMENTS_TEST_MODE = True
    _policy(catalogue_a.salon)
    context = chromium.new_context(viewport=PHONE, locale="fr-FR", base_url=pages_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        day = _ahead(catalogue_a.salon, 4)
        page.goto(f"/bella/book/?service={catalogue_a.cut.pk}")
        assert page.locator("html").get_attribute("lang") == "fr"
        _clean(page)
        # The keyboard only: Tab to each control, Space or Enter to press it.
        _tab_to(page, "#next")
        page.keyboard.press("Enter")
        expect(page.locator("#step-staff")).to_be_visible()
        _clean(page)
        _tab_to(page, "#staff-any")
        page.keyboard.press("ArrowDown")  # the radios' next: Alice
        expect(page.locator(f"#staff-{catalogue_a.alice.pk}")).to_be_checked()
        _tab_to(page, "#next")
        page.keyboard.press("Enter")
        expect(page.locator("#step-time")).to_be_visible()
        _clean(page)
        if page.locator(f'a.day[data-day="{day.isoformat()}"]').count() == 0:
            _tab_to(page, "#next-week")
            page.keyboard.press("Enter")
            expect(page.locator("#step-time")).to_be_visible()
        _tab_to(page, f'a.day[data-day="{day.isoformat()}"]')
        page.keyboard.press("Enter")
        expect(page.locator(f'a.day[data-day="{day.isoformat()}"][aria-current]')).to_be_visible()
        _tab_to(page, 'button.time[value*="T10:00"]')
        page.keyboard.press("Enter")
        expect(page.locator("#step-details")).to_be_visible()
        _clean(page)
        _tab_to(page, "#id_name")
        page.keyboard.type("Léa Martin")
        _tab_to(page, "#id_phone")
        page.keyboard.type("06 12 34 56 78")
        _tab_to(page, "#id_reminders_consent")
        page.keyboard.press("Space")
        expect(page.locator("#id_reminders_consent")).to_be_checked()
        _tab_to(page, "#next")
        page.keyboard.press("Enter")
        expect(page.locator("#step-recap")).to_be_visible()
        _clean(page)
        expect(page.locator("#terms")).to_contain_text("Annulation gratuite jusqu\u2019au")
        expect(page.locator("#book")).to_have_text("Payer l\u2019acompte de 15,00\u00a0€")
        expect(page.locator("#due-now")).to_have_text("15,00\u00a0€")
        _tab_to(page, "#book")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/bella/booking/[^/]+/pay/$"))
        _clean(page)
        page.locator("#pay").click()
        page.wait_for_url(re.compile(r"/bella/booking/[^/]+/$"))
        expect(page.locator("h1")).to_have_text("Votre rendez-vous est confirmé")
        _clean(page)
    finally:
        context.close()
    with salon_scope(catalogue_a.salon.pk):
        booking = Booking.objects.get()
        payment = Payment.objects.get()
    assert booking.status == Status.CONFIRMED and booking.staff_id == catalogue_a.alice.pk
    assert booking.start.astimezone(catalogue_a.salon.tz).date() == day
    assert (payment.amount, payment.kind, payment.status) == (1500, "deposit", "succeeded")
    assert errors == []


@pytest.mark.django_db(transaction=True)
def test_a_desktop_in_english_pays_the_full_price_on_the_demo_salon(
    chromium, pages_server, settings
):
    from playwright.sync_api import expect

    from tests.browser.harness import DESKTOP

    settings.PAYMENTS_TEST_MODE = True
    call_command("seed_demo", stdout=__import__("io").StringIO())
    salon = Salon.objects.get(slug="demo")
    context = chromium.new_context(viewport=DESKTOP, locale="en-GB", base_url=pages_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto("/demo/book/")
        assert page.locator("html").get_attribute("lang") == "en"
        first = page.locator(".services .choice label").first.inner_text()
        _through_the_steps(page, service=first, staff="Anyone available", shots=True)
        expect(page.locator("#first-free")).to_be_visible()
        # A day some days ahead, the salon open (Tuesday to Saturday): a time later
        # today may be too near to book by the time the test reaches it.
        day = dt.datetime.now(salon.tz).date() + dt.timedelta(days=3)
        while day.weekday() not in (1, 2, 3, 4, 5):
            day += dt.timedelta(days=1)
        link = page.locator(f'a.day[data-day="{day.isoformat()}"]')
        if link.count() == 0:
            page.locator("#next-week").click()
            link.wait_for()
        link.click()
        page.locator(f'a.day[data-day="{day.isoformat()}"][aria-current]').wait_for()
        page.locator("button.time").first.click()
        expect(page.locator("#step-details")).to_be_visible()
        _clean(page)
        page.fill("#id_name", "Lea Martin")
        page.fill("#id_email", "lea@example.org")
        page.locator("#next").click()
        expect(page.locator("#step-recap")).to_be_visible()
        _clean(page)
        _shot(page, "steps-recap.png")
        full = page.locator("#book-full")
        expect(full).to_have_text(re.compile(r"^Pay €\d+\.\d\d now$"))
        amount = full.inner_text().split()[1]
        full.click()
        page.wait_for_url(re.compile(r"/pay/$"))
        expect(page.locator("main")).to_contain_text(f"Amount to pay now: {amount}")
        _clean(page)
        page.locator("#pay").click()
        page.wait_for_url(re.compile(r"/demo/booking/[^/]+/$"))
        expect(page.locator("h1")).to_have_text("Your appointment is confirmed")
        _clean(page)
    finally:
        context.close()
    assert errors == []
