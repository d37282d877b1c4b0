"""The outbox: every message to a client, planned once under a unique key and sent once."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tenants.models import TenantModel


class MessageKind(models.TextChoices):
    CONFIRMATION = "confirmation", _("Booking confirmed")
    PAYMENT_LINK = "payment_link", _("Payment link")
    LINK_EXPIRED = "link_expired", _("Payment link expired")
    REMINDER = "reminder", _("Reminder")
    RESCHEDULED = "rescheduled", _("Booking moved")
    CANCELLATION = "cancellation", _("Cancellation, and what became of the money")
    RESCHEDULE_OFFER = "reschedule_offer", _("Offer to reschedule with the credit")
    CREDIT_WARNING = "credit_warning", _("Credit about to lapse")
    CREDIT_LAPSED = "credit_lapsed", _("Credit lapsed")
    IDENTITY_CODE = "identity_code", _("One-time code to prove who one is")
    WAITLIST_OFFER = "waitlist_offer", _("A freed time offered to a waiting client")
    WAITLIST_TAKEN = "waitlist_taken", _("An offered time taken by someone else")
    REBOOK_NUDGE = "rebook_nudge", _("Invitation to book the same service again")
    FEE_DUE = "fee_due", _("A fee the card did not pay, and its link")
    # An event that called for no message, recorded so that it is not looked at again.
    NONE = "none", _("No message due")


class MessageStatus(models.TextChoices):
    PENDING = "pending", _("To send")
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Not sent")


class Message(TenantModel):
    """One message to a client: the outbox and its record.

    A message is written in the database before anything is sent, under a key saying
    what it is about (`reminder:41:24h:…`), unique per salon: whatever runs twice, a
    message exists once, and a sender claims it with a conditional update before sending
    (STYLE.md), so it goes out once. `skipped` messages say why nothing was sent (no
    consent, no address, the booking cancelled meanwhile): the record is complete.
    """

    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="messages",
        verbose_name=_("client"),
    )
    booking = models.ForeignKey(
        "bookings.Booking",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("booking"),
    )
    # The booking event that called for the message, when one did.
    event = models.ForeignKey(
        "bookings.BookingEvent",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("event"),
    )
    kind = models.CharField(max_length=20, choices=MessageKind.choices, verbose_name=_("kind"))
    key = models.CharField(max_length=120, verbose_name=_("key"))
    channel = models.CharField(
        max_length=8, blank=True, verbose_name=_("channel")
    )  # sms, email; blank when skipped
    recipient = models.CharField(max_length=254, blank=True, verbose_name=_("recipient"))
    language = models.CharField(max_length=8, blank=True, verbose_name=_("language"))
    subject = models.CharField(max_length=200, blank=True, verbose_name=_("subject"))
    body = models.TextField(blank=True, verbose_name=_("body"))
    # What the message offered (e.g. the suggested slots), for the record and the pages.
    data = models.JSONField(default=dict, blank=True, verbose_name=_("details"))
    status = models.CharField(
        max_length=8,
        choices=MessageStatus.choices,
        default=MessageStatus.PENDING,
        verbose_name=_("status"),
    )
    status_detail = models.CharField(max_length=300, blank=True, verbose_name=_("status detail"))
    send_after = models.DateTimeField(verbose_name=_("send after"))
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    claimed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("claimed at"))
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent at"))
    provider_ref = models.CharField(
        max_length=120, blank=True, verbose_name=_("provider reference")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["salon", "key"], name="message_once"),
        ]
        indexes = [
            models.Index(
                fields=["salon", "status", "send_after"],
                name="message_due",
                condition=Q(status__in=["pending", "sending"]),
            ),
            models.Index(fields=["booking", "kind"], name="message_booking"),
            # A client's text reply is matched to the last text sent to her number.
            models.Index(
                fields=["recipient", "-sent_at"],
                name="message_sms_by_recipient",
                condition=Q(channel="sms", status="sent"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.recipient or '-'} ({self.status})"
