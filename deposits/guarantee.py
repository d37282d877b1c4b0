"""The card guarantee: a card kept on file, and the fees charged to it.

A policy may ask a client to keep a card on file (`card_guarantee`): the card is saved
with a SetupIntent on a Customer of the salon's connected account, under an authorisation
the client is shown and that is stored with it ("I authorise <salon> to charge my card up
to €X in case of no-show or late cancellation"). The booking is held until the card is
saved (and its deposit paid, if any), as the verified webhook `setup_intent.succeeded` or
the SetupIntent fetched back from the provider says, never the browser. A prepaid card is
refused where the salon says so: the booking stays held, and the client saves another.

A no-show or a late cancellation may then be charged to the card (`fee_charge`), once per
booking and kind, while the client is away (off-session), under an idempotency key
derived from what it does. A card that needs its holder (`authentication_required`) or
that refuses is never a silent failure: the client is sent a link to pay the fee herself
(`fee_pay_url`), and the desk is asked to call her (support/fees.py). Nothing blocks her.

Within five days of the appointment (holds lapse after about a week) a salon may hold the
fee on the card (`card_hold`): taken when the client does not come, released when she
comes or cancels.
"""

import datetime as dt
import logging

from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from bookings.models import Booking, Status
from bookings.services import (
    Actor,
    booking_complete,
    booking_confirm,
    booking_event,
    booking_mark_no_show,
)
from core.errors import Conflict, Invalid, ProviderUnavailable
from core.money import money_format
from customers.models import Customer
from customers.selectors import customers_sharing_contact
from tenants.models import Salon
from tenants.scoping import salon_scope

from .gateway import GatewayError, WebhookEvent, payment_gateway
from .models import (
    CardGuarantee,
    DepositPolicy,
    FeeCharge,
    FeeKind,
    FeeStatus,
    Payment,
    PaymentOutcome,
    PaymentStatus,
    SavedCard,
    SavedCardStatus,
    StripeEvent,
)
from .rules import rule_amount

log = logging.getLogger(__name__)

# Card holds lapse after about a week: a hold is placed only this close to the appointment.
HOLD_WITHIN = dt.timedelta(days=5)


# What the policy asks --------------------------------------------------------------------


def fee_amount(*, policy: DepositPolicy, price: int) -> int:
    """The no-show fee on this price: the fee's own rule, or the deposit rule's, clamped by
    the policy's minimum and maximum, never above the price."""
    rule = policy.no_show_fee or policy.rule
    return rule_amount(rule, price, min_amount=policy.min_amount, max_amount=policy.max_amount)


def _had_no_show(customer: Customer) -> bool:
    """A no-show on her record, or on any record with her contact details when she has not
    proved who she is (typing another number never dodges the rule)."""
    bookings = Booking.objects.filter(status=Status.NO_SHOW)
    if customer.unproven:
        return bookings.filter(customer__in=customers_sharing_contact(customer=customer)).exists()
    return bookings.filter(customer=customer).exists()


def card_guarantee_amount(
    *, policy: DepositPolicy, customer: Customer, price: int, deposit: int, paid_now: int
) -> int:
    """What a card on file guarantees for this booking (0: no card is asked): the fee less
    what the client pays now, when the policy asks this client for a card (everyone, the
    clients the deposit rule asks nothing of, or those with a no-show) and the provider
    keeps cards (not the test-mode gateway)."""
    wanted = policy.card_guarantee
    if wanted == CardGuarantee.OFF:
        return 0
    if wanted == CardGuarantee.WHEN_NO_DEPOSIT and deposit:
        return 0
    if wanted == CardGuarantee.AFTER_NO_SHOW and not _had_no_show(customer):
        return 0
    amount = max(fee_amount(policy=policy, price=price) - paid_now, 0)
    if not amount:
        return 0
    try:
        return amount if payment_gateway().supports_cards else 0
    except GatewayError:
        return 0


