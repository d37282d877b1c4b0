"""The waitlist in a browser: Debian's Chromium at a phone's size, in French, axe-core on
every page. A client for whom no time suits asks to be told when one frees up, from the
booking steps; she sees her place and leaves the list in one click."""

import datetime as dt
import re

import pytest

from bookings.models import Booking, Status
from bookings.services import booking_cancel
from deposits.models import Payment
from deposits.services import policy_set
from messaging import sms
from messaging.outbox import messages_run
from support.models import FreedTime, WaitlistEntry, WaitlistSource, WaitlistStatus
from support.refill import waitlist_run
from tenants.models import Salon
from tenants.scoping import salon_scope
from tests.conftest import book
from tests.factories import CustomerFactory


def _clean(page) -> None:
    from tests.browser.harness import axe_violations

    assert axe_violations(page) == []


def _shot(page, name: str) -> None:
    from tests.browser.harness import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


@pytest.mark.django_db(transaction=True)
def test_a_phone_in_french_joins_the_waitlist_from_the_booking_steps(
    chromium, pages_server, catalogue_a
):
    from playwright.sync_api import expect

    from tests.browser.harness import PHONE

    context = chromium.new_context(viewport=PHONE, locale="fr-FR", base_url=pages_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(f"/bella/book/?service={catalogue_a.cut.pk}")
        page.locator("#next").click()
        expect(page.locator("#step-staff")).to_be_visible()
        page.get_by_label("Alice", exact=True).check()
        page.locator("#next").click()
        expect(page.locator("#step-time")).to_be_visible()
        # None of these times suits her.
        page.locator("#waitlist-link a").click()
        expect(page.locator("#step-waitlist")).to_be_visible()
        expect(page.locator("#waitlist-title")).to_have_text(
            "Prévenez-moi quand un créneau se libère"
        )
        _clean(page)
        expect(page.locator("#id_staff")).to_have_value(str(catalogue_a.alice.pk))
        expect(page.locator("#id_consent")).not_to_be_checked()
        page.get_by_label("Après-midi (de 12 h à 17 h)").check()
        page.locator("#id_name").fill("Léa Martin")
        page.locator("#id_phone").fill("06 12 34 56 78")
        # Without her consent: the form says so, and keeps what she typed.
        page.locator("#join-waitlist").click()
        expect(page.locator("#id_consent-error")).to_be_visible()
        expect(page.locator("#form-errors")).to_be_visible()
        expect(page.locator("#id_name")).to_have_value("Léa Martin")
        _clean(page)
        _shot(page, "waitlist-step.png")
        page.get_by_label(re.compile("Prévenez-moi par SMS")).check()
        page.locator("#join-waitlist").click()
        page.wait_for_url(re.compile(r"/bella/waitlist/[^/]+/joined/$"))
        expect(page.locator("h1")).to_have_text("Vous êtes sur la liste d\u2019attente")
        expect(page.locator("#wishes")).to_contain_text("Coupe")
        expect(page.locator("#wishes")).to_contain_text("Alice")
        expect(page.locator("#wishes")).to_contain_text("Après-midi")
        _clean(page)
        page.locator("#entry-link").click()
        page.wait_for_url(re.compile(r"/bella/waitlist/[^/]+/$"))
        expect(page.locator("h1")).to_have_text("Ma place sur la liste d\u2019attente")
        expect(page.locator("#status-title")).to_contain_text("En attente")
        _clean(page)
        _shot(page, "waitlist-entry.png")
        page.locator("#leave").click()
        expect(page.locator(".flash")).to_contain_text("Vous avez quitté la liste d\u2019attente")
        expect(page.locator("#leave")).to_have_count(0)
        _clean(page)
    finally:
        context.close()
    with salon_scope(catalogue_a.salon):
        entry = WaitlistEntry.objects.select_related("customer").get()
    assert entry.source == WaitlistSource.WEB and entry.status == WaitlistStatus.LEFT
    assert entry.parts_of_day == ["afternoon"] and entry.staff_id == catalogue_a.alice.pk
    assert entry.consent_at is not None and entry.customer.name == "Léa Martin"
    assert errors == []


def _weekday_ahead(salon, days: int) -> dt.date:
    day = dt.datetime.now(salon.tz).date() + dt.timedelta(days=days)
    return day + dt.timedelta(days=1) if day.weekday() == 6 else day


@pytest.mark.django_db(transaction=True)
def test_a_freed_time_reaches_her_by_text_and_she_books_it_with_its_deposit(
    chromium, pages_server, settings, catalogue_a
):
    """Joined from the booking page; a cancellation frees a time that suits her; the
    sweep offers it by text message; she opens the link, accepts, pays the deposit."""
    from playwright.sync_api import expect

    from tests.browser.harness import PHONE

    settings.PAYMENTS_TEST_MODE = True
    settings.SMS_BACKEND = "locmem"
    settings.SITE_URL = pages_server.url
    sms.outbox.clear()
    salon = catalogue_a.salon
    with salon_scope(salon):
        policy_set(
            salon=salon,
            rule={"kind": "fixed", "value": 1500},
            ramp=[],
            cancellation_window_hours=48,
        )
    # The salon writes at any hour (its quiet hours would otherwise hold the offer back
    # until the morning, whenever this test runs).
    Salon.objects.filter(pk=salon.pk).update(quiet_hours={})
    day = _weekday_ahead(salon, 3)
    context = chromium.new_context(viewport=PHONE, locale="fr-FR", base_url=pages_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(
            f"/bella/book/?service={catalogue_a.cut.pk}&staff={catalogue_a.alice.pk}"
            f"&step=time&day={day.isoformat()}"
        )
        expect(page.locator("#step-time")).to_be_visible()
        page.locator("#waitlist-link a").click()
        expect(page.locator("#step-waitlist")).to_be_visible()
        expect(page.locator("#id_from")).to_have_value(day.isoformat())
        page.locator("#id_name").fill("Léa Martin")
        page.locator("#id_phone").fill("06 12 34 56 78")
        page.locator("#id_consent").check()
        page.locator("#join-waitlist").click()
        page.wait_for_url(re.compile(r"/bella/waitlist/[^/]+/joined/$"))
        entry_url = page.locator("#entry-link").get_attribute("href")

        # Someone else's appointment that day at 10:00 with Alice is cancelled; the
        # sweep records the freed time and offers it, the outbox sends the text.
        start = dt.datetime.combine(day, dt.time(10), tzinfo=salon.tz)
        with salon_scope(salon):
            other = CustomerFactory(salon=salon, name="Nina Petit", phone="+33698765432")
        taken = book(catalogue_a, other, start, staff=catalogue_a.alice)
        with salon_scope(salon):
            booking_cancel(booking=taken, by_salon=True)
            waitlist_run(salon=salon)
            messages_run(salon=salon)
        [text] = [m for m in sms.outbox if m.to == "+33612345678"]
        assert re.search(r"un créneau s['\u2019]est libéré", text.body)
        link = re.search(r"https?://\S+/waitlist/offers/[^/\s]+/", text.body).group(0)

        # Her place shows the offer too.
        page.goto(entry_url)
        expect(page.locator("#offers a.button")).to_have_count(1)
        _clean(page)
        page.goto(link)
        expect(page.locator("#accept")).to_have_text(
            "Le réserver et régler l\u2019acompte de 15,00\u00a0€"
        )
        _clean(page)
        page.locator("#accept").click()
        page.wait_for_url(re.compile(r"/bella/booking/[^/]+/pay/$"))
        _clean(page)
        page.locator("#pay").click()
        page.wait_for_url(re.compile(r"/bella/booking/[^/]+/$"))
        expect(page.locator("h1")).to_have_text("Votre rendez-vous est confirmé")
        _clean(page)
        page.goto(entry_url)
        expect(page.locator("#status-title")).to_contain_text("Réservé")
    finally:
        context.close()
    with salon_scope(salon):
        entry = WaitlistEntry.objects.get()
        booking = Booking.objects.get(pk=entry.booking_id)
        freed = FreedTime.objects.get()
        payment = Payment.objects.get(booking=booking)
    assert entry.status == WaitlistStatus.BOOKED
    assert booking.status == Status.CONFIRMED and booking.start == start
    assert booking.staff_id == catalogue_a.alice.pk
    assert freed.refilled_by_id == booking.pk
    assert (payment.amount, payment.kind, payment.status) == (1500, "deposit", "succeeded")
    assert errors == []
