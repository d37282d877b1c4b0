"""The waitlist's jobs on a real Celery worker (Redis): a cancellation's commit sends the
refill, whose offer goes out by text; once it lapses, beat's sweep passes the time to the
next client in line. Salon B's waiting client hears nothing of salon A's time."""

import datetime as dt
import time

import pytest

from bookings.services import booking_cancel
from messaging import sms
from messaging.models import Message, MessageKind, MessageStatus
from support.models import OfferStatus, WaitlistOffer
from support.tasks import waitlist_sweep
from support.waitlist import waitlist_join
from tenants.scoping import salon_scope
from tests.conftest import MONDAY, book, local
from tests.factories import CustomerFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


@pytest.fixture
def texts(settings):
    settings.SMS_BACKEND = "locmem"
    sms.outbox.clear()
    return sms.outbox


def _join(catalogue, customer):
    with salon_scope(catalogue.salon):
        return waitlist_join(
            salon=catalogue.salon,
            customer=customer,
            services=[catalogue.cut],
            staff=None,
            first=MONDAY.date() + dt.timedelta(days=1),
            last=MONDAY.date() + dt.timedelta(days=3),
            parts_of_day=[],
            consent=True,
            source="web",
        )


def _wait_for(salon, until, model=Message, **filters):
    deadline = time.monotonic() + 30
    while True:
        with salon_scope(salon):
            found = list(model.objects.filter(**filters).order_by("id"))
        if until(found):
            return found
        assert time.monotonic() < deadline, f"the worker did not do it: {filters} {found}"
        time.sleep(0.1)


def test_a_cancellation_is_offered_by_the_worker_and_passes_on_when_it_lapses(
    celery_worker, texts, catalogue_a, catalogue_b, monday
):
    salon = catalogue_a.salon
    anna = CustomerFactory(salon=salon, name="Anna", phone="+33611111111")
    bea = CustomerFactory(salon=salon, name="Béa", phone="+33622222222")
    _join(catalogue_a, anna)
    monday.shift(60)
    _join(catalogue_a, bea)
    _join(catalogue_b, CustomerFactory(salon=catalogue_b.salon, phone="+14165550199"))
    lea = CustomerFactory(salon=salon, name="Léa")
    booking = book(catalogue_a, lea, local(salon, 1, 10), staff=catalogue_a.alice)
    with salon_scope(salon):
        booking_cancel(booking=booking, by_salon=True)
    # No sweep is called: the cancellation's commit sent the refill, then the message.
    sent = _wait_for(
        salon,
        lambda found: len(found) == 1 and found[0].status == MessageStatus.SENT,
        kind=MessageKind.WAITLIST_OFFER,
    )
    assert sent[0].customer_id == anna.pk
    (first,) = [t for t in texts if "/waitlist/offers/" in t.body]
    assert first.to == "+33611111111"
    monday.shift(dt.timedelta(minutes=salon.offer_minutes))
    waitlist_sweep.delay()
    waitlist_sweep.delay()  # twice: the next client is offered once
    _wait_for(
        salon,
        lambda found: [o.status for o in found] == [OfferStatus.LAPSED, OfferStatus.OPEN],
        model=WaitlistOffer,
    )
    both = _wait_for(
        salon,
        lambda found: len(found) == 2 and all(m.status == MessageStatus.SENT for m in found),
        kind=MessageKind.WAITLIST_OFFER,
    )
    assert [m.customer_id for m in both] == [anna.pk, bea.pk]
    time.sleep(0.5)
    offers = [t.to for t in texts if "/waitlist/offers/" in t.body]
    assert offers == ["+33611111111", "+33622222222"]
    with salon_scope(catalogue_b.salon):
        assert not WaitlistOffer.objects.exists() and not Message.objects.exists()
