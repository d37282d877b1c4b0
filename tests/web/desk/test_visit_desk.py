"""Visits at the desk: a phone booking of several services and of several people (a couple,
each with a service, at the same time with two staff members), the calendar listing a
visit's items with the processing time, and the form's errors (never a 500). The browser
test of a couple's booking is here too."""

import datetime as dt
import re

import pytest
import time_machine
from playwright.sync_api import expect

from bookings.models import Booking, BookingItem
from bookings.services import catalogue_service_save
from deposits.models import Payment, PaymentStatus
from deposits.services import policy_set
from messaging import sms
from messaging.outbox import messages_run
from tenants.scoping import salon_scope
from tests.browser.harness import PHONE, SCREENSHOTS, axe_violations
from tests.conftest import MONDAY, local
from tests.factories import PASSWORD, CustomerFactory

BOOK = "/desk/bella/book/"


def _client(salon, name="Jeanne Martin", phone="+33612345678"):
    with salon_scope(salon):
        return CustomerFactory(salon=salon, name=name, phone=phone, email=None)


@pytest.fixture
def processing(catalogue_a):
    """The colour's setting time (15 to 45 minutes in) frees its colourist."""
    with salon_scope(catalogue_a.salon):
        colour = catalogue_a.colour
        colour.processing_offset_minutes, colour.processing_minutes = 15, 30
        catalogue_service_save(salon=catalogue_a.salon, service=colour)
    return catalogue_a


def _form(client, start: dt.datetime, services, **changes) -> dict:
    return {
        "step": "book",
        "customer": str(client.pk),
        "service": [str(s.pk) for s in services],
        "staff": "",
        "day": start.date().isoformat(),
        "start": start.astimezone(dt.UTC).isoformat(),
        "deposit_handling": "waived",
        "waiver_reason": "Fidèle",
        "send_via": "",
        "notes": "",
        **changes,
    }


def _text(answer) -> str:
    return re.sub(r"[ \t\r\n]+", " ", answer.content.decode())


@pytest.mark.django_db
def test_a_colour_and_cut_is_taken_in_order_and_the_calendar_shows_the_processing_time(
    client, team_a, processing, monday
):
    catalogue = processing
    jeanne = _client(team_a.salon)
    client.force_login(team_a.staff)
    form = client.get(BOOK, {"day": "2027-03-02"}, HTTP_ACCEPT_LANGUAGE="en")
    assert form.status_code == 200
    text = _text(form)
    assert text.count('name="service"') == 5 and 'id="id_service"' in text
    # The free times of the visit, asked without JavaScript, show when it ends.
    shown = client.post(
        BOOK,
        {"step": "slots", "day": "2027-03-02", "service": [catalogue.colour.pk, catalogue.cut.pk]},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "09:00\u201310:45" in _text(shown)
    answer = client.post(
        BOOK, _form(jeanne, local(team_a.salon, 1, 9), [catalogue.colour, catalogue.cut])
    )
    assert answer.status_code == 302, _text(answer)
    with salon_scope(team_a.salon):
        booking = Booking.objects.get()
        items = list(BookingItem.objects.order_by("position"))
    assert [i.service_id for i in items] == [catalogue.colour.pk, catalogue.cut.pk]
    assert booking.source == "phone"

    day = _text(client.get("/desk/bella/?date=2027-03-02", HTTP_ACCEPT_LANGUAGE="en"))
    assert "09:00\u201310:00</span> <span>Couleur · Alice</span>" in day
    assert "Processing 09:15\u201309:45: Alice is free" in day
    french = _text(client.get("/desk/bella/?date=2027-03-02", HTTP_ACCEPT_LANGUAGE="fr"))
    assert "Pose 09:15\u201309:45\u00a0: Alice est libre" in french
    page = _text(client.get(answer["Location"], HTTP_ACCEPT_LANGUAGE="en"))
    assert 'id="booking-items"' in page and "Coupe" in page and "Couleur" in page


@pytest.mark.django_db
def test_a_couple_is_one_booking_with_two_staff_at_the_same_time(
    client, settings, team_a, catalogue_a, monday
):
    settings.SMS_BACKEND = "locmem"
    sms.outbox.clear()
    with salon_scope(team_a.salon):
        policy_set(salon=team_a.salon, rule={"kind": "fixed", "value": 1500}, ramp=[])
    jeanne = _client(team_a.salon)
    client.force_login(team_a.staff)
    start = local(team_a.salon, 1, 10)
    slots = client.get(
        BOOK + "slots/",
        {
            "day": "2027-03-02",
            "service": catalogue_a.cut.pk,
            "guest-1-name": "Marc",
            "guest-1-service": catalogue_a.cut.pk,
        },
    ).json()["slots"]
    assert {"value": start.astimezone(dt.UTC).isoformat(), "label": "10:00\u201310:45"} in slots
    answer = client.post(
        BOOK,
        _form(
            jeanne,
            start,
            [catalogue_a.cut],
            **{"guest-1-name": "Marc", "guest-1-service": [str(catalogue_a.cut.pk), ""]},
        ),
    )
    assert answer.status_code == 302, _text(answer)
    with salon_scope(team_a.salon):
        booking = Booking.objects.get()
        items = list(BookingItem.objects.order_by("position"))
        payment = Payment.objects.get()
    assert [(i.guest, i.start) for i in items] == [("", start), ("Marc", start)]
    assert {i.staff_id for i in items} == {catalogue_a.alice.pk, catalogue_a.bob.pk}
    assert booking.price == 12000
    assert (payment.amount, payment.status) == (3000, PaymentStatus.WAIVED)
    day = _text(client.get("/desk/bella/?date=2027-03-02", HTTP_ACCEPT_LANGUAGE="en"))
    # In both columns, the guest named.
    assert day.count("Jeanne Martin") == 2 and "for Marc" in day
    # The confirmation names both services and both staff members.
    with salon_scope(team_a.salon):
        messages_run(salon=team_a.salon)
    (text,) = sms.outbox
    assert "Coupe + Coupe (Marc) avec " in text.body
    assert re.search(r"avec (Alice, Bob|Bob, Alice) le mardi 2 mars 2027", text.body)
    assert "à 10:00" in text.body


@pytest.mark.django_db
def test_the_forms_errors_are_on_its_rows_never_a_500(
    client, team_a, catalogue_a, catalogue_b, monday
):
    jeanne = _client(team_a.salon)
    client.force_login(team_a.staff)
    start = local(team_a.salon, 1, 10)
    cut = catalogue_a.cut
    cases = [
        ({"service": [str(cut.pk)] * 6}, "Choose at most 5 services for one appointment."),
        ({"service": [str(cut.pk), str(catalogue_b.cut.pk)]}, "Choose a service from the list."),
        ({"service": ["x"]}, "Choose a service from the list."),
        ({"service": [""]}, "Choose a service."),
        ({"guest-1-service": [str(cut.pk)]}, "Tell us this guest&#x27;s name."),
        ({"guest-1-name": "Marc"}, "Choose a service for this guest."),
        (
            {"guest-2-name": "Eve", "guest-2-service": [str(catalogue_b.colour.pk)]},
            "Choose a service from the list.",
        ),
    ]
    for changes, message in cases:
        answer = client.post(
            BOOK, {**_form(jeanne, start, [cut]), **changes}, HTTP_ACCEPT_LANGUAGE="en"
        )
        assert answer.status_code == 400, changes
        assert message in answer.content.decode(), changes
    french = client.post(
        BOOK, {**_form(jeanne, start, [cut]), "guest-1-name": "Marc"}, HTTP_ACCEPT_LANGUAGE="fr"
    )
    assert "Choisissez une prestation pour cette personne." in french.content.decode()
    # The free times of a visit with another salon's service: none, not an error.
    slots = client.get(
        BOOK + "slots/", {"day": "2027-03-02", "service": [cut.pk, catalogue_b.cut.pk]}
    )
    assert slots.status_code == 200
    for salon in (team_a.salon, catalogue_b.salon):
        with salon_scope(salon):
            assert not Booking.objects.exists()


def _log_in(page, username: str) -> None:
    page.goto("/desk/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/desk/bella/$"))


