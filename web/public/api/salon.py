"""Public endpoints: what a client sees of a salon, its availability, and booking."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bookings.selectors import (
    availability_cached,
    availability_for,
    catalogue_get,
    staff_list,
)
from core.query import query_date, query_id
from web.permissions import request_salon
from web.serializers import (
    PublicStaffSerializer,
)

MAX_RANGE_DAYS = 61


class PublicView(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]


class StaffListView(PublicView):
    @extend_schema(responses=PublicStaffSerializer(many=True))
    def get(self, request: Request, salon: str) -> Response:
        staff = staff_list(salon=request_salon(request), active_only=True)
        return Response(PublicStaffSerializer(staff, many=True).data)


SlotsAnswer = inline_serializer(
    "Availability",
    {
        "timezone": serializers.CharField(),
        "slots": inline_serializer(
            "Slot",
            {
                "start": serializers.DateTimeField(),
                "end": serializers.DateTimeField(),
                "staff_ids": serializers.ListField(child=serializers.IntegerField()),
            },
            many=True,
        ),
    },
)


class AvailabilityView(PublicView):
    @extend_schema(
        parameters=[
            OpenApiParameter("service", OpenApiTypes.INT, required=True),
            OpenApiParameter("from", OpenApiTypes.DATE, required=True),
            OpenApiParameter("to", OpenApiTypes.DATE, required=True),
            OpenApiParameter("staff", OpenApiTypes.INT),
        ],
        responses=SlotsAnswer,
    )
    def get(self, request: Request, salon: str) -> Response:
        the_salon = request_salon(request)
        params = request.query_params
        errors: dict[str, list[str]] = {}
        first, last = query_date(params, "from", errors), query_date(params, "to", errors)
        service_id, staff_id = (
            query_id(params, "service", errors),
            query_id(params, "staff", errors),
        )
        if service_id is None and "service" not in errors:
            errors["service"] = ["This parameter is required."]
        if first and last and not 0 <= (last - first).days <= MAX_RANGE_DAYS:
            errors["to"] = [f"Give a `to` on or after `from`, at most {MAX_RANGE_DAYS} days after."]
        if errors or service_id is None or first is None or last is None:
            raise serializers.ValidationError(errors)

        def compute() -> dict[str, Any]:
            service = catalogue_get(salon=the_salon).active_service(service_id)
            if service is None:
                raise serializers.ValidationError({"service": ["No such service."]})
            slots = availability_for(
                salon=the_salon, service=service, first=first, last=last, staff_id=staff_id
            )
            tz = the_salon.tz
            return {
                "timezone": the_salon.timezone,
                "slots": [
                    {
                        "start": s.start.astimezone(tz).isoformat(),
                        "end": s.end.astimezone(tz).isoformat(),
                        "staff_ids": list(s.staff_ids),
                    }
                    for s in slots
                ],
            }

        return Response(
            availability_cached(
                salon=the_salon,
                service_id=service_id,
                first=first,
                last=last,
                staff_id=staff_id,
                compute=compute,
            )
        )
