"""The waitlist's public door (API.md, "Waitlist"): joining, the entry through its link
(and leaving), and accepting an offered time."""

from typing import Any

from django.db.models import Prefetch
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from bookings.selectors import catalogue_get
from core.errors import Invalid
from core.ratelimit import BOOKING, ClientThrottle, contact_keys, limit_reached
from customers.identity import proof_from_request
from support.models import WaitlistEntry, WaitlistOffer, WaitlistSource
from support.offers import offer_accept, offer_by_token, offer_salon_id
from support.waitlist import (
    waitlist_entry_for_token,
    waitlist_leave,
    waitlist_token_salon,
)
from support.waitlist_clients import waitlist_join_online
from tenants.scoping import salon_scope
from web.permissions import request_salon
from web.public.api.booking import PROOF_PARAMETER
from web.public.api.salon import PublicView
from web.serializers import (
    BookingSerializer,
    OfferAcceptSerializer,
    WaitlistEntrySerializer,
    WaitlistJoinedSerializer,
    WaitlistRequestSerializer,
)


def entry_with_offers(entry_id: int) -> WaitlistEntry:
    """The entry, its offers with it (two queries)."""
    offers = WaitlistOffer.objects.select_related("salon")
    return (
        WaitlistEntry.objects.select_related("salon", "customer")
        .prefetch_related(Prefetch("offers", queryset=offers))
        .get(pk=entry_id)
    )


def wishes(data: dict[str, Any], salon: Any) -> dict[str, Any]:
    """The entry's wishes as `waitlist_join` takes them, from a validated request."""
    catalogue = catalogue_get(salon=salon)
    services = [catalogue.services.get(pk) for pk in data["services"]]
    if any(s is None for s in services):
        raise Invalid({"services": ["One of these services is not offered."]})
    staff = None
    if data.get("staff") is not None:
        staff = catalogue.staff.get(data["staff"])
        if staff is None:
            raise Invalid({"staff": ["This staff member is not bookable."]})
    return {
        "services": services,
        "staff": staff,
        "first": data["from"],
        "last": data["to"],
        "parts_of_day": data["parts_of_day"],
        "consent": data["consent"],
    }


class WaitlistJoinView(PublicView):
    """A client asks to be told when a time that suits her frees up. Limited like booking:
    per client address (the throttle) and per phone and e-mail given."""

    throttle_classes = [ClientThrottle]
    throttle_scope = BOOKING

    @extend_schema(
        request=WaitlistRequestSerializer,
        parameters=[PROOF_PARAMETER],
        responses={201: WaitlistJoinedSerializer, 429: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request, salon: str) -> Response:
        the_salon = request_salon(request)
        payload = WaitlistRequestSerializer(data=request.data, context={"tz": the_salon.tz})
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        details = data["customer"]
        contact = contact_keys(
            phone=details.get("phone"), email=details.get("email"), country=the_salon.country
        )
        wait = limit_reached(request, group=BOOKING, keys=contact)
        if wait is not None:
            raise exceptions.Throttled(wait=wait)
        entry = waitlist_join_online(
            salon=the_salon,
            name=details.get("name", ""),
            phone=details.get("phone"),
            email=details.get("email"),
            language=data.get("language"),
            proven=proof_from_request(request, salon_id=the_salon.pk),
            source=WaitlistSource.API,
            **wishes(data, the_salon),
        )
        fresh = entry_with_offers(entry.pk)
        return Response(
            WaitlistJoinedSerializer(fresh, context={"tz": the_salon.tz}).data,
            status=status.HTTP_201_CREATED,
        )


class _EntryView(PublicView):
    """Runs in the scope of the salon the entry's token names; a bad token is a 404."""

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        with salon_scope(waitlist_token_salon(kwargs.get("token", "")) or 0):
            return super().dispatch(request, *args, **kwargs)

    def entry(self, token: str) -> WaitlistEntry:
        entry = waitlist_entry_for_token(token)
        if entry is None or entry.customer.erased:
            raise Http404
        return entry


class WaitlistEntryView(_EntryView):
    @extend_schema(responses=WaitlistEntrySerializer)
    def get(self, request: Request, token: str) -> Response:
        entry = entry_with_offers(self.entry(token).pk)
        return Response(WaitlistEntrySerializer(entry, context={"tz": entry.salon.tz}).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, token: str) -> Response:
        waitlist_leave(entry=self.entry(token))
        return Response(status=status.HTTP_204_NO_CONTENT)


class OfferAcceptView(PublicView):
    """Accept an offered time: the booking, held while the deposit (or the full price)
    is paid, as `POST .../bookings/` answers; or the client's booking later that week
    moved there. 409 `slot_unavailable` when the time was taken meanwhile (the client
    keeps her place), 410 `offer_expired` past its time."""

    throttle_classes = [ClientThrottle]
    throttle_scope = BOOKING

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        salon_id = offer_salon_id(kwargs.get("token", ""))
        with salon_scope(salon_id or 0):
            return super().dispatch(request, *args, **kwargs)

    @extend_schema(
        request=OfferAcceptSerializer,
        responses={
            201: BookingSerializer,
            409: OpenApiTypes.OBJECT,
            410: OpenApiTypes.OBJECT,
            502: OpenApiTypes.OBJECT,
        },
    )
    def post(self, request: Request, token: str) -> Response:
        offer = offer_by_token(token)
        if offer is None:
            raise Http404
        payload = OfferAcceptSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        booking, checkout = offer_accept(
            offer=offer, payment_option=payload.validated_data["payment_option"]
        )
        context = {"tz": offer.salon.tz, "checkout": checkout}
        return Response(
            BookingSerializer(booking, context=context).data, status=status.HTTP_201_CREATED
        )
