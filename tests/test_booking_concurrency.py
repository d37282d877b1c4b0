"""No double booking, whatever the load: PostgreSQL's exclusion constraint decides races."""

import threading
from collections import Counter

import pytest
from django.db import connection
from rest_framework.test import APIClient

from bookings.models import Booking
from tenants.scoping import salon_scope

pytestmark = pytest.mark.django_db(transaction=True)


def test_hundred_clients_race_for_ten_slots(catalogue_a, monday):
    assert connection.vendor == "postgresql"
    alice = catalogue_a.alice
    starts = [f"2027-03-02T{9 + k:02}:00:00+01:00" for k in range(10)]
    barrier = threading.Barrier(100)
    codes: list[int] = []
    lock = threading.Lock()

    def client(n):
        try:
            body = {
                "service": catalogue_a.cut.pk, "start": starts[n % 10], "staff": alice.pk,
                "customer": {"name": f"Client {n}", "phone": f"06 11 22 00 {n:02}"},
            }  # fmt: skip
            barrier.wait(timeout=30)
            response = APIClient().post("/api/v1/salons/bella/bookings/", body, format="json")
            with lock:
                codes.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert Counter(codes) == {201: 10, 409: 90}
    with salon_scope(catalogue_a.salon):
        assert Booking.objects.count() == 10
        assert len({b.start for b in Booking.objects.all()}) == 10  # one per slot
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM bookings_booking a JOIN bookings_booking b "
            "ON a.staff_id = b.staff_id AND a.id < b.id "
            "AND tstzrange(a.busy_start, a.busy_end) && tstzrange(b.busy_start, b.busy_end) "
            "AND a.status IN ('pending_payment', 'confirmed') "
            "AND b.status IN ('pending_payment', 'confirmed')"
        )
        assert cursor.fetchone()[0] == 0


def test_the_database_refuses_an_overlap_the_service_did_not_see(catalogue_a, monday):
    """The constraint itself, beneath the service: a raw overlapping insert fails."""
    from django.db import IntegrityError

    from .conftest import book, local
    from .factories import CustomerFactory

    lea = CustomerFactory(salon=catalogue_a.salon)
    first = book(catalogue_a, lea, local(catalogue_a.salon, 1, 10), staff=catalogue_a.alice)
    with salon_scope(catalogue_a.salon), pytest.raises(IntegrityError, match="booking_no_overlap"):
        Booking.objects.create(
            salon=catalogue_a.salon, customer=lea, service=catalogue_a.cut, staff=catalogue_a.alice,
            start=first.start, end=first.end, busy_start=first.busy_start,
            busy_end=first.busy_end, price=1, currency="EUR", source="online",
            status="confirmed", reference="TEST-01",
        )  # fmt: skip
