from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _requests_about_bookings_forget(salon_id: int, customer_id: int) -> None:
    """Requests logged about one of the person's bookings without naming the client
    speak of the person too: their texts are blanked with the rest."""
    from support.models import CustomerRequest

    CustomerRequest.objects.filter(customer__isnull=True, booking__customer_id=customer_id).update(
        summary="", resolution="", item_description=""
    )


def _refill_after_events(salon_id: int) -> None:
    """Booking events were committed (a cancellation, a lapsed hold, a move...): the
    times they freed are recorded and offered now, through the broker. If the broker is
    down, beat's sweep does it once it is back."""
    from support.tasks import waitlist_apply

    waitlist_apply.apply_async(kwargs={"salon_id": salon_id})


class SupportConfig(AppConfig):
    """The front desk's domain: phone bookings and the requests log."""

    name = "support"
    verbose_name = _("Front desk")

    def ready(self) -> None:
        from bookings.events import event_listener_add, time_freed_listener_add
        from customers.gdpr import PersonalData, personal_data_register
        from support.models import CustomerRequest, WaitlistEntry, WaitlistStatus
        from support.refill import freed_time_off_record

        event_listener_add(_refill_after_events)
        time_freed_listener_add(freed_time_off_record)

        # Erasure blanks the texts, where staff wrote what the person said and what was
        # done about it; the request stays, classified and timed, for the salon's figures.
        personal_data_register(
            PersonalData(
                section="requests",
                model=CustomerRequest,
                customer_lookup="customer",
                exported=(
                    "id",
                    "channel",
                    "category",
                    "summary",
                    "status",
                    "resolution",
                    "booking",
                    "opened_at",
                    "first_response_at",
                    "resolved_at",
                    "item_description",
                    "item_location",
                    "item_returned_at",
                ),
                erase={"summary": "", "resolution": "", "item_description": ""},
                erase_also=_requests_about_bookings_forget,
                internal=("salon", "customer", "opened_by"),
            )
        )
        # The waitlist: what the person waited for and when she agreed to be told. Erased,
        # her places are left (nobody could be told any more) and kept for the figures.
        personal_data_register(
            PersonalData(
                section="waitlist",
                model=WaitlistEntry,
                customer_lookup="customer",
                exported=(
                    "id",
                    "service_ids",
                    "staff",
                    "first_date",
                    "last_date",
                    "parts_of_day",
                    "status",
                    "source",
                    "joined_at",
                    "consent_at",
                    "consent_text",
                    "left_at",
                    "booking",
                ),
                erase={"status": WaitlistStatus.LEFT},
                internal=("salon", "customer", "service", "nonce", "created_by"),
            )
        )
