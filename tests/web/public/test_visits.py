"""Visits through the API (API.md, "Visits"): several services in one booking, processing
time, resources, guests, and the deposit of the whole visit."""

import datetime as dt
from dataclasses import dataclass

import pytest

from bookings.models import Booking, BookingItem, BusyTime, Service, StaffMember, Status
from bookings.services import (
    catalogue_service_save,
    resource_kind_save,
    resource_save,
    staff_hours_set,
    staff_save,
)
from tenants.scoping import salon_scope
from tests.conftest import Catalogue, policy_put

pytestmark = pytest.mark.django_db

BASE = "/api/v1/salons/bella"
DAY = "2027-03-02"  # a Tuesday; the clock is frozen on the Monday before


@dataclass
class Salon:
    """Bella's catalogue, with what visits need: a colour whose setting time frees its
    colourist, a fringe short enough to fit in it, a blow-dry at the only basin."""

    catalogue: Catalogue
    colour: Service  # 60 min (+15 after), processing 15..45: Alice only
    fringe: Service  # 20 min: Alice only
    blowdry: Service  # 30 min at the basin: Alice and Bob
    cleo: StaffMember  # cuts, a third pair of hands


@pytest.fixture
def bella(catalogue_a) -> Salon:
    salon = catalogue_a.salon
    with salon_scope(salon):
        colour = catalogue_a.colour
        colour.processing_offset_minutes, colour.processing_minutes = 15, 30
        catalogue_service_save(salon=salon, service=colour)
        basin = resource_kind_save(salon=salon, kind=None, name="Bac")
        resource_save(salon=salon, resource=None, name="Bac à shampoing", kind=basin, quantity=1)
        fringe = catalogue_service_save(
            salon=salon, service=None, name="Frange", duration_minutes=20, price=1500
        )
        blowdry = catalogue_service_save(
            salon=salon,
            service=None,
            name="Brushing",
            duration_minutes=30,
            price=3000,
            resource_kind=basin,
        )
        alice, bob = catalogue_a.alice, catalogue_a.bob
        staff_save(
            salon=salon,
            staff=alice,
            service_ids=[catalogue_a.cut.pk, colour.pk, fringe.pk, blowdry.pk],
        )
        staff_save(salon=salon, staff=bob, service_ids=[catalogue_a.cut.pk, blowdry.pk])
        cleo = staff_save(salon=salon, staff=None, name="Cléo", service_ids=[catalogue_a.cut.pk])
        staff_hours_set(
            staff=cleo, ranges=[{"weekday": 1, "start": dt.time(9), "end": dt.time(19)}]
        )
    return Salon(catalogue_a, colour, fringe, blowdry, cleo)


def _slots(api, services, day=DAY, **params):
    ids = ",".join(str(s.pk) for s in services)
    response = api().get(
        f"{BASE}/availability/", {"services": ids, "from": day, "to": day, **params}
    )
    assert response.status_code == 200, response.json()
    return response.json()["slots"]


def _book(api, services, start, *, staff=None, guests=None, status=201, **extra):
    body = {
        "services": [s.pk for s in services],
        "start": start,
        "customer": {"name": "Léa Martin", "phone": "06 12 34 56 78"},
        **extra,
    }
    if staff is not None:
        body["staff"] = staff.pk
    if guests is not None:
        body["guests"] = guests
    response = api().post(f"{BASE}/bookings/", body, format="json")
    assert response.status_code == status, response.json()
    return response.json()


def test_a_cut_and_colour_is_one_visit_with_its_items_in_order(api, bella, monday):
    cut, colour, alice = bella.catalogue.cut, bella.colour, bella.catalogue.alice
    first = _slots(api, [colour, cut])[0]
    assert first["start"] == "2027-03-02T09:00:00+01:00"
    assert first["end"] == "2027-03-02T10:45:00+01:00"
    assert first["items"] == [
        {
            "service": colour.pk,
            "staff_ids": [alice.pk],
            "start": "2027-03-02T09:00:00+01:00",
            "end": "2027-03-02T10:00:00+01:00",
        },
        {
            "service": cut.pk,
            "staff_ids": sorted([alice.pk, bella.catalogue.bob.pk, bella.cleo.pk]),
            "start": "2027-03-02T10:00:00+01:00",
            "end": "2027-03-02T10:45:00+01:00",
        },
    ]

    booking = _book(api, [colour, cut], "2027-03-02T09:00:00+01:00")
    assert (booking["start"], booking["end"]) == (
        "2027-03-02T09:00:00+01:00",
        "2027-03-02T10:45:00+01:00",
    )
    assert (booking["service"], booking["staff"], booking["price"]) == (colour.pk, alice.pk, 15000)
    assert [(i["service"], i["start"], i["guest"]) for i in booking["items"]] == [
        (colour.pk, "2027-03-02T09:00:00+01:00", None),
        (cut.pk, "2027-03-02T10:00:00+01:00", None),
    ]
    # Alice's time is taken for the colour, not for its setting time.
    taken = [s["start"] for s in _slots(api, [bella.fringe])]
    assert "2027-03-02T09:00:00+01:00" not in taken
    assert "2027-03-02T09:15:00+01:00" in taken  # 09:15-09:35, while the colour sets
    assert "2027-03-02T09:30:00+01:00" not in taken  # would run past 09:45


