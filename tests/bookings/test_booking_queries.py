"""What one online booking asks of the database, counted: bookings over gunicorn are held
to a share of a one-SELECT view (issue 15, bench/availability.py), and every statement
is a round trip and a query built. A statement creeping back in fails here first."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bookings.models import Booking, BookingItem
from tenants.scoping import salon_scope

BOOK = "/api/v1/salons/bella/bookings/"

# A booking with a chosen staff member, a new client, nothing to pay, in the test's
# transaction (its BEGIN and COMMIT are savepoints here): the catalogue's version, the
# client looked for then created with her consent (in a savepoint), the deposit policy's
# version, time off, then the booking, its item, its busy time and its event (in a
# savepoint: the exclusion constraint's refusal is caught), and the terms it was made under.
MOST_STATEMENTS = 17


def _body(catalogue, hour: int, phone: str, **extra):
    return {
        "service": catalogue.cut.pk,
        "start": f"2027-03-02T{hour:02}:00:00+01:00",
        "customer": {"name": "Léa Martin", "phone": phone},
        **extra,
    }


def _booked(api, catalogue, hour: int, phone: str, **extra):
    with CaptureQueriesContext(connection) as queries:
        response = api().post(BOOK, _body(catalogue, hour, phone, **extra), format="json")
    assert response.status_code == 201, response.json()
    return response.json(), [query["sql"] for query in queries.captured_queries]


@pytest.mark.django_db
def test_a_booking_with_a_chosen_staff_member_in_a_fixed_number_of_statements(
    api, catalogue_a, monday
):
    _booked(api, catalogue_a, 9, "06 12 34 56 01", staff=catalogue_a.alice.pk)  # caches warm
    booking, statements = _booked(
        api, catalogue_a, 11, "06 12 34 56 02", staff=catalogue_a.alice.pk
    )
    assert len(statements) <= MOST_STATEMENTS, "\n".join(statements)
    # The catalogue's version is read once for the request and the booking.
    assert sum("catalogue:version" in sql for sql in statements) == 1
    # One staff member's time: no lock to take in order, no day's bookings to count.
    assert not any("pg_advisory_xact_lock" in sql for sql in statements)
    assert not any('FROM "bookings_booking" WHERE' in sql for sql in statements)
    # The answer shows the items just written, without reading them back, as they are.
    assert not any('FROM "bookings_bookingitem"' in sql for sql in statements)
    with salon_scope(catalogue_a.salon):
        item = BookingItem.objects.get(booking_id=booking["id"])
    assert booking["items"] == [
        {
            "service": catalogue_a.cut.pk,
            "staff": catalogue_a.alice.pk,
            "start": "2027-03-02T11:00:00+01:00",
            "end": "2027-03-02T11:45:00+01:00",
            "guest": None,
            "price": item.price,
            "deposit_amount": item.deposit_amount,
        }
    ]
    assert item.staff_id == catalogue_a.alice.pk and item.start.hour == 10  # UTC


@pytest.mark.django_db
def test_anyone_counts_the_days_bookings_once_when_several_are_free(api, catalogue_a, monday):
    _booked(api, catalogue_a, 9, "06 12 34 56 01", staff=catalogue_a.alice.pk)
    # At 10:00 both are free: Bob, with no booking that day, takes it.
    booking, statements = _booked(api, catalogue_a, 10, "06 12 34 56 03")
    assert booking["staff"] == catalogue_a.bob.pk
    assert sum('FROM "bookings_booking" WHERE' in sql for sql in statements) == 1
    assert len(statements) <= MOST_STATEMENTS + 1, "\n".join(statements)
    # At 09:00 only Bob is free: nothing to count.
    booking, statements = _booked(api, catalogue_a, 9, "06 12 34 56 04")
    assert booking["staff"] == catalogue_a.bob.pk
    assert not any('FROM "bookings_booking" WHERE' in sql for sql in statements)
    with salon_scope(catalogue_a.salon):
        assert Booking.objects.count() == 3