def authorisation_text(*, salon: Salon, amount: int, currency: str, language: str) -> str:
    """The authorisation the client is shown, and that is stored with her card."""
    with translation.override(language):
        return _(
            "I authorise %(salon)s to charge my card up to %(amount)s in case of no-show "
            "or late cancellation, as per the terms."
        ) % {"salon": salon.name, "amount": money_format(amount, currency, language)}


# Saving the card ---------------------------------------------------------------------------


def card_request(*, booking: Booking, customer: Customer, amount: int, language: str) -> SavedCard:
    """Inside the checkout's transaction: the card the booking waits for."""
    salon = booking.salon
    return SavedCard.objects.create(
        salon=salon,
        customer=customer,
        booking=booking,
        account=salon.stripe_account or "",
        amount=amount,
        currency=salon.currency,
        language=language,
        authorisation_text=authorisation_text(
            salon=salon, amount=amount, currency=salon.currency, language=language
        ),
    )


def card_setup_open(card: SavedCard) -> SavedCard:
    """After the booking is committed: the client's Customer in the salon's account (the
    one her earlier cards were saved on, or a new one), and the SetupIntent her browser
    confirms. GatewayError when the provider fails."""
    gateway = payment_gateway()
    known = (
        SavedCard.objects.filter(customer_id=card.customer_id, account=card.account)
        .exclude(provider_customer="")
        .values_list("provider_customer", flat=True)
        .first()
    )
    customer = known or gateway.customer_create(
        name=card.customer.name,
        email=card.customer.email or "",
        metadata={"salon": card.booking.salon.slug, "customer": str(card.customer_id)},
        idempotency_key=f"client:{card.customer_id}:create",
        account=card.account or None,
    )
    setup = gateway.setup_create(
        customer=customer,
        metadata={
            "salon": card.booking.salon.slug,
            "booking": str(card.booking_id),
            "card": str(card.pk),
        },
        idempotency_key=card.key("setup"),
        account=card.account or None,
    )
    SavedCard.objects.filter(pk=card.pk).update(
        provider_customer=customer, setup_intent=setup.id, client_secret=setup.client_secret
    )
    card.provider_customer, card.setup_intent, card.client_secret = (
        customer,
        setup.id,
        setup.client_secret,
    )
    return card


def card_awaited(booking: Booking) -> SavedCard | None:
    """The card this booking still waits for (the latest asked, not saved yet)."""
    latest = SavedCard.objects.filter(booking=booking).order_by("-created_at", "-pk").first()
    return latest if latest is not None and latest.status != SavedCardStatus.SAVED else None


def card_on_file(booking: Booking) -> SavedCard | None:
    return (
        SavedCard.objects.filter(booking=booking, status=SavedCardStatus.SAVED)
        .order_by("-created_at", "-pk")
        .first()
    )


def _payment_awaited(booking: Booking) -> bool:
    return Payment.objects.filter(booking=booking, status=PaymentStatus.PENDING).exists()


def setup_event_apply(event: WebhookEvent) -> str:
    """A verified `setup_intent.*` event: the card it saved, kept once (the event recorded
    with its effect). The card's details are fetched from the provider first, outside the
    transaction. Returns applied, duplicate, ignored or mismatch."""
    setup_id = event.data.get("id")
    with scopes_disabled():
        card = (
            SavedCard.objects.select_related("booking__salon", "customer")
            .filter(setup_intent=setup_id)
            .first()
            if isinstance(setup_id, str) and event.type == "setup_intent.succeeded"
            else None
        )
    status, outcome = "ignored", None
    if card is not None and (event.account or "") != card.account:
        log.warning("stripe event %s ignored: its account is not the card's", event.id)
        status, card = "mismatch", None
    if card is not None:
        method = event.data.get("payment_method")
        if not isinstance(method, str):
            method = None
        try:
            outcome = _card_read(card, method)
        except GatewayError as exc:
            # Nothing recorded: the webhook answers an error, and Stripe sends it again.
            log.warning("card %s: its details could not be fetched: %s", card.pk, exc)
            raise ProviderUnavailable() from exc
        status = "applied" if outcome is not None else "ignored"
    try:
        with transaction.atomic():
            StripeEvent.objects.create(event_id=event.id, type=event.type, status=status)
            if card is not None and outcome is not None:
                with salon_scope(card.salon_id):
                    result = _card_keep(card, outcome, channel="webhook")
            else:
                result = ""
    except IntegrityError as error:
        if "event_id" not in str(error) and "stripeevent" not in str(error).lower():
            raise
        return "duplicate"
    if card is not None:
        with salon_scope(card.salon_id):
            _after_card(card, result)
    return status


