"""The owner's waitlist figures: times freed and refilled (and how fast), the revenue the
refills brought, the clients waiting now; for the period asked, in the salon's time zone,
in French and English, in the same few queries whatever the history. The other salon's
rows are never counted."""

import datetime as dt
import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bookings.models import Booking, Status
from support.models import FreedTime, WaitlistEntry, WaitlistStatus
from support.waitlist import waitlist_join
from support.waitlist_figures import refill_figures
from tenants.scoping import salon_scope
from tests.conftest import book, local
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

URL = "/admin/deposits/depositpolicy/recovered/"
_phones = itertools.count(10)


def _customer(salon):
    with salon_scope(salon):
        return CustomerFactory(salon=salon, phone=f"+336123456{next(_phones):02}")


def _freed(catalogue, at, *, refilled_after=None, booking_start=None, status=None, service=None):
    """A freed time (at `at`), refilled `refilled_after` later by a booking of `service`."""
    salon = catalogue.salon
    refill = None
    if refilled_after is not None:
        refill = book(
            catalogue,
            _customer(salon),
            booking_start,
            service=service or catalogue.cut,
            staff=catalogue.alice,
        )
        if status is not None:
            with salon_scope(salon):
                Booking.objects.filter(pk=refill.pk).update(status=status)
    with salon_scope(salon):
        return FreedTime.objects.create(
            salon=salon,
            staff=catalogue.alice,
            start=at + dt.timedelta(days=2),
            end=at + dt.timedelta(days=2, minutes=45),
            cause="cancelled",
            freed_at=at,
            refilled_by=refill,
            refilled_at=at + refilled_after if refilled_after is not None else None,
        )


def _waiting(catalogue, n, status=WaitlistStatus.WAITING):
    salon = catalogue.salon
    for _ in range(n):
        with salon_scope(salon):
            entry = waitlist_join(
                salon=salon,
                customer=_customer(salon),
                services=[catalogue.cut],
                staff=None,
                first=dt.date(2027, 3, 2),
                last=dt.date(2027, 3, 12),
                parts_of_day=[],
                consent=True,
                source="web",
            )
            WaitlistEntry.objects.filter(pk=entry.pk).update(status=status)


@pytest.fixture
def history(team_a, catalogue_a, catalogue_b, monday):
    """Salon A (Paris): in February, four times freed, three refilled (10 min, 30 min,
    2 h), one of them by a booking later cancelled; one refill whose hold lapsed; and
    a time freed on 28 February at 23:30 in Paris (22:30 UTC); March's first day: one
    more. Two clients wait, one was offered a time. Salon B: its own, never counted."""
    salon, cat = team_a.salon, catalogue_a
    feb = dt.datetime(2027, 2, 10, 9, 0, tzinfo=salon.tz)
    _freed(cat, feb, refilled_after=dt.timedelta(minutes=10), booking_start=local(salon, 2, 10))
    _freed(
        cat,
        feb + dt.timedelta(days=1),
        refilled_after=dt.timedelta(minutes=30),
        booking_start=local(salon, 2, 14),
        service=cat.colour,
    )
    _freed(
        cat,
        feb + dt.timedelta(days=2),
        refilled_after=dt.timedelta(hours=2),
        booking_start=local(salon, 3, 10),
        status=Status.CANCELLED,
    )
    _freed(
        cat,
        feb + dt.timedelta(days=3),
        refilled_after=dt.timedelta(minutes=5),
        booking_start=local(salon, 3, 14),
        status=Status.EXPIRED,
    )
    _freed(cat, dt.datetime(2027, 2, 28, 23, 30, tzinfo=salon.tz))
    _freed(cat, dt.datetime(2027, 3, 1, 0, 30, tzinfo=salon.tz))
    _waiting(cat, 2)
    _waiting(cat, 1, WaitlistStatus.OFFERED)
    other = catalogue_b
    _freed(
        other,
        dt.datetime(2027, 2, 10, 9, 0, tzinfo=other.salon.tz),
        refilled_after=dt.timedelta(minutes=1),
        booking_start=local(other.salon, 2, 10),
    )
    _waiting(other, 4)
    return salon


def test_the_figures_count_the_period_in_the_salons_time(history):
    with salon_scope(history):
        february = refill_figures(
            salon=history, first=dt.date(2027, 2, 1), last=dt.date(2027, 2, 28)
        )
        march = refill_figures(salon=history, first=dt.date(2027, 3, 1), last=dt.date(2027, 3, 31))
    # Five freed in February (the 23:30 one included: it is February in Paris).
    assert february.freed == 5
    # The lapsed hold did not refill; the cancelled booking did, but earns nothing.
    assert february.refilled == 3
    assert february.refill_median == dt.timedelta(minutes=30)
    assert february.revenue == 6000 + 9000  # the cut and the colour
    assert february.waiting == 2  # now, whatever the period; the offered one not
    assert (march.freed, march.refilled, march.revenue, march.refill_median) == (1, 0, 0, None)


def test_the_median_of_an_even_count_is_the_mean_of_the_middle_two(team_a, catalogue_a, monday):
    at = dt.datetime(2027, 2, 10, 9, 0, tzinfo=team_a.salon.tz)
    for n, minutes in enumerate((10, 20)):
        _freed(
            catalogue_a,
            at + dt.timedelta(days=n),
            refilled_after=dt.timedelta(minutes=minutes),
            booking_start=local(team_a.salon, 2 + n, 10),
        )
    with salon_scope(team_a.salon):
        figures = refill_figures(
            salon=team_a.salon, first=dt.date(2027, 2, 1), last=dt.date(2027, 2, 28)
        )
    assert figures.refill_median == dt.timedelta(minutes=15)


def test_the_queries_are_the_same_for_a_long_history(team_a, catalogue_a, history):
    def count() -> int:
        with salon_scope(history), CaptureQueriesContext(connection) as queries:
            refill_figures(salon=history, first=dt.date(2027, 2, 1), last=dt.date(2027, 2, 28))
        return len(queries)

    few = count()
    at = dt.datetime(2027, 2, 12, 9, 0, tzinfo=history.tz)
    for n in range(30):
        _freed(
            catalogue_a,
            at + dt.timedelta(hours=n),
            refilled_after=dt.timedelta(minutes=n + 1),
            booking_start=local(history, 7 + n // 8, 9 + n % 8),
        )
    _waiting(catalogue_a, 20)
    assert few == 3 and count() == 3


def test_the_owner_reads_them_in_french_and_english(client, history, team_a):
    client.force_login(team_a.owner)
    period = {"refill_from": "2027-02-01", "refill_to": "2027-02-28"}
    french = client.get(URL, period, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert 'id="refill-freed">5<' in french and 'id="refill-waiting">2<' in french
    assert 'id="refill-refilled">3 (60,0\u00a0%)<' in french
    assert 'id="refill-revenue">150,00\u00a0€<' in french
    assert 'id="refill-median">30 minutes<' in french
    assert "Cr\u00e9neaux remplis par la liste d\u2019attente" in french
    english = client.get(URL, period, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="refill-revenue">€150.00<' in english and "Times refilled" in english
    # By default the twelve months shown above; a period the wrong way round says so.
    default = client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="refill-freed">6<' in default
    wrong = client.get(
        URL, {"refill_from": "2027-03-01", "refill_to": "2027-02-01"}, HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "The period was not valid" in wrong and 'id="refill-freed">6<' in wrong
