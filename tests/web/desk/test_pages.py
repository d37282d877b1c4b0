"""The front desk's pages: sign in, the calendar, a booking taken on the phone, what staff
do with a booking, and the log of client requests. Two salons: one's staff never see or
touch the other's."""

import datetime as dt
import re

import pytest
import time_machine

from bookings.models import Booking, Status
from deposits.models import Payment, PaymentStatus
from deposits.services import policy_set
from support.models import CustomerRequest, RequestStatus
from support.services import request_open
from tenants.scoping import salon_scope
from tests.browser.harness import PHONE, SCREENSHOTS, axe_violations
from tests.conftest import MONDAY, book, local
from tests.factories import PASSWORD, CustomerFactory

DESK = "/desk/{slug}/"


def _deposit(salon) -> None:
    with salon_scope(salon):
        policy_set(
            salon=salon, rule={"kind": "fixed", "value": 1500}, ramp=[], payment_link_hours=24
        )


def _client(salon, name="Jeanne Martin", phone="+33612345678"):
    with salon_scope(salon):
        return CustomerFactory(salon=salon, name=name, phone=phone, email=None)


def _book_form(catalogue, client, start: dt.datetime, **changes) -> dict:
    return {
        "step": "book",
        "customer": str(client.pk),
        "service": str(catalogue.cut.pk),
        "staff": str(catalogue.alice.pk),
        "day": start.date().isoformat(),
        "start": start.astimezone(dt.UTC).isoformat(),
        "deposit_handling": "waived",
        "waiver_reason": "Fidèle depuis 10 ans",
        "send_via": "",
        "notes": "",
        **changes,
    }


# Without a browser: who gets in, what another salon's ids answer, form errors. ------------


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_the_login_page(client, team_a):
    answer = client.get(DESK.format(slug="bella") + "book/")
    assert answer.status_code == 302
    assert answer["Location"].startswith("/desk/login/?next=/desk/bella/book/")
    assert client.get("/desk/").status_code == 302


@pytest.mark.django_db
def test_staff_log_in_and_land_on_their_salons_desk(client, team_a):
    answer = client.post("/desk/login/", {"username": "bella-staff", "password": PASSWORD})
    assert answer.status_code == 302 and answer["Location"] == "/desk/"
    assert client.get("/desk/")["Location"] == "/desk/bella/"


@pytest.mark.django_db
def test_a_member_of_several_salons_chooses_one(client, team_a, team_b):
    from tests.factories import MembershipFactory

    MembershipFactory(salon=team_b.salon, user=team_a.staff)
    client.force_login(team_a.staff)
    answer = client.get("/desk/")
    assert answer.status_code == 200
    assert b"/desk/bella/" in answer.content and b"/desk/rival/" in answer.content


@pytest.mark.django_db
def test_the_desk_consent_box_starts_unticked(client, team_a, catalogue_a):
    """Consent is the client's to give, asked on the phone: it was ticked in advance."""
    client.force_login(team_a.staff)
    page = client.get(DESK.format(slug="bella") + "book/")
    assert page.status_code == 200
    box = re.search(rb'<input[^>]*name="reminders_consent"[^>]*>', page.content)
    assert box is not None
    assert b"checked" not in box.group(0)


@pytest.mark.django_db
def test_another_salons_member_is_refused_every_desk_page(client, team_a, team_b):
    client.force_login(team_b.staff)
    for path in ("", "book/", "requests/", "customers/search/?q=06", "book/slots/"):
        answer = client.get(DESK.format(slug="bella") + path)
        assert answer.status_code == 403, path
    answer = client.post(
        DESK.format(slug="bella") + "requests/",
        {"channel": "phone", "category": "other", "summary": "x"},
    )
    assert answer.status_code == 403
    with salon_scope(team_a.salon):
        assert not CustomerRequest.objects.exists()


