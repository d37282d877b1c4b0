"""One booking at the desk: what it is, its payment link, and what staff do with it (the
client arrived, was served, did not come, or the salon cancels); for one awaiting its
payment link: paid at the desk, the link sent again (or the other way), or the deposit
waived. Each action is a form posted here, through its service, which writes who did it
and why in the booking's audit trail; a refusal is said on its form, never a 500."""

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from bookings.models import ACTIVE_STATUSES, Booking, BookingItem, Status
from bookings.services import booking_arrive
from core.errors import ApplicationError
from core.money import CURRENCY_EXPONENTS, money_format
from customers.models import Channel
from deposits.agreements import NothingOwed, booking_terms, owed_settle, owed_to_client
from deposits.desk import deposit_paid_at_desk, deposit_waive
from deposits.guarantee import (
    booking_complete_mark,
    booking_no_show_mark,
    card_on_file,
    fee_kinds_open,
    fee_pay_url,
)
from deposits.interest import interest_and_balance
from deposits.models import DeskMethod, FeeCharge, FeeStatus, OwedHow, Payment, PaymentStatus
from deposits.paylinks import pay_url
from deposits.payments import booking_cancel_with_money
from messaging.models import Message, MessageKind
from messaging.paylinks import payment_link_resend
from support.fees import fee_charge_take
from tenants.models import Role, Salon
from tenants.selectors import membership_role
from web.desk.access import desk_context, desk_view
from web.desk.calendar import booking_rows
from web.problems import error_text, form_errors


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why the salon cancels (the client is refunded in full)"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": gettext_lazy("Say why the salon cancels.")},
    )


class DeskPaymentForm(forms.Form):
    """Money for a booking awaiting its link, taken at the desk: how much, and how."""

    amount = forms.CharField(
        label=gettext_lazy("Amount paid"),
        max_length=20,
        error_messages={"required": gettext_lazy("Give the amount paid.")},
    )
    method = forms.ChoiceField(
        label=gettext_lazy("Paid by"),
        choices=DeskMethod.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": gettext_lazy("Choose how the client paid."),
            "invalid_choice": gettext_lazy("Choose how the client paid."),
        },
    )
    note = forms.CharField(label=gettext_lazy("Note (optional)"), max_length=300, required=False)

    def __init__(self, *args: Any, currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency

    def clean_amount(self) -> int:
        """The amount as typed (`15`, `15,00`, `15.00 €`), in cents."""
        text = re.sub(r"[^\d,.\-]", "", self.cleaned_data["amount"]).replace(",", ".")
        exponent = CURRENCY_EXPONENTS.get(self.currency, 2)
        try:
            value = Decimal(text)
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite() or value <= 0:
            raise ValidationError(_("Give the amount paid, e.g. 15,00."))
        cents = value.scaleb(exponent)
        if cents != cents.to_integral_value() or cents > 10**9:
            raise ValidationError(_("Give the amount paid, e.g. 15,00."))
        return int(cents)


class WaiveForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why the deposit is waived"),
        max_length=300,
        error_messages={"required": gettext_lazy("Say why the deposit is waived.")},
    )


class ResendForm(forms.Form):
    send_via = forms.ChoiceField(
        choices=[(Channel.SMS, "SMS"), (Channel.EMAIL, "e-mail")], required=False
    )


def salon_booking_or_404(salon: Salon, pk: int) -> Booking:
    """The salon's booking; another salon's id is answered like a missing one."""
    booking = (
        Booking.objects.select_related("customer", "service", "staff")
        .prefetch_related(
            Prefetch("payments", queryset=Payment.objects.all()),
            Prefetch("items", queryset=BookingItem.objects.select_related("service", "staff")),
        )
        .filter(pk=pk)
        .first()
    )
    if booking is None:
        raise Http404
    return booking


def _amount_text(cents: int, currency: str) -> str:
    """Cents as the amount field shows them: `15,00` in French, `15.00` in English."""
    exponent = CURRENCY_EXPONENTS.get(currency, 2)
    text = f"{Decimal(cents).scaleb(-exponent):.{exponent}f}"
    return text.replace(".", ",") if translation.get_language() == "fr" else text


def _last_link(booking: Booking) -> Message | None:
    """The payment link as it last went out (its way and address), if it did."""
    return (
        Message.objects.filter(booking=booking, kind=MessageKind.PAYMENT_LINK)
        .exclude(channel="")
        .order_by("-created_at", "-id")
        .first()
    )


