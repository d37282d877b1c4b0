"""The hold sweep on a real worker: each salon's lapsed holds expire, in their own scope."""

import datetime as dt
import time

import pytest

from bookings.models import Booking, Status
from bookings.tasks import holds_sweep
from tenants.scoping import salon_scope
from tests.conftest import book, local
from tests.factories import CustomerFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def test_hold_sweep_runs_on_a_real_worker(celery_worker, catalogue_a, catalogue_b, monday):
    until = dt.datetime(2027, 3, 1, 7, 15, tzinfo=dt.UTC)
    lea = CustomerFactory(salon=catalogue_a.salon)
    sam = CustomerFactory(salon=catalogue_b.salon, phone="+14165550199")
    a = book(catalogue_a, lea, local(catalogue_a.salon, 1, 10), hold_until=until)
    b = book(catalogue_b, sam, local(catalogue_b.salon, 1, 10), hold_until=until)
    kept = book(
        catalogue_a, lea, local(catalogue_a.salon, 1, 12), hold_until=until + dt.timedelta(hours=2)
    )
    monday.shift(dt.timedelta(minutes=30))
    holds_sweep.delay()
    holds_sweep.delay()  # twice: nothing happens twice

    def status(catalogue, booking):
        with salon_scope(catalogue.salon):
            return Booking.objects.get(pk=booking.pk).status

    deadline = time.monotonic() + 30
    while status(catalogue_a, a) != Status.EXPIRED or status(catalogue_b, b) != Status.EXPIRED:
        assert time.monotonic() < deadline, "the worker did not expire the holds"
        time.sleep(0.1)
    assert status(catalogue_a, kept) == Status.PENDING_PAYMENT
    with salon_scope(catalogue_a.salon):
        assert a.events.filter(kind="expired").count() == 1