def _card_read(card: SavedCard, method: str | None) -> dict[str, str] | None:
    """The saved card's details, fetched from the provider; None when the provider says
    the SetupIntent did not succeed. GatewayError when the provider cannot be asked."""
    gateway = payment_gateway()
    setup = gateway.setup_retrieve(setup_id=str(card.setup_intent), account=card.account or None)
    if setup.status != "succeeded" or not (method or setup.payment_method):
        return None
    found = gateway.card_retrieve(
        payment_method=str(method or setup.payment_method), account=card.account or None
    )
    return {
        "payment_method": found.id,
        "brand": found.brand,
        "last4": found.last4,
        "funding": found.funding,
        "mandate": setup.mandate or "",
        "usage": setup.usage,
    }


def card_setup_fetch(card: SavedCard) -> str:
    """The SetupIntent fetched back from the provider (the client is back from saving it):
    kept as its webhook would keep it, whichever comes first."""
    try:
        outcome = _card_read(card, None) if card.setup_intent else None
    except GatewayError:
        log.warning("card %s: its details could not be fetched", card.pk, exc_info=True)
        return ""
    if outcome is None:
        return ""
    with transaction.atomic():
        result = _card_keep(card, outcome, channel="fetched")
    _after_card(card, result)
    return result


def _card_keep(card: SavedCard, outcome: dict[str, str], *, channel: str) -> str:
    """Inside a transaction: the booking, then the card, locked (the module's order); the
    card saved (or refused when prepaid and the salon refuses those), and the booking
    confirmed once nothing else is awaited. Returns saved, refused or "" (already kept)."""
    booking = (
        Booking.objects.select_for_update(no_key=True, of=("self",))
        .select_related("salon")
        .get(pk=card.booking_id)
    )
    locked = SavedCard.objects.select_for_update(no_key=True).get(pk=card.pk)
    if locked.status != SavedCardStatus.PENDING:
        return ""
    policy = DepositPolicy.objects.filter(salon_id=booking.salon_id).first()
    refused = bool(policy and policy.refuse_prepaid_cards and outcome["funding"] == "prepaid")
    locked.status = SavedCardStatus.REFUSED if refused else SavedCardStatus.SAVED
    locked.payment_method = outcome["payment_method"]
    locked.brand, locked.last4, locked.funding = (
        outcome["brand"][:32],
        outcome["last4"][:4],
        outcome["funding"][:16],
    )
    if not refused:
        locked.accepted_at = timezone.now()
    locked.consent = {
        "channel": "web",
        "recorded_from": channel,
        "setup_intent": locked.setup_intent,
        "mandate": outcome["mandate"],
        "usage": outcome["usage"],
        "text": locked.authorisation_text,
        "amount": locked.amount,
        "currency": locked.currency,
    }
    locked.save()
    booking_event(
        booking,
        "card_refused" if refused else "card_saved",
        by="client",
        card=locked.pk,
        funding=locked.funding,
    )
    if not refused and booking.status == Status.PENDING_PAYMENT and not _payment_awaited(booking):
        booking_confirm(booking=booking)
    return locked.status


def _after_card(card: SavedCard, result: str) -> None:
    """Once the card is kept: a refused card is followed by a new SetupIntent (the client
    saves another card on the same page); a saved one may hold the fee."""
    if result == SavedCardStatus.REFUSED:
        booking = Booking.objects.select_related("salon").get(pk=card.booking_id)
        if booking.status != Status.PENDING_PAYMENT:
            return
        again = card_request(
            booking=booking, customer=card.customer, amount=card.amount, language=card.language
        )
        try:
            card_setup_open(again)
        except GatewayError:
            log.warning("card %s: no new setup for booking %s", again.pk, booking.pk)
    elif result == SavedCardStatus.SAVED:
        fee_hold_place(card=SavedCard.objects.get(pk=card.pk))


