from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _messages_after_events(salon_id: int) -> None:
    """Booking events were committed: plan and send the salon's messages now, through the
    broker. If the broker is down, beat's sweep does it once it is back."""
    from messaging.tasks import messages_apply

    messages_apply.apply_async(kwargs={"salon_id": salon_id})


def _messages_about_bookings_forget(salon_id: int, customer_id: int) -> None:
    """Messages about one of the person's bookings speak of the person too, whoever
    they were sent to: their texts are blanked with the rest."""
    from messaging.models import Message

    Message.objects.filter(booking__customer_id=customer_id).update(
        recipient="", subject="", body="", data={}, status_detail=""
    )


class MessagingConfig(AppConfig):
    """The client's messages: the outbox, e-mail and SMS."""

    name = "messaging"
    verbose_name = _("Messages")

    def ready(self) -> None:
        from bookings.events import event_listener_add
        from customers.gdpr import PersonalData, personal_data_register
        from messaging.models import Message

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
                erase_also=_messages_about_bookings_forget,
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
