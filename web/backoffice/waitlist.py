"""The salon's waitlist for its staff (API.md, "Waitlist"): who waits for what, and a
phone client put on the list (found by her phone number or created, as for a phone
booking)."""

from typing import Any

from django.db.models import Prefetch
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from core.errors import Invalid
from customers.models import Customer
from support.models import WaitlistEntry, WaitlistOffer, WaitlistStatus
from support.waitlist_clients import waitlist_join_by_staff
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
        details = data["customer"]
        customer = None
        if "id" in details:
            customer = Customer.objects.filter(pk=details["id"], erased_at__isnull=True).first()
            if customer is None:
                raise Invalid({"customer": {"id": ["No such client."]}})
        entry = waitlist_join_by_staff(
            salon=the_salon,
            actor=request.user,
            customer=customer,
            name=details.get("name", ""),
            phone=details.get("phone"),
            email=details.get("email"),
            language=data.get("language"),
            **wishes(data, the_salon),
        )
        answer = self.get_serializer(entry_with_offers(entry.pk))
        return Response(answer.data, status=status.HTTP_201_CREATED)
