"""The requests log (seed 003): what clients asked or reported to the salon, by any
channel, and how fast and how well it was answered."""

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bookings.models import Booking, new_nonce
from customers.models import Customer
from tenants.models import TenantModel


class RequestChannel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    WALK_IN = "walk_in", _("At the desk")
    WEB = "web", _("Web")
    SMS = "sms", _("Text message")


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


class PartOfDay(models.TextChoices):
    """Parts of the salon's day a waiting client asks for (API.md, "Waitlist")."""

    MORNING = "morning", _("Morning (before 12:00)")
    AFTERNOON = "afternoon", _("Afternoon (12:00 to 17:00)")
    EVENING = "evening", _("Evening (from 17:00)")


class WaitlistSource(models.TextChoices):
    WEB = "web", _("Booking page")
    SPACE = "space", _("Client space")
    DESK = "desk", _("Front desk, for a phone client")
    API = "api", _("API")


class WaitlistStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    OFFERED = "offered", _("Offered a time")
    BOOKED = "booked", _("Booked")
    LEFT = "left", _("Left the list")
    EXPIRED = "expired", _("Expired")


class WaitlistEntry(TenantModel):
    """A client waiting for a time: which services (one or a visit), with whom (or anyone),
    between two dates of the salon's calendar, in which parts of the day.

    Entries are offered freed times in the order they joined (`joined_at`, then id). The
    client's consent to be contacted about it is part of the entry: leaving the list
    withdraws it, and the entry expires after its last day.
    """

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="waitlist", verbose_name=_("client")
    )
    # The services of the visit, in order (ids of bookings.Service); the first one also as
    # a foreign key, to find the entries a freed time may suit by an index.
    service_ids = models.JSONField(verbose_name=_("services"))
    service = models.ForeignKey(
        "bookings.Service", on_delete=models.PROTECT, related_name="+", verbose_name=_("service")
    )
    staff = models.ForeignKey(
        "bookings.StaffMember",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty: anyone."),
        verbose_name=_("staff member"),
    )
    first_date = models.DateField(verbose_name=_("from"))
    last_date = models.DateField(verbose_name=_("to"))
    parts_of_day = models.JSONField(
        default=list,
        blank=True,
        help_text=_("Empty: any time of the day."),
        verbose_name=_("parts of the day"),
    )
    status = models.CharField(
        max_length=8,
        choices=WaitlistStatus.choices,
        default=WaitlistStatus.WAITING,
        verbose_name=_("status"),
    )
    source = models.CharField(
        max_length=8, choices=WaitlistSource.choices, verbose_name=_("source")
    )
    joined_at = models.DateTimeField(default=timezone.now, verbose_name=_("joined at"))
    # The client agreed to be told of a freed time by her channel: when, and the words.
    consent_at = models.DateTimeField(verbose_name=_("consent given at"))
    consent_text = models.TextField(verbose_name=_("consent text"))
    # Part of the signed manage token; a new nonce revokes the links sent before.
    nonce = models.CharField(
        max_length=32, default=new_nonce, editable=False, verbose_name=_("link nonce")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    left_at = models.DateTimeField(null=True, blank=True, verbose_name=_("left at"))
    booking = models.ForeignKey(
        Booking,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The booking an accepted offer made."),
        verbose_name=_("booking"),
    )

    class Meta:
        verbose_name = _("waitlist entry")
        verbose_name_plural = _("waitlist")
        ordering = ["joined_at", "id"]
        indexes = [
            # The entries a freed time may suit: waiting ones for its service, whose dates
            # cover its day, in the order they joined.
            models.Index(
                fields=["salon", "service", "status", "first_date", "last_date"],
                name="waitlist_match",
            ),
            models.Index(fields=["salon", "status", "joined_at"], name="waitlist_by_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(first_date__lte=models.F("last_date")),
                name="waitlist_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer} {self.first_date} - {self.last_date}"


class OfferStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACCEPTED = "accepted", _("Accepted")
    LAPSED = "lapsed", _("Lapsed")
    TAKEN = "taken", _("Taken by someone else meanwhile")


def new_offer_token() -> str:
    return secrets.token_urlsafe(24)


class FreedTime(TenantModel):
    """A time that became free for a staff member (a cancellation, a lapsed hold, a move,
    an early no-show, time off removed): what the refill tries to fill, and the figures'
    "times freed", "times refilled" and "revenue refilled"."""

    staff = models.ForeignKey(
        "bookings.StaffMember",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("staff member"),
    )
    start = models.DateTimeField(verbose_name=_("start"))
    end = models.DateTimeField(verbose_name=_("end"))
    cause = models.CharField(max_length=16, verbose_name=_("cause"))
    booking = models.ForeignKey(
        Booking,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The booking whose time this was, if any."),
        verbose_name=_("freed by"),
    )
    # The booking event that freed it (none for time off removed): one freed time per
    # event and staff member, however often the events are read.
    event = models.ForeignKey(
        "bookings.BookingEvent",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("event"),
    )
    freed_at = models.DateTimeField(default=timezone.now, verbose_name=_("freed at"))
    # When the refill had nothing more to do: the time taken, begun, or nobody left to
    # offer it to. Offers that lapse or are turned down open it again.
    done_at = models.DateTimeField(null=True, blank=True, verbose_name=_("refill done at"))
    refilled_by = models.ForeignKey(
        Booking,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The booking an offer of this time made."),
        verbose_name=_("refilled by"),
    )
    refilled_at = models.DateTimeField(null=True, blank=True, verbose_name=_("refilled at"))

    class Meta:
        verbose_name = _("freed time")
        verbose_name_plural = _("freed times")
        ordering = ["-freed_at", "-id"]
        indexes = [
            models.Index(fields=["salon", "freed_at"], name="freedtime_recent"),
            models.Index(
                fields=["salon", "end"],
                name="freedtime_open",
                condition=models.Q(done_at__isnull=True),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "staff"],
                condition=models.Q(event__isnull=False),
                name="freedtime_once_per_event",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.staff} {self.start:%Y-%m-%d %H:%M}"


class WaitlistOffer(TenantModel):
    """A freed time offered to a waiting client, open until `expires_at`."""

    entry = models.ForeignKey(
        WaitlistEntry, on_delete=models.CASCADE, related_name="offers", verbose_name=_("entry")
    )
    freed = models.ForeignKey(
        FreedTime,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="offers",
        verbose_name=_("freed time"),
    )
    # The offer's link: a random value, unique, the credential for accepting it.
    token = models.CharField(
        max_length=40, unique=True, default=new_offer_token, editable=False, verbose_name=_("token")
    )
    start = models.DateTimeField(verbose_name=_("start"))
    end = models.DateTimeField(verbose_name=_("end"))
    staff = models.ForeignKey(
        "bookings.StaffMember",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("staff member"),
    )
    # The visit as the availability engine placed it: [{service, staff, start, end}].
    items = models.JSONField(default=list, verbose_name=_("items"))
    status = models.CharField(
        max_length=8,
        choices=OfferStatus.choices,
        default=OfferStatus.OPEN,
        verbose_name=_("status"),
    )
    offered_at = models.DateTimeField(default=timezone.now, verbose_name=_("offered at"))
    expires_at = models.DateTimeField(verbose_name=_("expires at"))
    answered_at = models.DateTimeField(null=True, blank=True, verbose_name=_("answered at"))
    booking = models.ForeignKey(
        Booking,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("booking"),
    )
    # The client's own booking, later the same week for the same services, that accepting
    # moves here (what she paid moves with it); empty: accepting books anew.
    move = models.ForeignKey(
        Booking,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The client's booking that accepting moves to this time."),
        verbose_name=_("moves"),
    )

    class Meta:
        verbose_name = _("waitlist offer")
        verbose_name_plural = _("waitlist offers")
        ordering = ["-offered_at", "-id"]
        indexes = [
            models.Index(fields=["status", "expires_at"], name="offer_open"),
            models.Index(fields=["salon", "offered_at"], name="offer_recent"),
            models.Index(fields=["freed", "status"], name="offer_by_freed"),
        ]
        constraints = [
            # A freed time is offered to an entry once, however often the refill runs.
            models.UniqueConstraint(fields=["entry", "freed"], name="offer_once_per_entry"),
        ]

    def __str__(self) -> str:
        return f"{self.entry} {self.start:%Y-%m-%d %H:%M}"


class ReplyAction(models.TextChoices):
    CONFIRMED = "confirmed", _("Attendance confirmed")
    CANCEL_ASKED = "cancel_asked", _("Cancellation asked, awaiting confirmation")
    CANCELLED = "cancelled", _("Booking cancelled")
    MOVE_LINK = "move_link", _("Link to move the booking sent")
    STOPPED = "stopped", _("Consent withdrawn")
    REQUEST = "request", _("Logged as a client request")
    IGNORED = "ignored", _("Nothing to act on")


class TextReply(TenantModel):
    """A text message a client sent in answer to one of the salon's, acted on once.

    Recorded under the provider's id for it, unique, in the same transaction as what it
    did: the provider delivering it again (its webhook retried) finds it and gets the
    same answer, and nothing is done twice. Neither the number nor the words are kept
    here (the words of a request are in the requests log, with the client)."""

    provider = models.CharField(max_length=16, verbose_name=_("provider"))
    sid = models.CharField(max_length=64, verbose_name=_("provider's message id"))
    booking = models.ForeignKey(
        Booking,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("booking"),
    )
    request = models.ForeignKey(
        CustomerRequest,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("client request"),
    )
    action = models.CharField(
        max_length=16, choices=ReplyAction.choices, verbose_name=_("what was done")
    )
    # A cancellation asked: what it would do with the money, as the answer said it.
    outcome = models.CharField(max_length=16, blank=True, verbose_name=_("money outcome"))
    answer = models.TextField(blank=True, verbose_name=_("answer"))
    received_at = models.DateTimeField(default=timezone.now, verbose_name=_("received at"))

    class Meta:
        verbose_name = _("text reply")
        verbose_name_plural = _("text replies")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "sid"], name="textreply_once"),
        ]
        indexes = [
            models.Index(fields=["booking", "action", "received_at"], name="textreply_by_booking"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} ({self.sid})"
