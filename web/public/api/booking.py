from typing import Any

from django.conf import settings
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from bookings.models import Source
from bookings.selectors import service_list
from core.ratelimit import BOOKING, ClientThrottle, contact_keys, limit_reached
from customers.identity import PROOF_HEADER, proof_from_request
from deposits.checkout import CheckoutRequest, CustomerDetails, checkout_place
from deposits.models import DepositKind
from deposits.selectors import deposit_terms, deposits_today, policy_get
from tenants.models import Salon
from web.permissions import request_salon
from web.public.api.salon import PublicView
from web.serializers import (
    BookingRequestSerializer,
    BookingSerializer,
    PublicServiceSerializer,
    checkout_visit,
)

SalonPublic = inline_serializer(
    "SalonPublic",
    {
        "slug": serializers.CharField(),
        "name": serializers.CharField(),
        "timezone": serializers.CharField(),
        "currency": serializers.CharField(),
        "country": serializers.CharField(),
        "phone": serializers.CharField(),
        "email": serializers.CharField(),
        "address": serializers.CharField(),
        "deposit_terms": serializers.CharField(),
        "deposit_kind": serializers.ChoiceField(DepositKind.choices),
        "deposit_terms_translations": serializers.DictField(
            child=serializers.CharField(),
            help_text="`deposit_terms` in each language the site speaks (`fr`, `en`).",
        ),
        "terms_url": serializers.CharField(help_text="The salon's terms clause (CGV) page."),
    },
)


def salon_public(salon: Salon, terms: str) -> dict[str, Any]:
    return {
        "slug": salon.slug,
        "name": salon.name,
        "timezone": salon.timezone,
        "currency": salon.currency,
        "country": salon.country,
        "phone": str(salon.phone) if salon.phone else "",
        "email": salon.email,
        "address": salon.address,
        "deposit_terms": terms,
        "deposit_kind": policy_get(salon=salon)[0].deposit_kind,
        "deposit_terms_translations": {
            code: deposit_terms(salon=salon, language=code) for code, _name in settings.LANGUAGES
        },
        "terms_url": settings.SITE_URL + reverse("salon-terms", kwargs={"salon": salon.slug}),
    }


class SalonPublicView(PublicView):
    @extend_schema(responses=SalonPublic)
    def get(self, request: Request, salon: str) -> Response:
        the_salon = request_salon(request)
        return Response(salon_public(the_salon, deposit_terms(salon=the_salon)))


class ServiceListView(PublicView):
    @extend_schema(responses=PublicServiceSerializer(many=True))
    def get(self, request: Request, salon: str) -> Response:
        the_salon = request_salon(request)
        services = list(service_list(salon=the_salon, active_only=True))
        context = {
            "salon": the_salon,
            "deposits": deposits_today(salon=the_salon, services=services),
        }
        return Response(PublicServiceSerializer(services, many=True, context=context).data)


def customer_details(data: dict[str, Any]) -> CustomerDetails:
    """The client as a booking request gives her (`BookingRequestSerializer`)."""
    details = data["customer"]
    return CustomerDetails(
        name=details.get("name", ""),
        phone=details.get("phone"),
        email=details.get("email"),
        language=data.get("language"),
        reminders_consent=data.get("reminders_consent", True),
        marketing_consent=data.get("marketing_consent", False),
    )


PROOF_PARAMETER = OpenApiParameter(
    PROOF_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="A proof that the client is who she says (`proof` from `.../identity/verify/` "
    "or `/manage/{token}/verify/confirm/`). Without it, the contact details typed prove "
    "nothing: a known client's phone or e-mail gets none of her privileges or credit. "
    "With it, her credit pays what it can of the amount due now (`amount_due_now` is "
    "then the deposit less her credit).",
)


class BookingCreateView(PublicView):
    """A client books online: the slot is held while the deposit (or the full price) is
    paid through the Payment Element; with nothing due, it is confirmed at once.

    Limited per client address (the throttle) and per phone and e-mail given (below)."""

    throttle_classes = [ClientThrottle]
    throttle_scope = BOOKING

    @extend_schema(
        request=BookingRequestSerializer,
        parameters=[PROOF_PARAMETER],
        responses={
            201: BookingSerializer,
            409: OpenApiTypes.OBJECT,
            429: OpenApiTypes.OBJECT,
            502: OpenApiTypes.OBJECT,
        },
    )
    def post(self, request: Request, salon: str) -> Response:
        the_salon = request_salon(request)
        payload = BookingRequestSerializer(data=request.data, context={"tz": the_salon.tz})
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        details = data["customer"]
        contact = contact_keys(
            phone=details.get("phone"), email=details.get("email"), country=the_salon.country
        )
        wait = limit_reached(request, group=BOOKING, keys=contact)
        if wait is not None:
            raise exceptions.Throttled(wait=wait)

        checkout = checkout_place(
            CheckoutRequest(
                salon=the_salon,
                **checkout_visit(data),
                start=data["start"],
                staff_id=data.get("staff"),
                customer=customer_details(data),
                proven=proof_from_request(request, salon_id=the_salon.pk),
                payment_option=data["payment_option"],
                notes=data["notes"],
                channel=Source.API,
                accept_terms=data["accept_terms"],
                express_request=data["express_request"],
            )
        )
        context = {"tz": the_salon.tz, "checkout": checkout}
        return Response(
            BookingSerializer(checkout.booking, context=context).data,
            status=status.HTTP_201_CREATED,
        )