# Fees --------------------------------------------------------------------------------------


def _kept(booking: Booking, kind: str) -> int:
    """What the salon already kept of the booking's money: a no-show keeps its deposit; a
    late cancellation, what was forfeited (credit is the client's, not kept)."""
    payments = Payment.objects.filter(
        booking=booking, status=PaymentStatus.SUCCEEDED, replaced_by__isnull=True
    )
    if kind == FeeKind.NO_SHOW:
        payments = payments.filter(outcome__in=["", PaymentOutcome.FORFEITED])
    else:
        payments = payments.filter(outcome=PaymentOutcome.FORFEITED)
    return int(payments.aggregate(total=Sum("amount"))["total"] or 0)


def fee_cap(*, booking: Booking, kind: str) -> int:
    """The most a fee may be: the policy's fee on the booking's price, less what the salon
    kept of its money already."""
    policy = DepositPolicy.objects.filter(salon_id=booking.salon_id).first()
    if policy is None:
        return 0
    return max(fee_amount(policy=policy, price=booking.price) - _kept(booking, kind), 0)


def _chargeable(booking: Booking, kind: str) -> None:
    """Conflict unless the booking is one this fee is for."""
    if kind == FeeKind.NO_SHOW and booking.status != Status.NO_SHOW:
        raise Conflict(_("A no-show fee is charged only for a booking marked as a no-show."))
    if kind == FeeKind.LATE_CANCELLATION:
        from .payments import cancellation_deadline

        late = (
            booking.status == Status.CANCELLED
            and not booking.cancelled_by_salon
            and booking.cancelled_at is not None
            and booking.cancelled_at > cancellation_deadline(booking)
        )
        if not late:
            raise Conflict(
                _("A late-cancellation fee is charged only when the client cancelled late.")
            )


def fee_charge(
    *, booking: Booking, kind: str, amount: int | None = None, actor: Actor = None
) -> FeeCharge:
    """Charge a no-show or late-cancellation fee to the booking's card on file, once:
    asking again answers the fee as it stands, and charges nothing more.

    The amount defaults to the policy's fee, less what the salon kept already, and may
    not be more (Invalid on `amount`). Conflict when the booking is not a no-show or
    a late cancellation, or has no card on file. ProviderUnavailable when the provider
    failed: the fee stays to be charged, under the same key (the support sweep, `support.fees`)."""
    if kind not in FeeKind.values:
        raise Invalid({"kind": [_("One of: %(kinds)s.") % {"kinds": ", ".join(FeeKind.values)}]})
    existing = FeeCharge.objects.filter(booking=booking, kind=kind).first()
    if existing is not None and existing.status != FeeStatus.RELEASED:
        return (
            fee_hold_capture(fee=existing)
            if existing.status == FeeStatus.HELD
            else fee_send(existing)
        )
    _chargeable(booking, kind)
    card = card_on_file(booking)
    if card is None:
        raise Conflict(_("This booking has no card on file."))
    cap = fee_cap(booking=booking, kind=kind)
    if cap <= 0:
        raise Conflict(_("Nothing is left to charge: what the salon kept covers the fee."))
    if amount is None:
        amount = cap
    if amount < 1 or amount > cap:
        limit = money_format(cap, booking.currency, translation.get_language() or "en")
        raise Invalid({"amount": [_("At most %(cap)s.") % {"cap": limit}]})
    try:
        with transaction.atomic():
            fee = FeeCharge.objects.create(
                salon_id=booking.salon_id,
                booking=booking,
                card=card,
                kind=kind,
                amount=amount,
                currency=booking.currency,
                requested_by=actor if actor is not None and actor.is_authenticated else None,
            )
            booking_event(
                booking, "fee_requested", actor=actor, by="staff", fee_kind=kind, amount=amount
            )
    except IntegrityError:
        fee = FeeCharge.objects.get(booking=booking, kind=kind)  # asked twice at once
    return fee_send(fee)


