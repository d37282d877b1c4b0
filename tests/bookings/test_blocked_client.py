"""A client the salon blocked books only through a person (DESIGN.md, the rules a client
must not get around): every online door refuses her, whichever the channel, and the desk
decides for itself. The block is the salon's own: another salon takes her."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from bookings.models import Booking, Source
from bookings.services import booking_create
from tenants.scoping import salon_scope
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

ONLINE = [source for source in Source if source != Source.PHONE]


def _start(salon) -> dt.datetime:
    return dt.datetime.combine(dt.date(2027, 3, 2), dt.time(10), tzinfo=salon.tz)


def test_every_channel_is_named_here():
    # A new door added to Source must be decided on: online (refused) or the desk.
    assert set(ONLINE) | {Source.PHONE} == set(Source)
    assert len(ONLINE) == 7


@pytest.mark.parametrize("source", ONLINE)
def test_no_online_door_books_a_blocked_client(catalogue_a, monday, source):
    salon = catalogue_a.salon
    with salon_scope(salon):
        max_ = CustomerFactory(salon=salon, phone="+33699887766", blocked=True)
        with pytest.raises(ValidationError) as refused:
            booking_create(
                salon=salon,
                service=catalogue_a.cut,
                start=_start(salon),
                customer=max_,
                source=source,
            )
        assert "customer" in refused.value.message_dict
        assert not Booking.objects.filter(customer=max_).exists()


def test_the_desk_may_book_a_blocked_client_and_another_salon_is_not_bound(
    catalogue_a, catalogue_b, monday
):
    salon = catalogue_a.salon
    with salon_scope(salon):
        max_ = CustomerFactory(salon=salon, phone="+33699887766", blocked=True)
        booking = booking_create(
            salon=salon,
            service=catalogue_a.cut,
            start=_start(salon),
            customer=max_,
            source=Source.PHONE,
        )
        assert booking.customer_id == max_.pk and booking.source == Source.PHONE
    other = catalogue_b.salon
    with salon_scope(other):
        same_number = CustomerFactory(salon=other, phone="+33699887766")
        theirs = booking_create(
            salon=other,
            service=catalogue_b.cut,
            start=_start(other),
            customer=same_number,
            source=Source.WIDGET,
        )
        assert theirs.source == Source.WIDGET
