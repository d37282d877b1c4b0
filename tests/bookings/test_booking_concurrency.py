"""No double booking, whatever the load: PostgreSQL's exclusion constraint decides races."""

import itertools
import threading
from collections import Counter
from typing import Any

import psycopg
import pytest
from django.db import connection
from rest_framework.test import APIClient

from bench.load import count_overlapping_bookings
from bookings.models import Booking
from bookings.services import booking_create
from tenants.scoping import salon_scope
from tests.conftest import book, local
from tests.factories import CustomerFactory

ROLE = "acompte_app"

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
                "service": catalogue_a.cut.pk,
                "start": starts[n % 10],
                "staff": alice.pk,
                "customer": {"name": f"Client {n}", "phone": f"06 11 22 00 {n:02}"},
            }
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
    assert count_overlapping_bookings() == (0, 10)


def test_hundred_clients_race_for_visits_that_share_staff_and_one_basin(catalogue_a, monday):
    """Visits of a blow-dry at the salon's one basin then a cut, by whoever is free: the
    exclusion constraints keep staff and the basin from being given twice at once."""
    from bookings.models import BookingItem
    from bookings.services import (
        catalogue_service_save,
        resource_kind_save,
        resource_save,
        staff_save,
    )

    salon = catalogue_a.salon
    with salon_scope(salon):
        basin = resource_kind_save(salon=salon, kind=None, name="Bac")
        resource_save(salon=salon, resource=None, name="Bac", kind=basin, quantity=1)
        blowdry = catalogue_service_save(
            salon=salon,
            service=None,
            name="Brushing",
            duration_minutes=30,
            price=3000,
            resource_kind=basin,
        )
        for person in (catalogue_a.alice, catalogue_a.bob):
            staff_save(salon=salon, staff=person, service_ids=[catalogue_a.cut.pk, blowdry.pk])
    starts = [f"2027-03-02T{9 + k // 4:02}:{15 * (k % 4):02}:00+01:00" for k in range(12)]
    barrier = threading.Barrier(100)
    codes: list[int] = []
    lock = threading.Lock()

    def client(n):
        try:
            body = {
                "services": [blowdry.pk, catalogue_a.cut.pk],
                "start": starts[n % len(starts)],
                "customer": {"name": f"Client {n}", "phone": f"06 11 22 00 {n:02}"},
            }
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
        t.join(timeout=180)

    assert len(codes) == 100
    assert set(codes) <= {201, 409}, Counter(codes)
    booked = Counter(codes)[201]
    assert booked >= 2
    with salon_scope(salon):
        assert Booking.objects.count() == booked
        assert BookingItem.objects.count() == 2 * booked
        basin_uses = sorted((i.start, i.end) for i in BookingItem.objects.filter(service=blowdry))
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(basin_uses))
    assert count_overlapping_bookings() == (0, booked)


def test_the_database_refuses_an_overlap_the_service_did_not_see(catalogue_a, monday):
    """The constraint itself, beneath the service: a raw overlapping stretch of busy time
    fails, for a staff member as for a unit of a resource; an inactive one does not."""
    from django.db import IntegrityError, transaction

    from bookings.models import BusyTime, Resource, ResourceKind

    lea = CustomerFactory(salon=catalogue_a.salon)
    first = book(catalogue_a, lea, local(catalogue_a.salon, 1, 10), staff=catalogue_a.alice)
    with salon_scope(catalogue_a.salon):
        basin = Resource.objects.create(
            salon=catalogue_a.salon,
            name="Bacs",
            quantity=1,
            kind=ResourceKind.objects.create(salon=catalogue_a.salon, name="Bac"),
        )
        row = {"salon": catalogue_a.salon, "booking": first, "start": first.start}
        BusyTime.objects.create(**row, end=first.end, resource=basin, unit=1, active=True)
        for taken in ({"staff": catalogue_a.alice}, {"resource": basin, "unit": 1}):
            name = "busytime_staff_overlap" if "staff" in taken else "busytime_unit_overlap"
            other = Booking.objects.get(pk=first.pk)
            other.pk, other.reference = None, f"T-{name[9:13]}"
            other.save()
            with transaction.atomic(), pytest.raises(IntegrityError, match=name):
                BusyTime.objects.create(
                    **{**row, "booking": other}, end=first.end, active=True, **taken
                )
            BusyTime.objects.create(
                **{**row, "booking": other}, end=first.end, active=False, **taken
            )


