"""The waitlist's doors: joining, the entry's link, leaving, accepting an offered time
(201, a double click, 409 taken, 410 expired) by the API and on the offer's page; the
staff's list and a phone client put on it. Another salon's tokens are not found."""

import datetime as dt

import pytest

from bookings.models import Booking, Source, Status
from bookings.services import booking_cancel
from messaging.models import Message, MessageKind
from support.models import OfferStatus, WaitlistEntry, WaitlistOffer, WaitlistStatus
from support.refill import waitlist_run
from tenants.scoping import salon_scope
from tests.conftest import MONDAY, book, local, policy_put
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def join_body(catalogue, **changes):
    return {
        "services": [catalogue.cut.pk],
        "staff": None,
        "from": str(MONDAY.date() + dt.timedelta(days=1)),
        "to": str(MONDAY.date() + dt.timedelta(days=5)),
        "parts_of_day": ["morning"],
        "customer": {"name": "Anna Martin", "phone": "06 11 22 33 44"},
        "consent": True,
        **changes,
    }


def freed_and_offered(catalogue):
    """Tuesday 10:00 with Alice freed by a cancellation, and the sweep's offer made."""
    salon = catalogue.salon
    booking = book(
        catalogue, CustomerFactory(salon=salon), local(salon, 1, 10), staff=catalogue.alice
    )
    with salon_scope(salon):
        booking_cancel(booking=booking, by_salon=True)
        waitlist_run(salon=salon)
        return WaitlistOffer.objects.select_related("entry").get()


@pytest.fixture
def joined(api, catalogue_a, monday):
    answer = api().post("/api/v1/salons/bella/waitlist/", join_body(catalogue_a), format="json")
    assert answer.status_code == 201, answer.json()
    return answer.json()


def test_joining_answers_the_entry_and_its_link(api, joined, catalogue_a, catalogue_b):
    assert joined["status"] == "waiting" and joined["services"] == [catalogue_a.cut.pk]
    assert joined["from"] == "2027-03-02" and joined["parts_of_day"] == ["morning"]
    seen = api().get(f"/api/v1/waitlist/{joined['manage_token']}/").json()
    assert seen["id"] == joined["id"] and seen["offers"] == []
    with salon_scope(catalogue_a.salon):
        entry = WaitlistEntry.objects.get()
        assert entry.source == "api" and entry.consent_at is not None
    with salon_scope(catalogue_b.salon):
        assert not WaitlistEntry.objects.exists()


def test_bad_wishes_are_refused_field_by_field(api, catalogue_a, catalogue_b, monday):
    url = "/api/v1/salons/bella/waitlist/"
    for changes, field in [
        ({"consent": False}, "consent"),
        ({"services": [catalogue_b.cut.pk]}, "services"),
        ({"parts_of_day": ["night"]}, "parts_of_day"),
        ({"to": "2027-02-01"}, "to"),
        ({"staff": catalogue_a.bob.pk, "services": [catalogue_a.colour.pk]}, "staff"),
    ]:
        answer = api().post(url, join_body(catalogue_a, **changes), format="json")
        assert answer.status_code == 400, (changes, answer.json())
        assert answer.json()["code"] == "invalid" and field in answer.json()["fields"]
    with salon_scope(catalogue_a.salon):
        assert not WaitlistEntry.objects.exists()


def test_leaving_takes_one_call(api, joined, catalogue_a):
    url = f"/api/v1/waitlist/{joined['manage_token']}/"
    assert api().delete(url).status_code == 204
    assert api().get(url).json()["status"] == "left"
    assert api().get("/api/v1/waitlist/forged/").status_code == 404


def test_the_offer_is_listed_and_accepted_once(api, joined, catalogue_a, settings, team_a):
    settings.PAYMENTS_TEST_MODE = True
    policy_put(api, team_a)
    offer = freed_and_offered(catalogue_a)
    seen = api().get(f"/api/v1/waitlist/{joined['manage_token']}/").json()
    assert seen["status"] == "offered"
    (listed,) = seen["offers"]
    assert listed["token"] == offer.token and listed["status"] == "open"
    assert listed["start"] == "2027-03-02T10:00:00+01:00"
    assert listed["url"].endswith(f"/bella/waitlist/offers/{offer.token}/")
    url = f"/api/v1/waitlist/offers/{offer.token}/accept/"
    answer = api().post(url, {"payment_option": "deposit"}, format="json")
    assert answer.status_code == 201, answer.json()
    booking = answer.json()
    assert booking["status"] == "pending_payment" and booking["amount_due_now"] == 1500
    assert booking["payment"]["client_secret"]
    again = api().post(url, {"payment_option": "deposit"}, format="json")
    assert again.status_code == 201 and again.json()["id"] == booking["id"]
    with salon_scope(catalogue_a.salon):
        made = Booking.objects.get(pk=booking["id"])
        assert made.source == Source.WAITLIST and made.customer_id == offer.entry.customer_id
        assert Booking.objects.filter(source=Source.WAITLIST).count() == 1
    assert api().get(f"/api/v1/waitlist/{joined['manage_token']}/").json()["status"] == "booked"


def test_an_expired_offer_answers_410(api, joined, catalogue_a, monday):
    offer = freed_and_offered(catalogue_a)
    monday.shift(dt.timedelta(minutes=31))
    answer = api().post(f"/api/v1/waitlist/offers/{offer.token}/accept/", {}, format="json")
    assert answer.status_code == 410 and answer.json()["code"] == "offer_expired"