def _metadata(fee: FeeCharge) -> dict[str, str]:
    return {
        "salon": fee.booking.salon.slug,
        "booking": str(fee.booking_id),
        "fee": str(fee.pk),
        "kind": fee.kind,
    }


def fee_send(fee: FeeCharge) -> FeeCharge:
    """Charge a fee still pending, under its idempotency key: a second call (a click
    again, a retried task) is answered by the provider's replay, and recorded once."""
    if fee.status != FeeStatus.PENDING:
        return fee
    card = fee.card
    try:
        result = payment_gateway().card_charge(
            amount=fee.amount,
            currency=fee.currency,
            customer=card.provider_customer,
            payment_method=card.payment_method,
            metadata=_metadata(fee),
            idempotency_key=fee.key("hold" if fee.hold else "create"),
            account=card.account or None,
            hold=fee.hold,
        )
    except GatewayError as exc:
        log.warning("fee %s: the provider failed: %s", fee.pk, exc)
        raise ProviderUnavailable() from exc
    intent = result.intent
    status = {
        "succeeded": FeeStatus.SUCCEEDED,
        "requires_capture": FeeStatus.HELD,
        "requires_action": FeeStatus.REQUIRES_ACTION,
    }.get(result.status, FeeStatus.FAILED)
    if fee.hold and status != FeeStatus.HELD:
        return _hold_given_up(fee, intent.id if intent else None, result.error_code)
    if status == FeeStatus.FAILED and intent is None:
        # No intent to pay on the link: one is opened for the client to pay on-session.
        try:
            intent = payment_gateway().create_intent(
                amount=fee.amount,
                currency=fee.currency,
                metadata=_metadata(fee),
                idempotency_key=fee.key("link"),
                account=card.account or None,
            )
        except GatewayError:
            log.warning("fee %s: no intent for its link", fee.pk, exc_info=True)
    with transaction.atomic():
        recorded = FeeCharge.objects.filter(pk=fee.pk, status=FeeStatus.PENDING).update(
            status=status,
            intent_id=intent.id if intent else None,
            client_secret=intent.client_secret if intent else "",
            error_code=(result.decline_code or result.error_code)[:64],
            paid_at=timezone.now() if status == FeeStatus.SUCCEEDED else None,
        )
        if recorded and not fee.hold:
            booking_event(
                fee.booking,
                "fee_due"
                if status in (FeeStatus.REQUIRES_ACTION, FeeStatus.FAILED)
                else "fee_paid",
                by="system",
                fee=fee.pk,
                fee_kind=fee.kind,
                status=status,
                amount=fee.amount,
            )
    fee.refresh_from_db()
    return fee


# Holds within five days ----------------------------------------------------------------------


def fee_hold_place(*, card: SavedCard, now: dt.datetime | None = None) -> FeeCharge | None:
    """Hold the guaranteed amount on a saved card when the salon asks for it and the
    appointment is within five days. A card that does not take the hold is left as it
    is: the fee may still be charged after a no-show."""
    now = now or timezone.now()
    booking = card.booking
    policy = DepositPolicy.objects.filter(salon_id=booking.salon_id).first()
    if (
        policy is None
        or not policy.card_hold
        or card.status != SavedCardStatus.SAVED
        or booking.status not in (Status.PENDING_PAYMENT, Status.CONFIRMED)
        or booking.start - now > HOLD_WITHIN
    ):
        return None
    amount = min(card.amount, fee_cap(booking=booking, kind=FeeKind.NO_SHOW))
    if amount <= 0:
        return None
    try:
        with transaction.atomic():
            fee = FeeCharge.objects.create(
                salon_id=booking.salon_id,
                booking=booking,
                card=card,
                kind=FeeKind.NO_SHOW,
                amount=amount,
                currency=card.currency,
                hold=True,
            )
    except IntegrityError:
        return FeeCharge.objects.get(booking=booking, kind=FeeKind.NO_SHOW)
    try:
        return fee_send(fee)
    except ProviderUnavailable:
        FeeCharge.objects.filter(pk=fee.pk, status=FeeStatus.PENDING).delete()
        return None


