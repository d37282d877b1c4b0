"""The pay page a payment link opens (a phone booking's deposit)."""

import contextlib

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone, translation
from django.views.decorators.http import require_http_methods

from bookings.models import Status
from deposits.gateway import GatewayError, payment_gateway, test_mode
from deposits.models import PaymentStatus
from deposits.webhooks import payment_complete_in_test_mode
from tenants.scoping import salon_scope

from .outbox import language_for, money_text
from .phone import pay_token_read, payment_for_link


@require_http_methods(["GET", "POST"])
def pay_page(request: HttpRequest, token: str) -> HttpResponse:
    """The deposit of a booking taken by phone, paid with the Payment Element.

    What the page says follows the booking: to pay while the link holds the slot; paid
    (the booking confirmed, by the provider's webhook); or expired. In test mode (no
    Stripe keys) a clearly labelled button completes the payment, and no money moves.
    """
    ids = pay_token_read(token)
    with salon_scope(ids[0] if ids else 0):
        payment = payment_for_link(token)
        if payment is None:
            raise Http404
        booking = payment.booking
        salon = booking.salon
        language = language_for(booking.customer, salon)
        now = timezone.now()
        # The link ends with the hold, and never after the appointment has begun.
        lapsed = booking.start <= now or (
            booking.hold_expires_at is not None and booking.hold_expires_at <= now
        )
        if booking.status == Status.CONFIRMED and payment.status == PaymentStatus.SUCCEEDED:
            state = "paid"
        elif booking.status == Status.PENDING_PAYMENT and not lapsed and payment.intent_id:
            # Back from the provider's page: the webhook confirms the booking in a moment.
            returning = request.GET.get("redirect_status") == "succeeded"
            state = "processing" if returning else "due"
        else:
            state = "expired"
        if request.method == "POST":
            # Test mode's stand-in for the card form; a real provider takes the card itself.
            if not test_mode() or state != "due" or payment.status != PaymentStatus.PENDING:
                raise Http404
            with contextlib.suppress(GatewayError):  # the page says what became of it
                payment_complete_in_test_mode(intent_id=str(payment.intent_id))
            return HttpResponseRedirect(request.path)
        publishable_key = ""
        if state == "due" and not test_mode():
            try:
                publishable_key = payment_gateway().publishable_key
            except GatewayError:
                state = "unavailable"
        with translation.override(language), timezone.override(salon.tz):
            return render(
                request, "support/pay.html",
                {"salon": salon, "booking": booking, "payment": payment, "state": state,
                 "amount": money_text(payment.amount, payment.currency, language),
                 "test_mode": test_mode(), "publishable_key": publishable_key,
                 "stripe_js_url": settings.STRIPE_JS_URL, "account": payment.account,
                 "return_url": request.build_absolute_uri(request.path)},
                status=410 if state == "expired" else 200,
            )  # fmt: skip
