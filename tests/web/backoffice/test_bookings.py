"""The staff endpoints of the catalogue and bookings, with two salons."""

import datetime as dt

import pytest

from bookings.models import Booking, Service, Status
from tenants.scoping import salon_scope
from tests.conftest import book, local
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

A = "/api/v1/salons/bella/backoffice"
B = "/api/v1/salons/rival/backoffice"


@pytest.fixture
def world(catalogue_a, catalogue_b, monday):
    lea = CustomerFactory(salon=catalogue_a.salon, name="Léa")
    sam = CustomerFactory(salon=catalogue_b.salon, name="Sam", phone="+14165550199")
    ours = book(catalogue_a, lea, local(catalogue_a.salon, 1, 10), staff=catalogue_a.alice)
    theirs = book(catalogue_b, sam, local(catalogue_b.salon, 1, 10), staff=catalogue_b.alice)
    return catalogue_a, catalogue_b, ours, theirs


def test_manager_manages_the_catalogue(api, team_a, world):
    client = api(team_a.manager)
    created = client.post(
        f"{A}/services/",
        {
            "name": "Brushing",
            "duration_minutes": 30,
            "price": 3500,
            "buffer_after_minutes": 5,
            "deposit_override": {"kind": "percent", "value": 50},
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    patched = client.patch(f"{A}/services/{pk}/", {"price": 3900}, format="json").json()
    assert patched["price"] == 3900
    assert client.get(f"{A}/services/").json()["count"] == 3
    assert client.delete(f"{A}/services/{pk}/").status_code == 204
    with salon_scope(team_a.salon):
        assert not Service.objects.filter(pk=pk).exists()


def test_a_booked_service_is_retired_not_deleted(api, team_a, world):
    cut = world[0].cut
    assert api(team_a.owner).delete(f"{A}/services/{cut.pk}/").status_code == 204
    cut.refresh_from_db()
    assert cut.active is False
    assert cut.pk not in [s["id"] for s in api().get("/api/v1/salons/bella/services/").json()]


@pytest.mark.parametrize(
    "body",
    [
        {"name": "X", "duration_minutes": 0, "price": 100},
        {"name": "X", "duration_minutes": 30, "price": -1},
        {"name": "X", "duration_minutes": 30, "price": 100, "deposit_override": {"kind": "half"}},
        {
            "name": "X",
            "duration_minutes": 30,
            "price": 100,
            "deposit_override": {"kind": "percent", "value": 120},
        },
        {"duration_minutes": 30, "price": 100},
    ],
)
def test_bad_services_are_400(api, team_a, world, body):
    response = api(team_a.owner).post(f"{A}/services/", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_staff_read_but_do_not_change_the_catalogue(api, team_a, world):
    client = api(team_a.staff)
    assert client.get(f"{A}/services/").status_code == 200
    response = client.post(
        f"{A}/services/", {"name": "X", "duration_minutes": 30, "price": 1}, format="json"
    )
    assert response.status_code == 403


def test_staff_members_hours_and_time_off(api, team_a, world):
    client = api(team_a.owner)
    cut = world[0].cut
    created = client.post(
        f"{A}/staff/", {"name": "Chloé", "service_ids": [cut.pk]}, format="json"
    ).json()
    pk = created["id"]
    assert created["service_ids"] == [cut.pk]
    hours = [
        {"weekday": 0, "start": "09:00", "end": "12:00"},
        {"weekday": 0, "start": "14:00", "end": "18:00"},
    ]
    put = client.put(f"{A}/staff/{pk}/hours/", hours, format="json")
    assert put.status_code == 200, put.json()
    assert client.get(f"{A}/staff/{pk}/hours/").json() == hours
    bad = client.put(
        f"{A}/staff/{pk}/hours/", [{"weekday": 7, "start": "10:00", "end": "09:00"}], format="json"
    )
    assert bad.status_code == 400

    off = client.post(
        f"{A}/time-off/",
        {
            "staff": pk,
            "start": "2027-03-08T00:00:00+01:00",
            "end": "2027-03-09T00:00:00+01:00",
            "reason": "Congé",
        },
        format="json",
    )
    assert off.status_code == 201, off.json()
    slots = (
        api()
        .get(
            "/api/v1/salons/bella/availability/",
            {"service": cut.pk, "from": "2027-03-08", "to": "2027-03-08", "staff": pk},
        )
        .json()["slots"]
    )
    assert slots == []
    assert client.delete(f"{A}/time-off/{off.json()['id']}/").status_code == 204
    slots = (
        api()
        .get(
            "/api/v1/salons/bella/availability/",
            {"service": cut.pk, "from": "2027-03-08", "to": "2027-03-08", "staff": pk},
        )
        .json()["slots"]
    )
    assert slots[0]["start"] == "2027-03-08T09:00:00+01:00"


def test_a_salon_closure_closes_everyone(api, team_a, world):
    client = api(team_a.owner)
    client.post(
        f"{A}/time-off/",
        {"staff": None, "start": "2027-03-03T00:00:00+01:00", "end": "2027-03-04T00:00:00+01:00"},
        format="json",
    )
    slots = api().get(
        "/api/v1/salons/bella/availability/",
        {"service": world[0].cut.pk, "from": "2027-03-03", "to": "2027-03-03"},
    )
    assert slots.json()["slots"] == []


def test_bookings_list_filters_and_actions(api, team_a, world):
    _cat_a, _cat_b, ours, _theirs = world
    client = api(team_a.staff)
    listed = client.get(f"{A}/bookings/", {"from": "2027-03-02", "to": "2027-03-02"}).json()
    assert [b["id"] for b in listed["results"]] == [ours.pk]
    assert listed["results"][0]["customer"]["name"] == "Léa"
    assert client.get(f"{A}/bookings/", {"status": "cancelled"}).json()["count"] == 0
    assert client.get(f"{A}/bookings/", {"status": "nope"}).status_code == 400

    early = client.post(f"{A}/bookings/{ours.pk}/no-show/")
    assert early.status_code == 400  # not before the appointment
    done = client.post(f"{A}/bookings/{ours.pk}/complete/").json()
    assert done["status"] == "completed"
    assert (
        client.post(f"{A}/bookings/{ours.pk}/cancel/", {"reason": "x"}, format="json").status_code
        == 400
    )


def test_no_show_after_the_start_and_salon_cancellation(api, team_a, world, monday):
    cat_a, _cat_b, ours, _theirs = world
    lea = CustomerFactory(salon=cat_a.salon, name="Zoé")
    later = book(cat_a, lea, local(cat_a.salon, 2, 15), staff=cat_a.bob)
    client = api(team_a.staff)
    cancelled = client.post(
        f"{A}/bookings/{later.pk}/cancel/", {"reason": "Salon fermé"}, format="json"
    ).json()
    assert (cancelled["status"], cancelled["cancelled_by_salon"]) == ("cancelled", True)
    monday.shift(dt.timedelta(days=1, hours=3))  # Tuesday 11:00
    marked = client.post(f"{A}/bookings/{ours.pk}/no-show/").json()
    assert marked["status"] == "no_show"
    customer = client.get(f"/api/v1/salons/bella/backoffice/customers/{ours.customer_id}/").json()
    assert customer["no_shows"] == 1


def test_no_endpoint_reaches_another_salons_objects(api, team_a, world):
    cat_a, cat_b, ours, theirs = world
    client = api(team_a.owner)
    ids = {"services": cat_b.cut.pk, "staff": cat_b.alice.pk, "bookings": theirs.pk}
    for kind, pk in ids.items():
        assert client.get(f"{A}/{kind}/{pk}/").status_code == 404, kind
    assert (
        client.patch(f"{A}/services/{cat_b.cut.pk}/", {"price": 1}, format="json").status_code
        == 404
    )
    assert client.delete(f"{A}/staff/{cat_b.alice.pk}/").status_code == 404
    assert client.get(f"{A}/staff/{cat_b.alice.pk}/hours/").status_code == 404
    assert client.put(f"{A}/staff/{cat_b.alice.pk}/hours/", [], format="json").status_code == 404
    for action in ("cancel", "no-show", "complete"):
        assert client.post(f"{A}/bookings/{theirs.pk}/{action}/").status_code == 404
    assert (
        client.post(
            f"{A}/staff/", {"name": "X", "service_ids": [cat_b.cut.pk]}, format="json"
        ).status_code
        == 400
    )
    assert (
        client.post(
            f"{A}/time-off/",
            {
                "staff": cat_b.alice.pk,
                "start": "2027-03-08T00:00:00Z",
                "end": "2027-03-09T00:00:00Z",
            },
            format="json",
        ).status_code
        == 400
    )
    with salon_scope(cat_b.salon):
        assert Booking.objects.get(pk=theirs.pk).status == Status.CONFIRMED
        assert Service.objects.get(pk=cat_b.cut.pk).price == 6000
    # Lists hold only the salon's own.
    assert [b["id"] for b in client.get(f"{A}/bookings/").json()["results"]] == [ours.pk]
    assert {s["id"] for s in client.get(f"{A}/services/").json()["results"]} == {
        cat_a.cut.pk,
        cat_a.colour.pk,
    }
    # Public lists too, and B's service is not bookable through A.
    public = api().get("/api/v1/salons/bella/staff/").json()
    assert {s["id"] for s in public} == {cat_a.alice.pk, cat_a.bob.pk}


def test_members_of_a_get_403_on_b(api, team_a, world):
    client = api(team_a.owner)
    for path in ("services/", "staff/", "time-off/", "bookings/"):
        assert client.get(f"{B}/{path}").status_code == 403, path


def test_public_salon_and_catalogue(api, world):
    salon = api().get("/api/v1/salons/rival/").json()
    assert salon["timezone"] == "America/Toronto"
    assert salon["currency"] == "CAD"
    assert salon["deposit_terms"]
    services = api().get("/api/v1/salons/rival/services/").json()
    assert services[0]["currency"] == "CAD"
    assert {
        "id",
        "name",
        "description",
        "duration_minutes",
        "price",
        "currency",
        "deposit_today",
    } == set(services[0])


@pytest.mark.parametrize("action", ["cancel", "no-show", "complete"])
def test_an_action_on_a_booking_is_posted_not_read(api, team_a, world, action):
    ours = world[2]
    response = api(team_a.staff).get(f"{A}/bookings/{ours.pk}/{action}/")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_time_off_outside_2000_to_2999_is_400(api, team_a, world):
    client = api(team_a.manager)
    for start, end in [
        ("1118-09-15T22:48:58Z", "2027-03-02T10:00:00+01:00"),
        ("2027-03-02T10:00:00+01:00", "4225-09-17T05:33:06+06:30"),
    ]:
        response = client.post(f"{A}/time-off/", {"start": start, "end": end}, format="json")
        assert response.status_code == 400, response.content
        assert response.json()["code"] == "invalid"
