"""Refilling freed times from the waitlist: what is offered to whom, in line or to all,
after quiet hours, never outside a client's wishes; accepting (once), lapsing, taken."""

import datetime as dt
import random
import threading

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from bookings.models import Booking, Source, Status, TimeOff
from bookings.selectors import catalogue_get
from bookings.services import booking_cancel, time_off_delete
from core.errors import OfferExpired, SlotTaken
from messaging import sms
from messaging.models import Message, MessageKind, MessageStatus
from messaging.outbox import messages_send_due
from support.models import (
    FreedTime,
    OfferStatus,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistStatus,
)
from support.offers import offer_accept
from support.refill import freed_time_refill, waitlist_run
from support.waitlist import PARTS_OF_DAY, part_of_day, waitlist_join
from tenants.scoping import salon_scope
from tests.conftest import MONDAY, book, local
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def join(catalogue, customer, *, services=None, staff=None, first=1, last=4, parts=(), at=None):
    with salon_scope(catalogue.salon):
        return waitlist_join(
            salon=catalogue.salon,
            customer=customer,
            services=services or [catalogue.cut],
            staff=staff,
            first=MONDAY.date() + dt.timedelta(days=first),
            last=MONDAY.date() + dt.timedelta(days=last),
            parts_of_day=list(parts),
            consent=True,
            source="web",
            now=at,
        )


def run(salon, now=None):
    with salon_scope(salon):
        return waitlist_run(salon=salon, now=now)


def offers(salon, **filters):
    with salon_scope(salon):
        return list(WaitlistOffer.objects.filter(**filters).order_by("id"))


def cancelled_tuesday_ten(catalogue, staff=None):
    """Léa's cut with Alice, Tuesday at 10:00, cancelled: the time is free."""
    lea = CustomerFactory(salon=catalogue.salon, name="Léa")
    booking = book(catalogue, lea, local(catalogue.salon, 1, 10), staff=staff or catalogue.alice)
    with salon_scope(catalogue.salon):
        booking_cancel(booking=booking, by_salon=True)
    return booking


def test_a_cancellation_is_offered_first_in_line_then_to_the_next_when_it_lapses(
    catalogue_a, catalogue_b, monday
):
    salon = catalogue_a.salon
    anna = CustomerFactory(salon=salon, name="Anna")
    bea = CustomerFactory(salon=salon, name="Béa")
    first = join(catalogue_a, anna)
    monday.shift(60)
    second = join(catalogue_a, bea, staff=catalogue_a.alice)
    # Salon B's client waits for the same service on the same days: never offered A's time.
    join(catalogue_b, CustomerFactory(salon=catalogue_b.salon))
    cancelled_tuesday_ten(catalogue_a)
    assert run(salon)["offers"] == 1
    (offer,) = offers(salon)
    assert offer.entry_id == first.pk and offer.status == OfferStatus.OPEN
    assert offer.start == local(salon, 1, 10) and offer.staff_id == catalogue_a.alice.pk
    assert offer.expires_at == offer.offered_at + dt.timedelta(minutes=salon.offer_minutes)
    with salon_scope(salon):
        assert WaitlistEntry.objects.get(pk=first.pk).status == WaitlistStatus.OFFERED
        message = Message.objects.get(kind=MessageKind.WAITLIST_OFFER)
        assert message.customer_id == anna.pk and offer.token in message.body
    assert run(salon)["offers"] == 0  # one at a time
    monday.shift(dt.timedelta(minutes=salon.offer_minutes))
    swept = run(salon)
    assert (swept["lapsed"], swept["offers"]) == (1, 1)
    lapsed, passed = offers(salon)
    assert lapsed.status == OfferStatus.LAPSED and passed.entry_id == second.pk
    with salon_scope(salon):
        assert WaitlistEntry.objects.get(pk=first.pk).status == WaitlistStatus.WAITING
    with salon_scope(catalogue_b.salon):
        assert not WaitlistOffer.objects.exists() and not FreedTime.objects.exists()


