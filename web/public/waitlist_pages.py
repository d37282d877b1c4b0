"""The client's waitlist pages, by the entry's signed link (support.waitlist.waitlist_token):
the confirmation once she joined, and the entry's page: her wishes, where she stands, the
times offered to her so far (an open one links to its offer), and leaving the list in one
click. A bad token, or another salon's entry, is not found."""

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from support.models import OfferStatus, PartOfDay, WaitlistEntry, WaitlistOffer
from support.waitlist import ACTIVE, waitlist_entry_for_token, waitlist_leave, waitlist_token
from support.waitlist_clients import waitlist_services
from tenants.models import Salon
from web.permissions import request_salon
from web.public.booking import page, salon_locale


def offer_url(salon: Salon, offer: WaitlistOffer) -> str:
    """The page where an offer is accepted (its token is the credential)."""
    return reverse("waitlist-offer", kwargs={"salon": salon.slug, "token": offer.token})


def entry_url(entry: WaitlistEntry) -> str:
    return reverse(
        "waitlist-page", kwargs={"salon": entry.salon.slug, "token": waitlist_token(entry)}
    )


def _entry(request: HttpRequest, token: str) -> WaitlistEntry:
    """The entry the link names, in this page's salon; else not found."""
    entry = waitlist_entry_for_token(token)
    if entry is None or entry.salon_id != request_salon(request).pk:
        raise Http404
    return entry


def entry_wishes(entry: WaitlistEntry, services: dict[int, Any] | None = None) -> dict[str, Any]:
    """What the entry asks for, as the pages say it."""
    services = services if services is not None else waitlist_services(entry.salon, [entry])
    labels = dict(PartOfDay.choices)
    return {
        "services": [services[pk] for pk in entry.service_ids if pk in services],
        "staff": entry.staff,
        "first": entry.first_date,
        "last": entry.last_date,
        "parts": [labels[p] for p in entry.parts_of_day if p in labels],
    }


def _offers(entry: WaitlistEntry) -> list[dict[str, Any]]:
    now = timezone.now()
    rows = []
    for offer in entry.offers.select_related("staff").order_by("-offered_at", "-id"):
        # An open offer past its time has lapsed, whatever the sweep has yet to say.
        lapsed = offer.status == OfferStatus.OPEN and offer.expires_at <= now
        is_open = offer.status == OfferStatus.OPEN and not lapsed
        rows.append(
            {
                "offer": offer,
                "status": OfferStatus.LAPSED.label if lapsed else offer.get_status_display(),
                "url": offer_url(entry.salon, offer) if is_open else "",
            }
        )
    return rows


@never_cache
@require_GET
def waitlist_joined(request: HttpRequest, salon: str, token: str) -> HttpResponse:
    """Joined: the wishes as recorded, and the entry's link to keep."""
    entry = _entry(request, token)
    with salon_locale(entry.salon):
        link = reverse("waitlist-page", kwargs={"salon": salon, "token": token})
        return page(
            request,
            entry.salon,
            "waitlist_joined.html",
            {
                "entry": entry,
                "wishes": entry_wishes(entry),
                "entry_url": link,
                "entry_link": request.build_absolute_uri(link),
            },
        )


@never_cache
@require_GET
def waitlist_entry(request: HttpRequest, salon: str, token: str) -> HttpResponse:
    entry = _entry(request, token)
    with salon_locale(entry.salon):
        return page(
            request,
            entry.salon,
            "waitlist_entry.html",
            {
                "entry": entry,
                "token": token,
                "wishes": entry_wishes(entry),
                "offers": _offers(entry),
                "active": entry.status in ACTIVE,
            },
        )


@require_POST
def waitlist_entry_leave(request: HttpRequest, salon: str, token: str) -> HttpResponse:
    """One click: she leaves the list (again: nothing more happens), and is told so."""
    entry = _entry(request, token)
    with salon_locale(entry.salon):
        waitlist_leave(entry=entry)
        messages.success(
            request, _("You have left the waitlist. The salon will not offer you a time.")
        )
        return HttpResponseRedirect(
            reverse("waitlist-page", kwargs={"salon": salon, "token": token})
        )
