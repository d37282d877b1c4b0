from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bookings.models import Booking
from customers.models import Customer
from tenants.models import TenantModel


class RequestChannel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    WALK_IN = "walk_in", _("At the desk")
    WEB = "web", _("Web")


class RequestCategory(models.TextChoices):
    PRE_SALE = "pre_sale", _("Before booking (a question)")
    BOOKING = "booking", _("Booking")
    PAYMENT = "payment", _("Payment, deposit, refund")
    AFTER_SALE = "after_sale", _("After the visit")
    COMPLAINT = "complaint", _("Complaint")
    LOST_ITEM = "lost_item", _("Lost item")
    OTHER = "other", _("Other")


class RequestStatus(models.TextChoices):
    OPEN = "open", _("Open")
    WAITING = "waiting", _("Waiting (on the client or a third party)")
    RESOLVED = "resolved", _("Resolved")


class CustomerRequest(TenantModel):
    """One thing a client (or someone who is not a client yet) asked, logged and classified.

    Every request is kept, classified and timed, so the salon sees what its clients ask
    for and how fast it answers them. A lost item is a request too, with what was lost,
    where it is kept once found, and when it went back to its owner.
    """

    # PROTECT: erasure, not deletion, is how a person is forgotten; it blanks the texts
    # below and keeps the request for the salon's figures. A deleted customer would leave
    # texts about them that the erasure could no longer find.
    customer = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="requests",
        help_text=_("Empty when the person is not a client (yet)."),
    )
    channel = models.CharField(max_length=8, choices=RequestChannel.choices)
    category = models.CharField(max_length=12, choices=RequestCategory.choices)
    summary = models.TextField(help_text=_("What the client asked or reported."))
    status = models.CharField(
        max_length=8, choices=RequestStatus.choices, default=RequestStatus.OPEN
    )
    resolution = models.TextField(blank=True, help_text=_("What the salon answered or did."))
    booking = models.ForeignKey(
        Booking,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The booking the request is about, if any."),
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    opened_at = models.DateTimeField(default=timezone.now, editable=False)
    first_response_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text=_("When staff first acted: left “open” or wrote a resolution."),
    )
    resolved_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Lost items only.
    item_description = models.CharField(
        max_length=200, blank=True, help_text=_("Lost items: what was lost.")
    )
    item_location = models.CharField(
        max_length=200,
        blank=True,
        help_text=_("Lost items: where the item is kept; empty while it is not found."),
    )
    item_returned_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Lost items: when the item went back to its owner.")
    )

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [
            models.Index(fields=["salon", "opened_at"], name="request_opened"),
            models.Index(fields=["salon", "status", "opened_at"], name="request_by_status"),
            models.Index(fields=["salon", "category", "opened_at"], name="request_by_category"),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()}: {self.summary[:60]}"

    @property
    def item_found(self) -> bool:
        return bool(self.item_location) or self.item_returned_at is not None


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
        "customers.Customer", on_delete=models.CASCADE, related_name="messages"
    )
    booking = models.ForeignKey(
        "bookings.Booking", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # The booking event that called for the message, when one did.
    event = models.ForeignKey(
        "bookings.BookingEvent",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    kind = models.CharField(max_length=20, choices=MessageKind.choices)
    key = models.CharField(max_length=120)
    channel = models.CharField(max_length=8, blank=True)  # sms, email; blank when skipped
    recipient = models.CharField(max_length=254, blank=True)
    language = models.CharField(max_length=8, blank=True)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    # What the message offered (e.g. the suggested slots), for the record and the pages.
    data = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=8, choices=MessageStatus.choices, default=MessageStatus.PENDING
    )
    status_detail = models.CharField(max_length=300, blank=True)
    send_after = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    provider_ref = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
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
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.recipient or '-'} ({self.status})"