def test_broadcast_two_acceptances_racing_make_one_booking(catalogue_a, monday, transactional_db):
    salon = catalogue_a.salon
    salon.waitlist_mode = "broadcast"
    salon.save()
    anna = CustomerFactory(salon=salon, name="Anna")
    bea = CustomerFactory(salon=salon, name="Béa")
    join(catalogue_a, anna)
    join(catalogue_a, bea)
    cancelled_tuesday_ten(catalogue_a)
    assert run(salon)["offers"] == 2
    both = offers(salon)
    barrier = threading.Barrier(2)
    outcomes: dict[int, object] = {}

    def accept(offer):
        try:
            with salon_scope(salon):
                barrier.wait(timeout=10)
                outcomes[offer.pk] = offer_accept(offer=offer_fresh(salon, offer.pk))[0]
        except Exception as exc:  # what the loser is answered
            outcomes[offer.pk] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=accept, args=(o,)) for o in both]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    won = [v for v in outcomes.values() if isinstance(v, Booking)]
    lost = [v for v in outcomes.values() if isinstance(v, SlotTaken)]
    assert len(won) == 1 and len(lost) == 1, outcomes
    with salon_scope(salon):
        booking = Booking.objects.get(source=Source.WAITLIST)
        assert booking.pk == won[0].pk and booking.status == Status.CONFIRMED
        statuses = sorted(WaitlistOffer.objects.values_list("status", flat=True))
        assert statuses == [OfferStatus.ACCEPTED, OfferStatus.TAKEN]
        loser = WaitlistOffer.objects.get(status=OfferStatus.TAKEN)
        assert loser.entry.status == WaitlistStatus.WAITING  # she keeps her place
        winner = WaitlistOffer.objects.get(status=OfferStatus.ACCEPTED)
        assert winner.entry.status == WaitlistStatus.BOOKED
        assert FreedTime.objects.get().refilled_by_id == booking.pk
    assert "keep your place" in str(lost[0])


def offer_fresh(salon, pk):
    from support.offers import offer_by_token

    with salon_scope(salon):
        token = WaitlistOffer.objects.get(pk=pk).token
        return offer_by_token(token)


@pytest.fixture
def texts(settings):
    settings.SMS_BACKEND = "locmem"
    sms.outbox.clear()
    return sms.outbox


def test_broadcast_the_others_are_told_kindly_once_one_accepts(catalogue_a, monday, texts):
    salon = catalogue_a.salon
    salon.waitlist_mode = "broadcast"
    salon.save()
    people = [CustomerFactory(salon=salon) for _ in range(3)]
    for person in people:
        join(catalogue_a, person)
    cancelled_tuesday_ten(catalogue_a)
    run(salon)
    with salon_scope(salon):
        messages_send_due(salon=salon)
    assert len([t for t in texts if "/waitlist/offers/" in t.body]) == 3
    first, *others = offers(salon)
    with salon_scope(salon):
        booking, _checkout = offer_accept(offer=offer_fresh(salon, first.pk))
        again, _ = offer_accept(offer=offer_fresh(salon, first.pk))  # a double click
        assert again.pk == booking.pk and Booking.objects.count() == 2  # Léa's + this one
        told = Message.objects.filter(kind=MessageKind.WAITLIST_TAKEN)
        assert sorted(told.values_list("customer_id", flat=True)) == sorted(
            p.pk for p in people[1:]
        )
        with pytest.raises(SlotTaken):
            offer_accept(offer=offer_fresh(salon, others[0].pk))
    assert {o.status for o in offers(salon, pk__in=[o.pk for o in others])} == {OfferStatus.TAKEN}
    with salon_scope(salon):
        messages_send_due(salon=salon)
    sorry = [t for t in texts if "/waitlist/offers/" not in t.body]
    assert all("gardez votre place" in t.body for t in sorry)
    assert sorted(t.to for t in sorry) == sorted(str(p.phone) for p in people[1:])