def _page(
    request: HttpRequest,
    salon: Salon,
    booking: Booking,
    status: int = 200,
    **forms_: forms.Form,
) -> HttpResponse:
    row = booking_rows(salon, [booking])[0]
    pending = next((p for p in booking.payments.all() if p.status == PaymentStatus.PENDING), None)
    link = None
    if pending is not None and booking.status == Status.PENDING_PAYMENT and pending.intent_id:
        last = _last_link(booking)
        channel = last.channel if last is not None else ""
        link = {
            "url": pay_url(pending),
            "expires_at": booking.hold_expires_at,
            "last": last,
            "again": channel or Channel.SMS,
            "other": Channel.EMAIL if channel != Channel.EMAIL else Channel.SMS,
        }
    now = timezone.now()
    confirmed = booking.status == Status.CONFIRMED
    started = booking.start <= now
    today = booking.start.astimezone(salon.tz).date() == now.astimezone(salon.tz).date()
    arrived = booking.arrived_at is not None
    currency = booking.currency
    owed = owed_to_client(booking)
    role = _role(request, salon)
    interest, left_to_pay = interest_and_balance(booking)
    return render(
        request,
        "desk/booking.html",
        desk_context(
            salon,
            nav="calendar",
            booking=booking,
            row=row,
            link=link,
            booking_terms=booking_terms(booking),
            owed=_amount_text(owed, currency) if owed else "",
            can_settle=owed > 0 and role in (Role.OWNER, Role.MANAGER),
            interest=interest,
            balance_due=left_to_pay,
            can_arrive=confirmed and not arrived and (started or today),
            can_complete=confirmed,
            can_no_show=confirmed and started and not arrived,
            no_show_later=confirmed and not started and not arrived,
            can_cancel=booking.status in ACTIVE_STATUSES,
            card=card_on_file(booking),
            fees=[
                {"fee": fee, "url": fee_pay_url(fee) if fee.intent_id else ""}
                for fee in FeeCharge.objects.filter(booking=booking).order_by("created_at")
            ],
            fee_kinds=fee_kinds_open(booking),
            cancel_form=forms_.get("cancel_form") or CancelForm(),
            pay_form=forms_.get("pay_form")
            or DeskPaymentForm(
                currency=currency,
                initial={
                    "amount": _amount_text(pending.amount, currency) if pending else "",
                    "method": DeskMethod.CASH,
                },
            ),
            waive_form=forms_.get("waive_form") or WaiveForm(),
            resend_form=forms_.get("resend_form") or ResendForm(),
        ),
        status=status,
    )


@desk_view
def booking_detail(request: HttpRequest, salon: Salon, pk: int) -> HttpResponse:
    return _page(request, salon, salon_booking_or_404(salon, pk))


ACTIONS: dict[str, Any] = {
    "arrived": (booking_arrive, gettext_lazy("Checked in: the client is here.")),
    "complete": (
        booking_complete_mark,
        gettext_lazy("Marked as completed: the client was served."),
    ),
    "no-show": (booking_no_show_mark, gettext_lazy("Marked as a no-show: the deposit is kept.")),
}


@require_POST
@desk_view
def booking_action(request: HttpRequest, salon: Salon, pk: int, action: str) -> HttpResponse:
    booking = salon_booking_or_404(salon, pk)
    here = reverse("desk:booking", kwargs={"salon": salon.slug, "pk": booking.pk})
    if action == "cancel":
        form = CancelForm(request.POST)
        if not form.is_valid():
            return _page(request, salon, booking, status=400, cancel_form=form)
        try:
            booking_cancel_with_money(
                booking=booking,
                by_salon=True,
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(
                request, _("Cancelled by the salon: any deposit paid is refunded in full.")
            )
        return HttpResponseRedirect(here)
    if action == "settle-owed":
        return _settle_owed(request, salon, booking, here)
    if action in MONEY_ACTIONS:
        return MONEY_ACTIONS[action](request, salon, booking, here)
    if action not in ACTIONS:
        raise Http404
    service, done = ACTIONS[action]
    try:
        service(booking=booking, actor=request.user)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, str(done))
    return HttpResponseRedirect(here)


def _refused(
    request: HttpRequest, salon: Salon, booking: Booking, name: str, form: forms.Form, exc: Any
) -> HttpResponse:
    booking.refresh_from_db(fields=["status"])
    if booking.status != Status.PENDING_PAYMENT:
        # Nothing is awaited any more (paid meanwhile, lapsed): the page says so, and no
        # longer shows the form.
        messages.error(request, error_text(exc))
        return HttpResponseRedirect(
            reverse("desk:booking", kwargs={"salon": salon.slug, "pk": booking.pk})
        )
    form_errors(form, exc)
    return _page(request, salon, booking, status=400, **{name: form})


