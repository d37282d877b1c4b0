"""No double booking, whatever the load: PostgreSQL's exclusion constraint decides races."""

import datetime as dt
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
    """A hundred clients at once, through the booking API, for visits that share Alice,
    Bob and the salon's one basin: a blow-dry then a cut; a colour whose setting time
    frees its colourist, then a blow-dry; two friends, one at the basin while the other
    has her cut. The exclusion constraints give no staff member and no unit twice at
    once; every loser is told 409 `slot_unavailable`, and only for a time really taken."""
    from django.db import transaction
    from django_scopes import scopes_disabled

    from bookings.models import BookingItem, BusyTime
    from bookings.selectors import VisitPart, visit_availability_for
    from bookings.services import (
        catalogue_service_save,
        resource_kind_save,
        resource_save,
        staff_save,
    )

    salon, cut, colour = catalogue_a.salon, catalogue_a.cut, catalogue_a.colour
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
        colour.processing_offset_minutes, colour.processing_minutes = 15, 30
        catalogue_service_save(salon=salon, service=colour)
        for person in (catalogue_a.alice, catalogue_a.bob):
            staff_save(salon=salon, staff=person, service_ids=[cut.pk, colour.pk, blowdry.pk])
    # What each kind of client asks for: the contact's services, a guest's.
    kinds = [
        ([blowdry, cut], []),
        ([colour, blowdry], []),
        ([blowdry], [cut]),
    ]
    # Sixteen starts a quarter of an hour apart, each asked by six or seven clients, two
    # or three of each kind: visits that start together, and visits that overlap.
    starts = [f"2027-03-02T{9 + k // 4:02}:{15 * (k % 4):02}:00+01:00" for k in range(16)]
    asked = [(n % len(kinds), starts[(7 * n) % len(starts)]) for n in range(100)]
    barrier = threading.Barrier(100)
    answers: dict[int, tuple[int, Any]] = {}
    lock = threading.Lock()

    def client(n):
        try:
            kind, start = asked[n]
            own, guest = kinds[kind]
            body: dict[str, Any] = {
                "services": [service.pk for service in own],
                "start": start,
                "customer": {"name": f"Client {n}", "phone": f"06 11 22 00 {n:02}"},
            }
            if guest:
                body["guests"] = [{"name": f"Amie {n}", "services": [s.pk for s in guest]}]
            barrier.wait(timeout=30)
            response = APIClient().post("/api/v1/salons/bella/bookings/", body, format="json")
            with lock:
                answers[n] = (response.status_code, response.json())
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)

    assert len(answers) == 100
    codes = Counter(code for code, _body in answers.values())
    assert set(codes) <= {201, 409}, codes  # no 5xx, nothing else
    for code, body in answers.values():
        if code == 409:
            assert body["code"] == "slot_unavailable", body
            assert isinstance(body["detail"], str) and body["detail"]
    won = {n for n, (code, _body) in answers.items() if code == 201}
    assert len(won) >= 3
    with salon_scope(salon):
        assert Booking.objects.count() == len(won)
        assert {b.pk for b in Booking.objects.all()} == {answers[n][1]["id"] for n in won}
        assert BookingItem.objects.count() == sum(
            len(kinds[asked[n][0]][0]) + len(kinds[asked[n][0]][1]) for n in won
        )
        # Each visit holds the basin: the winners' uses of it follow each other.
        basin_uses = sorted(
            (row.start, row.end) for row in BusyTime.objects.filter(resource__isnull=False)
        )
        assert len(basin_uses) == len(won)
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(basin_uses))
    # In SQL, over every row of busy time: no staff member, no unit twice at once.
    # (Outside any one salon's scope: row-level security shows every salon's rows.)
    with scopes_disabled(), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE staff_id IS NULL)"
            " FROM bookings_busytime WHERE active"
        )
        rows, unit_rows = cursor.fetchone()
        cursor.execute(
            "SELECT count(*) FROM bookings_busytime a JOIN bookings_busytime b"
            " ON a.id < b.id AND a.active AND b.active"
            ' AND a.start < b."end" AND b.start < a."end"'
            " AND (a.staff_id = b.staff_id OR (a.resource_id = b.resource_id AND a.unit = b.unit))"
        )
        overlaps = cursor.fetchone()[0]
    assert (overlaps, unit_rows) == (0, len(won))
    assert rows >= 2 * len(won)
    assert count_overlapping_bookings() == (0, len(won))
    # A start refused to every client who asked for it is taken now: nobody was turned
    # away from a time still free.
    with salon_scope(salon):
        for kind, (own, guest) in enumerate(kinds):
            parts = [VisitPart(s) for s in own] + [VisitPart(s, 1, "Amie") for s in guest]
            offered = {
                slot.start
                for slot in visit_availability_for(
                    salon=salon, parts=parts, first=dt.date(2027, 3, 2), last=dt.date(2027, 3, 2)
                )
            }
            for start in {start for k, start in asked if k == kind}:
                if not any(asked[n] == (kind, start) for n in won):
                    assert dt.datetime.fromisoformat(start) not in offered, (kind, start)


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
        # Every column but the generated ones (the times as epoch seconds).
        columns = (
            'id, salon_id, booking_id, staff_id, resource_id, unit, start, "end", active,'
            " held_until"
        )
        cursor.execute(
            f"INSERT INTO bookings_busytime ({columns}) SELECT {columns} FROM"
            " (SELECT (jsonb_populate_record(t, jsonb_build_object("
            "'id', t.id + 1000000, 'booking_id', t.booking_id + 1000000))).*"
            " FROM bookings_busytime t WHERE t.salon_id = %s) AS planted",
            [catalogue_b.salon.pk],
        )
        cursor.execute(f"SET LOCAL ROLE {ROLE}")
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == ROLE
        assert count_overlapping_bookings(cursor) == (1, 3)
        owner.rollback()
    assert count_overlapping_bookings() == (0, 2)
