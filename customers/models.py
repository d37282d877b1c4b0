from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

from tenants.models import TenantModel


class Channel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")


class Tag(TenantModel):
    name = models.CharField(max_length=40, verbose_name=_("name"))

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["salon", "name"], name="tag_unique_name")]

    def __str__(self) -> str:
        return self.name


class Customer(TenantModel):
    """A salon's client, remembered as a person.

    Phone (E.164) and e-mail (lower case) are each unique within a salon when present: the
    same person is never two customers of one salon, and never one of two salons.

    Knowing a phone number or an e-mail address proves nothing: a booking made online with
    a known client's contact details, by someone who has not proved who they are (a
    one-time code sent to the contact on file), gets a record of its own, marked
    `duplicate_of` that client for staff to merge or not. Such a record shares the contact
    details (the uniqueness binds the salon's own clients only) and none of the client's
    privileges, credit or history.
    """

    name = models.CharField(max_length=150, blank=True, verbose_name=_("name"))
    phone = PhoneNumberField(null=True, blank=True, verbose_name=_("phone"))
    email = models.EmailField(null=True, blank=True, verbose_name=_("e-mail"))
    preferred_channel = models.CharField(
        max_length=8,
        choices=Channel.choices,
        default=Channel.SMS,
        verbose_name=_("preferred channel"),
    )
    language = models.CharField(
        max_length=8, choices=settings.LANGUAGES, default="fr", verbose_name=_("language")
    )
    preferences = models.JSONField(default=dict, blank=True, verbose_name=_("preferences"))
    tags = models.ManyToManyField(
        Tag, through="CustomerTag", blank=True, related_name="+", verbose_name=_("tags")
    )
    notes = models.TextField(_("staff notes"), blank=True)
    trusted = models.BooleanField(
        default=False,
        help_text=_("Trusted clients book without a deposit."),
        verbose_name=_("trusted"),
    )
    blocked = models.BooleanField(
        default=False, help_text=_("Blocked clients cannot book online."), verbose_name=_("blocked")
    )
    # Lower-cased, accent-free name, e-mail and phone digits: what the search matches.
    search_text = models.TextField(blank=True, editable=False, verbose_name=_("search text"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    last_seen_at = models.DateTimeField(
        help_text=_("Last activity: a booking, a visit, a change. Retention counts from it."),
        verbose_name=_("last seen at"),
    )
    erased_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("erased at")
    )
    duplicate_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="possible_duplicates",
        verbose_name=_("possible duplicate of"),
        help_text=_(
            "Booked online with this client's phone or e-mail, without proving it: "
            "not merged, and without the client's privileges, until staff merge it."
        ),
    )

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["salon", "phone"],
                condition=Q(phone__isnull=False, duplicate_of=None),
                name="customer_unique_phone",
            ),
            models.UniqueConstraint(
                fields=["salon", "email"],
                condition=Q(email__isnull=False, duplicate_of=None),
                name="customer_unique_email",
            ),
        ]
        indexes = [
            models.Index(fields=["salon", "last_seen_at"], name="customer_last_seen"),
            models.Index(fields=["salon", "name", "id"], name="customer_by_name"),
        ]

    def __str__(self) -> str:
        return self.name or str(_("Erased client") if self.erased_at else _("Client #%s") % self.pk)

    @property
    def erased(self) -> bool:
        return self.erased_at is not None

    @property
    def unproven(self) -> bool:
        """Made online with another client's contact details, unproven."""
        return self.duplicate_of_id is not None


class CustomerTag(TenantModel):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, verbose_name=_("client"))
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, verbose_name=_("tag"))

    class Meta:
        verbose_name = _("client tag")
        verbose_name_plural = _("client tags")
        constraints = [
            models.UniqueConstraint(fields=["customer", "tag"], name="customertag_unique")
        ]


class Purpose(models.TextChoices):
    REMINDERS = "reminders", _("Appointment reminders")
    MARKETING = "marketing", _("Offers and news")
    HEALTH = "health", _("Allergies and health notes kept by the salon")


# What the salon's messages ask consent for (the client space's choices); the health
# consent is of another kind: what the salon may keep, not what it may send.
MESSAGE_PURPOSES = (Purpose.REMINDERS, Purpose.MARKETING)


class ConsentSource(models.TextChoices):
    ONLINE = "online", _("Online, by the client")
    PHONE = "phone", _("By phone, through staff")
    STAFF = "staff", _("Recorded by staff")


class ConsentChannel(models.TextChoices):
    WEB = "web", _("Web page")
    EMAIL = "email", _("E-mail link")
    SMS = "sms", _("SMS")
    PHONE = "phone", _("Phone call")
    IN_PERSON = "in_person", _("In person")


class ConsentEvent(TenantModel):
    """One grant or withdrawal of a purpose: the ledger is the proof, never rewritten."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="consents", verbose_name=_("client")
    )
    purpose = models.CharField(max_length=16, choices=Purpose.choices, verbose_name=_("purpose"))
    granted = models.BooleanField(verbose_name=_("granted"))
    text_version = models.CharField(
        max_length=32,
        help_text=_("The version of the consent text the client saw."),
        verbose_name=_("text version"),
    )
    channel = models.CharField(
        max_length=16, choices=ConsentChannel.choices, verbose_name=_("channel")
    )
    source = models.CharField(
        max_length=16, choices=ConsentSource.choices, verbose_name=_("source")
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(auto_now_add=True, verbose_name=_("recorded at"))

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-recorded_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "purpose", "-recorded_at"], name="consent_current")
        ]

    def __str__(self) -> str:
        verb = _("granted") if self.granted else _("withdrew")
        return f"{verb} {self.get_purpose_display()}"


class ContactCode(TenantModel):
    """A one-time code sent to a contact (phone or e-mail) on file, to prove who one is.

    Neither the contact nor the code is stored: the contact as a keyed digest (to find the
    code again), the code as a salted hash. Short-lived, a few attempts, used once."""

    contact_digest = models.CharField(max_length=64, verbose_name=_("contact digest"))
    code_hash = models.CharField(max_length=128, verbose_name=_("code hash"))
    expires_at = models.DateTimeField(verbose_name=_("expires at"))
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    used_at = models.DateTimeField(null=True, blank=True, verbose_name=_("used at"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("contact code")
        verbose_name_plural = _("contact codes")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["salon", "contact_digest", "-created_at"], name="contactcode_by_contact"
            )
        ]

    def __str__(self) -> str:
        return f"code #{self.pk}"
