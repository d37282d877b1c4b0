"""Proving who one is: from a booking's manage page, and before booking on the salon's page."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from bookings.models import Booking
from core.ratelimit import CODE, client_ip, limit_reached
from customers.identity import contact_read, proof_issue, proof_session_key
from messaging.identity import booking_contact, booking_prove, identity_code_send, identity_prove
from web.permissions import request_salon
from web.problems import error_text
from web.public.booking import manage_page_view, page, salon_locale


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
                problem, status = error_text(exc), 400
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
                    return HttpResponseRedirect(reverse("book", args=[the_salon.slug]))
            except ValidationError as exc:
                problem, status = error_text(exc), 400
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