def _paid_at_desk(request: HttpRequest, salon: Salon, booking: Booking, here: str) -> HttpResponse:
    form = DeskPaymentForm(request.POST, currency=booking.currency)
    if not form.is_valid():
        return _page(request, salon, booking, status=400, pay_form=form)
    try:
        deposit_paid_at_desk(
            booking=booking,
            amount=form.cleaned_data["amount"],
            method=form.cleaned_data["method"],
            note=form.cleaned_data["note"],
            actor=request.user,
        )
    except ValidationError as exc:
        return _refused(request, salon, booking, "pay_form", form, exc)
    messages.success(request, _("Paid at the desk: the booking is confirmed."))
    return HttpResponseRedirect(here)


def _waive(request: HttpRequest, salon: Salon, booking: Booking, here: str) -> HttpResponse:
    form = WaiveForm(request.POST)
    if not form.is_valid():
        return _page(request, salon, booking, status=400, waive_form=form)
    try:
        deposit_waive(booking=booking, reason=form.cleaned_data["reason"], actor=request.user)
    except ValidationError as exc:
        return _refused(request, salon, booking, "waive_form", form, exc)
    messages.success(request, _("Deposit waived: the booking is confirmed."))
    return HttpResponseRedirect(here)


def _role(request: HttpRequest, salon: Salon) -> str | None:
    """The signed-in member's role in the salon (the desk lets members only in)."""
    user = request.user
    if not isinstance(user, AbstractBaseUser):
        return None
    return membership_role(user=user, salon=salon)


def _settle_owed(request: HttpRequest, salon: Salon, booking: Booking, here: str) -> HttpResponse:
    """What the salon owes the client beyond the refund (arrhes repaid twice), settled as
    credit she accepted or paid by the salon: by an owner or a manager, once."""
    if _role(request, salon) not in (Role.OWNER, Role.MANAGER):
        messages.error(request, _("Only an owner or a manager settles what the salon owes."))
        return HttpResponseRedirect(here)
    how = request.POST.get("how", "")
    if how not in OwedHow.values:
        messages.error(request, _("Say how it was settled."))
        return HttpResponseRedirect(here)
    try:
        entry = owed_settle(booking=booking, how=how, actor=request.user)
    except NothingOwed as exc:
        messages.error(request, exc.detail)
        return HttpResponseRedirect(here)
    amount = _amount_text(entry.amount, entry.currency)
    if how == OwedHow.CREDIT:
        done = _("Settled: %(amount)s given to the client as credit.")
    else:
        done = _("Settled: %(amount)s recorded as paid by the salon.")
    messages.success(request, done % {"amount": amount})
    return HttpResponseRedirect(here)


def _resend(request: HttpRequest, salon: Salon, booking: Booking, here: str) -> HttpResponse:
    form = ResendForm(request.POST)
    if not form.is_valid():
        return _page(request, salon, booking, status=400, resend_form=form)
    try:
        sent = payment_link_resend(
            booking=booking, via=form.cleaned_data["send_via"] or None, actor=request.user
        )
    except ValidationError as exc:
        return _refused(request, salon, booking, "resend_form", form, exc)
    if sent.channel == Channel.EMAIL:
        done = _("The payment link was sent again by e-mail to %(to)s.")
    else:
        done = _("The payment link was sent again by SMS to %(to)s.")
    messages.success(request, done % {"to": sent.sent_to or ""})
    return HttpResponseRedirect(here)


def _charge_fee(request: HttpRequest, salon: Salon, booking: Booking, here: str) -> HttpResponse:
    """A no-show or late-cancellation fee charged to the client's card on file."""
    kind = request.POST.get("kind", "")
    try:
        fee = fee_charge_take(booking=booking, kind=kind, actor=request.user)
    except (ValidationError, ApplicationError) as exc:
        messages.error(request, error_text(exc))
        return HttpResponseRedirect(here)
    amount = money_format(fee.amount, fee.currency, translation.get_language() or "fr")
    if fee.status == FeeStatus.SUCCEEDED:
        messages.success(request, _("%(amount)s charged to the card on file.") % {"amount": amount})
    elif fee.status == FeeStatus.REQUIRES_ACTION:
        messages.warning(
            request,
            _("The card needs the client to confirm: she was sent a link to pay %(amount)s.")
            % {"amount": amount},
        )
    else:
        messages.warning(
            request,
            _(
                "The card declined %(amount)s: the client was sent a link to pay with another "
                "card, and a call to her is on the requests list. She may also pay here."
            )
            % {"amount": amount},
        )
    return HttpResponseRedirect(here)


MONEY_ACTIONS = {
    "paid-at-desk": _paid_at_desk,
    "waive": _waive,
    "resend": _resend,
    "charge-fee": _charge_fee,
}
