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
    VisitPart,
    availability_cached,
    catalogue_get,
    staff_list,
    visit_availability_for,
)
from bookings.visits import VisitSlot
from core.query import query_count, query_date, query_id, query_ids
from deposits.checkout import MAX_GUESTS, MAX_SERVICES
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
                "items": inline_serializer(
                    "SlotItem",
                    {
                        "service": serializers.IntegerField(),
                        "staff_ids": serializers.ListField(child=serializers.IntegerField()),
                        "start": serializers.DateTimeField(),
                        "end": serializers.DateTimeField(),
                    },
                    many=True,
                    required=False,
                ),
            },
            many=True,
        ),
    },
)


class AvailabilityView(PublicView):
    @extend_schema(
        parameters=[
            OpenApiParameter("service", OpenApiTypes.INT, description="One service."),
            OpenApiParameter(
                "services", OpenApiTypes.STR, description="A visit: service ids, `3,5`."
            ),
            OpenApiParameter("from", OpenApiTypes.DATE, required=True),
            OpenApiParameter("to", OpenApiTypes.DATE, required=True),
            OpenApiParameter("staff", OpenApiTypes.INT),
            OpenApiParameter(
                "guests", OpenApiTypes.INT, description="Other people taking the same services."
            ),
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
        service_ids = query_ids(params, "services", errors)
        guests = query_count(params, "guests", errors, most=MAX_GUESTS) or 0
        if service_ids is not None and len(service_ids) > MAX_SERVICES:
            errors["services"] = [f"At most {MAX_SERVICES} services."]
        if service_id is None and service_ids is None and not {"service", "services"} & set(errors):
            errors["service"] = ["This parameter is required."]
        if first and last and not 0 <= (last - first).days <= MAX_RANGE_DAYS:
            errors["to"] = [f"Give a `to` on or after `from`, at most {MAX_RANGE_DAYS} days after."]
        if errors or first is None or last is None:
            raise serializers.ValidationError(errors)
        visit = service_ids is not None or guests > 0
        ids = service_ids if service_ids is not None else [service_id]

        def compute() -> dict[str, Any]:
            catalogue = catalogue_get(salon=the_salon)
            services = [catalogue.active_service(pk) for pk in ids if pk is not None]
            if not services or len(services) != len(ids) or None in services:
                field = "services" if service_ids is not None else "service"
                raise serializers.ValidationError({field: ["No such service."]})
            tz = the_salon.tz
            parts = [
                VisitPart(service, person)  # type: ignore[arg-type]
                for person in range(guests + 1)
                for service in services
            ]
            slots = visit_availability_for(
                salon=the_salon,
                parts=parts,
                first=first,
                last=last,
                staff_id=staff_id,
                catalogue=catalogue,
            )

            def answer(slot: VisitSlot) -> dict[str, Any]:
                shown: dict[str, Any] = {
                    "start": slot.start.astimezone(tz).isoformat(),
                    "end": slot.end.astimezone(tz).isoformat(),
                    "staff_ids": list(slot.staff_ids),
                }
                if visit:  # one service answers as it always has, without items
                    shown["items"] = [
                        {
                            "service": item.service_id,
                            "staff_ids": list(item.staff_ids),
                            "start": item.start.astimezone(tz).isoformat(),
                            "end": item.end.astimezone(tz).isoformat(),
                        }
                        for item in slot.items
                    ]
                return shown

            return {"timezone": the_salon.timezone, "slots": [answer(s) for s in slots]}

        return Response(
            availability_cached(
                salon=the_salon,
                service_id=f"{','.join(map(str, ids))}+{guests}" if visit else service_id,
                first=first,
                last=last,
                staff_id=staff_id,
                compute=compute,
            )
        )