def _hold_given_up(fee: FeeCharge, intent_id: str | None, code: str) -> FeeCharge:
    """A hold the card did not take: nothing was held, the row goes (the fee may still be
    charged after a no-show, under its own key), and the intent is cancelled."""
    log.info("fee %s: the card took no hold (%s)", fee.pk, code)
    FeeCharge.objects.filter(pk=fee.pk, status=FeeStatus.PENDING).delete()
    if intent_id:
        try:
            payment_gateway().cancel_intent(
                intent_id=intent_id,
                idempotency_key=fee.key("release"),
                account=fee.card.account or None,
            )
        except GatewayError:
            log.warning("fee %s: its intent could not be cancelled", fee.pk, exc_info=True)
    fee.status = FeeStatus.RELEASED
    return fee


def _held(booking: Booking) -> FeeCharge | None:
    return (
        FeeCharge.objects.select_related("card", "booking__salon")
        .filter(booking=booking, status=FeeStatus.HELD)
        .first()
    )


def fee_hold_capture(*, fee: FeeCharge) -> FeeCharge:
    """The client did not come: the fee held on her card is taken (at most what the policy
    leaves to charge). ProviderUnavailable when the provider failed: it stays held."""
    amount = min(fee.amount, fee_cap(booking=fee.booking, kind=fee.kind))
    if amount <= 0:  # what the salon kept covers it already
        return fee_hold_release(booking=fee.booking) or fee
    try:
        intent = payment_gateway().capture_intent(
            intent_id=str(fee.intent_id),
            amount=amount,
            idempotency_key=fee.key("capture"),
            account=fee.card.account or None,
        )
    except GatewayError as exc:
        log.warning("fee %s: the hold could not be captured: %s", fee.pk, exc)
        raise ProviderUnavailable() from exc
    with transaction.atomic():
        if FeeCharge.objects.filter(pk=fee.pk, status=FeeStatus.HELD).update(
            status=FeeStatus.SUCCEEDED, amount=amount, paid_at=timezone.now()
        ):
            booking_event(
                fee.booking,
                "fee_paid",
                by="system",
                fee=fee.pk,
                fee_kind=fee.kind,
                amount=amount,
                captured=intent.id,
            )
    fee.refresh_from_db()
    return fee


def fee_hold_release(*, booking: Booking) -> FeeCharge | None:
    """The client came, or the booking was cancelled: the fee held is released."""
    fee = _held(booking)
    if fee is None:
        return None
    try:
        payment_gateway().cancel_intent(
            intent_id=str(fee.intent_id),
            idempotency_key=fee.key("release"),
            account=fee.card.account or None,
        )
    except GatewayError:
        log.warning("fee %s: the hold could not be released", fee.pk, exc_info=True)
        return fee
    FeeCharge.objects.filter(pk=fee.pk, status=FeeStatus.HELD).update(status=FeeStatus.RELEASED)
    fee.refresh_from_db()
    return fee


def booking_outcome_settle(*, booking: Booking) -> FeeCharge | None:
    """Once staff marked the booking: a no-show's hold is taken, a completed booking's
    released. A provider failure leaves the hold for the fee's own call (`fee_charge`)."""
    fee = _held(booking)
    if fee is None:
        return None
    if booking.status == Status.NO_SHOW:
        try:
            return fee_hold_capture(fee=fee)
        except ProviderUnavailable:
            return fee
    if booking.status in (Status.COMPLETED, Status.CANCELLED):
        return fee_hold_release(booking=booking)
    return fee


# Paying a fee by link ----------------------------------------------------------------------

_FEE_SALT = "deposits.fee"


def fee_pay_token(fee: FeeCharge) -> str:
    return signing.dumps({"s": fee.salon_id, "f": fee.pk}, salt=_FEE_SALT)


