"""The phone booking panel as a receptionist meets it: focus in the client search, a number
that matched no one carried into the new client's form, the new client's fields out of
the way (and of the tab order) once an existing client is chosen, the reminder-consent box
unticked, the date one field, and the deposit this client pays for this visit shown before
the booking is taken, with why."""

import datetime as dt
import re

import pytest

from bookings.services import booking_complete, booking_mark_no_show
from deposits.services import policy_set
from tenants.scoping import salon_scope
from tests.conftest import book, local
from tests.factories import CustomerFactory

BOOK = "/desk/bella/book/"


def _client(salon, name="Jeanne Martin", phone="+33612345678", **fields):
    with salon_scope(salon):
        return CustomerFactory(salon=salon, name=name, phone=phone, email=None, **fields)


def _tag(page: str, pattern: str) -> str:
    found = re.search(pattern, page)
    assert found is not None, pattern
    return found.group(0)


@pytest.mark.django_db
def test_focus_starts_in_the_client_search(client, team_a, catalogue_a):
    """It started on the page's body: seven Tabs to the search box."""
    client.force_login(team_a.staff)
    page = client.get(BOOK).content.decode()
    assert "autofocus" in _tag(page, r'<input[^>]*id="q"[^>]*>')
    assert page.count("autofocus") == 1


@pytest.mark.django_db
def test_a_number_that_matched_no_one_is_carried_into_the_new_client(client, team_a, catalogue_a):
    _client(team_a.salon)
    client.force_login(team_a.staff)
    page = client.get(BOOK + "?q=06 98 76 54 32").content.decode()
    assert 'value="06 98 76 54 32"' in _tag(page, r'<input[^>]*id="id_phone"[^>]*>')
    assert "checked" in _tag(page, r'<input[^>]*id="customer-new"[^>]*>')
    assert "hidden" not in _tag(page, r'<div[^>]*id="new-client"[^>]*>')
    named = client.get(BOOK + "?q=Paul Durand").content.decode()
    assert 'value="Paul Durand"' in _tag(named, r'<input[^>]*id="id_name"[^>]*>')
    # A number that matched someone is not the new client's.
    found = client.get(BOOK + "?q=06 12 34 56 78").content.decode()
    assert 'value=""' in _tag(found, r'<input[^>]*id="id_phone"[^>]*>')


@pytest.mark.django_db
def test_the_new_client_fields_leave_the_tab_order_once_a_client_is_chosen(
    client, team_a, catalogue_a
):
    jeanne = _client(team_a.salon)
    client.force_login(team_a.staff)
    # Posting the chosen client back (the "Show free times" step) keeps her chosen.
    answer = client.post(
        BOOK,
        {"step": "slots", "q": "0612345678", "customer": str(jeanne.pk), "day": "2027-03-02"},
    )
    page = answer.content.decode()
    assert "checked" in _tag(page, rf'<input[^>]*value="{jeanne.pk}"[^>]*>')
    assert "hidden" in _tag(page, r'<div[^>]*id="new-client"[^>]*>')
    new = client.post(BOOK, {"step": "slots", "customer": "new", "day": "2027-03-02"})
    assert "hidden" not in _tag(new.content.decode(), r'<div[^>]*id="new-client"[^>]*>')


@pytest.mark.django_db
def test_the_consent_box_is_unticked_and_the_date_is_one_field(client, team_a, catalogue_a, monday):
    """The date took four tab stops: Chromium's date field has one per part and one for
    its picker. A text field, read day first, takes one."""
    client.force_login(team_a.staff)
    page = client.get(BOOK + "?q=06 98 76 54 32&day=2027-03-02").content.decode()
    assert "checked" not in _tag(page, r'<input[^>]*name="reminders_consent"[^>]*>')
    field = _tag(page, r'<input[^>]*id="id_day"[^>]*>')
    assert 'type="text"' in field and 'value="02/03/2027"' in field
    assert 'type="date"' not in page
    typed = client.post(
        BOOK, {"step": "slots", "day": "3/3", "service": str(catalogue_a.cut.pk)}
    ).content.decode()
    assert 'value="03/03/2027"' in _tag(typed, r'<input[^>]*id="id_day"[^>]*>')


@pytest.mark.django_db
def test_a_day_is_read_as_the_desk_types_it(team_a, monday):
    from web.desk.phone import day_read

    salon = team_a.salon  # Monday 1 March 2027
    assert day_read("2027-03-12", salon) == dt.date(2027, 3, 12)
    assert day_read("12/03/2027", salon) == dt.date(2027, 3, 12)
    assert day_read("12.03.27", salon) == dt.date(2027, 3, 12)
    assert day_read("12/03", salon) == dt.date(2027, 3, 12)
    assert day_read("15/02", salon) == dt.date(2028, 2, 15)  # past this year: the next one
    assert day_read("31/04/2027", salon) is None
    assert day_read("demain", salon) is None