def test_a_time_taken_meanwhile_answers_409_and_keeps_the_place(api, joined, catalogue_a):
    offer = freed_and_offered(catalogue_a)
    salon = catalogue_a.salon
    book(catalogue_a, CustomerFactory(salon=salon), local(salon, 1, 10), staff=catalogue_a.alice)
    answer = api().post(f"/api/v1/waitlist/offers/{offer.token}/accept/", {}, format="json")
    assert answer.status_code == 409 and answer.json()["code"] == "slot_unavailable"
    entry = api().get(f"/api/v1/waitlist/{joined['manage_token']}/").json()
    assert entry["status"] == "waiting" and entry["offers"][0]["status"] == "taken"


def test_another_salons_tokens_are_not_found(api, joined, catalogue_a, catalogue_b, client):
    offer = freed_and_offered(catalogue_a)
    assert api().post(f"/api/v1/waitlist/offers/{offer.token}x/accept/", {}).status_code == 404
    assert client.get(f"/rival/waitlist/offers/{offer.token}/").status_code == 404
    assert client.get(f"/bella/waitlist/offers/{offer.token}/").status_code == 200


def test_the_staff_list_the_waitlist_and_add_a_phone_client(
    api, joined, team_a, team_b, catalogue_a
):
    url = "/api/v1/salons/bella/backoffice/waitlist/"
    body = join_body(
        catalogue_a,
        staff=catalogue_a.alice.pk,
        customer={"name": "Marcel Roux", "phone": "06 43 55 66 77"},
    )
    added = api(team_a.staff).post(url, body, format="json")
    assert added.status_code == 201, added.json()
    assert added.json()["customer"]["name"] == "Marcel Roux"
    listed = api(team_a.staff).get(url, {"status": "waiting"}).json()
    assert listed["count"] == 2 and [e["customer"]["name"] for e in listed["results"]] == [
        "Anna Martin",
        "Marcel Roux",
    ]
    with salon_scope(catalogue_a.salon):
        assert WaitlistEntry.objects.get(pk=added.json()["id"]).source == "desk"
    assert api(team_a.staff).get(url, {"status": "nope"}).status_code == 400
    assert api(team_b.owner).get(url).status_code == 403
    assert api().get(url).status_code == 401


def test_the_offer_page_accepts_and_leads_to_the_pay_page(
    client, joined, catalogue_a, settings, api, team_a
):
    settings.PAYMENTS_TEST_MODE = True
    policy_put(api, team_a)
    offer = freed_and_offered(catalogue_a)
    url = f"/bella/waitlist/offers/{offer.token}/"
    shown = client.get(url, HTTP_ACCEPT_LANGUAGE="fr")
    text = shown.content.decode()
    assert shown.status_code == 200 and "Un créneau s\u2019est libéré pour vous" in text
    assert "15,00" in text and "60,00" in text and "Coupe" in text
    answer = client.post(url, {"payment_option": "deposit"})
    assert answer.status_code == 302 and answer["Location"].endswith("/pay/")
    with salon_scope(catalogue_a.salon):
        booking = Booking.objects.get(source=Source.WAITLIST)
        assert booking.status == Status.PENDING_PAYMENT
    # Back on the offer's page later: it leads to the same booking.
    assert client.get(url)["Location"] == answer["Location"]


def test_the_offer_page_says_kindly_when_the_time_was_taken_or_expired(
    client, joined, catalogue_a, monday
):
    offer = freed_and_offered(catalogue_a)
    salon = catalogue_a.salon
    url = f"/bella/waitlist/offers/{offer.token}/"
    book(catalogue_a, CustomerFactory(salon=salon), local(salon, 1, 10), staff=catalogue_a.alice)
    taken = client.post(url, {"payment_option": "deposit"}, HTTP_ACCEPT_LANGUAGE="en")
    assert taken.status_code == 409 and "You keep your place" in taken.content.decode()
    assert 'id="accept"' not in taken.content.decode()
    with salon_scope(salon):
        WaitlistOffer.objects.filter(pk=offer.pk).update(status=OfferStatus.OPEN)
    monday.shift(dt.timedelta(hours=1))
    expired = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert "This offer has expired" in expired.content.decode()
    with salon_scope(salon):
        assert WaitlistEntry.objects.get().status == WaitlistStatus.WAITING
        assert not Message.objects.filter(kind=MessageKind.WAITLIST_TAKEN).exists()


def test_the_owner_chooses_how_freed_times_are_offered(api, team_a, team_b):
    url = "/api/v1/salons/bella/backoffice/settings/"
    assert api(team_a.owner).get(url).json()["waitlist_mode"] == "first_in_line"
    changed = api(team_a.owner).patch(
        url, {"waitlist_mode": "broadcast", "offer_minutes": 15}, format="json"
    )
    assert changed.status_code == 200
    assert (changed.json()["waitlist_mode"], changed.json()["offer_minutes"]) == ("broadcast", 15)
    refused = api(team_a.owner).patch(url, {"offer_minutes": 1}, format="json")
    assert refused.status_code == 400 and "offer_minutes" in refused.json()["fields"]
    assert api(team_b.owner).get(url).status_code == 403
