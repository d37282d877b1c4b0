"""The requests log (seed 003): what clients asked or reported to the salon, by any
channel, and how fast and how well it was answered."""

from django.conf import settings
from django.db import models
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
        verbose_name=_("client"),
    )
    channel = models.CharField(
        max_length=8, choices=RequestChannel.choices, verbose_name=_("channel")
    )
    category = models.CharField(
        max_length=12, choices=RequestCategory.choices, verbose_name=_("category")
    )
    summary = models.TextField(
        help_text=_("What the client asked or reported."), verbose_name=_("summary")
    )
    status = models.CharField(
        max_length=8,
        choices=RequestStatus.choices,
        default=RequestStatus.OPEN,
        verbose_name=_("status"),
    )
    resolution = models.TextField(
        blank=True, help_text=_("What the salon answered or did."), verbose_name=_("resolution")
    )
    booking = models.ForeignKey(
        Booking,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The booking the request is about, if any."),
        verbose_name=_("booking"),
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("opened by"),
    )
    opened_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("opened at")
    )
    first_response_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text=_("When staff first acted: left “open” or wrote a resolution."),
        verbose_name=_("first response at"),
    )
    resolved_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("resolved at")
    )
    # Lost items only.
    item_description = models.CharField(
        max_length=200,
        blank=True,
        help_text=_("Lost items: what was lost."),
        verbose_name=_("item description"),
    )
    item_location = models.CharField(
        max_length=200,
        blank=True,
        help_text=_("Lost items: where the item is kept; empty while it is not found."),
        verbose_name=_("item location"),
    )
    item_returned_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("Lost items: when the item went back to its owner."),
        verbose_name=_("item returned at"),
    )

    class Meta:
        verbose_name = _("client request")
        verbose_name_plural = _("client requests")
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
