from functools import partial
from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _count(status: str) -> Any:
    from customers.figures import count_per_customer

    from .models import Booking

    return count_per_customer(Booking.objects.filter(status=status))


def _bookings_forget(salon_id: int, customer_id: int) -> None:
    """On erasure: the reasons written in the bookings' audit trail (what staff typed
    about the person) and the names of the guests she brought are blanked, and the links
    sent to the person stop working."""
    from .models import Booking, BookingEvent, BookingItem, new_nonce

    BookingItem.objects.filter(booking__customer_id=customer_id).update(guest="")

    bookings = Booking.objects.filter(customer_id=customer_id)
    for pk in bookings.values_list("pk", flat=True):
        bookings.filter(pk=pk).update(manage_nonce=new_nonce())
    events = BookingEvent.objects.filter(booking__customer_id=customer_id)
    for event in events.only("pk", "data"):
        if isinstance(event.data, dict) and event.data.get("reason"):
            events.filter(pk=event.pk).update(data={**event.data, "reason": ""})


class BookingsConfig(AppConfig):
    name = "bookings"
    verbose_name = _("Bookings")

    def ready(self) -> None:
        from customers.figures import figure_provide
        from customers.gdpr import PersonalData, personal_data_register

        from .models import Booking, Status

        # A customer's figures, counted from their bookings in the customers' own query.
        figure_provide("visits", partial(_count, Status.COMPLETED))
        figure_provide("no_shows", partial(_count, Status.NO_SHOW))
        figure_provide("cancellations", partial(_count, Status.CANCELLED))

        personal_data_register(
            PersonalData(
                section="bookings",
                model=Booking,
                customer_lookup="customer",
                exported=(
                    "id",
                    "reference",
                    "service__name",
                    "staff__name",
                    "start",
                    "end",
                    "status",
                    "price",
                    "currency",
                    "source",
                    "notes",
                    "created_at",
                    "confirmed_at",
                    "cancelled_at",
                    "cancellation_reason",
                    "arrived_at",
                    "confirmed_by_client_at",
                    "completed_at",
                    "no_show_at",
                    "expired_at",
                    "hold_expires_at",
                    "cancellation_deadline",
                ),
                # Kept for accounting without identity: the booking itself stays.
                erase={"notes": "", "cancellation_reason": ""},
                erase_also=_bookings_forget,
                internal=(
                    "salon",
                    "customer",
                    "service",
                    "staff",
                    "busy_start",
                    "busy_end",
                    "manage_nonce",
                    "created_by",
                    "cancelled_by",
                    "cancelled_by_salon",
                    "comeback_of",
                ),
            )
        )