def test_a_one_service_booking_answers_as_before_with_one_item(api, bella, monday):
    cut = bella.catalogue.cut
    body = {
        "service": cut.pk,
        "start": "2027-03-02T09:00:00+01:00",
        "staff": bella.catalogue.bob.pk,
        "customer": {"name": "Tom", "email": "tom@example.org"},
    }
    booking = api().post(f"{BASE}/bookings/", body, format="json").json()
    assert (booking["service"], booking["staff"], booking["price"]) == (
        cut.pk,
        bella.catalogue.bob.pk,
        6000,
    )
    assert booking["items"] == [
        {
            "service": cut.pk,
            "staff": bella.catalogue.bob.pk,
            "start": "2027-03-02T09:00:00+01:00",
            "end": "2027-03-02T09:45:00+01:00",
            "guest": None,
            "price": 6000,
            "deposit_amount": 0,
        }
    ]
    slots = (
        api()
        .get(f"{BASE}/availability/", {"service": cut.pk, "from": DAY, "to": DAY})
        .json()["slots"]
    )
    assert set(slots[0]) == {"start", "end", "staff_ids"}


def test_the_only_basin_is_not_given_twice(api, bella, monday):
    blowdry, alice, bob = bella.blowdry, bella.catalogue.alice, bella.catalogue.bob
    _book(api, [blowdry], "2027-03-02T11:00:00+01:00", staff=alice)
    # Bob is free, but the basin is not.
    assert "2027-03-02T11:00:00+01:00" not in [s["start"] for s in _slots(api, [blowdry])]
    refused = _book(api, [blowdry], "2027-03-02T11:15:00+01:00", staff=bob, status=409)
    assert refused["code"] == "slot_unavailable"
    assert "2027-03-02T11:30:00+01:00" in [s["start"] for s in _slots(api, [blowdry])]


def test_friends_together_need_two_pairs_of_hands_or_come_one_after_the_other(api, bella, monday):
    cut, alice, bob, cleo = (
        bella.catalogue.cut,
        bella.catalogue.alice,
        bella.catalogue.bob,
        bella.cleo,
    )
    together = _slots(api, [cut], guests=1)[0]
    assert [i["start"] for i in together["items"]] == ["2027-03-02T09:00:00+01:00"] * 2
    booking = _book(
        api,
        [cut],
        "2027-03-02T09:00:00+01:00",
        guests=[{"name": "Chloé", "services": [cut.pk]}],
    )
    assert [i["guest"] for i in booking["items"]] == [None, "Chloé"]
    assert booking["price"] == 12000
    assert booking["items"][0]["staff"] != booking["items"][1]["staff"]
    # Only Cléo is left at 09:00: two friends now come one after the other.
    staff_left = {alice.pk, bob.pk, cleo.pk} - {i["staff"] for i in booking["items"]}
    assert len(staff_left) == 1
    later = _slots(api, [cut], guests=1)[0]
    assert later["start"] == "2027-03-02T09:00:00+01:00"
    assert [i["start"] for i in later["items"]] == [
        "2027-03-02T09:00:00+01:00",
        "2027-03-02T09:45:00+01:00",
    ]


def test_a_visit_is_cancelled_and_moved_whole(api, bella, monday):
    cut, colour = bella.catalogue.cut, bella.colour
    booking = _book(api, [colour, cut], "2027-03-02T14:00:00+01:00")
    token = booking["manage_token"]
    moved = api().post(
        f"/api/v1/manage/{token}/reschedule/", {"start": "2027-03-03T10:00:00+01:00"}, format="json"
    )
    assert moved.status_code == 200, moved.json()
    assert [(i["service"], i["start"]) for i in moved.json()["items"]] == [
        (colour.pk, "2027-03-03T10:00:00+01:00"),
        (cut.pk, "2027-03-03T11:00:00+01:00"),
    ]
    assert "2027-03-02T14:00:00+01:00" in [s["start"] for s in _slots(api, [colour, cut])]
    assert "2027-03-03T10:00:00+01:00" not in [
        s["start"] for s in _slots(api, [colour], day="2027-03-03")
    ]

    cancelled = api().post(f"/api/v1/manage/{token}/cancel/", {}, format="json")
    assert cancelled.status_code == 200
    with salon_scope(bella.catalogue.salon):
        visit = Booking.objects.get(pk=booking["id"])
        assert visit.status == Status.CANCELLED
        assert BookingItem.objects.filter(booking=visit).count() == 2
        assert not BusyTime.objects.filter(booking=visit, active=True).exists()
    assert "2027-03-03T10:00:00+01:00" in [
        s["start"] for s in _slots(api, [colour, cut], day="2027-03-03")
    ]