def test_quiet_hours_hold_the_offer_and_its_clock_starts_when_it_is_sent(catalogue_a, monday):
    salon = catalogue_a.salon
    anna = CustomerFactory(salon=salon, name="Anna")
    join(catalogue_a, anna, first=2)
    # Late on Monday evening (22:30 in Paris, quiet until 08:00), Wednesday's time frees.
    monday.move_to(dt.datetime(2027, 3, 1, 21, 30, tzinfo=dt.UTC))
    lea = CustomerFactory(salon=salon)
    booking = book(catalogue_a, lea, local(salon, 2, 10), staff=catalogue_a.alice)
    with salon_scope(salon):
        booking_cancel(booking=booking, by_salon=True)
    run(salon)
    (offer,) = offers(salon)
    quiet_end = local(salon, 1, 8)
    assert offer.offered_at == quiet_end
    assert offer.expires_at == quiet_end + dt.timedelta(minutes=salon.offer_minutes)
    with salon_scope(salon):
        message = Message.objects.get(kind=MessageKind.WAITLIST_OFFER)
    assert message.send_after == quiet_end and message.status == MessageStatus.PENDING
    # At midnight nothing lapses: its clock has not started.
    monday.move_to(local(salon, 1, 0, 30))
    assert run(salon)["lapsed"] == 0
    assert offers(salon)[0].status == OfferStatus.OPEN


def test_an_offer_past_its_time_answers_offer_expired(catalogue_a, monday):
    salon = catalogue_a.salon
    join(catalogue_a, CustomerFactory(salon=salon))
    cancelled_tuesday_ten(catalogue_a)
    run(salon)
    (offer,) = offers(salon)
    monday.shift(dt.timedelta(minutes=salon.offer_minutes, seconds=1))
    with salon_scope(salon), pytest.raises(OfferExpired):
        offer_accept(offer=offer_fresh(salon, offer.pk))
    with salon_scope(salon):
        assert not Booking.objects.filter(source=Source.WAITLIST).exists()


def test_a_time_taken_meanwhile_is_said_kindly_and_the_place_kept(catalogue_a, monday):
    salon = catalogue_a.salon
    anna = CustomerFactory(salon=salon)
    entry = join(catalogue_a, anna)
    cancelled_tuesday_ten(catalogue_a)
    run(salon)
    (offer,) = offers(salon)
    book(catalogue_a, CustomerFactory(salon=salon), local(salon, 1, 10), staff=catalogue_a.alice)
    with salon_scope(salon), pytest.raises(SlotTaken):
        offer_accept(offer=offer_fresh(salon, offer.pk))
    assert offers(salon)[0].status == OfferStatus.TAKEN
    with salon_scope(salon):
        assert WaitlistEntry.objects.get(pk=entry.pk).status == WaitlistStatus.WAITING


def test_a_client_booked_later_that_week_is_offered_the_move(catalogue_a, monday, settings):
    salon = catalogue_a.salon
    anna = CustomerFactory(salon=salon, name="Anna")
    later = book(catalogue_a, anna, local(salon, 4, 15), staff=catalogue_a.bob)
    join(catalogue_a, anna)
    cancelled_tuesday_ten(catalogue_a)
    run(salon)
    (offer,) = offers(salon)
    assert offer.move_id == later.pk
    with salon_scope(salon):
        moved, checkout = offer_accept(offer=offer_fresh(salon, offer.pk))
        assert checkout is None and moved.pk == later.pk
        assert moved.start == local(salon, 1, 10) and moved.staff_id == catalogue_a.alice.pk
        assert Booking.objects.filter(customer=anna).count() == 1
        # Her old time freed in turn (a move): recorded for the next refill.
        run(salon)
        assert FreedTime.objects.filter(cause="rescheduled", start=local(salon, 4, 15)).exists()


