"""The waitlist at the desk: a phone client put on it (found by phone, or created; her
consent stated on the phone, recorded with the desk as its source), the salon's list by
status, and a client taken off it on her behalf. Another salon's staff see and change
none of it."""

import datetime as dt
import re

import pytest

from customers.models import Customer
from support.models import WaitlistEntry, WaitlistSource, WaitlistStatus
from support.waitlist import waitlist_join
from tenants.scoping import salon_scope
from tests.conftest import MONDAY
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

ADD = "/desk/bella/waitlist/add/"
LIST = "/desk/bella/waitlist/"


def _text(answer) -> str:
    return answer.content.decode()


def _form(catalogue, **changes):
    return {
        "phone": "06 12 34 56 78",
        "name": "Léa Martin",
        "email": "",
        "service": [str(catalogue.cut.pk), "", ""],
        "staff": str(catalogue.bob.pk),
        "first": "02/03/2027",
        "last": "12/03",
        "parts_of_day": ["afternoon"],
        "consent": "on",
        **changes,
    }


def _entries(salon):
    with salon_scope(salon):
        return list(WaitlistEntry.objects.select_related("customer").order_by("id"))


def test_a_phone_client_found_by_her_number_is_put_on_the_waitlist(
    client, team_a, catalogue_a, monday
):
    salon = team_a.salon
    with salon_scope(salon):
        lea = CustomerFactory(salon=salon, name="Léa Martin", phone="+33612345678")
    client.force_login(team_a.staff)
    page = client.get(ADD, HTTP_ACCEPT_LANGUAGE="en")
    text = _text(page)
    assert page.status_code == 200 and 'type="tel"' in text
    consent = re.search(r'<input type="checkbox" name="consent"[^>]*>', text).group(0)
    assert "checked" not in consent
    assert 'value="01/03/2027"' in text and 'value="14/03/2027"' in text
    answer = client.post(ADD, _form(catalogue_a, name=""), HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 302
    [entry] = _entries(salon)
    assert entry.customer_id == lea.pk  # staff know whom they speak to
    assert entry.source == WaitlistSource.DESK and entry.consent_at == MONDAY
    assert entry.created_by_id == team_a.staff.pk
    assert entry.staff_id == catalogue_a.bob.pk and entry.parts_of_day == ["afternoon"]
    assert (entry.first_date, entry.last_date) == (dt.date(2027, 3, 2), dt.date(2027, 3, 12))
    listing = _text(client.get(answer["Location"], HTTP_ACCEPT_LANGUAGE="en"))
    assert "Léa Martin is on the waitlist." in listing and f'id="entry-{entry.pk}"' in listing
    assert "Front desk, for a phone client" in listing and "Coupe" in listing


def test_a_new_phone_client_is_created_as_a_phone_booking_does(client, team_a, catalogue_a, monday):
    client.force_login(team_a.staff)
    post = _form(catalogue_a, phone="06 98 76 54 32", name="Nina Petit")
    post["service"] = [str(catalogue_a.cut.pk), str(catalogue_a.colour.pk), ""]
    post["staff"] = ""
    assert client.post(ADD, post).status_code == 302
    [entry] = _entries(team_a.salon)
    assert entry.customer.name == "Nina Petit" and str(entry.customer.phone) == "+33698765432"
    assert entry.service_ids == [catalogue_a.cut.pk, catalogue_a.colour.pk]
    assert entry.staff_id is None


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"consent": ""}, "Ask the client whether she agrees to be told."),
        ({"first": "12/03/2027", "last": "02/03/2027"}, "The last day is before the first."),
        ({"first": "soon"}, "Give the day as 12/03/2027."),
        ({"phone": "", "email": ""}, "Give the client&#x27;s phone number or e-mail."),
        ({"service": ["", "", ""]}, "Choose a service."),
    ],
)
def test_the_desk_form_says_what_is_missing(client, team_a, catalogue_a, monday, changes, words):
    client.force_login(team_a.staff)
    answer = client.post(ADD, _form(catalogue_a, **changes), HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 400 and words in _text(answer)
    assert _entries(team_a.salon) == []
    with salon_scope(team_a.salon):
        assert not Customer.objects.exists()


def _join(salon, customer, service, **changes):
    with salon_scope(salon):
        return waitlist_join(
            salon=salon,
            customer=customer,
            services=[service],
            staff=None,
            first=dt.date(2027, 3, 2),
            last=dt.date(2027, 3, 12),
            parts_of_day=[],
            consent=True,
            source=WaitlistSource.WEB,
            **changes,
        )


@pytest.fixture
def entries(team_a, catalogue_a, monday):
    salon = team_a.salon
    with salon_scope(salon):
        waiting = CustomerFactory(salon=salon, name="Awa Diallo", phone="+33611111111")
        booked = CustomerFactory(salon=salon, name="Bea Roux", phone="+33622222222")
    first = _join(salon, waiting, catalogue_a.cut)
    second = _join(salon, booked, catalogue_a.colour)
    with salon_scope(salon):
        WaitlistEntry.objects.filter(pk=second.pk).update(status=WaitlistStatus.BOOKED)
    return first, second


def test_the_list_filters_by_status_and_takes_a_client_off(client, team_a, entries, monday):
    waiting, booked = entries
    client.force_login(team_a.staff)
    text = _text(client.get(LIST, HTTP_ACCEPT_LANGUAGE="en"))
    assert "Awa Diallo" in text and "Bea Roux" not in text  # waiting or offered, by default
    text = _text(client.get(LIST, {"status": "booked"}, HTTP_ACCEPT_LANGUAGE="en"))
    assert "Bea Roux" in text and "Awa Diallo" not in text
    assert f'id="leave-{booked.pk}"' not in text
    text = _text(client.get(LIST, {"status": "all"}, HTTP_ACCEPT_LANGUAGE="en"))
    assert "Bea Roux" in text and "Awa Diallo" in text
    answer = client.post(f"/desk/bella/waitlist/{waiting.pk}/leave/", HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 302
    with salon_scope(team_a.salon):
        waiting.refresh_from_db()
    assert waiting.status == WaitlistStatus.LEFT
    text = _text(client.get(answer["Location"], HTTP_ACCEPT_LANGUAGE="en"))
    assert "Awa Diallo left the waitlist." in text and 'id="waitlist-empty"' in text
    french = _text(client.get(LIST, {"status": "left"}, HTTP_ACCEPT_LANGUAGE="fr"))
    assert "Liste d\u2019attente" in french and "Awa Diallo" in french


def test_another_salons_staff_cannot_see_or_change_the_entries(
    client, team_a, team_b, entries, monday
):
    waiting, _booked = entries
    client.force_login(team_b.staff)
    assert client.post(f"/desk/rival/waitlist/{waiting.pk}/leave/").status_code == 404
    assert "Awa Diallo" not in _text(client.get("/desk/rival/waitlist/", {"status": "all"}))
    assert client.get(LIST).status_code == 403
    assert client.post(f"/desk/bella/waitlist/{waiting.pk}/leave/").status_code == 403
    assert client.post(ADD, {}).status_code == 403
    with salon_scope(team_a.salon):
        waiting.refresh_from_db()
    assert waiting.status == WaitlistStatus.WAITING


def test_a_client_chosen_on_her_card_is_put_on_the_waitlist_as_she_is(
    client, team_a, catalogue_a, monday
):
    salon = team_a.salon
    with salon_scope(salon):
        lea = CustomerFactory(salon=salon, name="Léa Martin", phone="+33612345678")
    client.force_login(team_a.staff)
    card = _text(client.get(f"/desk/bella/customers/{lea.pk}/card/", HTTP_ACCEPT_LANGUAGE="en"))
    assert f'href="/desk/bella/waitlist/add/?customer={lea.pk}"' in card
    page = _text(client.get(ADD, {"customer": lea.pk, "service": catalogue_a.colour.pk}))
    assert 'id="chosen-client"' in page and "Léa Martin" in page and 'name="phone"' not in page
    assert re.search(rf'<option value="{catalogue_a.colour.pk}" selected>', page)
    post = _form(catalogue_a, customer=str(lea.pk), phone="", name="")
    post["service"] = [str(catalogue_a.colour.pk)]
    post["staff"] = ""
    assert client.post(ADD, post).status_code == 302
    [entry] = _entries(salon)
    assert entry.customer_id == lea.pk and entry.service_ids == [catalogue_a.colour.pk]


def test_another_salons_client_cannot_be_named(client, team_a, team_b, catalogue_a, monday):
    with salon_scope(team_b.salon):
        stranger = CustomerFactory(salon=team_b.salon, name="Rival Client", phone="+14165550000")
    client.force_login(team_a.staff)
    post = _form(catalogue_a, customer=str(stranger.pk))
    assert client.post(ADD, post).status_code == 302
    [entry] = _entries(team_a.salon)
    assert entry.customer_id != stranger.pk and entry.customer.name == "Léa Martin"


def test_the_phone_booking_offers_the_waitlist_when_the_day_is_full(
    client, team_a, catalogue_a, monday
):
    client.force_login(team_a.staff)
    sunday = _text(client.get("/desk/bella/book/", {"day": "2027-03-07"}))
    link = re.search(r'id="slots-waitlist" href="([^"]+)"', sunday).group(1)
    assert link.startswith("/desk/bella/waitlist/add/?") and "service=" in link
