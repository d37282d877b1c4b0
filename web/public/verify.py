"""Proving who one is with a one-time code: from a booking's manage page, before booking on
the salon's page, and to enter the client space (web/public/space.py). The three doors share
one step (`code_step`): the same limits, the same answers, the same proof kept."""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from bookings.models import Booking
from core.ratelimit import CODE, client_ip, limit_reached
from customers.identity import Contact, contact_read, proof_issue, proof_session_key
from customers.models import Customer
from messaging.identity import booking_contact, booking_prove, identity_code_send, identity_prove
from tenants.models import Salon
from web.permissions import request_salon
from web.problems import error_text
from web.public.booking import manage_page_view, page, salon_locale


@dataclass(frozen=True)
class CodeStep:
    """What one POST of the sign-in did: the code `sent` (the page then asks for it), a
    `problem` to show with its `status`, or `done`: the proof is kept, go on."""

    sent: bool = False
    problem: str = ""
    status: int = 200
    done: HttpResponse | None = None


def _limited(request: HttpRequest, key: str, contact: str) -> bool:
    return (
        limit_reached(request, group=CODE, keys={"ip": client_ip(request), key: contact})
        is not None
    )


def code_step(
    request: HttpRequest,
    *,
    salon: Salon,
    contact: Contact,
    prove: Callable[[Contact, str], Customer],
    then: str,
) -> CodeStep:
    """Send a code to `contact` (`action=send`), or check the code typed with `prove`:
    proven, the proof is kept in a new session (a new privilege) and the client goes to
    `then`. Both are limited per address and per contact."""
    if request.POST.get("action") == "send":
        if _limited(request, "contact", contact.value):
            return CodeStep(
                problem=_("Too many codes were asked for. Please wait a few minutes."),
                status=429,
            )
        identity_code_send(salon=salon, contact=contact)
        return CodeStep(sent=True)
    try:
        if _limited(request, "verify", contact.value):
            raise ValidationError(_("Too many tries. Please wait a few minutes."))
        customer = prove(contact, request.POST.get("code", "")[:12])
    except ValidationError as exc:
        return CodeStep(sent=True, problem=error_text(exc), status=400)
    proof, _expires = proof_issue(customer=customer)
    request.session.cycle_key()
    request.session[proof_session_key(salon.pk)] = proof
    messages.success(request, _("Thank you: we know it is you."))
    return CodeStep(sent=True, done=HttpResponseRedirect(then))


def contact_code_step(
    request: HttpRequest, *, salon: Salon, then: str
) -> tuple[CodeStep, str, str]:
    """The sign-in where the client gives a phone or an e-mail: the code goes to it only when
    it is a client's, and the page says the same either way. Returns the step and the phone
    and e-mail to show again."""
    phone = request.POST.get("phone", "")[:40]
    email = request.POST.get("email", "")[:254]
    if request.method != "POST":
        return CodeStep(), phone, email
    try:
        contact = contact_read(salon=salon, phone=phone or None, email=email or None)
    except ValidationError as exc:
        return CodeStep(problem=error_text(exc), status=400), phone, email

    def prove(contact: Contact, code: str) -> Customer:
        return identity_prove(salon=salon, contact=contact, code=code)

    return code_step(request, salon=salon, contact=contact, prove=prove, then=then), phone, email


@require_http_methods(["GET", "POST"])
@manage_page_view
def manage_verify(request: HttpRequest, booking: Booking, token: str) -> HttpResponse:
    """Proving who one is from a booking's page: a code sent to the contact the booking
    was made with, then typed here. The proof is kept in the session, for the manage page
    (all the client's credit) and the booking page (booked as her)."""
    manage_url = reverse("manage-page", args=[token])
    step = CodeStep()
    if request.method == "POST":
        try:
            contact = booking_contact(booking=booking)
        except ValidationError:
            return HttpResponseRedirect(manage_url)

        def prove(contact: Contact, code: str) -> Customer:
            return booking_prove(booking=booking, contact=contact, code=code)

        step = code_step(
            request, salon=booking.salon, contact=contact, prove=prove, then=manage_url
        )
        if step.done:
            return step.done
    return page(
        request,
        booking.salon,
        "verify.html",
        {"booking": booking, "token": token, "sent": step.sent, "problem": step.problem},
        status=step.status,
    )


@require_http_methods(["GET", "POST"])
def salon_verify(request: HttpRequest, salon: str) -> HttpResponse:
    """Proving who one is before booking on the salon's page: a code to the phone or
    e-mail given, then typed here. The proof is kept in the session: the booking is then
    hers."""
    the_salon = request_salon(request)
    with salon_locale(the_salon):
        then = reverse("book", args=[the_salon.slug])
        step, phone, email = contact_code_step(request, salon=the_salon, then=then)
        if step.done:
            return step.done
        return page(
            request,
            the_salon,
            "verify_salon.html",
            {"sent": step.sent, "problem": step.problem, "phone": phone, "email": email},
            status=step.status,
        )