def _owner_connection() -> psycopg.Connection:
    """A connection of the tables' owner (the DATABASE_URL user), outside the product."""
    db = connection.settings_dict
    return psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"] or None,
    )


def test_a_booking_whose_transaction_is_chosen_to_break_a_deadlock_is_retried_and_succeeds(
    catalogue_a, catalogue_b, monday
):
    """A real deadlock: the booking's transaction locks Bella's salon row then wants
    Rival's, while another transaction holds Rival's and wants Bella's. PostgreSQL aborts
    the booking's (its wait began first, and the other waits longer before checking); it
    is run again, and the client gets its booking, not a 503."""
    bella, rival = catalogue_a.salon.pk, catalogue_b.salon.pk
    lock_row = "SELECT id FROM tenants_salon WHERE id = %s FOR UPDATE"
    barrier = threading.Barrier(2)
    inserts: list[int] = []
    answers: list[Any] = []

    def trap(execute, sql, params, many, context):
        # Before the booking's row goes in, on the first attempt only: the crossed locks.
        if sql.startswith('INSERT INTO "bookings_booking"'):
            inserts.append(1)
            if len(inserts) == 1:
                raw = connection.connection
                with connection.wrap_database_errors:  # as Django reports a statement's
                    raw.execute(lock_row, [bella])
                    barrier.wait(timeout=30)
                    raw.execute(lock_row, [rival])  # waits on the other transaction
        return execute(sql, params, many, context)

    def client() -> None:
        try:
            with connection.execute_wrapper(trap):
                answers.append(
                    APIClient().post(
                        "/api/v1/salons/bella/bookings/",
                        {
                            "service": catalogue_a.cut.pk,
                            "start": "2027-03-02T10:00:00+01:00",
                            "staff": catalogue_a.alice.pk,
                            "customer": {"name": "Léa Martin", "phone": "06 12 34 56 78"},
                        },
                        format="json",
                    )
                )
        finally:
            connection.close()

    with _owner_connection() as other:
        other.execute("SET deadlock_timeout = '30s'")  # the booking's backend finds it first
        other.execute(lock_row, [rival])
        thread = threading.Thread(target=client)
        thread.start()
        barrier.wait(timeout=30)
        other.execute(lock_row, [bella])  # the cycle: one of the two is aborted
        other.rollback()
        thread.join(timeout=60)

    [answer] = answers
    assert answer.status_code == 201, answer.json()
    assert len(inserts) == 2  # aborted once, run again
    assert count_overlapping_bookings() == (0, 1)
    with salon_scope(catalogue_a.salon):
        assert Booking.objects.count() == 1


def test_the_load_benchmarks_overlap_count_finds_a_planted_overlap(
    catalogue_a, catalogue_b, monday
):
    """bench/load.py's check, on bookings the constraint was removed for: it finds them,
    counting as the application role, to which row-level security applies."""
    for catalogue in (catalogue_a, catalogue_b):
        with salon_scope(catalogue.salon):
            booking_create(
                salon=catalogue.salon,
                service=catalogue.cut,
                staff=catalogue.alice,
                start=local(catalogue.salon, 2, 10),
                customer=CustomerFactory(salon=catalogue.salon),
            )
    assert count_overlapping_bookings() == (0, 2)
    with _owner_connection() as owner, owner.cursor() as cursor:
        # In a transaction rolled back: the constraint dropped, an overlap planted.
        cursor.execute("ALTER TABLE bookings_busytime DROP CONSTRAINT busytime_staff_overlap")
        cursor.execute(
            "INSERT INTO bookings_booking SELECT (jsonb_populate_record(b, jsonb_build_object("
            "'id', b.id + 1000000, 'reference', 'PLANTED'))).* FROM bookings_booking b"
            " WHERE b.salon_id = %s",
            [catalogue_b.salon.pk],
        )
        cursor.execute(
            "INSERT INTO bookings_busytime SELECT (jsonb_populate_record(t, jsonb_build_object("
            "'id', t.id + 1000000, 'booking_id', t.booking_id + 1000000))).*"
            " FROM bookings_busytime t WHERE t.salon_id = %s",
            [catalogue_b.salon.pk],
        )
        cursor.execute(f"SET LOCAL ROLE {ROLE}")
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == ROLE
        assert count_overlapping_bookings(cursor) == (1, 3)
        owner.rollback()
    assert count_overlapping_bookings() == (0, 2)
