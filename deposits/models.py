from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from core.money import money_format
from tenants.models import Salon, TenantModel

from .rules import Policy, Rule

RULE_KINDS = [
    ("none", _("No deposit")),
    ("fixed", _("Fixed amount (cents)")),
    ("percent", _("Percentage of the price")),
    ("full", _("Full prepayment")),
]


class LateCancellation(models.TextChoices):
    FORFEIT = "forfeit", _("The salon keeps the deposit")
    CREDIT = "credit", _("The deposit becomes credit for a reschedule")


class DepositKind(models.TextChoices):
    """What the money paid when booking is, in French law (Code de la consommation,
    L214-1): unless the contract says otherwise, a sum paid in advance is arrhes."""

    ACOMPTE = "acompte", _("Acompte: the booking is firm")
    ARRHES = "arrhes", _("Arrhes: either side may withdraw")


class WithdrawalRefund(models.TextChoices):
    """What a client who cancels within fourteen days of booking gets back (the right of
    withdrawal of a distance contract, Code de la consommation L221-18)."""

    FULL = "full", _("Everything paid (the right of withdrawal applies)")
    POLICY = "policy", _("As the cancellation terms say (appointment at a set date)")


class CardGuarantee(models.TextChoices):
    """Who is asked to keep a card on file, so that a no-show or a late cancellation can
    be charged to it."""

    OFF = "off", _("Nobody")
    WHEN_NO_DEPOSIT = "when_no_deposit", _("Clients who pay no deposit")
    ALWAYS = "always", _("Every client")
    AFTER_NO_SHOW = "after_no_show", _("Clients who missed an appointment before")


