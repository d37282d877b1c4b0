"""The waitlist on the client's side: from the booking steps when no time suits ("tell me
when a time frees up"), the confirmation with the entry's link, the entry's page (wishes,
status, the times offered) and leaving it in one click; all without JavaScript, as Django's
test client posts the forms, in French and English. Knowing a phone number proves nothing;
another salon's entry is not found."""

import datetime as dt
import re

import pytest

from customers.models import Customer
from support.models import (
    OfferStatus,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistSource,
    WaitlistStatus,
)
from support.waitlist import consent_text, waitlist_join, waitlist_token
from tenants.scoping import salon_scope
from tests.conftest import MONDAY, local
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

BOOK = "/bella/book/"
TUESDAY = "2027-03-02"


def _text(answer) -> str:
    return answer.content.decode()


def _join(catalogue, **changes):
    """The waitlist step's form as a browser without scripts posts it."""
    return {
        "action": "waitlist",
        "services": [catalogue.cut.pk],
        "order": str(catalogue.cut.pk),
        "staff": str(catalogue.alice.pk),
        "from": "2027-03-02",
        "to": "2027-03-12",
        "parts_of_day": ["morning", "evening"],
        "name": "Léa Martin",
        "phone": "06 12 34 56 78",
        "email": "",
        "consent": "on",
        **changes,
    }


def _entries(salon):
    with salon_scope(salon):
        return list(WaitlistEntry.objects.select_related("customer").order_by("id"))


def test_the_time_step_offers_the_waitlist_with_the_choice_so_far(client, catalogue_a, monday):
    cut, alice = catalogue_a.cut.pk, catalogue_a.alice.pk
    time = _text(
        client.get(BOOK, {"services": cut, "staff": alice, "step": "time", "day": TUESDAY})
    )
    link = re.search(r'id="waitlist-link">[^<]*<a href="([^"]+)"', time)
    assert link is not None
    href = link.group(1).replace("&amp;", "&")
    assert "step=waitlist" in href and f"services={cut}" in href and f"staff={alice}" in href
    assert f"day={TUESDAY}" in href
    # The step itself: the services chosen, the staff member chosen, two weeks from that day.
    answer = client.get(BOOK + href, HTTP_ACCEPT_LANGUAGE="en")
    text = _text(answer)
    assert answer.status_code == 200
    assert 'id="step-waitlist"' in text and "Tell me when a time frees up" in text
    # The steps before it lead back; none is marked as the current one.
    nav = text[text.index('class="steps-nav"') : text.index("</nav>")]
    assert "step=services" in nav and "step=staff" in nav and "step=time" in nav
    assert "aria-current" not in nav
    assert re.search(rf'<option value="{alice}" selected>Alice</option>', text)
    assert 'type="date" name="from" value="2027-03-02"' in text
    assert 'type="date" name="to" value="2027-03-15"' in text
    # Her contact as the details step asks it, made for phones; the consent unticked.
    assert 'type="tel"' in text and 'inputmode="tel"' in text and 'autocomplete="tel"' in text
    assert 'autocomplete="email"' in text and 'autocomplete="name"' in text
    consent = re.search(r'<input type="checkbox" name="consent"[^>]*>', text).group(0)
    assert "checked" not in consent
    assert consent_text() in text
    assert 'value="morning"' in text and "Morning (before 12:00)" in text


def test_no_free_time_at_all_leads_to_the_waitlist(client, catalogue_a, monday):
    with salon_scope(catalogue_a.salon):
        catalogue_a.salon.max_advance_days = 0
        catalogue_a.salon.save(update_fields=["max_advance_days"])
    # Monday 08:00 in Paris, no day ahead: the day's times are all gone by evening.
    monday.move_to(dt.datetime(2027, 3, 1, 19, 0, tzinfo=dt.UTC))
    text = _text(client.get(BOOK, {"services": catalogue_a.cut.pk, "staff": "any", "step": "time"}))
    assert 'id="no-free-time"' in text and 'id="waitlist-none"' in text