def fee_pay_url(fee: FeeCharge) -> str:
    from django.conf import settings

    return f"{settings.SITE_URL}/pay/fee/{fee_pay_token(fee)}/"


def fee_for_link(token: str) -> FeeCharge | None:
    """The fee a link names, or None for a forged one. Read across salons, then in its
    salon's scope by the caller."""
    try:
        data = signing.loads(token, salt=_FEE_SALT)
        salon_id, fee_id = int(data["s"]), int(data["f"])
    except (signing.BadSignature, AttributeError, KeyError, TypeError, ValueError):
        return None
    with salon_scope(salon_id):
        return (
            FeeCharge.objects.select_related("booking__salon", "booking__customer", "card")
            .filter(pk=fee_id, salon_id=salon_id)
            .first()
        )


def fee_intent_succeeded(*, intent_id: str, amount: object, currency: object, account: str) -> bool:
    """Inside the webhook's transaction: a fee the client paid by its link (or a charge
    whose success came late). True when the intent is a fee's."""
    with scopes_disabled():
        fee = FeeCharge.objects.filter(intent_id=intent_id).first()
    if fee is None:
        return False
    if (
        account != fee.card.account
        or amount != fee.amount
        or str(currency).upper() != fee.currency.upper()
    ):
        log.warning("fee %s: a success whose account or amount is not the fee's", fee.pk)
        return True
    with salon_scope(fee.salon_id):
        if (
            FeeCharge.objects.filter(pk=fee.pk)
            .exclude(status__in=[FeeStatus.SUCCEEDED, FeeStatus.HELD, FeeStatus.RELEASED])
            .update(status=FeeStatus.SUCCEEDED, paid_at=timezone.now())
        ):
            booking_event(
                fee.booking,
                "fee_paid",
                by="client",
                fee=fee.pk,
                fee_kind=fee.kind,
                amount=fee.amount,
            )
    return True


# Marking the appointment's outcome ---------------------------------------------------------


def booking_no_show_mark(*, booking: Booking, actor: Actor = None) -> Booking:
    """Staff mark a no-show: the deposit stays, and a fee held on the card is taken."""
    marked = booking_mark_no_show(booking=booking, actor=actor)
    booking_outcome_settle(booking=marked)
    return marked


def booking_complete_mark(*, booking: Booking, actor: Actor = None) -> Booking:
    """Staff mark the visit done: a fee held on the card is released."""
    marked = booking_complete(booking=booking, actor=actor)
    booking_outcome_settle(booking=marked)
    return marked


def fee_fetch(fee: FeeCharge) -> FeeCharge:
    """The fee's intent fetched back from the provider (the client is back from paying it
    by its link): a success kept as its webhook would keep it, whichever comes first."""
    if not fee.intent_id or fee.status not in (FeeStatus.REQUIRES_ACTION, FeeStatus.FAILED):
        return fee
    try:
        intent = payment_gateway().retrieve_intent(
            intent_id=fee.intent_id, account=fee.card.account or None
        )
    except GatewayError:
        return fee
    if intent.status == "succeeded":
        with transaction.atomic():
            fee_intent_succeeded(
                intent_id=intent.id,
                amount=intent.amount,
                currency=intent.currency,
                account=fee.card.account,
            )
    fee.refresh_from_db()
    return fee


def fee_kinds_open(booking: Booking) -> list[str]:
    """The fees the desk may still charge for this booking: it has a card on file, it is
    a no-show or a late cancellation, and that fee was not charged yet."""
    if card_on_file(booking) is None:
        return []
    charged = set(
        FeeCharge.objects.filter(booking=booking)
        .exclude(status=FeeStatus.RELEASED)
        .values_list("kind", flat=True)
    )
    kinds = []
    for kind in FeeKind.values:
        try:
            _chargeable(booking, kind)
        except Conflict:
            continue
        if kind not in charged and fee_cap(booking=booking, kind=kind) > 0:
            kinds.append(kind)
    return kinds