class DepositPolicy(TenantModel):
    """A salon's deposit policy (one per salon), with its ramp steps."""

    rule_kind = models.CharField(
        max_length=8, choices=RULE_KINDS, default="none", verbose_name=_("rule")
    )
    rule_value = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("value"))
    min_amount = models.PositiveIntegerField(
        null=True, blank=True, verbose_name=_("minimum amount")
    )
    max_amount = models.PositiveIntegerField(
        null=True, blank=True, verbose_name=_("maximum amount")
    )
    allow_full_payment = models.BooleanField(default=True, verbose_name=_("allow paying in full"))
    trusted_after_visits = models.PositiveSmallIntegerField(
        null=True, blank=True, verbose_name=_("trusted after (visits)")
    )
    full_prepayment_after_no_shows = models.PositiveSmallIntegerField(
        null=True, blank=True, verbose_name=_("full prepayment after (no-shows)")
    )
    cancellation_window_hours = models.PositiveSmallIntegerField(
        default=48,
        validators=[MaxValueValidator(24 * 60)],
        verbose_name=_("cancellation window (hours)"),
    )
    late_cancellation = models.CharField(
        max_length=8,
        choices=LateCancellation.choices,
        default=LateCancellation.CREDIT,
        verbose_name=_("late cancellation"),
    )
    credit_valid_days = models.PositiveSmallIntegerField(
        default=90,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
        verbose_name=_("credit valid for (days)"),
    )
    hold_minutes = models.PositiveSmallIntegerField(
        default=15,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 60)],
        verbose_name=_("hold (minutes)"),
    )
    payment_link_hours = models.PositiveSmallIntegerField(
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 14)],
        verbose_name=_("payment link valid for (hours)"),
    )
    deposit_kind = models.CharField(
        max_length=8,
        choices=DepositKind.choices,
        default=DepositKind.ACOMPTE,
        verbose_name=_("the deposit is"),
        help_text=_(
            "Acompte: the booking is firm for both sides. A client who cancels late or does "
            "not come loses it as your cancellation terms say; if you cancel, you refund it "
            "in full. Arrhes: either side may withdraw. The client by losing the arrhes, "
            "you by repaying them twice: the refund, and as much again, owed to the client "
            "until you settle it (as credit she accepts, or paid). French law takes a sum "
            "paid in advance as arrhes unless your terms say acompte (Code de la "
            "consommation, art. L214-1); the pages, messages and your terms clause use the "
            "word you choose here."
        ),
    )
    withdrawal_refund = models.CharField(
        max_length=8,
        choices=WithdrawalRefund.choices,
        default=WithdrawalRefund.POLICY,
        verbose_name=_("cancelled within 14 days of booking, the client gets back"),
        help_text=_(
            "A booking made online is a distance contract: the client may withdraw within "
            "14 days and get everything back (Code de la consommation, art. L221-18), "
            "unless the service falls under an exception, such as leisure activities "
            "provided on a set date (art. L221-28 12°). Everything paid: you apply the right "
            "of withdrawal; a cancellation within 14 days of booking is refunded in full, "
            "and a client whose appointment falls within those days is asked whether she "
            "wants it to go ahead. As the cancellation terms say: you rely on the exception, "
            "and your cancellation terms apply from the moment of booking. Clients are told "
            "which before paying. If unsure which applies to your services, ask your "
            "adviser."
        ),
    )
    # Moved on by every change (deposits.services.policy_set): a booking keeps the
    # version of the terms it was made under.
    version = models.PositiveIntegerField(default=1, verbose_name=_("version"))
    card_guarantee = models.CharField(
        max_length=16,
        choices=CardGuarantee.choices,
        default=CardGuarantee.OFF,
        verbose_name=_("card on file"),
        help_text=_(
            "Who keeps a card on file when booking online: it guarantees the appointment "
            "where the deposit asks little or nothing."
        ),
    )
    # The no-show (and late-cancellation) fee: an amount rule, clamped like the deposit;
    # empty, the deposit rule's amount.
    no_show_fee_kind = models.CharField(
        max_length=8,
        choices=RULE_KINDS,
        blank=True,
        verbose_name=_("no-show fee"),
        help_text=_("Empty: the deposit rule's amount. Clamped like the deposit."),
    )
    no_show_fee_value = models.PositiveIntegerField(
        null=True, blank=True, verbose_name=_("no-show fee value")
    )
    refuse_prepaid_cards = models.BooleanField(
        default=False,
        verbose_name=_("refuse prepaid cards"),
        help_text=_("A prepaid card is often empty when the fee is charged: ask for another."),
    )
    # Within five days of the appointment (card holds lapse after about a week), the fee
    # is held on the card when it is saved, and taken or released at the appointment.
    card_hold = models.BooleanField(
        default=False,
        verbose_name=_("hold the fee on the card within five days"),
        help_text=_(
            "For appointments less than five days away, the fee is reserved on the card "
            "when it is saved: taken if the client does not come, released when she comes "
            "or cancels."
        ),
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("deposit policy")
        verbose_name_plural = _("deposit policies")
        constraints = [models.UniqueConstraint(fields=["salon"], name="one_policy_per_salon")]

    def __str__(self) -> str:
        return str(_("Deposit policy"))

    @property
    def rule(self) -> Rule:
        return Rule(self.rule_kind, self.rule_value)

    @property
    def no_show_fee(self) -> Rule | None:
        """The fee's own rule; None when it is the deposit rule's amount."""
        return (
            Rule(self.no_show_fee_kind, self.no_show_fee_value) if self.no_show_fee_kind else None
        )

    def clean(self) -> None:
        _check_rule(self.rule_kind, self.rule_value)
        if self.no_show_fee_kind:
            try:
                Rule.parse({"kind": self.no_show_fee_kind, "value": self.no_show_fee_value})
            except ValidationError as exc:
                raise ValidationError({"no_show_fee_value": exc.messages}) from exc
        if (
            self.min_amount is not None
            and self.max_amount is not None
            and self.min_amount > self.max_amount
        ):
            raise ValidationError({"max_amount": _("The maximum is below the minimum.")})


def _check_rule(kind: str, value: int | None) -> None:
    """The rule held in the `rule_kind` and `rule_value` columns, checked by `Rule.parse`."""
    try:
        Rule.parse({"kind": kind, "value": value})
    except ValidationError as exc:
        columns = {"kind": "rule_kind", "value": "rule_value"}
        errors = (
            exc.error_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.error_list}
        )
        raise ValidationError(
            {columns.get(key, NON_FIELD_ERRORS): found for key, found in errors.items()}
        ) from exc


class RampStep(TenantModel):
    """From `starts_on` (salon-local), this rule replaces the base rule."""

    policy = models.ForeignKey(
        DepositPolicy,
        on_delete=models.CASCADE,
        related_name="steps",
        verbose_name=_("deposit policy"),
    )
    starts_on = models.DateField(verbose_name=_("starts on"))
    rule_kind = models.CharField(max_length=8, choices=RULE_KINDS, verbose_name=_("rule"))
    rule_value = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("value"))

    class Meta:
        verbose_name = _("ramp step")
        verbose_name_plural = _("ramp steps")
        ordering = ["starts_on"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "starts_on"], name="one_step_a_day")
        ]

    def __str__(self) -> str:
        return f"{self.starts_on}: {self.rule_kind} {self.rule_value or ''}".strip()

    @property
    def rule(self) -> Rule:
        return Rule(self.rule_kind, self.rule_value)

    def clean(self) -> None:
        _check_rule(self.rule_kind, self.rule_value)


