"""The booking page books a visit: several services in the order the client picked them,
the add-ons the salon suggests, the visit's total time, price and deposit, then a time
from the visit's own availability; the confirmation, manage page and calendar file list
its items. Without JavaScript (Django's test client), then in a browser at a phone's
size, in French and in English, paying the deposit in test mode."""

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import icalendar
import pytest

from bookings.models import Booking, BookingItem, Service
from bookings.services import (
    booking_manage_token,
    catalogue_service_save,
    staff_save,
)
from deposits.services import policy_set
from tenants.scoping import salon_scope
from tests.conftest import Catalogue

pytestmark = pytest.mark.django_db

POLICY: dict[str, Any] = {
    "rule": {"kind": "fixed", "value": 1500},
    "ramp": [],
    "allow_full_payment": True,
    "cancellation_window_hours": 48,
    "late_cancellation": "credit",
    "credit_valid_days": 90,
}
TUESDAY = "2027-03-02"  # the clock is frozen on the Monday before


@dataclass
class Bella:
    catalogue: Catalogue
    colour: Service  # 60 min, its colourist free 15..45: Alice only; suggests the fringe
    fringe: Service  # 20 min: Alice only


@pytest.fixture
def bella(catalogue_a) -> Bella:
    salon = catalogue_a.salon
    with salon_scope(salon):
        policy_set(salon=salon, **POLICY)
        fringe = catalogue_service_save(
            salon=salon, service=None, name="Frange", duration_minutes=20, price=1500
        )
        colour = catalogue_a.colour
        colour.processing_offset_minutes, colour.processing_minutes = 15, 30
        catalogue_service_save(salon=salon, service=colour, addons=[fringe])
        staff_save(
            salon=salon,
            staff=catalogue_a.alice,
            service_ids=[catalogue_a.cut.pk, colour.pk, fringe.pk],
        )
    return Bella(catalogue_a, colour, fringe)


def _visit(bella: Bella) -> dict:
    """A colour, then a cut: the order picked, not the list's."""
    cut, colour = bella.catalogue.cut, bella.colour
    return {"services": [cut.pk, colour.pk], "order": f"{colour.pk},{cut.pk}"}


def _form(bella: Bella, start: str, **changes) -> dict:
    return {
        **_visit(bella),
        "start": start,
        "name": "Léa Martin",
        "phone": "06 12 34 56 78",
        "email": "",
        "notes": "",
        "payment_option": "deposit",
        "action": "book",
        **changes,
    }


def _text(answer) -> str:
    return re.sub(r"[ \t\r\n]+", " ", answer.content.decode())


def test_the_page_adds_up_the_visit_and_offers_its_times(client, bella, monday):
    page = client.get("/bella/book/", _visit(bella), HTTP_ACCEPT_LANGUAGE="fr")
    assert page.status_code == 200
    text = _text(page)
    # Ticked, in the order picked, with the visit's total time, price and deposit (the
    # fixed €15 on each service).
    assert re.search(rf'id="service-{bella.colour.pk}"[^>]*checked', text)
    assert re.search(rf'id="service-{bella.catalogue.cut.pk}"[^>]*checked', text)
    items = re.search(r'<ol class="visit-items">(.*?)</ol>', text).group(1)
    assert items.index("Couleur") < items.index("Coupe")
    assert "1 h 45" in text and "150,00\u00a0€" in text and "30,00\u00a0€" in text
    assert 'id="due-now">30,00\u00a0€' in text
    # The salon suggests the fringe with the colour.
    assert f'name="add" value="{bella.fringe.pk}"' in text and "Ajouter Frange" in text
    # The Enter key goes on (the form's first button), never adds an add-on.
    form = text[text.index('id="step-form"') :]
    first = re.search(r"<button[^>]*>", form).group(0)
    assert first == '<button type="submit" hidden tabindex="-1">'
    # The colour's colourist is free during its processing time: the visit starts at 9.
    times = _text(
        client.get(
            "/bella/book/", {**_visit(bella), "staff": "any", "step": "time", "day": TUESDAY}
        )
    )
    assert 'value="2027-03-02T09:00:00+01:00"' in times
    english = _text(client.get("/bella/book/", _visit(bella), HTTP_ACCEPT_LANGUAGE="en"))
    assert "Total time" in english and "1 h 45" in english and "€150.00" in english
    assert "Often added to Couleur:" in english