def test_the_step_speaks_french(client, catalogue_a, monday):
    answer = client.get(
        BOOK,
        {"services": catalogue_a.cut.pk, "staff": "any", "step": "waitlist"},
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    text = _text(answer)
    assert answer.status_code == 200 and '<html lang="fr"' in text
    assert "Prévenez-moi quand un créneau se libère" in text
    assert "Rejoindre la liste d\u2019attente" in text


def test_joining_without_consent_is_refused_on_the_form(client, catalogue_a, monday):
    answer = client.post(BOOK, _join(catalogue_a, consent=""), HTTP_ACCEPT_LANGUAGE="en")
    text = _text(answer)
    assert answer.status_code == 400
    assert 'id="form-errors"' in text and 'id="id_consent-error"' in text
    assert "Agree to be told when a time frees up" in text
    assert _entries(catalogue_a.salon) == []
    with salon_scope(catalogue_a.salon):
        assert not Customer.objects.exists()


@pytest.mark.parametrize(
    ("dates", "field", "words"),
    [
        ({"from": "2027-03-12", "to": "2027-03-02"}, "to", "The last day is before the first."),
        ({"from": "2027-02-01", "to": "2027-02-20"}, "to", "These dates are past."),
        ({"from": "12 mars", "to": "2027-03-12"}, "from", "Give a date as 2027-03-12."),
        ({"from": "2027-03-02", "to": "3027-03-02"}, "to", "Give a date from the year 2000"),
        ({"from": "2027-03-02", "to": "2027-09-30"}, "to", "Choose at most 92 days"),
    ],
)
def test_bad_dates_are_refused_on_the_form(client, catalogue_a, monday, dates, field, words):
    answer = client.post(BOOK, _join(catalogue_a, **dates), HTTP_ACCEPT_LANGUAGE="en")
    text = _text(answer)
    assert answer.status_code == 400
    assert f'id="id_{field}-error"' in text and words in text
    assert _entries(catalogue_a.salon) == []


def test_a_missing_contact_is_refused_as_in_the_details_step(client, catalogue_a, monday):
    answer = client.post(BOOK, _join(catalogue_a, phone="", email=""), HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 400
    assert "Give a phone number or an e-mail address." in _text(answer)
    assert _entries(catalogue_a.salon) == []


def test_joining_records_the_entry_with_its_consent_then_confirms(client, catalogue_a, monday):
    answer = client.post(BOOK, _join(catalogue_a), HTTP_ACCEPT_LANGUAGE="fr")
    assert answer.status_code == 302
    [entry] = _entries(catalogue_a.salon)
    assert entry.source == WaitlistSource.WEB and entry.status == WaitlistStatus.WAITING
    assert entry.consent_at == MONDAY and entry.joined_at == MONDAY
    assert "Prévenez-moi" in entry.consent_text  # the words she agreed to, in her language
    assert entry.service_ids == [catalogue_a.cut.pk] and entry.staff_id == catalogue_a.alice.pk
    assert (entry.first_date, entry.last_date) == (dt.date(2027, 3, 2), dt.date(2027, 3, 12))
    assert entry.parts_of_day == ["morning", "evening"]
    assert entry.customer.name == "Léa Martin" and str(entry.customer.phone) == "+33612345678"
    token = waitlist_token(entry)
    assert answer["Location"] == f"/bella/waitlist/{token}/joined/"
    page = client.get(answer["Location"], HTTP_ACCEPT_LANGUAGE="fr")
    text = _text(page)
    assert page.status_code == 200
    assert "Vous êtes sur la liste d\u2019attente" in text
    assert f'href="/bella/waitlist/{token}/"' in text
    assert f"http://testserver/bella/waitlist/{token}/" in text  # the link to keep
    assert "Coupe" in text and "Alice" in text and "mardi 2 mars 2027" in text
    assert 'name="robots" content="noindex"' in text


def test_anyone_and_any_time_are_the_defaults(client, catalogue_a, monday):
    post = _join(catalogue_a, staff="any")
    post.pop("parts_of_day")
    assert client.post(BOOK, post).status_code == 302
    [entry] = _entries(catalogue_a.salon)
    assert entry.staff_id is None and entry.parts_of_day == []


def test_a_staff_member_who_does_not_offer_the_services_is_refused(client, catalogue_a, monday):
    post = _join(
        catalogue_a,
        services=[catalogue_a.cut.pk, catalogue_a.colour.pk],
        order=f"{catalogue_a.cut.pk},{catalogue_a.colour.pk}",
        staff=str(catalogue_a.bob.pk),
    )
    answer = client.post(BOOK, post, HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 400 and 'id="id_staff-error"' in _text(answer)
    assert _entries(catalogue_a.salon) == []


def test_a_known_number_makes_a_record_of_its_own(client, catalogue_a, monday):
    """Knowing a client's number proves nothing: the entry is not hers."""
    with salon_scope(catalogue_a.salon):
        lea = CustomerFactory(salon=catalogue_a.salon, name="Léa Martin", phone="+33612345678")
    assert client.post(BOOK, _join(catalogue_a, name="Someone Else")).status_code == 302
    [entry] = _entries(catalogue_a.salon)
    assert entry.customer_id != lea.pk and entry.customer.duplicate_of_id == lea.pk


def test_the_services_step_comes_first_when_none_is_chosen(client, catalogue_a, monday):
    text = _text(client.get(BOOK, {"step": "waitlist"}))
    assert 'id="step-services"' in text and 'id="step-waitlist"' not in text
    answer = client.post(BOOK, {**_join(catalogue_a), "services": [], "order": ""})
    assert 'id="step-services"' in _text(answer)
    assert _entries(catalogue_a.salon) == []


@pytest.mark.rate_limits
def test_joining_is_rate_limited_as_booking_is(client, catalogue_a, monday, settings):
    settings.RATE_LIMIT_BOOKING = "3/minute"
    answers = [
        client.post(BOOK, _join(catalogue_a, phone=f"06 12 34 56 7{n}")).status_code
        for n in range(4)
    ]
    assert answers == [302, 302, 302, 429]
    assert len(_entries(catalogue_a.salon)) == 3


# The entry's page ------------------------------------------------------------------------


@pytest.fixture
def entry(catalogue_a, monday):
    salon = catalogue_a.salon
    with salon_scope(salon):
        customer = CustomerFactory(salon=salon, name="Léa Martin", phone="+33612345678")
        return waitlist_join(
            salon=salon,
            customer=customer,
            services=[catalogue_a.cut],
            staff=None,
            first=dt.date(2027, 3, 2),
            last=dt.date(2027, 3, 12),
            parts_of_day=["afternoon"],
            consent=True,
            source=WaitlistSource.WEB,
        )


def _offer(catalogue, entry, start, *, status=OfferStatus.OPEN, minutes=30):
    with salon_scope(catalogue.salon):
        return WaitlistOffer.objects.create(
            salon=catalogue.salon,
            entry=entry,
            start=start,
            end=start + dt.timedelta(minutes=45),
            staff=catalogue.bob,
            status=status,
            expires_at=MONDAY + dt.timedelta(minutes=minutes),
        )


def test_the_entry_page_shows_the_wishes_status_and_offers(client, catalogue_a, entry):
    lapsed = _offer(catalogue_a, entry, local(catalogue_a.salon, 1, 14), status="lapsed")
    open_ = _offer(catalogue_a, entry, local(catalogue_a.salon, 2, 15))
    url = f"/bella/waitlist/{waitlist_token(entry)}/"
    answer = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    text = _text(answer)
    assert answer.status_code == 200
    assert "Status: Waiting" in text and "Afternoon (12:00 to 17:00)" in text
    assert "Anyone available" in text and "Coupe" in text
    assert "Tuesday 2 March 2027, 14:00" in text  # in the salon's time zone
    assert "Wednesday 3 March 2027, 15:00" in text
    assert f'href="/bella/waitlist/offers/{open_.token}/"' in text
    assert f"/waitlist/offers/{lapsed.token}/" not in text
    assert 'id="leave"' in text
    french = _text(client.get(url, HTTP_ACCEPT_LANGUAGE="fr"))
    assert "Ma place sur la liste d\u2019attente" in french and "\u00a0: En attente" in french


def test_an_open_offer_past_its_time_is_shown_lapsed_without_its_link(
    client, catalogue_a, entry, monday
):
    offer = _offer(catalogue_a, entry, local(catalogue_a.salon, 2, 15), minutes=10)
    monday.shift(dt.timedelta(minutes=11))
    text = _text(client.get(f"/bella/waitlist/{waitlist_token(entry)}/", HTTP_ACCEPT_LANGUAGE="en"))
    assert f"/waitlist/offers/{offer.token}/" not in text and "Lapsed" in text


def test_leaving_takes_one_click_and_twice_changes_nothing(client, catalogue_a, entry, monday):
    offer = _offer(catalogue_a, entry, local(catalogue_a.salon, 2, 15))
    token = waitlist_token(entry)
    url = f"/bella/waitlist/{token}/"
    answer = client.post(url + "leave/", HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 302 and answer["Location"] == url
    with salon_scope(catalogue_a.salon):
        entry.refresh_from_db()
        offer.refresh_from_db()
    assert entry.status == WaitlistStatus.LEFT and entry.left_at == MONDAY
    assert offer.status == OfferStatus.LAPSED  # the time goes to the next client
    text = _text(client.get(url, HTTP_ACCEPT_LANGUAGE="en"))
    assert "You have left the waitlist." in text and "Status: Left the list" in text
    assert 'id="leave"' not in text
    monday.shift(dt.timedelta(hours=1))
    again = client.post(url + "leave/", HTTP_ACCEPT_LANGUAGE="en")
    assert again.status_code == 302
    with salon_scope(catalogue_a.salon):
        entry.refresh_from_db()
    assert entry.status == WaitlistStatus.LEFT and entry.left_at == MONDAY


def test_leaving_needs_a_post_with_its_csrf_token(catalogue_a, entry):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    url = f"/bella/waitlist/{waitlist_token(entry)}/leave/"
    assert strict.get(url).status_code == 405
    assert strict.post(url).status_code == 403
    with salon_scope(catalogue_a.salon):
        entry.refresh_from_db()
    assert entry.status == WaitlistStatus.WAITING


def test_a_bad_token_or_another_salons_entry_is_not_found(client, catalogue_a, catalogue_b, entry):
    token = waitlist_token(entry)
    assert client.get(f"/bella/waitlist/{token}x/").status_code == 404
    assert client.get("/bella/waitlist/nothing/").status_code == 404
    assert client.get(f"/rival/waitlist/{token}/").status_code == 404
    assert client.get(f"/rival/waitlist/{token}/joined/").status_code == 404
    assert client.post(f"/rival/waitlist/{token}/leave/").status_code == 404
    with salon_scope(catalogue_a.salon):
        entry.refresh_from_db()
    assert entry.status == WaitlistStatus.WAITING


# From the client space ---------------------------------------------------------------------


def test_the_client_space_lists_her_entries_and_joins_from_there(
    client, team_a, catalogue_a, monday
):
    from tests.web.public.test_client_space import LEA_E164, _sign_in

    salon = catalogue_a.salon
    with salon_scope(salon):
        lea = CustomerFactory(
            salon=salon, name="Léa Martin", phone=LEA_E164, email="lea@example.org"
        )
        other = CustomerFactory(salon=salon, name="Someone Else", phone="+33698765432")
        mine = waitlist_join(
            salon=salon,
            customer=lea,
            services=[catalogue_a.colour],
            staff=catalogue_a.alice,
            first=dt.date(2027, 3, 3),
            last=dt.date(2027, 3, 10),
            parts_of_day=[],
            consent=True,
            source=WaitlistSource.WEB,
        )
        waitlist_join(
            salon=salon,
            customer=other,
            services=[catalogue_a.cut],
            staff=None,
            first=dt.date(2027, 3, 3),
            last=dt.date(2027, 3, 10),
            parts_of_day=[],
            consent=True,
            source=WaitlistSource.WEB,
        )
    _sign_in(client, salon)
    text = _text(client.get("/bella/me/", HTTP_ACCEPT_LANGUAGE="en"))
    assert 'id="waitlist-entries"' in text and "Couleur" in text
    assert f'href="/bella/waitlist/{waitlist_token(mine)}/"' in text
    assert text.count("/bella/waitlist/") == 1  # hers only
    # Join for a service: the booking steps' waitlist, which knows her.
    step = client.get(
        BOOK,
        {"step": "waitlist", "staff": "any", "origin": "space", "services": catalogue_a.cut.pk},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    step_text = _text(step)
    assert 'id="proven"' in step_text and 'name="origin" value="space"' in step_text
    assert 'value="Léa Martin"' in step_text  # her details, filled in
    post = _join(catalogue_a, staff="any", origin="space", phone="06 12 34 56 78")
    assert client.post(BOOK, post).status_code == 302
    with salon_scope(salon):
        joined = WaitlistEntry.objects.latest("id")
    assert joined.customer_id == lea.pk and joined.source == WaitlistSource.SPACE
    french = _text(client.get("/bella/me/", HTTP_ACCEPT_LANGUAGE="fr"))
    assert "Ma liste d\u2019attente" in french and french.count("/bella/waitlist/") == 2


def test_without_her_proof_the_space_origin_is_the_booking_page(client, catalogue_a, monday):
    assert client.post(BOOK, _join(catalogue_a, origin="space")).status_code == 302
    [entry] = _entries(catalogue_a.salon)
    assert entry.source == WaitlistSource.WEB


def test_joining_inside_the_widget_ends_on_a_page_the_frame_may_show(client, catalogue_a, monday):
    from tenants.services import salon_update

    with salon_scope(catalogue_a.salon):
        salon_update(salon=catalogue_a.salon, embed_domains="https://bella.example")
    answer = client.post(BOOK, _join(catalogue_a, source="widget"))
    assert answer.status_code == 302
    joined = client.get(answer["Location"])
    assert "frame-ancestors 'self' https://bella.example" in joined["Content-Security-Policy"]
    entry = client.get(answer["Location"].removesuffix("joined/"))
    assert "frame-ancestors 'none'" in entry["Content-Security-Policy"]  # the link's own page