@pytest.mark.django_db
def test_another_salons_booking_or_request_id_is_not_found(
    client, team_a, team_b, catalogue_a, catalogue_b, monday
):
    theirs = book(
        catalogue_b, _client(team_b.salon, phone="+14165550123"), local(team_b.salon, 1, 10)
    )
    with salon_scope(team_b.salon):
        their_request = request_open(
            salon=team_b.salon, channel="phone", category="other", summary="Une question"
        )
    client.force_login(team_a.staff)
    bella = DESK.format(slug="bella")
    assert client.get(f"{bella}bookings/{theirs.pk}/").status_code == 404
    for action in ("complete", "no-show", "cancel"):
        answer = client.post(f"{bella}bookings/{theirs.pk}/{action}/", {"reason": "x"})
        assert answer.status_code == 404, action
    assert client.get(f"{bella}requests/{their_request.pk}/").status_code == 404
    update = {"status": "resolved", "category": "other", "resolution": "x"}
    answer = client.post(f"{bella}requests/{their_request.pk}/", update)
    assert answer.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Status.CONFIRMED
    # Nor does the search find their clients.
    found = client.get(f"{bella}customers/search/?q=416 555 0123").json()
    assert found == {"results": []}


@pytest.mark.django_db
def test_the_calendar_shows_the_days_bookings_per_staff_member_in_the_salons_time(
    client, team_a, catalogue_a, monday
):
    jeanne = _client(team_a.salon)
    book(catalogue_a, jeanne, local(team_a.salon, 0, 10), staff=catalogue_a.bob)
    client.force_login(team_a.staff)
    page = client.get(DESK.format(slug="bella"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Jeanne Martin" in page and "06 12 34 56 78" in page
    assert "10:00\u201310:45" in page  # 09:00 UTC, told in Paris time
    assert re.search(r"Bob</h2>\s*<ol", page)
    week = client.get(DESK.format(slug="bella") + "?view=week&date=2027-03-03").content.decode()
    assert "Jeanne Martin" in week
    other_day = client.get(DESK.format(slug="bella") + "?date=2027-03-02").content.decode()
    assert "Jeanne Martin" not in other_day


@pytest.mark.django_db
def test_a_waiver_without_a_reason_is_refused_on_the_form(client, team_a, catalogue_a, monday):
    _deposit(team_a.salon)
    jeanne = _client(team_a.salon)
    client.force_login(team_a.staff)
    form = _book_form(catalogue_a, jeanne, local(team_a.salon, 1, 10), waiver_reason=" ")
    answer = client.post(DESK.format(slug="bella") + "book/", form, HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 400
    assert "Say why the deposit is waived." in answer.content.decode()
    with salon_scope(team_a.salon):
        assert not Booking.objects.exists()


@pytest.mark.django_db
def test_a_time_taken_meanwhile_is_a_form_error(client, team_a, catalogue_a, monday):
    jeanne = _client(team_a.salon)
    start = local(team_a.salon, 1, 10)
    book(
        catalogue_a, _client(team_a.salon, "Autre", "+33611111111"), start, staff=catalogue_a.alice
    )
    client.force_login(team_a.staff)
    form = _book_form(catalogue_a, jeanne, start)
    answer = client.post(DESK.format(slug="bella") + "book/", form, HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 400
    assert "This time was just taken" in answer.content.decode()


@pytest.mark.django_db
def test_a_new_client_without_contact_is_a_form_error(client, team_a, catalogue_a, monday):
    client.force_login(team_a.staff)
    form = _book_form(
        catalogue_a, _client(team_a.salon), local(team_a.salon, 1, 10), customer="new", name="Paul"
    )
    answer = client.post(DESK.format(slug="bella") + "book/", form, HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 400
    assert "Give the new client&#x27;s phone number or e-mail." in answer.content.decode()


@pytest.mark.django_db
def test_a_payment_link_booking_shows_the_link_and_its_expiry(
    client, settings, team_a, catalogue_a, monday
):
    settings.SMS_BACKEND = "console"
    settings.PAYMENTS_TEST_MODE = True
    _deposit(team_a.salon)
    client.force_login(team_a.staff)
    form = _book_form(
        catalogue_a,
        _client(team_a.salon),
        local(team_a.salon, 1, 10),
        customer="new",
        name="Paul Durand",
        phone="06 98 76 54 32",
        deposit_handling="payment_link",
        waiver_reason="",
    )
    answer = client.post(DESK.format(slug="bella") + "book/", form, HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 302, answer.content.decode()[:3000]
    page = client.get(answer["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert re.search(r'id="payment-link" href="http[^"]+/pay/[^"]+/"', page)
    assert "held until Tuesday 2 March 2027, 08:00" in page  # 24 hours, in Paris time
    with salon_scope(team_a.salon):
        booking = Booking.objects.get()
        assert booking.status == Status.PENDING_PAYMENT and booking.customer.name == "Paul Durand"


@pytest.mark.django_db
def test_a_no_show_is_refused_before_the_start_and_taken_after(client, team_a, catalogue_a, monday):
    booking = book(catalogue_a, _client(team_a.salon), local(team_a.salon, 0, 10))
    client.force_login(team_a.staff)
    action = DESK.format(slug="bella") + f"bookings/{booking.pk}/no-show/"
    client.post(action)
    booking.refresh_from_db()
    assert booking.status == Status.CONFIRMED
    monday.move_to(MONDAY + dt.timedelta(hours=3, minutes=30))
    assert client.post(action).status_code == 302
    booking.refresh_from_db()
    assert booking.status == Status.NO_SHOW


@pytest.mark.django_db
def test_the_salon_cancels_with_a_reason_and_the_deposit_is_refunded(
    client, team_a, catalogue_a, monday
):
    _deposit(team_a.salon)
    client.force_login(team_a.staff)
    form = _book_form(
        catalogue_a,
        _client(team_a.salon),
        local(team_a.salon, 1, 10),
        deposit_handling="paid_at_desk",
        waiver_reason="",
    )
    client.post(DESK.format(slug="bella") + "book/", form)
    with salon_scope(team_a.salon):
        booking = Booking.objects.get()
    cancel = DESK.format(slug="bella") + f"bookings/{booking.pk}/cancel/"
    answer = client.post(cancel, {"reason": ""}, HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 400 and "Say why the salon cancels." in answer.content.decode()
    assert client.post(cancel, {"reason": "Coiffeuse malade"}).status_code == 302
    booking.refresh_from_db()
    assert booking.status == Status.CANCELLED and booking.cancelled_by_salon
    with salon_scope(team_a.salon):
        payment = Payment.objects.get(booking=booking)
        assert payment.status == PaymentStatus.SUCCEEDED and payment.outcome == "refunded"


@pytest.mark.django_db
def test_requests_are_logged_filtered_and_resolved(client, team_a, team_b):
    jeanne = _client(team_a.salon)
    client.force_login(team_a.staff)
    requests_page = DESK.format(slug="bella") + "requests/"
    answer = client.post(
        requests_page,
        {
            "channel": "phone",
            "category": "lost_item",
            "summary": "Parapluie oublié",
            "client": "0612345678",
            "status": "open",
            "resolution": "",
        },
    )
    assert answer.status_code == 302
    with salon_scope(team_a.salon):
        row = CustomerRequest.objects.get()
    assert row.customer_id == jeanne.pk and row.opened_by == team_a.staff
    empty = {"channel": "phone", "category": "other", "summary": " ", "status": "open"}
    assert client.post(requests_page, empty).status_code == 400
    listed = client.get(requests_page + "?category=lost_item").content.decode()
    assert "Parapluie oublié" in listed
    assert (
        "Parapluie oublié" not in client.get(requests_page + "?category=complaint").content.decode()
    )
    answer = client.post(
        requests_page + f"{row.pk}/",
        {"status": "resolved", "category": "lost_item", "resolution": "Rendu à la cliente"},
    )
    assert answer.status_code == 302
    row.refresh_from_db()
    assert row.status == RequestStatus.RESOLVED and row.resolved_at is not None


@pytest.mark.django_db
def test_pages_speak_the_salons_languages_only(client, team_a):
    team_a.salon.languages = ["fr"]
    team_a.salon.save()
    client.force_login(team_a.staff)
    answer = client.get(DESK.format(slug="bella"), HTTP_ACCEPT_LANGUAGE="en")
    assert answer["Content-Language"] == "fr"
    assert "Calendrier" in answer.content.decode()


# In a browser. -------------------------------------------------------------------------


def _log_in(page, username: str) -> None:
    page.goto("/desk/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/desk/bella/$"))


@pytest.mark.django_db(transaction=True)
def test_staff_take_a_phone_booking_with_a_waiver_and_see_it_on_the_calendar(
    browser_page, team_a, catalogue_a
):
    page = browser_page
    with time_machine.travel(MONDAY, tick=True):
        _deposit(team_a.salon)
        _client(team_a.salon)
        book(
            catalogue_a,
            _client(team_a.salon, "Luc Bernard", "+33699887766"),
            local(team_a.salon, 0, 9),
            staff=catalogue_a.alice,
        )
        page.goto("/desk/login/")
        assert axe_violations(page) == []
        _log_in(page, "bella-staff")
        assert page.locator("h1").inner_text() == "lundi 1 mars 2027"
        assert axe_violations(page) == []

        page.click("a[href='/desk/bella/book/']")
        assert axe_violations(page) == []
        page.fill("#q", "06 12 34 56 78")  # national format, as the client says it
        page.locator("#matches input[type=radio]").first.wait_for()
        assert "Jeanne Martin" in page.locator("#matches").inner_text()
        page.locator("#matches input[type=radio]").first.check()
        for select, value in (
            ("#id_service", catalogue_a.cut.pk),
            ("#id_staff", catalogue_a.bob.pk),
        ):
            with page.expect_response(lambda answer: "/book/slots/" in answer.url):
                page.select_option(select, str(value))
        page.locator("#slots input[value='2027-03-01T10:00:00+00:00']").check()  # 11:00 Paris
        page.check("#handling-waived")
        page.click("#take-booking")
        page.locator("#waiver_reason-error").wait_for()  # the reason is required
        assert axe_violations(page) == []
        page.fill("#id_waiver_reason", "Cliente fidèle")
        page.locator("#slots input[value='2027-03-01T10:00:00+00:00']").check()
        page.click("#take-booking")
        page.wait_for_url(re.compile(r"/desk/bella/bookings/\d+/$"))
        assert page.locator("#booking-deposit").inner_text().startswith("Acompte offert")

        page.goto("/desk/bella/")
        column = page.locator("section", has=page.locator("h2", has_text="Bob"))
        assert "Jeanne Martin" in column.inner_text() and "11:00" in column.inner_text()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "desk.png"), full_page=True)

        page.goto("/desk/bella/requests/")
        assert axe_violations(page) == []
        page.click("#new-request summary")
        page.select_option("#id_category", "complaint")
        page.fill("#id_summary", "Attente trop longue à l'accueil")
        page.fill("#id_client", "0699887766")
        page.locator("#new-request button[type=submit]").click()
        assert "Attente trop longue" in page.locator("table").inner_text()
        assert axe_violations(page) == []

    with salon_scope(team_a.salon):
        taken = Booking.objects.get(staff=catalogue_a.bob)
        payment = Payment.objects.get(booking=taken)
    assert taken.status == Status.CONFIRMED and taken.source == "phone"
    assert payment.status == PaymentStatus.WAIVED and payment.note == "Cliente fidèle"


@pytest.mark.django_db(transaction=True)
def test_staff_mark_a_no_show_on_a_started_booking_on_a_phone(
    chromium, pages_server, team_a, catalogue_a
):
    booking = book(catalogue_a, _client(team_a.salon), local(team_a.salon, 0, 9), now=MONDAY)
    context = chromium.new_context(
        viewport=PHONE, locale="fr-FR", base_url=pages_server.url, is_mobile=True, has_touch=True
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        with time_machine.travel(MONDAY + dt.timedelta(hours=2, minutes=30), tick=True):
            _log_in(page, "bella-staff")
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            assert axe_violations(page) == []
            page.click(f"a[href='/desk/bella/bookings/{booking.pk}/']")
            page.locator(f"form[action$='/bookings/{booking.pk}/no-show/'] button").click()
            page.wait_for_url(re.compile(rf"/bookings/{booking.pk}/$"))
            assert page.locator("#booking-status").inner_text() == "Absence"
            assert axe_violations(page) == []
            page.goto("/desk/bella/?view=week")
            assert axe_violations(page) == []
    finally:
        context.close()
    booking.refresh_from_db()
    assert booking.status == Status.NO_SHOW
