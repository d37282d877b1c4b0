"""Fees charged to a card on file, as the front desk sees them: when a card refuses, the
client is sent a link to pay (deposits/guarantee.py) and the desk is asked to call her,
once. Nothing blocks her: she may pay by the link with another card, or at the desk."""

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from bookings.models import Booking
from bookings.services import Actor
from core.errors import ProviderUnavailable
from core.money import money_format
from deposits.guarantee import fee_charge, fee_send
from deposits.models import FeeCharge, FeeKind, FeeStatus
from messaging.outbox.render import language_for

from .models import RequestCategory, RequestChannel
from .services import request_open


def fee_charge_take(
    *, booking: Booking, kind: str, amount: int | None = None, actor: Actor = None
) -> FeeCharge:
    """The desk (or the API) charges a fee: once, and a declined one starts the kind path."""
    fee = fee_charge(booking=booking, kind=kind, amount=amount, actor=actor)
    fee_kind_path(fee=fee)
    return fee


def fee_kind_path(*, fee: FeeCharge) -> bool:
    """A declined fee puts a call on the desk's list (a payment request on the booking),
    once per fee: claimed by a conditional update. True when it opened one."""
    if fee.status != FeeStatus.FAILED:
        return False
    mine = FeeCharge.objects.filter(pk=fee.pk)
    if not mine.filter(desk_task_at__isnull=True).update(desk_task_at=timezone.now()):
        return False
    booking = fee.booking
    language = language_for(booking.customer, booking.salon)
    with translation.override(language):
        what = (
            _("the no-show fee") if fee.kind == FeeKind.NO_SHOW else _("the late-cancellation fee")
        )
        summary = _(
            "Call the client: her card declined %(what)s of %(amount)s. She was sent a link "
            "to pay it with another card; she may also pay at the desk. Do not block her."
        ) % {"what": what, "amount": money_format(fee.amount, fee.currency, language)}
    try:
        request_open(
            salon=booking.salon,
            channel=RequestChannel.WEB,
            category=RequestCategory.PAYMENT,
            summary=summary,
            booking=booking,
        )
    except Exception:
        mine.update(desk_task_at=None)  # the next sweep opens it
        raise
    return True


def fees_settle(*, salon_id: int) -> int:
    """Fees a provider failure left pending are charged again under their own keys, and
    the declined ones start the kind path (beat). Returns how many were settled."""
    settled = 0
    pending = FeeCharge.objects.select_related("card", "booking__salon", "booking__customer")
    for fee in pending.filter(salon_id=salon_id, status=FeeStatus.PENDING, hold=False):
        try:
            sent = fee_send(fee)
        except ProviderUnavailable:
            continue  # next time
        settled += sent.status != FeeStatus.PENDING
        fee_kind_path(fee=sent)
    for fee in pending.filter(salon_id=salon_id, status=FeeStatus.FAILED, desk_task_at=None):
        settled += fee_kind_path(fee=fee)
    return settled