@pytest.mark.django_db
def test_a_day_the_desk_cannot_read_is_a_form_error(client, team_a, catalogue_a, monday):
    jeanne = _client(team_a.salon)
    client.force_login(team_a.staff)
    answer = client.post(
        BOOK,
        {
            "step": "book",
            "customer": str(jeanne.pk),
            "service": str(catalogue_a.cut.pk),
            "day": "32/13",
            "start": "2027-03-02T09:00:00+00:00",
            "deposit_handling": "payment_link",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert answer.status_code == 400
    assert "Give the day as 12/03/2027." in answer.content.decode()


@pytest.mark.django_db
def test_the_deposit_for_this_client_and_service_is_shown_before_booking(
    client, team_a, catalogue_a, monday
):
    with salon_scope(team_a.salon):
        policy_set(
            salon=team_a.salon,
            rule={"kind": "fixed", "value": 1500},
            ramp=[
                {"starts_on": dt.date(2027, 2, 1), "rule": {"kind": "percent", "value": 30}},
            ],
            trusted_after_visits=2,
            full_prepayment_after_no_shows=1,
        )
    jeanne = _client(team_a.salon)
    trusted = _client(team_a.salon, "Luc Bernard", "+33699887766", trusted=True)
    missed = _client(team_a.salon, "Eve Morel", "+33611111111")
    week_ago = local(team_a.salon, 0, 10) - dt.timedelta(days=7)
    past = book(catalogue_a, missed, week_ago, now=week_ago - dt.timedelta(days=1))
    with salon_scope(team_a.salon):
        booking_mark_no_show(booking=past)
    regular = _client(team_a.salon, "Ana Roy", "+33622222222")
    for hour in (11, 14):
        start = week_ago.replace(hour=hour)
        visit = book(catalogue_a, regular, start, now=start - dt.timedelta(days=1))
        with salon_scope(team_a.salon):
            booking_complete(booking=visit)
    client.force_login(team_a.staff)

    def preview(customer, language="en") -> str:
        answer = client.get(
            "/desk/bella/book/slots/",
            {"service": str(catalogue_a.cut.pk), "day": "2027-03-02", "customer": customer},
            HTTP_ACCEPT_LANGUAGE=language,
        )
        deposit = answer.json()["deposit"]
        return f"{deposit['amount']} | {deposit['why']}"

    assert preview(jeanne.pk) == (
        "€18.00 | The ramp's step in force since Feb. 1, 2027: 30% of the price."
    )
    assert preview(trusted.pk) == "€0.00 | A trusted client: no deposit."
    assert preview(missed.pk) == (
        "€60.00 | 1 missed appointments: the full price is paid up front."
    )
    assert preview(regular.pk) == "€0.00 | 2 visits without a no-show: no deposit."
    assert preview(jeanne.pk, "fr").startswith("18,00\u00a0€ | ")
    # On the page itself, once the client is chosen.
    page = client.post(
        BOOK,
        {"step": "slots", "customer": str(missed.pk), "service": str(catalogue_a.cut.pk)},
        HTTP_ACCEPT_LANGUAGE="en",
    ).content.decode()
    assert '<strong id="deposit-amount">Deposit: €60.00</strong>' in page
    assert "1 missed appointments: the full price is paid up front." in page


@pytest.mark.django_db
def test_another_salons_client_gets_no_deposit_preview_of_theirs(
    client, team_a, team_b, catalogue_a, catalogue_b
):
    with salon_scope(team_b.salon):
        theirs = CustomerFactory(salon=team_b.salon, name="Ann Lee", trusted=True)
    client.force_login(team_a.staff)
    answer = client.get(
        "/desk/bella/book/slots/",
        {"service": str(catalogue_a.cut.pk), "customer": str(theirs.pk)},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert answer.status_code == 200
    assert "trusted" not in answer.json()["deposit"]["why"]


@pytest.mark.django_db(transaction=True)
def test_the_panel_in_a_browser_starts_in_the_search_and_carries_the_number(
    browser_page, team_a, catalogue_a
):
    import time_machine
    from playwright.sync_api import expect

    from tests.browser.harness import axe_violations
    from tests.conftest import MONDAY
    from tests.factories import PASSWORD

    page = browser_page
    with time_machine.travel(MONDAY, tick=True):
        with salon_scope(team_a.salon):
            policy_set(salon=team_a.salon, rule={"kind": "fixed", "value": 1500}, ramp=[])
        _client(team_a.salon)
        page.goto("/desk/login/")
        page.fill("#id_username", "bella-staff")
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r"/desk/bella/$"))
        page.goto(BOOK)
        expect(page.locator("#q")).to_be_focused()
        expect(page.locator("#new-client")).to_be_hidden()
        page.keyboard.type("06 98 76 54 32")
        expect(page.locator("#customer-new")).to_be_checked()
        expect(page.locator("#id_phone")).to_have_value("06 98 76 54 32")
        expect(page.locator("#new-client")).to_be_visible()
        expect(page.locator("#deposit-amount")).to_have_text("Acompte\u00a0: 15,00\u00a0€")
        assert axe_violations(page) == []
        page.fill("#q", "06 12 34 56 78")
        expect(page.locator("#matches input[type=radio]").first).to_be_checked()
        expect(page.locator("#new-client")).to_be_hidden()
        # From the matches, Tab goes past the new client's fields.
        page.locator("#matches input[type=radio]").first.focus()
        for _ in range(3):
            page.keyboard.press("Tab")
            focused = page.evaluate("document.activeElement.id")
            assert focused not in ("id_name", "id_phone", "id_email", "id_reminders_consent")
        assert axe_violations(page) == []
