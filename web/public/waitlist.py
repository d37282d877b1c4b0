"""The offer's page (`/<salon>/waitlist/offers/<token>/`): a freed time offered to a
waiting client, with what it costs and the deposit due; accepting holds it and leads to
the pay page, as the booking steps do. A time taken meanwhile, or an offer past its time,
is said kindly: the client keeps her place on the list."""

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from bookings.selectors import catalogue_get
from bookings.services import booking_manage_token
from core.errors import OfferExpired, ProviderUnavailable, SlotTaken
from deposits.selectors import deposit_quote_visit, policy_get, salon_today
from support.models import OfferStatus, WaitlistOffer
from support.offers import offer_accept, offer_by_token, offer_state
from web.permissions import request_salon
from web.public.booking import page, salon_locale


def _facts(offer: WaitlistOffer) -> dict[str, Any]:
    """What the page says of the offer: its services, its price and the deposit due."""
    salon = offer.salon
    catalogue = catalogue_get(salon=salon)
    services = [catalogue.services[pk] for pk in offer.entry.service_ids]
    policy, steps = policy_get(salon=salon)
    quote = deposit_quote_visit(
        salon=salon,
        services=services,
        day=salon_today(salon),
        customer=offer.entry.customer,
        policy=(policy, steps),
    )
    price = sum(s.price for s in services)
    return {
        "offer": offer,
        "services": services,
        "price": price,
        "deposit": quote.amount,
        "full": policy.allow_full_payment and price > quote.amount > 0,
        "staff": catalogue.staff.get(offer.staff_id) or offer.staff,
    }


def _after(offer: WaitlistOffer, booking: Any, payment_due: bool) -> HttpResponse:
    token = booking_manage_token(booking)
    name = "booking-pay" if payment_due else "booking-done"
    return HttpResponseRedirect(reverse(name, kwargs={"salon": offer.salon.slug, "token": token}))


@require_http_methods(["GET", "HEAD", "POST"])
def offer_page(request: HttpRequest, salon: str, token: str) -> HttpResponse:
    the_salon = request_salon(request)
    offer = offer_by_token(token)
    if offer is None or offer.salon_id != the_salon.pk or offer.entry.customer.erased:
        raise Http404
    with salon_locale(the_salon):
        state, status, problem = offer_state(offer), 200, ""
        if request.method == "POST":
            option = request.POST.get("payment_option", "deposit")
            option = option if option in ("deposit", "full") else "deposit"
            try:
                booking, _checkout = offer_accept(offer=offer, payment_option=option)
            except OfferExpired:
                state, status = OfferStatus.LAPSED, 410
            except SlotTaken:
                state, status = OfferStatus.TAKEN, 409
            except ProviderUnavailable:
                status, problem = 502, "payment_unavailable"
            except ValidationError:
                status, problem = 400, "refused"
            else:
                due = booking.status == "pending_payment"
                return _after(offer, booking, due)
        elif state == OfferStatus.ACCEPTED and offer.booking is not None:
            booking = offer.booking
            return _after(offer, booking, booking.status == "pending_payment")
        return page(
            request,
            the_salon,
            "waitlist_offer.html",
            {**_facts(offer), "state": state, "problem": problem},
            status=status,
        )