@pytest.mark.parametrize(
    ("policy", "deposit", "parts"),
    [
        # 20 % of each price: 1,800 + 1,200.
        ({"rule": {"kind": "percent", "value": 20}}, 3000, [1800, 1200]),
        # A fixed deposit per item.
        ({"rule": {"kind": "fixed", "value": 1500}}, 3000, [1500, 1500]),
        # The minimum applies once to the visit, not to each item.
        ({"rule": {"kind": "percent", "value": 10}, "min_amount": 2000}, 2000, [1200, 800]),
        # So does the maximum.
        ({"rule": {"kind": "percent", "value": 50}, "max_amount": 3000}, 3000, [1800, 1200]),
        # Never above the visit's total.
        ({"rule": {"kind": "fixed", "value": 500}, "min_amount": 90000}, 15000, [9000, 6000]),
    ],
)
def test_the_deposit_of_a_visit(api, team_a, stripe_api, bella, monday, policy, deposit, parts):
    policy_put(api, team_a, **policy)
    booking = _book(api, [bella.colour, bella.catalogue.cut], "2027-03-02T09:00:00+01:00")
    assert (booking["price"], booking["deposit_amount"], booking["amount_due_now"]) == (
        15000,
        deposit,
        deposit,
    )
    assert [i["deposit_amount"] for i in booking["items"]] == parts
    assert stripe_api.requests()[-1]["form"]["amount"] == str(deposit)


def test_an_override_counts_for_its_service_and_full_payment_pays_the_visit(
    api, team_a, stripe_api, bella, monday
):
    policy_put(api, team_a, rule={"kind": "percent", "value": 20}, allow_full_payment=True)
    colour = bella.colour
    with salon_scope(bella.catalogue.salon):
        colour.deposit_override = {"kind": "fixed", "value": 3000}
        catalogue_service_save(salon=bella.catalogue.salon, service=colour)
    booking = _book(api, [colour, bella.catalogue.cut], "2027-03-02T09:00:00+01:00")
    assert [i["deposit_amount"] for i in booking["items"]] == [3000, 1200]
    assert booking["deposit_amount"] == 4200
    full = _book(
        api,
        [colour, bella.catalogue.cut],
        "2027-03-02T11:00:00+01:00",
        payment_option="full",
    )
    assert (full["deposit_amount"], full["amount_due_now"]) == (4200, 15000)


def test_bad_visits_are_400_by_field(api, bella, catalogue_b, monday):
    cut = bella.catalogue.cut
    start = "2027-03-02T09:00:00+01:00"
    customer = {"name": "Léa", "phone": "06 12 34 56 78"}
    cases = [
        ({"services": [cut.pk, 999999]}, "services"),
        ({"services": [catalogue_b.cut.pk]}, "services"),  # another salon's
        ({"services": []}, "service"),
        ({"service": cut.pk, "services": [cut.pk]}, "services"),
        ({"services": [cut.pk], "guests": [{"name": " ", "services": [cut.pk]}]}, "guests"),
        ({"services": [cut.pk], "guests": [{"name": "Chloé", "services": []}]}, "guests"),
        ({"services": [cut.pk] * 6}, "services"),
        ({"services": "3,5"}, "services"),
    ]
    for extra, field in cases:
        response = api().post(
            f"{BASE}/bookings/", {"start": start, "customer": customer, **extra}, format="json"
        )
        assert response.status_code == 400, (extra, response.json())
        assert response.json()["code"] == "invalid"
        assert field in response.json()["fields"], (extra, response.json())
    guests = api().post(
        f"{BASE}/bookings/",
        {
            "start": start,
            "customer": customer,
            "services": [cut.pk],
            "guests": [{"name": "", "services": [cut.pk]}],
        },
        format="json",
    )
    assert guests.json()["fields"]["guests"][0] == {"name": ["Tell us this guest's name."]}
    for params in (
        {"services": "1,x"},
        {"services": f"{cut.pk}", "guests": "9"},
        {"services": f"{cut.pk}", "guests": "-1"},
    ):
        response = api().get(f"{BASE}/availability/", {"from": DAY, "to": DAY, **params})
        assert response.status_code == 400, params
    with salon_scope(bella.catalogue.salon):
        assert not Booking.objects.exists()
