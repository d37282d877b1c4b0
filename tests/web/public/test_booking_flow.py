"""A payment-free booking through the API: availability, book, manage, reschedule, cancel."""

import datetime as dt

import pytest

from bookings.models import Booking, Status
from bookings.services import booking_manage_token
from bookings.tasks import holds_apply
from tenants.scoping import salon_scope
from tests.conftest import book, local
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

BASE = "/api/v1/salons/bella"


def _slots(api, service, day, **params):
    body = (
        api()
        .get(f"{BASE}/availability/", {"service": service.pk, "from": day, "to": day, **params})
        .json()
    )
    return body["slots"]


def _starts(api, service, day, staff):
    return [s["start"] for s in _slots(api, service, day, staff=staff.pk)]


def test_book_manage_reschedule_cancel_and_the_slot_comes_back(api, catalogue_a, monday):
    cut, alice = catalogue_a.cut, catalogue_a.alice
    slots = _slots(api, cut, "2027-03-02", staff=alice.pk)
    assert slots[0] == {
        "start": "2027-03-02T09:00:00+01:00",
        "end": "2027-03-02T09:45:00+01:00",
        "staff_ids": [alice.pk],
    }

    response = api().post(
        f"{BASE}/bookings/",
        {
            "service": cut.pk,
            "start": "2027-03-02T08:00:00Z",
            "staff": alice.pk,
            "customer": {
                "name": "Léa Martin",
                "phone": "06 12 34 56 78",
                "email": "lea@example.org",
            },
            "payment_option": "deposit",
            "notes": "",
            "marketing_consent": False,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    booking = response.json()
    assert booking["status"] == "confirmed"
    assert booking["start"] == "2027-03-02T09:00:00+01:00"
    assert booking["end"] == "2027-03-02T09:45:00+01:00"
    assert (booking["price"], booking["currency"]) == (6000, "EUR")
    assert (booking["deposit_amount"], booking["amount_due_now"], booking["payment"]) == (
        0,
        0,
        None,
    )
    assert booking["manage_url"].endswith(f"/manage/{booking['manage_token']}/")
    token = booking["manage_token"]
    assert "2027-03-02T09:00:00+01:00" not in _starts(api, cut, "2027-03-02", alice)

    managed = api().get(f"/api/v1/manage/{token}/").json()
    assert managed["id"] == booking["id"]
    assert managed["deposit"] == {"amount": 0, "paid": 0, "status": "none"}
    assert managed["can_cancel"] is True
    assert managed["can_reschedule"] is True

    moved = api().post(
        f"/api/v1/manage/{token}/reschedule/", {"start": "2027-03-03T14:30:00+01:00"}, format="json"
    )
    assert moved.status_code == 200, moved.json()
    assert moved.json()["id"] == booking["id"]
    assert moved.json()["start"] == "2027-03-03T14:30:00+01:00"
    assert "2027-03-02T09:00:00+01:00" in _starts(api, cut, "2027-03-02", alice)

    cancelled = api().post(f"/api/v1/manage/{token}/cancel/", {}, format="json")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["deposit"]["status"] == "none"
    assert "2027-03-03T14:30:00+01:00" in _starts(api, cut, "2027-03-03", alice)
    # The manage link still shows the cancelled booking, but nothing more can be done.
    again = api().get(f"/api/v1/manage/{token}/").json()
    assert (again["status"], again["can_cancel"], again["can_reschedule"]) == (
        "cancelled",
        False,
        False,
    )
    refused = api().post(
        f"/api/v1/manage/{token}/reschedule/", {"start": "2027-03-04T10:00:00+01:00"}, format="json"
    )
    assert refused.status_code == 400


def test_taken_or_unoffered_slots_are_409(api, catalogue_a, monday):
    lea = CustomerFactory(salon=catalogue_a.salon)
    book(catalogue_a, lea, local(catalogue_a.salon, 1, 10), staff=catalogue_a.bob)
    payload = {"service": catalogue_a.cut.pk, "customer": {"name": "Tom", "email": "t@x.org"}}
    cases = [
        ("2027-03-02T10:00:00+01:00", catalogue_a.bob.pk),  # taken
        ("2027-03-02T10:30:00+01:00", catalogue_a.bob.pk),  # overlaps
        ("2027-03-02T10:07:00+01:00", catalogue_a.alice.pk),  # off the step grid
        ("2027-03-07T10:00:00+01:00", catalogue_a.alice.pk),  # Sunday: closed
        ("2027-03-01T08:30:00+01:00", catalogue_a.alice.pk),  # inside the minimum notice
        ("2027-02-26T10:00:00+01:00", catalogue_a.alice.pk),  # past
        ("2028-06-01T10:00:00+02:00", catalogue_a.alice.pk),  # beyond the maximum advance
    ]
    for start, staff in cases:
        response = api().post(
            f"{BASE}/bookings/", {**payload, "start": start, "staff": staff}, format="json"
        )
        assert response.status_code == 409, (start, response.json())
        assert response.json()["code"] == "slot_unavailable"
    # Back to back is fine: [start, end) ranges.
    ok = api().post(
        f"{BASE}/bookings/",
        {**payload, "start": "2027-03-02T10:45:00+01:00", "staff": catalogue_a.bob.pk},
        format="json",
    )
    assert ok.status_code == 201


def test_anyone_books_whoever_is_free(api, catalogue_a, monday):
    lea = CustomerFactory(salon=catalogue_a.salon)
    book(catalogue_a, lea, local(catalogue_a.salon, 1, 10), staff=catalogue_a.alice)
    response = api().post(
        f"{BASE}/bookings/",
        {
            "service": catalogue_a.cut.pk,
            "start": "2027-03-02T10:00:00+01:00",
            "customer": {"name": "Tom", "phone": "0698765432"},
        },
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["staff"] == catalogue_a.bob.pk
    taken = api().post(
        f"{BASE}/bookings/",
        {
            "service": catalogue_a.cut.pk,
            "start": "2027-03-02T10:15:00+01:00",
            "customer": {"name": "Zoé", "phone": "0698765433"},
        },
        format="json",
    )
    assert taken.status_code == 409


def test_buffers_keep_the_time_after_a_colour(api, catalogue_a, monday):
    lea = CustomerFactory(salon=catalogue_a.salon)
    book(
        catalogue_a,
        lea,
        local(catalogue_a.salon, 1, 10),
        service=catalogue_a.colour,
        staff=catalogue_a.alice,
    )
    starts = [
        s["start"][11:16]
        for s in _slots(api, catalogue_a.cut, "2027-03-02", staff=catalogue_a.alice.pk)
    ]
    assert "11:00" not in starts  # the colour ends at 11:00, then 15 minutes of cleaning
    assert "11:15" in starts
    assert "09:15" in starts  # 09:15-10:00 ends as the colour starts


def test_a_hold_blocks_the_slot_until_it_lapses(api, catalogue_a, monday):
    lea = CustomerFactory(salon=catalogue_a.salon)
    start = local(catalogue_a.salon, 1, 10)
    held = book(
        catalogue_a,
        lea,
        start,
        staff=catalogue_a.alice,
        hold_until=dt.datetime(2027, 3, 1, 7, 15, tzinfo=dt.UTC),
    )
    assert held.status == Status.PENDING_PAYMENT
    day = "2027-03-02"
    assert "2027-03-02T10:00:00+01:00" not in [
        s["start"] for s in _slots(api, catalogue_a.cut, day, staff=catalogue_a.alice.pk)
    ]
    monday.shift(dt.timedelta(minutes=16))
    # Lapsed: offered again, and a new booking expires the stale hold in its transaction.
    assert "2027-03-02T10:00:00+01:00" in [
        s["start"] for s in _slots(api, catalogue_a.cut, day, staff=catalogue_a.alice.pk)
    ]
    tom = CustomerFactory(salon=catalogue_a.salon)
    book(catalogue_a, tom, start, staff=catalogue_a.alice)
    with salon_scope(catalogue_a.salon):
        assert Booking.objects.get(pk=held.pk).status == Status.EXPIRED


def test_the_sweep_expires_lapsed_holds_only(catalogue_a, catalogue_b, monday):
    lea = CustomerFactory(salon=catalogue_a.salon)
    until = dt.datetime(2027, 3, 1, 7, 15, tzinfo=dt.UTC)
    lapsing = book(catalogue_a, lea, local(catalogue_a.salon, 1, 10), hold_until=until)
    running = book(
        catalogue_a, lea, local(catalogue_a.salon, 1, 12), hold_until=until + dt.timedelta(hours=1)
    )
    sam = CustomerFactory(salon=catalogue_b.salon, phone="+14165550199")
    other = book(catalogue_b, sam, local(catalogue_b.salon, 1, 10), hold_until=until)
    monday.shift(dt.timedelta(minutes=20))
    # As beat's task runs it: in the salon's scope.
    assert holds_apply(salon_id=catalogue_a.salon.pk) == [lapsing.pk]
    assert holds_apply(salon_id=catalogue_a.salon.pk) == []
    with salon_scope(catalogue_a.salon):
        assert Booking.objects.get(pk=running.pk).status == Status.PENDING_PAYMENT
    with salon_scope(catalogue_b.salon):
        assert Booking.objects.get(pk=other.pk).status == Status.PENDING_PAYMENT


def test_bad_booking_requests_are_400(api, catalogue_a, catalogue_b, monday):
    url = f"{BASE}/bookings/"
    good = {
        "service": catalogue_a.cut.pk,
        "start": "2027-03-02T10:00:00+01:00",
        "customer": {"name": "Tom", "phone": "0698765432"},
    }
    cases = [
        ({**good, "service": catalogue_b.cut.pk}, "service"),
        ({**good, "service": "x"}, "service"),
        ({**good, "staff": catalogue_b.alice.pk}, "staff"),
        ({**good, "start": "tomorrow"}, "start"),
        ({**good, "customer": {"name": "Tom"}}, "customer"),
        ({**good, "customer": {"name": "Tom", "phone": "12"}}, "customer"),
        ({**good, "payment_option": "later"}, "payment_option"),
        ({**good, "customer": {"id": 1}}, "customer"),
    ]
    for body, field in cases:
        response = api().post(url, body, format="json")
        assert response.status_code == 400, (body, response.json())
        assert field in response.json()["fields"], (field, response.json())
    with salon_scope(catalogue_a.salon):
        assert not Booking.objects.exists()
    phone_error = api().post(url, {**good, "customer": {"name": "T", "phone": "12"}}, format="json")
    assert "phone" in phone_error.json()["fields"]["customer"]


def test_bad_availability_queries_are_400(api, catalogue_a, catalogue_b):
    url = f"{BASE}/availability/"
    cut = catalogue_a.cut.pk
    cases = [
        ({"service": cut, "from": "2027-03-01", "to": "2027-05-02"}, "to"),  # 62 days apart
        ({"service": cut, "from": "2027-03-05", "to": "2027-03-01"}, "to"),
        ({"service": cut, "from": "2027-13-01", "to": "2027-03-01"}, "from"),
        ({"from": "2027-03-01", "to": "2027-03-01"}, "service"),
        ({"service": catalogue_b.cut.pk, "from": "2027-03-01", "to": "2027-03-01"}, "service"),
        ({"service": cut, "from": "2027-03-01", "to": "2027-03-01", "staff": "x"}, "staff"),
    ]
    for params, field in cases:
        response = api().get(url, params)
        assert response.status_code == 400, params
        assert field in response.json()["fields"]
    ok = api().get(url, {"service": cut, "from": "2027-03-01", "to": "2027-05-01"})
    assert ok.status_code == 200


def test_a_forged_or_revoked_manage_token_is_404(api, catalogue_a, monday):
    lea = CustomerFactory(salon=catalogue_a.salon)
    booking = book(catalogue_a, lea, local(catalogue_a.salon, 1, 10))
    from bookings.services import booking_manage_token, booking_revoke_links

    token = booking_manage_token(booking)
    assert api().get(f"/api/v1/manage/{token}/").status_code == 200
    assert api().get(f"/api/v1/manage/{token[:-3]}abc/").status_code == 404
    assert api().get("/api/v1/manage/nonsense/").json()["code"] == "not_found"
    with salon_scope(catalogue_a.salon):
        booking_revoke_links(booking=booking)
    assert api().get(f"/api/v1/manage/{token}/").status_code == 404


@pytest.mark.parametrize(
    "start",
    [
        "2027-03-02T10:61:00+01:00",  # well-formed, impossible: was a 500
        "2027-04-31T10:00:00+01:00",
        "0001-01-01T00:00:00+01:00",  # before what UTC can hold: was a 500
        "9999-12-31T23:59:59-01:00",
        "1118-09-15T22:48:58Z",  # Paris then was 9 min 21 s ahead: no RFC 3339 offset
    ],
)
def test_impossible_or_far_off_times_are_400(api, catalogue_a, monday, start):
    body = {
        "service": catalogue_a.cut.pk,
        "start": start,
        "customer": {"name": "Tom", "phone": "0698765432"},
    }
    response = api().post(f"{BASE}/bookings/", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"
    assert "start" in response.json()["fields"]
    with salon_scope(catalogue_a.salon):
        assert not Booking.objects.exists()


def test_an_impossible_time_to_move_to_is_400(api, catalogue_a, monday):
    booking = book(
        catalogue_a, CustomerFactory(salon=catalogue_a.salon), local(catalogue_a.salon, 1, 10)
    )
    token = booking_manage_token(booking)
    response = api().post(
        f"/api/v1/manage/{token}/reschedule/", {"start": "2027-03-03T25:00:00+01:00"}, format="json"
    )
    assert response.status_code == 400, response.content
    assert "start" in response.json()["fields"]


def test_the_client_page_names_a_status_as_the_booking_model_does(client, catalogue_a, monday):
    salon = catalogue_a.salon
    booking = book(catalogue_a, CustomerFactory(salon=salon), local(salon, 1, 10))
    with salon_scope(salon):
        Booking.objects.filter(pk=booking.pk).update(status=Status.NO_SHOW)
    page = client.get(f"/manage/{booking_manage_token(booking)}/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert f"Status: {Status.NO_SHOW.label}" in page.content.decode()