def test_removed_time_off_is_refilled(catalogue_a, monday):
    salon = catalogue_a.salon
    join(catalogue_a, CustomerFactory(salon=salon), staff=catalogue_a.bob)
    with salon_scope(salon):
        off = TimeOff.objects.create(
            salon=salon,
            staff=catalogue_a.bob,
            start=local(salon, 1, 9),
            end=local(salon, 1, 19),
        )
        time_off_delete(time_off=off)
        freed = FreedTime.objects.get()
    assert (freed.staff_id, freed.cause) == (catalogue_a.bob.pk, "time_off")
    run(salon)
    (offer,) = offers(salon)
    assert offer.staff_id == catalogue_a.bob.pk and offer.start == local(salon, 1, 9)


def test_an_early_no_show_frees_the_rest_of_the_appointment(catalogue_a, monday):
    from bookings.services import booking_mark_no_show

    salon = catalogue_a.salon
    lea = CustomerFactory(salon=salon)
    booking = book(
        catalogue_a, lea, local(salon, 0, 14), service=catalogue_a.colour, staff=catalogue_a.alice
    )
    monday.move_to(local(salon, 0, 14, 10))
    with salon_scope(salon):
        booking_mark_no_show(booking=booking)
    run(salon)
    with salon_scope(salon):
        freed = FreedTime.objects.get()
    assert (freed.start, freed.end) == (local(salon, 0, 14, 10), local(salon, 0, 15))


def test_the_refill_runs_twice_and_offers_once(catalogue_a, monday):
    salon = catalogue_a.salon
    join(catalogue_a, CustomerFactory(salon=salon))
    cancelled_tuesday_ten(catalogue_a)
    run(salon)
    with salon_scope(salon):
        freed = FreedTime.objects.get()
        FreedTime.objects.filter(pk=freed.pk).update(done_at=None)
        assert freed_time_refill(freed_id=freed.pk) == []
        run(salon)
        assert FreedTime.objects.count() == 1 and WaitlistOffer.objects.count() == 1
        assert Message.objects.filter(kind=MessageKind.WAITLIST_OFFER).count() == 1