def test_an_add_on_joins_the_visit_without_booking(client, bella, monday):
    answer = client.get(
        "/bella/book/", {**_visit(bella), "add": bella.fringe.pk}, HTTP_ACCEPT_LANGUAGE="fr"
    )
    assert answer.status_code == 200
    text = _text(answer)
    assert re.search(rf'id="service-{bella.fringe.pk}"[^>]*checked', text)
    order = f"{bella.colour.pk},{bella.catalogue.cut.pk},{bella.fringe.pk}"
    assert f'name="order" value="{order}"' in text
    assert "2 h 05" in text and "165,00\u00a0€" in text and "45,00\u00a0€" in text
    assert f'name="add" value="{bella.fringe.pk}"' not in text
    assert "Choose a time." not in text  # nothing was checked: it was not a booking
    with salon_scope(bella.catalogue.salon.pk):
        assert not Booking.objects.exists()


def test_a_visit_is_booked_in_the_order_picked_and_listed_everywhere(
    client, settings, bella, monday
):
    settings.PAYMENTS_TEST_MODE = True
    answer = client.post("/bella/book/", _form(bella, "2027-03-02T09:00:00+01:00"))
    assert answer.status_code == 302 and answer["Location"].endswith("/pay/")
    with salon_scope(bella.catalogue.salon.pk):
        booking = Booking.objects.get()
        items = list(BookingItem.objects.order_by("position"))
    assert [i.service_id for i in items] == [bella.colour.pk, bella.catalogue.cut.pk]
    assert booking.price == 15000
    pay = _text(client.get(answer["Location"], HTTP_ACCEPT_LANGUAGE="en"))
    assert "Amount to pay now: <strong>€30.00</strong>" in pay
    listed = re.search(r'<ol class="visit-items" id="booking-items">(.*?)</ol>', pay).group(1)
    colour, cut = "<strong>Couleur</strong>", "<strong>Coupe</strong>"
    assert re.search(rf"09:00\u201310:00</span> {colour} <span>with Alice</span>", listed)
    assert re.search(rf"10:00\u201310:45</span> {cut} <span>with \w+</span>", listed)
    done = client.post(answer["Location"])
    confirmation = _text(client.get(done["Location"], HTTP_ACCEPT_LANGUAGE="fr"))
    assert "Votre rendez-vous est confirmé" in confirmation
    assert f"09:00\u201310:00</span> {colour} <span>avec Alice</span>" in confirmation
    token = booking_manage_token(booking)
    manage = _text(client.get(f"/manage/{token}/", HTTP_ACCEPT_LANGUAGE="fr"))
    assert "<strong>Coupe</strong>" in manage and "mardi 2 mars 2027, 09:00 \u2013 10:45" in manage
    ics = client.get(done["Location"] + "calendar.ics")
    (event,) = icalendar.Calendar.from_ical(ics.content).walk("VEVENT")
    assert str(event["SUMMARY"]) == "Couleur + Coupe · Bella Coiffure"
    assert event.decoded("DTEND") == dt.datetime(2027, 3, 2, 9, 45, tzinfo=dt.UTC)


