"""The client's space, `/<salon>/me/`: her appointments, her credit and her consents,
without a password.

Knowing a phone number or an e-mail address proves nothing (DESIGN.md): she types hers,
a one-time code goes to that contact when it is a client's (the page answers the same
either way, and the same work is done), and typing the code back proves who she is. The
proof is the one the booking page and the manage page accept (customers/identity.py),
kept in the session for this salon only, and it lapses on its own. Until then the space
shows nothing of anyone: no appointment, no credit, no consent.
"""

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from bookings.models import ACTIVE_STATUSES, Booking
from bookings.selectors import service_list
from bookings.services import booking_manage_token
from customers.identity import proof_from_request, proof_session_key
from customers.models import MESSAGE_PURPOSES, ConsentChannel, ConsentSource, Customer, Purpose
from customers.selectors import consent_current
from customers.services import consent_record
from deposits.credit import credit_grants_open
from support.waitlist_clients import waitlist_entries, waitlist_services
from tenants.models import Salon
from web.permissions import request_salon
from web.public import waitlist_step
from web.public.booking import page, salon_locale
from web.public.verify import contact_code_step
from web.public.waitlist_pages import entry_url, entry_wishes

PAST_SHOWN = 20


def proven_client(request: HttpRequest, salon: Salon) -> Customer | None:
    """The client the visitor proved to be in this salon (a one-time code), or None."""
    return proof_from_request(request, salon_id=salon.pk)


def client_credit(customer: Customer | None) -> int:
    """What the proven client's credit would pay now (0 without a proof)."""
    if customer is None:
        return 0
    return sum(left for _grant, left in credit_grants_open(customer=customer))


def _space_url(salon: Salon) -> str:
    return reverse("client-space", kwargs={"salon": salon.slug})


def _book_again(salon: Salon, booking: Booking) -> str:
    """The booking page with the same services (hers, not her guests') and staff chosen."""
    items = sorted(booking.items.all(), key=lambda item: item.position)
    own = [item.service_id for item in items if item.person == 0] or [booking.service_id]
    if len(own) == 1:
        query: list[tuple[str, Any]] = [("service", own[0])]
    else:
        query = [("services", pk) for pk in own] + [("order", ",".join(map(str, own)))]
    query.append(("staff", booking.staff_id))
    return reverse("book", kwargs={"salon": salon.slug}) + "?" + urlencode(query)


def _appointments(salon: Salon, customer: Customer) -> tuple[list[dict[str, Any]], ...]:
    now = timezone.now()
    bookings = (
        Booking.objects.filter(customer=customer)
        .select_related("service", "staff")
        .prefetch_related("items")
    )
    upcoming = bookings.filter(start__gte=now, status__in=ACTIVE_STATUSES).order_by("start")
    past = bookings.exclude(pk__in=upcoming.values("pk")).order_by("-start")[:PAST_SHOWN]

    def row(booking: Booking) -> dict[str, Any]:
        return {
            "booking": booking,
            "manage_url": reverse("manage-page", args=[booking_manage_token(booking)]),
            "again_url": _book_again(salon, booking),
        }

    return [row(b) for b in upcoming], [row(b) for b in past]


def _waitlist(salon: Salon, customer: Customer) -> list[dict[str, Any]]:
    """Her waitlist entries, newest first, each with its page."""
    entries = list(waitlist_entries(salon=salon, customer=customer).order_by("-joined_at", "-id"))
    services = waitlist_services(salon, entries)
    return [
        {"entry": entry, "wishes": entry_wishes(entry, services), "url": entry_url(entry)}
        for entry in entries
    ]


def _signed_in(request: HttpRequest, salon: Salon, customer: Customer) -> HttpResponse:
    upcoming, past = _appointments(salon, customer)
    grants = credit_grants_open(customer=customer)
    return page(
        request,
        salon,
        "space.html",
        {
            "client": customer,
            "upcoming": upcoming,
            "past": past,
            "grants": grants,
            "credit": sum(left for _grant, left in grants),
            "consents": consent_current(customer=customer),
            "waitlist": _waitlist(salon, customer),
            "services": service_list(salon=salon, active_only=True).order_by("name", "pk"),
            "from_space": waitlist_step.FROM_SPACE,
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def client_space(request: HttpRequest, salon: str) -> HttpResponse:
    """Signed in, her space; otherwise the sign-in: a contact, then the code sent to it."""
    the_salon = request_salon(request)
    with salon_locale(the_salon):
        customer = proven_client(request, the_salon)
        if customer is not None and request.method == "GET":
            return _signed_in(request, the_salon, customer)
        step, phone, email = contact_code_step(request, salon=the_salon, then=_space_url(the_salon))
        if step.done:
            return step.done
        return page(
            request,
            the_salon,
            "space_sign_in.html",
            {"sent": step.sent, "problem": step.problem, "phone": phone, "email": email},
            status=step.status,
        )


@require_POST
def client_space_consents(request: HttpRequest, salon: str) -> HttpResponse:
    """Her answers to the salon's messages, recorded in the consent ledger; and, when she
    gave it at the salon, her consent to keep her allergies and health notes, withdrawn here
    as easily as it was given (withdrawn, they are erased)."""
    the_salon = request_salon(request)
    with salon_locale(the_salon):
        customer = proven_client(request, the_salon)
        if customer is None:
            return HttpResponseRedirect(_space_url(the_salon))
        with transaction.atomic():
            for purpose in MESSAGE_PURPOSES:
                consent_record(
                    customer=customer,
                    purpose=purpose,
                    granted=request.POST.get(purpose) == "on",
                    channel=ConsentChannel.WEB,
                    source=ConsentSource.ONLINE,
                )
            if request.POST.get("health_shown") and request.POST.get("health") != "on":
                consent_record(
                    customer=customer,
                    purpose=Purpose.HEALTH,
                    granted=False,
                    channel=ConsentChannel.WEB,
                    source=ConsentSource.ONLINE,
                )
        messages.success(request, _("Your choices are saved."))
        return HttpResponseRedirect(_space_url(the_salon) + "#consents")


@require_POST
def client_space_sign_out(request: HttpRequest, salon: str) -> HttpResponse:
    the_salon = request_salon(request)
    with salon_locale(the_salon):
        request.session.pop(proof_session_key(the_salon.pk), None)
        messages.success(request, _("You are signed out."))
        return HttpResponseRedirect(_space_url(the_salon))
