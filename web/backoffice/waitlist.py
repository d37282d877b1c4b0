"""The salon's waitlist for its staff (API.md, "Waitlist"): who waits for what, and a
phone client put on the list (found by her phone number or created, as for a phone
booking)."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from core.errors import Invalid
from customers.models import ConsentChannel, ConsentSource, Customer
from customers.services import customer_find_or_create
from support.models import WaitlistEntry, WaitlistOffer, WaitlistSource, WaitlistStatus
from support.waitlist import waitlist_check, waitlist_join
from web.backoffice.requests import _choice_param
from web.permissions import SalonRole, request_salon
from web.public.api.waitlist import entry_with_offers, wishes
from web.serializers import WaitlistRequestSerializer, WaitlistStaffEntrySerializer


class WaitlistStaffView(GenericAPIView):
    """Every member of the salon reads the list and puts a phone client on it."""

    permission_classes = [SalonRole]
    serializer_class = WaitlistStaffEntrySerializer

    def get_serializer_context(self) -> dict[str, Any]:
        salon = request_salon(self.request)
        return {**super().get_serializer_context(), "salon": salon, "tz": salon.tz}

    @extend_schema(
        parameters=[OpenApiParameter("status", OpenApiTypes.STR, enum=WaitlistStatus.values)],
        responses=WaitlistStaffEntrySerializer(many=True),
    )
    def get(self, request: Request, salon: str) -> Response:
        errors: dict[str, list[str]] = {}
        wanted = _choice_param(request.query_params, "status", WaitlistStatus, errors)
        if errors:
            raise serializers.ValidationError(errors)
        request_salon(request)
        entries = (
            WaitlistEntry.objects.select_related("customer")
            .prefetch_related(
                Prefetch("offers", queryset=WaitlistOffer.objects.select_related("salon"))
            )
            .order_by("joined_at", "id")
        )
        if wanted:
            entries = entries.filter(status=wanted)
        page = self.paginate_queryset(entries)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request=WaitlistRequestSerializer, responses={201: WaitlistStaffEntrySerializer})
    def post(self, request: Request, salon: str) -> Response:
        the_salon = request_salon(request)
        payload = WaitlistRequestSerializer(
            data=request.data, context={"tz": the_salon.tz, "staff": True}
        )
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        asked = wishes(data, the_salon)
        waitlist_check(salon=the_salon, now=timezone.now(), **asked)
        details = data["customer"]
        if "id" in details:
            customer = Customer.objects.filter(pk=details["id"], erased_at__isnull=True).first()
            if customer is None:
                raise Invalid({"customer": {"id": ["No such client."]}})
        else:
            try:
                customer = customer_find_or_create(
                    salon=the_salon,
                    name=details.get("name", ""),
                    phone=details.get("phone"),
                    email=details.get("email"),
                    language=data.get("language"),
                    consent_channel=ConsentChannel.PHONE,
                    consent_source=ConsentSource.PHONE,
                    actor=request.user,
                )
            except ValidationError as exc:
                raise Invalid(
                    {"customer": exc.message_dict if hasattr(exc, "error_dict") else exc.messages}
                ) from exc
        entry = waitlist_join(
            salon=the_salon,
            customer=customer,
            source=WaitlistSource.DESK,
            actor=request.user,
            **asked,
        )
        answer = self.get_serializer(entry_with_offers(entry.pk))
        return Response(answer.data, status=status.HTTP_201_CREATED)