@pytest.mark.django_db(transaction=True)
def test_staff_book_a_couple_at_the_same_time_with_two_staff_on_a_phone(
    chromium, pages_server, team_a, catalogue_a
):
    """A couple on the phone: the client and her partner, a cut each, at 11:00 on the
    Tuesday; Alice and Bob take one each. At a phone's size, in French, axe-clean."""
    _client(team_a.salon)
    context = chromium.new_context(
        viewport=PHONE, locale="fr-FR", base_url=pages_server.url, is_mobile=True, has_touch=True
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    eleven = "2027-03-02T10:00:00+00:00"  # 11:00 in Paris
    try:
        with time_machine.travel(MONDAY, tick=True):
            _log_in(page, "bella-staff")
            page.goto("/desk/bella/book/?day=2027-03-02")
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            assert page.locator("#id_service_2").is_hidden()  # spare rows folded
            assert axe_violations(page) == []
            page.fill("#q", "06 12 34 56 78")
            page.locator("#matches input[type=radio]").first.wait_for()
            page.locator("#matches input[type=radio]").first.check()
            with page.expect_response(lambda answer: "/book/slots/" in answer.url):
                page.select_option("#id_service", str(catalogue_a.cut.pk))
            page.locator("#guests summary").click()
            page.fill("#id_guest-1-name", "Marc")
            with page.expect_response(lambda answer: "/book/slots/" in answer.url):
                page.select_option("#id_guest-1-service-1", str(catalogue_a.cut.pk))
            # the guest's row may start a second request: wait for the couple's times
            expect(page.locator("#slots")).to_contain_text("11:00\u201311:45")
            slot = page.locator(f"#slots input[value='{eleven}']")
            slot.check()
            page.check("#handling-waived")
            page.fill("#id_waiver_reason", "Couple fidèle")
            assert axe_violations(page) == []
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "desk-couple.png"), full_page=True)
            page.click("#take-booking")
            page.wait_for_url(re.compile(r"/desk/bella/bookings/\d+/$"))
            items = page.locator("#booking-items").inner_text()
            assert "pour Marc" in items and "Alice" in items and "Bob" in items
            assert axe_violations(page) == []
            page.goto("/desk/bella/?date=2027-03-02")
            page.screenshot(path=str(SCREENSHOTS / "desk-couple-day.png"), full_page=True)
            for name in ("Alice", "Bob"):
                column = page.locator("section", has=page.locator("h2", has_text=name))
                assert "Jeanne Martin" in column.inner_text()
                assert "11:00" in column.inner_text()
            assert axe_violations(page) == []
    finally:
        context.close()
    with salon_scope(team_a.salon):
        items = list(BookingItem.objects.order_by("position"))
    assert [i.guest for i in items] == ["", "Marc"]
    assert {i.staff_id for i in items} == {catalogue_a.alice.pk, catalogue_a.bob.pk}
    assert {i.start for i in items} == {dt.datetime(2027, 3, 2, 10, tzinfo=dt.UTC)}
    assert errors == []