def policy_values(policy: DepositPolicy, steps: list[RampStep]) -> Policy:
    return Policy(
        rule=policy.rule,
        min_amount=policy.min_amount,
        max_amount=policy.max_amount,
        ramp=tuple((step.starts_on, step.rule) for step in steps),
        trusted_after_visits=policy.trusted_after_visits,
        full_prepayment_after_no_shows=policy.full_prepayment_after_no_shows,
    )


class PaymentKind(models.TextChoices):
    DEPOSIT = "deposit", _("Deposit")
    FULL = "full", _("Full price")


class PaymentStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting payment")
    SUCCEEDED = "succeeded", _("Paid")
    CANCELED = "canceled", _("Cancelled")
    FAILED = "failed", _("Could not be started")
    WAIVED = "waived", _("Waived by the salon")


# Who took the money: the online provider, or the salon's desk (cash, card terminal).
DESK = "desk"


class DeskMethod(models.TextChoices):
    """How money taken at the desk was paid."""

    CASH = "cash", _("Cash")
    CARD_TERMINAL = "card_terminal", _("Card terminal")
    OTHER = "other", _("Other")


class PaymentOutcome(models.TextChoices):
    REFUNDED = "refunded", _("Refunded")
    CREDITED = "credited", _("Kept as credit")
    FORFEITED = "forfeited", _("Kept by the salon")


class Payment(TenantModel):
    """One amount taken for a booking (its deposit or its full price)."""

    booking = models.ForeignKey(
        "bookings.Booking",
        on_delete=models.PROTECT,
        related_name="payments",
        verbose_name=_("booking"),
    )
    kind = models.CharField(max_length=8, choices=PaymentKind.choices, verbose_name=_("kind"))
    amount = models.PositiveIntegerField(verbose_name=_("amount"))
    currency = models.CharField(max_length=3, verbose_name=_("currency"))
    status = models.CharField(
        max_length=12,
        choices=PaymentStatus.choices,
        default=PaymentStatus.PENDING,
        verbose_name=_("status"),
    )
    provider = models.CharField(max_length=16, default="stripe", verbose_name=_("provider"))
    intent_id = models.CharField(
        max_length=255, null=True, blank=True, unique=True, verbose_name=_("payment intent")
    )
    client_secret = models.CharField(max_length=255, blank=True, verbose_name=_("client secret"))
    account = models.CharField(
        max_length=255, blank=True, help_text=_("Connected account."), verbose_name=_("account")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    paid_at = models.DateTimeField(null=True, blank=True, verbose_name=_("paid at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))
    # What became of the money when the booking was cancelled. On a payment the
    # cancellation abandoned unpaid: what becomes of its money should it be taken all the
    # same (the client paid as they cancelled).
    outcome = models.CharField(
        max_length=12, choices=PaymentOutcome.choices, blank=True, verbose_name=_("outcome")
    )
    # A payment taken at the desk or a waiver: who recorded it, and why for a waiver.
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    note = models.CharField(max_length=300, blank=True, verbose_name=_("note"))
    # Money taken at the desk: how it was paid.
    method = models.CharField(
        max_length=16, choices=DeskMethod.choices, blank=True, verbose_name=_("method")
    )
    # A payment link given up for the desk (paid there, or waived): the payment that took
    # its place. Its money, should the client pay the link all the same, is refunded.
    replaced_by = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("replaced by"),
    )

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        amount = money_format(self.amount, self.currency, translation.get_language() or "en")
        return f"{self.get_kind_display()} {amount} ({self.status})"

    def key(self, action: str) -> str:
        """The idempotency key of an action on this payment (DESIGN.md, invariant 5)."""
        return f"{self.kind}:{self.pk}:{action}"


class StripeEvent(models.Model):
    """A Stripe event, recorded with its effect in one transaction: applied once."""

    event_id = models.CharField(max_length=255, unique=True, verbose_name=_("event"))
    type = models.CharField(max_length=100, verbose_name=_("type"))
    status = models.CharField(max_length=16, verbose_name=_("status"))  # applied, ignored, failed
    error = models.TextField(blank=True, verbose_name=_("error"))
    received_at = models.DateTimeField(auto_now_add=True, verbose_name=_("received at"))

    class Meta:
        verbose_name = _("Stripe event")
        verbose_name_plural = _("Stripe events")

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"


class Refund(TenantModel):
    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, related_name="refunds", verbose_name=_("payment")
    )
    amount = models.PositiveIntegerField(verbose_name=_("amount"))
    reason = models.CharField(max_length=64, verbose_name=_("reason"))
    status = models.CharField(max_length=16, default="pending", verbose_name=_("status"))
    refund_id = models.CharField(
        max_length=255, null=True, blank=True, unique=True, verbose_name=_("refund reference")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")

    def __str__(self) -> str:
        return f"{self.amount} ({self.reason}, {self.status})"


class CreditKind(models.TextChoices):
    GRANTED = "granted", _("Granted")
    USED = "used", _("Used")
    EXPIRED = "expired", _("Expired")
    REFUNDED = "refunded", _("Refunded")


class CreditEntry(TenantModel):
    """The credit ledger: never a balance field. A grant has an expiry; every use, lapse
    or refund is an entry against one grant, so what is left of each grant is derived."""

    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="credit_entries",
        verbose_name=_("client"),
    )
    kind = models.CharField(max_length=8, choices=CreditKind.choices, verbose_name=_("kind"))
    amount = models.PositiveIntegerField(verbose_name=_("amount"))
    currency = models.CharField(max_length=3, verbose_name=_("currency"))
    grant = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="entries",
        verbose_name=_("credit granted"),
    )
    booking = models.ForeignKey(
        "bookings.Booking",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("booking"),
    )
    payment = models.ForeignKey(
        Payment,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("payment"),
    )
    expires_at = models.DateTimeField(null=True, blank=True, verbose_name=_("expires at"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("credit entry")
        verbose_name_plural = _("credit entries")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="granted", grant__isnull=True, expires_at__isnull=False)
                | (~models.Q(kind="granted") & models.Q(grant__isnull=False)),
                name="credit_entry_shape",
            )
        ]

    def __str__(self) -> str:
        amount = money_format(self.amount, self.currency, translation.get_language() or "en")
        return f"{self.get_kind_display()} {amount}"


