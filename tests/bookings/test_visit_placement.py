"""Placing a visit against the database (bookings/selectors.py `visit_placement`): it
reads every day the visit may touch, and agrees with the availability it was offered from."""

import datetime as dt

import pytest

from bookings.models import BusyTime
from bookings.selectors import (
    VisitPart,
    availability_for,
    staff_day_counts,
    visit_availability_for,
    visit_placement,
)
from bookings.services import (
    booking_cancel,
    booking_create,
    catalogue_service_save,
    resource_kind_save,
    resource_save,
    staff_hours_set,
    staff_save,
    time_off_save,
)
from tenants.scoping import salon_scope
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

TUESDAY, WEDNESDAY = dt.date(2027, 3, 2), dt.date(2027, 3, 3)


def _at(salon, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=salon.tz)


def test_a_late_visit_is_placed_against_the_next_days_bookings_as_offered(catalogue_a, monday):
    """A salon open late on Tuesday and from midnight on Wednesday: visits near midnight
    are placed exactly where availability (read over both days) offers them, the
    Wednesday bookings of the staff and of the basin counted in."""
    salon, cut, colour = catalogue_a.salon, catalogue_a.cut, catalogue_a.colour
    alice, bob = catalogue_a.alice, catalogue_a.bob
    with salon_scope(salon):
        basin = resource_kind_save(salon=salon, kind=None, name="Bac")
        resource_save(salon=salon, resource=None, name="Bac", kind=basin, quantity=1)
        blowdry = catalogue_service_save(
            salon=salon,
            service=None,
            name="Brushing",
            duration_minutes=30,
            price=3000,
            buffer_after_minutes=15,
            resource_kind=basin,
        )
        colour.processing_offset_minutes, colour.processing_minutes = 15, 30
        catalogue_service_save(salon=salon, service=colour)
        night = [
            {"weekday": TUESDAY.weekday(), "start": dt.time(20), "end": dt.time(23, 59)},
            {"weekday": WEDNESDAY.weekday(), "start": dt.time(0), "end": dt.time(4)},
        ]
        for person in (alice, bob):
            staff_save(salon=salon, staff=person, service_ids=[cut.pk, colour.pk, blowdry.pk])
            staff_hours_set(staff=person, ranges=night)
        # Just after midnight: Alice has a cut, the basin a blow-dry (by Bob).
        for service, staff, start in (
            (cut, alice, _at(salon, WEDNESDAY, 0)),
            (blowdry, bob, _at(salon, WEDNESDAY, 0, 30)),
        ):
            booking_create(
                salon=salon,
                service=service,
                staff=staff,
                start=start,
                customer=CustomerFactory(salon=salon),
            )
        assert BusyTime.objects.filter(resource__isnull=False).count() == 1

        visits = [
            [VisitPart(colour), VisitPart(blowdry)],
            [VisitPart(blowdry), VisitPart(cut)],
            [VisitPart(cut), VisitPart(blowdry, 1, "Chloé")],
        ]
        for parts in visits:
            offered = {
                slot.start: slot
                for slot in visit_availability_for(
                    salon=salon, parts=parts, first=TUESDAY, last=WEDNESDAY
                )
            }
            assert offered
            starts = [
                _at(salon, day, 0) + dt.timedelta(minutes=15 * k)
                for day in (TUESDAY, WEDNESDAY)
                for k in range(96)
            ]
            for start in starts:
                placed = visit_placement(salon=salon, parts=parts, start=start)
                assert (placed is not None) == (start in offered), start
                if placed is None:
                    continue
                slot = offered[start]
                assert [(p.start, p.end) for p in placed] == [(i.start, i.end) for i in slot.items]
                for p, item in zip(placed, slot.items, strict=True):
                    assert p.staff_id in item.staff_ids
                    if p.resource is not None:
                        # The basin is Bob's client's at 00:30-01:00 on Wednesday.
                        assert not (
                            p.start < _at(salon, WEDNESDAY, 1)
                            and _at(salon, WEDNESDAY, 0, 30) < p.end
                        )
                    if p.staff_id == alice.pk:
                        assert all(
                            not (a < _at(salon, WEDNESDAY, 0, 45) and _at(salon, WEDNESDAY, 0) < b)
                            for a, b in p.staff_busy
                        )
        # Late on Tuesday: the blow-dry at 22:30, the cut until 23:45.
        late = visit_placement(salon=salon, parts=visits[1], start=_at(salon, TUESDAY, 22, 30))
        assert late is not None
        assert late[-1].end == _at(salon, TUESDAY, 23, 45)


