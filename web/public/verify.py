"""The pay page a payment link opens (a phone booking's deposit), and proving who one is
from a booking's manage page."""

import contextlib

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from bookings.models import Booking, Status
from core.ratelimit import CODE, client_ip, limit_reached
from customers.identity import contact_read, proof_issue, proof_session_key
from deposits.gateway import GatewayError, payment_gateway, test_mode
from deposits.models import PaymentStatus
from deposits.paylinks import pay_token_read, payment_for_link
from messaging.identity import booking_contact, booking_prove, identity_code_send, identity_prove
from messaging.outbox import language_for, money_text
from tenants.scoping import salon_scope
from web.permissions import request_salon
from web.public.booking import manage_page_view, page, salon_locale
from web.public.webhooks import payment_complete_in_test_mode


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
                request,
                "public/pay_link.html",
                {
                    "salon": salon,
                    "booking": booking,
                    "payment": payment,
                    "state": state,
                    "amount": money_text(payment.amount, payment.currency, language),
                    "test_mode": test_mode(),
                    "publishable_key": publishable_key,
                    "stripe_js_url": settings.STRIPE_JS_URL,
                    "account": payment.account,
                    "return_url": request.build_absolute_uri(request.path),
                },
                status=410 if state == "expired" else 200,
            )


@require_http_methods(["GET", "POST"])
@manage_page_view
def manage_verify(request: HttpRequest, booking: Booking, token: str) -> HttpResponse:
    """Proving who one is from a booking's page: a code sent to the contact the booking
    was made with, then typed here. The proof is kept in the session, for the manage page
    (all the client's credit) and the booking page (booked as her)."""
    manage_url = reverse("manage-page", args=[token])
    problem, sent, status = "", False, 200
    if request.method == "POST":
        try:
            contact = booking_contact(booking=booking)
        except ValidationError:
            return HttpResponseRedirect(manage_url)
        if request.POST.get("action") == "send":
            keys = {"ip": client_ip(request), "contact": contact.value}
            if limit_reached(request, group=CODE, keys=keys):
                problem, status = (
                    _("Too many codes were asked for. Please wait a few minutes."),
                    429,
                )
            else:
                identity_code_send(salon=booking.salon, contact=contact)
                sent = True
        else:
            sent = True
            try:
                keys = {"ip": client_ip(request), "verify": contact.value}
                if limit_reached(request, group=CODE, keys=keys):
                    raise ValidationError(_("Too many tries. Please wait a few minutes."))
                customer = booking_prove(
                    booking=booking, contact=contact, code=request.POST.get("code", "")[:12]
                )
            except ValidationError as exc:
                problem, status = " ".join(exc.messages), 400
            else:
                proof, _expires = proof_issue(customer=customer)
                request.session[proof_session_key(booking.salon_id)] = proof
                messages.success(request, _("Thank you: we know it is you."))
                return HttpResponseRedirect(manage_url)
    return page(
        request,
        booking.salon,
        "verify.html",
        {
            "booking": booking,
            "token": token,
            "sent": sent,
            "problem": problem,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def salon_verify(request: HttpRequest, salon: str) -> HttpResponse:
    """Proving who one is before booking on the salon's page: a code to the phone or
    e-mail given, sent only when it is a client's (the page says the same either way),
    then typed here. The proof is kept in the session: the booking is then hers."""
    the_salon = request_salon(request)
    with salon_locale(the_salon):
        problem, status, sent = "", 200, False
        phone = request.POST.get("phone", "")[:40]
        email = request.POST.get("email", "")[:254]
        if request.method == "POST":
            try:
                contact = contact_read(salon=the_salon, phone=phone or None, email=email or None)
                if request.POST.get("action") == "send":
                    keys = {"ip": client_ip(request), "contact": contact.value}
                    if limit_reached(request, group=CODE, keys=keys):
                        raise ValidationError(_("Too many tries. Please wait a few minutes."))
                    identity_code_send(salon=the_salon, contact=contact)
                    sent = True
                else:
                    sent = True
                    keys = {"ip": client_ip(request), "verify": contact.value}
                    if limit_reached(request, group=CODE, keys=keys):
                        raise ValidationError(_("Too many tries. Please wait a few minutes."))
                    customer = identity_prove(
                        salon=the_salon, contact=contact, code=request.POST.get("code", "")[:12]
                    )
                    proof, _expires = proof_issue(customer=customer)
                    request.session[proof_session_key(the_salon.pk)] = proof
                    messages.success(request, _("Thank you: we know it is you."))
                    return HttpResponseRedirect(reverse("salon-page", args=[the_salon.slug]))
            except ValidationError as exc:
                problem, status = " ".join(exc.messages), 400
        return page(
            request,
            the_salon,
            "verify_salon.html",
            {
                "sent": sent,
                "problem": problem,
                "phone": phone,
                "email": email,
            },
            status=status,
        )