class TestModeIntent(models.Model):
    """A payment intent of the test-mode gateway (no Stripe keys): no money moves."""

    intent_id = models.CharField(max_length=64, unique=True, verbose_name=_("payment intent"))
    idempotency_key = models.CharField(
        max_length=255, unique=True, verbose_name=_("idempotency key")
    )
    amount = models.PositiveIntegerField(verbose_name=_("amount"))
    currency = models.CharField(max_length=3, verbose_name=_("currency"))
    status = models.CharField(
        max_length=32, default="requires_payment_method", verbose_name=_("status")
    )
    metadata = models.JSONField(default=dict, verbose_name=_("metadata"))
    refunded = models.PositiveIntegerField(default=0, verbose_name=_("refunded"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("test-mode payment")
        verbose_name_plural = _("test-mode payments")

    def __str__(self) -> str:
        return f"{self.intent_id} (test mode)"


class FigureMonth(TenantModel):
    """The owner's figures (deposits/figures.py) of one closed month, salon-local: its
    counts and sums by staff member and period of the policy, as `cells`, each
    [staff id, period, *figures.COUNTED]. Kept only while `signature` (the time zone and
    the policy's steps, window and credit validity it was counted under) still holds and
    no write has marked the month in FigureDirty since."""

    month = models.DateField(verbose_name=_("month"))
    signature = models.TextField(verbose_name=_("signature"))
    cells = models.JSONField(verbose_name=_("cells"))

    class Meta:
        verbose_name = _("month of figures")
        verbose_name_plural = _("months of figures")
        constraints = [
            models.UniqueConstraint(fields=["salon", "month"], name="figure_month_unique")
        ]


class FigureDirty(TenantModel):
    """A month whose figures a write may have changed: appended by the database's triggers
    on bookings, payments and credit entries (deposits/migrations/0009), never updated,
    deleted once the month is counted again. No foreign key: a salon being deleted still
    marks the months of the bookings it loses."""

    salon = models.ForeignKey(
        Salon,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        verbose_name=_("salon"),
    )
    month = models.DateField(verbose_name=_("month"))

    class Meta:
        verbose_name = _("month to count again")
        verbose_name_plural = _("months to count again")


class TermsChannel(models.TextChoices):
    """Where the client was shown the terms (a booking's source, and the desk)."""

    WEB = "web", _("Booking page")
    WIDGET = "widget", _("Widget on the salon's site")
    GOOGLE = "google", _("Google")
    INSTAGRAM = "instagram", _("Instagram")
    FACEBOOK = "facebook", _("Facebook")
    API = "api", _("API")
    PHONE = "phone", _("Phone (payment link)")
    DESK = "desk", _("Stated by the desk")


class BookingTerms(TenantModel):
    """The terms a booking was made under, as the client was shown them: kept as they
    were, whatever the policy becomes (dispute evidence, the client's own record)."""

    booking = models.OneToOneField(
        "bookings.Booking",
        on_delete=models.PROTECT,
        related_name="terms",
        verbose_name=_("booking"),
    )
    policy_version = models.PositiveIntegerField(verbose_name=_("policy version"))
    deposit_kind = models.CharField(
        max_length=8, choices=DepositKind.choices, verbose_name=_("the deposit is")
    )
    withdrawal_refund = models.CharField(
        max_length=8, choices=WithdrawalRefund.choices, verbose_name=_("withdrawal")
    )
    language = models.CharField(max_length=8, verbose_name=_("language"))
    text = models.TextField(verbose_name=_("terms shown"))
    withdrawal_info = models.TextField(verbose_name=_("withdrawal information shown"))
    # When the client accepted them: on booking online, on paying a phone booking's link;
    # null while a link is unpaid. At the desk, the staff member who stated them.
    accepted_at = models.DateTimeField(null=True, blank=True, verbose_name=_("accepted at"))
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("stated by"),
    )
    channel = models.CharField(
        max_length=12, choices=TermsChannel.choices, verbose_name=_("channel")
    )
    # The client's express request that an appointment within the withdrawal period go
    # ahead (L221-25): null when it was not asked (no withdrawal period runs then).
    express_request = models.BooleanField(null=True, blank=True, verbose_name=_("express request"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("booking terms")
        verbose_name_plural = _("booking terms")

    def __str__(self) -> str:
        return f"{self.get_deposit_kind_display()} (v{self.policy_version})"


class OwedKind(models.TextChoices):
    OWED = "owed", _("Owed")
    SETTLED = "settled", _("Settled")


class OwedHow(models.TextChoices):
    CREDIT = "credit", _("As credit the client accepted")
    PAID_BY_SALON = "paid_by_salon", _("Paid by the salon")


class OwedEntry(TenantModel):
    """What the salon owes a client beyond a refund: arrhes repaid twice when the salon
    cancels (L214-1). A ledger: one row when it becomes owed, one when it is settled,
    never a field changed; each booking owes and settles once."""

    booking = models.ForeignKey(
        "bookings.Booking",
        on_delete=models.PROTECT,
        related_name="owed_entries",
        verbose_name=_("booking"),
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="owed_entries",
        verbose_name=_("client"),
    )
    kind = models.CharField(max_length=8, choices=OwedKind.choices, verbose_name=_("kind"))
    amount = models.PositiveIntegerField(verbose_name=_("amount"))
    currency = models.CharField(max_length=3, verbose_name=_("currency"))
    how = models.CharField(
        max_length=16, choices=OwedHow.choices, blank=True, verbose_name=_("settled as")
    )
    credit = models.OneToOneField(
        CreditEntry,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owed_settlement",
        verbose_name=_("credit granted"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("sum owed to a client")
        verbose_name_plural = _("sums owed to clients")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["booking", "kind"], name="owed_once_per_booking"),
            models.CheckConstraint(
                condition=models.Q(kind="owed", how="")
                | models.Q(kind="settled") & ~models.Q(how=""),
                name="owed_entry_shape",
            ),
        ]

    def __str__(self) -> str:
        amount = money_format(self.amount, self.currency, translation.get_language() or "en")
        return f"{self.get_kind_display()} {amount}"


class SavedCardStatus(models.TextChoices):
    PENDING = "pending", _("Being saved")
    SAVED = "saved", _("Saved")
    REFUSED = "refused", _("Refused (prepaid card)")


class SavedCard(TenantModel):
    """A client's card kept on file for a booking (a SetupIntent in the salon's connected
    account), with what she agreed to: the authorisation text shown, when and how. This
    is the evidence an issuer asks for when a charged fee is disputed."""

    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="saved_cards",
        verbose_name=_("client"),
    )
    # The booking it was asked for; a card refused (prepaid) is kept, and the client
    # saves another on a new row.
    booking = models.ForeignKey(
        "bookings.Booking",
        on_delete=models.PROTECT,
        related_name="saved_cards",
        verbose_name=_("booking"),
    )
    account = models.CharField(max_length=255, blank=True, verbose_name=_("account"))
    provider_customer = models.CharField(
        max_length=255, blank=True, verbose_name=_("provider's customer")
    )
    setup_intent = models.CharField(
        max_length=255, null=True, blank=True, unique=True, verbose_name=_("setup intent")
    )
    client_secret = models.CharField(max_length=255, blank=True, verbose_name=_("client secret"))
    status = models.CharField(
        max_length=8,
        choices=SavedCardStatus.choices,
        default=SavedCardStatus.PENDING,
        verbose_name=_("status"),
    )
    payment_method = models.CharField(max_length=255, blank=True, verbose_name=_("card"))
    brand = models.CharField(max_length=32, blank=True, verbose_name=_("brand"))
    last4 = models.CharField(max_length=4, blank=True, verbose_name=_("last four digits"))
    funding = models.CharField(max_length=16, blank=True, verbose_name=_("funding"))
    amount = models.PositiveIntegerField(verbose_name=_("amount authorised"))
    currency = models.CharField(max_length=3, verbose_name=_("currency"))
    authorisation_text = models.TextField(verbose_name=_("authorisation shown"))
    language = models.CharField(max_length=8, verbose_name=_("language"))
    accepted_at = models.DateTimeField(null=True, blank=True, verbose_name=_("accepted at"))
    # How the client consented: the channel, and the provider's SetupIntent as it stood
    # when the card was saved (its mandate, usage and status).
    consent = models.JSONField(default=dict, verbose_name=_("consent"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("card on file")
        verbose_name_plural = _("cards on file")

    def __str__(self) -> str:
        return f"{self.brand} •••• {self.last4}".strip() if self.last4 else str(self.status)

    def key(self, action: str) -> str:
        return f"card:{self.pk}:{action}"


class FeeKind(models.TextChoices):
    NO_SHOW = "no_show", _("No-show fee")
    LATE_CANCELLATION = "late_cancellation", _("Late-cancellation fee")


class FeeStatus(models.TextChoices):
    PENDING = "pending", _("Being charged")
    HELD = "held", _("Held on the card")
    SUCCEEDED = "succeeded", _("Paid")
    REQUIRES_ACTION = "requires_action", _("Awaiting the client (link sent)")
    FAILED = "failed", _("Declined")
    RELEASED = "released", _("Hold released")


class FeeCharge(TenantModel):
    """A no-show or late-cancellation fee charged to the card on file (once per booking
    and kind), or held on it before the appointment (`held`), until taken or released."""

    booking = models.ForeignKey(
        "bookings.Booking",
        on_delete=models.PROTECT,
        related_name="fee_charges",
        verbose_name=_("booking"),
    )
    card = models.ForeignKey(
        SavedCard, on_delete=models.PROTECT, related_name="charges", verbose_name=_("card")
    )
    kind = models.CharField(max_length=20, choices=FeeKind.choices, verbose_name=_("kind"))
    amount = models.PositiveIntegerField(verbose_name=_("amount"))
    currency = models.CharField(max_length=3, verbose_name=_("currency"))
    status = models.CharField(
        max_length=16,
        choices=FeeStatus.choices,
        default=FeeStatus.PENDING,
        verbose_name=_("status"),
    )
    intent_id = models.CharField(
        max_length=255, null=True, blank=True, unique=True, verbose_name=_("payment intent")
    )
    client_secret = models.CharField(max_length=255, blank=True, verbose_name=_("client secret"))
    error_code = models.CharField(max_length=64, blank=True, verbose_name=_("error"))
    # Held on the card before the appointment (capture_method=manual), not charged.
    hold = models.BooleanField(default=False, verbose_name=_("hold"))
    # When the desk was asked to call the client about a declined fee (once).
    desk_task_at = models.DateTimeField(null=True, blank=True, verbose_name=_("desk task at"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("requested by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    paid_at = models.DateTimeField(null=True, blank=True, verbose_name=_("paid at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("fee")
        verbose_name_plural = _("fees")
        constraints = [models.UniqueConstraint(fields=["booking", "kind"], name="one_fee_per_kind")]

    def __str__(self) -> str:
        amount = money_format(self.amount, self.currency, translation.get_language() or "en")
        return f"{self.get_kind_display()} {amount} ({self.status})"

    def key(self, action: str) -> str:
        """The idempotency key of an action on this fee (DESIGN.md, invariant 5)."""
        return f"fee:{self.booking_id}:{self.kind}:{action}"