def test_one_service_is_offered_exactly_where_each_staff_member_can_be_placed(catalogue_a, monday):
    """The one-service engine reads busy time as seconds after the window's start, the
    placement (the visit engine) as epoch seconds: over two days of bookings, a staff
    member's time off and the salon's, both agree start by start and staff member."""
    salon, cut, colour = catalogue_a.salon, catalogue_a.cut, catalogue_a.colour
    alice, bob = catalogue_a.alice, catalogue_a.bob
    with salon_scope(salon):
        for service, staff, start in (
            (cut, alice, _at(salon, TUESDAY, 10)),
            (colour, alice, _at(salon, TUESDAY, 11, 30)),
            (cut, bob, _at(salon, TUESDAY, 9, 15)),
            (cut, bob, _at(salon, WEDNESDAY, 16)),
        ):
            booking_create(
                salon=salon,
                service=service,
                staff=staff,
                start=start,
                customer=CustomerFactory(salon=salon),
            )
        time_off_save(
            salon=salon,
            staff=alice,
            start=_at(salon, TUESDAY, 14),
            end=_at(salon, TUESDAY, 15, 30),
        )
        time_off_save(
            salon=salon, staff=None, start=_at(salon, WEDNESDAY, 9), end=_at(salon, WEDNESDAY, 12)
        )
        offered = {
            slot.start: slot.staff_ids
            for slot in availability_for(salon=salon, service=cut, first=TUESDAY, last=WEDNESDAY)
        }
        assert offered[_at(salon, TUESDAY, 9)] == (alice.pk,)
        assert offered[_at(salon, TUESDAY, 10, 45)] == (alice.pk, bob.pk)
        assert offered[_at(salon, TUESDAY, 14)] == (bob.pk,)
        assert _at(salon, WEDNESDAY, 11) not in offered
        assert offered[_at(salon, WEDNESDAY, 12)] == (alice.pk, bob.pk)
        for day in (TUESDAY, WEDNESDAY):
            for k in range(4 * 9, 4 * 20):
                start = _at(salon, day, 0) + dt.timedelta(minutes=15 * k)
                for staff in (alice, bob):
                    placed = visit_placement(
                        salon=salon, parts=[VisitPart(cut)], start=start, staff_id=staff.pk
                    )
                    assert (placed is not None) == (staff.pk in offered.get(start, ())), (
                        start,
                        staff.name,
                    )


def test_a_service_that_is_all_processing_time_is_booked(catalogue_a, monday):
    """A mask that sets for its whole length keeps the chair, not the staff member."""
    salon = catalogue_a.salon
    with salon_scope(salon):
        mask = catalogue_service_save(
            salon=salon,
            service=None,
            name="Masque",
            duration_minutes=20,
            price=2000,
            processing_offset_minutes=0,
            processing_minutes=20,
        )
        staff_save(salon=salon, staff=catalogue_a.alice, service_ids=[mask.pk])
        start = _at(salon, TUESDAY, 10)
        booking = booking_create(
            salon=salon, service=mask, start=start, customer=CustomerFactory(salon=salon)
        )
        assert (booking.start, booking.end) == (start, start + dt.timedelta(minutes=20))
        assert not BusyTime.objects.filter(booking=booking, staff__isnull=False).exists()
        # Alice stays free for another client meanwhile.
        other = booking_create(
            salon=salon,
            service=catalogue_a.cut,
            staff=catalogue_a.alice,
            start=start,
            customer=CustomerFactory(salon=salon),
        )
        assert other.staff_id == catalogue_a.alice.pk


def test_busy_time_keeps_its_times_as_epoch_seconds_across_a_clock_change(catalogue_a, monday):
    """The generated columns availability reads (bookings 0008) are the instants, whatever
    the salon's offset: a booking the day before the clocks go forward, one after."""
    salon = catalogue_a.salon
    with salon_scope(salon):
        for day in (dt.date(2027, 3, 27), dt.date(2027, 3, 30)):  # Paris: forward on the 28th
            booking_create(
                salon=salon,
                service=catalogue_a.cut,
                staff=catalogue_a.alice,
                start=_at(salon, day, 10),
                customer=CustomerFactory(salon=salon),
            )
        rows = BusyTime.objects.filter(staff=catalogue_a.alice).values_list(
            "start", "end", "start_epoch", "end_epoch"
        )
        assert len(rows) == 2
        for start, end, start_epoch, end_epoch in rows:
            assert (start_epoch, end_epoch) == (int(start.timestamp()), int(end.timestamp()))


def test_the_days_bookings_are_counted_per_staff_member_active_only(catalogue_a, monday):
    """What "anyone" shares out by: each staff member's active bookings that local day,
    none of another day's, none cancelled."""
    salon = catalogue_a.salon
    alice, bob = catalogue_a.alice, catalogue_a.bob
    with salon_scope(salon):
        made = [
            booking_create(
                salon=salon,
                service=catalogue_a.cut,
                staff=member,
                start=_at(salon, day, hour),
                customer=CustomerFactory(salon=salon),
            )
            for member, day, hour in (
                (alice, TUESDAY, 9),
                (alice, TUESDAY, 11),
                (alice, WEDNESDAY, 9),
                (bob, TUESDAY, 10),
            )
        ]
        booking_cancel(booking=made[3], by_salon=True)
        counts = staff_day_counts(salon=salon, day=TUESDAY, staff_ids=[alice.pk, bob.pk])
    assert counts == {alice.pk: 2, bob.pk: 0}