def _suits(entry, offer, catalogue, tz):
    """The brute-force check of an offer against its entry's wishes."""
    start = offer.start.astimezone(tz)
    day_ok = entry.first_date <= start.date() <= entry.last_date
    parts_ok = not entry.parts_of_day or any(
        (a <= start.time() and (b is None or start.time() < b))
        for part, (a, b) in PARTS_OF_DAY.items()
        if part in entry.parts_of_day
    )
    staff_ok = entry.staff_id in (None, offer.staff_id)
    services_ok = [i["service"] for i in offer.items] == entry.service_ids
    durations = sum(catalogue[s].duration_minutes for s in entry.service_ids)
    fits = offer.end - offer.start >= dt.timedelta(minutes=durations) and offer.end <= (
        offer.freed.end
    )
    return day_ok and parts_ok and staff_ok and services_ok and fits


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_no_entry_is_ever_offered_a_time_outside_its_wishes(catalogue_a, monday, seed):
    salon = catalogue_a.salon
    salon.waitlist_mode = "broadcast"
    salon.save()
    chance = random.Random(seed)  # noqa: S311 (a test's draw)
    services = {catalogue_a.cut.pk: catalogue_a.cut, catalogue_a.colour.pk: catalogue_a.colour}
    visits = [[catalogue_a.cut], [catalogue_a.colour], [catalogue_a.colour, catalogue_a.cut]]
    entries = []
    for _ in range(40):
        visit = chance.choice(visits)
        staff = chance.choice([None, catalogue_a.alice, catalogue_a.bob])
        if staff is catalogue_a.bob and visit != [catalogue_a.cut]:
            staff = None
        first = chance.randint(0, 5)
        parts = chance.sample(["morning", "afternoon", "evening"], chance.randint(0, 2))
        entries.append(
            join(
                catalogue_a,
                CustomerFactory(salon=salon),
                services=visit,
                staff=staff,
                first=first,
                last=first + chance.randint(0, 3),
                parts=parts,
            )
        )
    # Times free over the week, for either staff member, at any hour.
    for day in range(1, 6):
        for _ in range(2):
            staff = chance.choice([catalogue_a.alice, catalogue_a.bob])
            hour = chance.randint(9, 17)
            booking = book(
                catalogue_a,
                CustomerFactory(salon=salon),
                local(salon, day, hour),
                service=catalogue_a.cut,
                staff=staff,
            )
            with salon_scope(salon):
                booking_cancel(booking=booking, by_salon=True)
    run(salon)
    tz = salon.tz
    with salon_scope(salon):
        made = list(WaitlistOffer.objects.select_related("entry", "freed"))
        assert made, "the random world offered nothing: it tests nothing"
        for offer in made:
            assert _suits(offer.entry, offer, services, tz), (offer.entry.__dict__, offer.items)
            assert part_of_day(offer.start, tz) in (
                offer.entry.parts_of_day or [part_of_day(offer.start, tz)]
            )
        # And the other way round: every waiting entry that a freed time suits was offered.
        offered = {o.entry_id for o in made}
        for entry in WaitlistEntry.objects.filter(status=WaitlistStatus.WAITING):
            assert entry.pk not in offered
            for freed in FreedTime.objects.all():
                start = freed.start
                length = sum(services[s].duration_minutes for s in entry.service_ids)
                fits = start + dt.timedelta(minutes=length) <= freed.end
                assert not (
                    fits
                    and entry.staff_id in (None, freed.staff_id)
                    and all(
                        freed.staff_id
                        in (catalogue_a.alice.pk,)
                        + ((catalogue_a.bob.pk,) if s == catalogue_a.cut.pk else ())
                        for s in entry.service_ids
                    )
                    and _suits(entry, _Probe(freed, entry.service_ids, length), services, tz)
                    and _time_still_free(salon, freed)
                ), (entry.__dict__, freed.__dict__)


class _Probe:
    """A would-be offer at the start of a freed time, for the brute-force check."""

    def __init__(self, freed, service_ids, minutes):
        self.start = freed.start
        self.end = freed.start + dt.timedelta(minutes=minutes)
        self.staff_id = freed.staff_id
        self.items = [{"service": s} for s in service_ids]
        self.freed = freed


def _time_still_free(salon, freed):
    return not Booking.objects.filter(
        staff_id=freed.staff_id,
        status__in=[Status.CONFIRMED, Status.PENDING_PAYMENT],
        start__lt=freed.end,
        end__gt=freed.start,
    ).exists()


def test_one_refill_costs_a_fixed_number_of_queries(catalogue_a, monday):
    salon = catalogue_a.salon
    counts = []
    for size in (5, 60):
        with salon_scope(salon):
            WaitlistOffer.objects.all().delete()
            WaitlistEntry.objects.all().delete()
            FreedTime.objects.all().delete()
            Message.objects.filter(kind=MessageKind.WAITLIST_OFFER).delete()
        for n in range(size):
            join(
                catalogue_a,
                CustomerFactory(salon=salon),
                services=[catalogue_a.colour] if n % 3 else [catalogue_a.cut],
                parts=["evening"] if n % 2 else [],
                first=1,
                last=1 + n % 4,
            )
        with salon_scope(salon):
            freed = FreedTime.objects.create(
                salon=salon,
                staff=catalogue_a.alice,
                start=local(salon, 1, 10),
                end=local(salon, 1, 11),
                cause="cancelled",
            )
            catalogue_get(salon=salon)  # cached, as it is between two bookings
            with CaptureQueriesContext(connection) as queries:
                made = freed_time_refill(freed_id=freed.pk)
        assert len(made) == 1
        counts.append(len(queries))
    # The same whatever the number waiting; the offer's own writes and message included.
    assert counts[0] == counts[1] <= 20, counts