def test_too_many_services_is_a_form_error(client, bella, monday):
    salon = bella.catalogue.salon
    with salon_scope(salon):
        more = [
            catalogue_service_save(
                salon=salon, service=None, name=f"Soin {n}", duration_minutes=15, price=1000
            )
            for n in range(4)
        ]
    ids = [bella.colour.pk, bella.catalogue.cut.pk] + [s.pk for s in more]
    answer = client.post(
        "/bella/book/",
        _form(bella, "2027-03-02T09:00:00+01:00", services=ids, order=""),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert answer.status_code == 400
    assert "Choose at most 5 services for one appointment." in answer.content.decode()
    french = client.post(
        "/bella/book/",
        _form(bella, "2027-03-02T09:00:00+01:00", services=ids, order=""),
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert french.status_code == 400
    assert "Choisissez au plus 5 prestations pour un rendez-vous." in french.content.decode()
    # Shown (not booked), the page says so too rather than look for times.
    shown = client.get("/bella/book/", {"services": ids}, HTTP_ACCEPT_LANGUAGE="en")
    assert shown.status_code == 200
    assert "Choose at most 5 services for one appointment." in shown.content.decode()
    with salon_scope(salon.pk):
        assert not Booking.objects.exists()


def test_another_salons_service_is_a_form_error(client, bella, catalogue_b, monday):
    theirs = catalogue_b.cut.pk
    for changes in (
        {"services": [bella.colour.pk, theirs], "order": ""},
        {"services": [], "order": "", "service": theirs},
        {"services": ["x"], "order": "1,x"},
    ):
        answer = client.post(
            "/bella/book/",
            _form(bella, "2027-03-02T09:00:00+01:00", **changes),
            HTTP_ACCEPT_LANGUAGE="en",
        )
        assert answer.status_code == 400, changes
        assert "Choose a service from the list." in answer.content.decode()
    nothing = client.post(
        "/bella/book/",
        _form(bella, "2027-03-02T09:00:00+01:00", services=[], order=""),
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert nothing.status_code == 400
    assert "Choisissez une prestation." in nothing.content.decode()
    # Shown, an unknown id is left out.
    shown = client.get("/bella/book/", {"services": [theirs, bella.colour.pk]})
    assert shown.status_code == 200
    for salon in (bella.catalogue.salon, catalogue_b.salon):
        with salon_scope(salon.pk):
            assert not Booking.objects.exists()


def test_a_visit_moves_as_a_whole_from_the_manage_page(client, settings, bella, monday):
    settings.PAYMENTS_TEST_MODE = True
    answer = client.post("/bella/book/", _form(bella, "2027-03-02T09:00:00+01:00"))
    client.post(answer["Location"])
    with salon_scope(bella.catalogue.salon.pk):
        booking = Booking.objects.get()
    token = booking_manage_token(booking)
    page = _text(client.get(f"/manage/{token}/reschedule/", {"day": "2027-03-03"}))
    assert 'value="2027-03-03T09:00:00+01:00"' in page
    assert answer.status_code == 302
    moved = client.post(
        f"/manage/{token}/reschedule/", {"start": "2027-03-03T14:00:00+01:00", "staff": ""}
    )
    assert moved.status_code == 302
    with salon_scope(bella.catalogue.salon.pk):
        starts = [
            i.start.astimezone(bella.catalogue.salon.tz).strftime("%d %H:%M")
            for i in BookingItem.objects.order_by("position")
        ]
    assert starts == ["03 14:00", "03 15:00"]


# Browser: Debian's Chromium on the live server, at a phone's size ------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("locale", ["fr-FR", "en-US"])
def test_a_client_books_a_colour_and_cut_on_a_phone_and_pays_the_deposit(
    chromium, pages_server, settings, bella, locale
):
    """A colour (its processing time frees Alice) then a cut: picked on the page, the
    fringe suggested and declined, the visit's total read, a time picked, the deposit paid
    in test mode; the confirmation lists both services."""
    from playwright.sync_api import expect

    from tests.browser.harness import PHONE, SCREENSHOTS, axe_violations
    from tests.web.public.test_client import _ahead, _watch

    settings.PAYMENTS_TEST_MODE = True
    french = locale == "fr-FR"
    context = chromium.new_context(
        viewport=PHONE, locale=locale, base_url=pages_server.url, is_mobile=True, has_touch=True
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors = _watch(page)
    salon = bella.catalogue.salon
    day = _ahead(salon, 2)
    summary = page.locator("[data-visit-summary]")
    try:
        page.goto("/bella/book/")
        assert page.locator("html").get_attribute("lang") == locale[:2]
        assert summary.is_hidden()
        assert axe_violations(page) == []
        page.locator(f"label[for=service-{bella.colour.pk}]").click()
        page.locator(f"label[for=service-{bella.catalogue.cut.pk}]").click()
        # The fringe the salon suggests with a colour: shown once the choice is sent.
        page.locator("#next").click()
        expect(page.locator("#step-staff")).to_be_visible()
        price, deposit = ("150,00\u00a0€", "30,00\u00a0€") if french else ("€150.00", "€30.00")
        expect(page.locator("#summary-price")).to_have_text(price)
        expect(page.locator("#due-now")).to_have_text(deposit)
        assert page.locator("#summary li").nth(0).inner_text().startswith("Couleur")
        page.locator("nav.steps-nav a").first.click()
        expect(page.locator("#step-services")).to_be_visible()
        duration = summary.locator("[data-visit-duration]")
        expect(duration).to_have_text("1 h 45")
        # Added, then taken off again.
        page.locator(f"[data-addon='{bella.fringe.pk}']").click()
        expect(page.locator(f"#service-{bella.fringe.pk}")).to_be_checked()
        expect(duration).to_have_text("2 h 05")
        page.locator(f"label[for=service-{bella.fringe.pk}]").click()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert axe_violations(page) == []
        page.locator("#next").click()
        expect(page.locator("#step-staff")).to_be_visible()
        expect(page.locator("#due-now")).to_have_text(deposit)
        page.locator("label[for=staff-any]").click()
        page.locator("#next").click()
        expect(page.locator("#step-time")).to_be_visible()
        assert axe_violations(page) == []
        if page.locator(f'a.day[data-day="{day.isoformat()}"]').count() == 0:
            page.locator("#next-week").click()
        page.locator(f'a.day[data-day="{day.isoformat()}"]').click()
        page.locator(f'button.time[value^="{day.isoformat()}T10:00"]').click()
        expect(page.locator("#step-details")).to_be_visible()
        page.fill("#id_name", "Léa Martin")
        page.fill("#id_phone", "06 12 34 56 78")
        assert axe_violations(page) == []
        page.locator("#next").click()
        expect(page.locator("#step-recap")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert axe_violations(page) == []
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"visit-{locale}.png"), full_page=True)
        expect(page.locator("#book")).to_contain_text(deposit)
        page.locator("#book").click()
        page.wait_for_url(re.compile(r"/bella/booking/[^/]+/pay/$"))
        assert ("MODE TEST" if french else "TEST MODE") in page.content()
        assert deposit in page.locator("main").inner_text()
        assert axe_violations(page) == []
        page.locator("#pay").click()
        page.wait_for_url(re.compile(r"/bella/booking/[^/]+/$"))
        confirmed = "Votre rendez-vous est confirmé" if french else "Your appointment is confirmed"
        assert page.locator("h1").inner_text() == confirmed
        items = page.locator("#booking-items li")
        page.screenshot(path=str(SCREENSHOTS / f"visit-done-{locale}.png"), full_page=True)
        assert items.count() == 2
        assert items.nth(0).inner_text().startswith("10:00\u201311:00 Couleur")
        assert ("avec Alice" if french else "with Alice") in items.nth(0).inner_text()
        assert items.nth(1).inner_text().startswith("11:00\u201311:45 Coupe")
        assert axe_violations(page) == []
    finally:
        context.close()
    with salon_scope(salon.pk):
        booking = Booking.objects.get()
        payment = booking.payments.get()
        services = [i.service_id for i in booking.items.order_by("position")]
    assert services == [bella.colour.pk, bella.catalogue.cut.pk]
    assert booking.status == "confirmed" and booking.start.astimezone(salon.tz).date() == day
    assert (payment.amount, payment.status) == (3000, "succeeded")
    assert errors == []
