from django.apps import AppConfig


def _messages_after_events(salon_id: int) -> None:
    """Booking events were committed: plan and send the salon's messages now, through the
    broker. If the broker is down, beat's sweep does it once it is back."""
    from .tasks import messages_apply

    messages_apply.apply_async(kwargs={"salon_id": salon_id})


def _requests_about_bookings_forget(salon_id: int, customer_id: int) -> None:
    """Requests logged about one of the person's bookings without naming the client
    speak of the person too: their texts are blanked with the rest."""
    from .models import CustomerRequest, Message

    CustomerRequest.objects.filter(customer__isnull=True, booking__customer_id=customer_id).update(
        summary="", resolution="", item_description=""
    )
    Message.objects.filter(booking__customer_id=customer_id).update(
        recipient="", subject="", body="", data={}, status_detail=""
    )


class SupportConfig(AppConfig):
    name = "support"
    verbose_name = "Front desk"

    def ready(self) -> None:
        from bookings.events import event_listener_add
        from customers.gdpr import PersonalData, personal_data_register

        from .models import CustomerRequest, Message

        event_listener_add(_messages_after_events)
        personal_data_register(
            PersonalData(
                section="messages",
                model=Message,
                customer_lookup="customer",
                exported=(
                    "id",
                    "kind",
                    "channel",
                    "recipient",
                    "language",
                    "subject",
                    "body",
                    "data",
                    "status",
                    "created_at",
                    "sent_at",
                    "booking",
                ),
                erase={"recipient": "", "subject": "", "body": "", "data": {}, "status_detail": ""},
                internal=(
                    "salon",
                    "customer",
                    "event",
                    "key",
                    "status_detail",
                    "send_after",
                    "attempts",
                    "claimed_at",
                    "provider_ref",
                ),
            )
        )
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
