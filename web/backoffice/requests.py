"""Customer requests at the front desk: log, classify, answer, and the salon's figures."""

from collections.abc import Callable
from typing import Any

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from core.query import query_date, query_id
from support.models import CustomerRequest, RequestCategory, RequestChannel, RequestStatus
from support.selectors import (
    RequestFilters,
    request_get,
    request_list,
    request_stats,
    salon_booking,
    salon_customer,
)
from support.services import request_open, request_update
from web.fields import SalonDateTimeField
from web.permissions import SalonRole, request_salon

# Dates whose day boundaries, in any time zone, stay within what datetime can hold.
# Ids beyond this are no row's, and would overflow the database's bigint.
_MAX_ID = 2**63 - 1


@extend_schema_field(OpenApiTypes.INT)
class SalonRowField(serializers.Field):
    """The id of one of the salon's rows (the serializer's context carries `salon`).

    An id of another salon's row is answered like an id of nothing: the field's message
    says no such row, and nothing about the other salon.
    """

    def __init__(self, *, find: Callable[..., Any], missing: str, **kwargs: Any) -> None:
        self.find = find
        self.missing = missing
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not (
            isinstance(data, int) or (isinstance(data, str) and data.isascii() and data.isdigit())
        ):
            raise serializers.ValidationError("Give an id (a whole number).")
        pk = int(data)
        found = self.find(salon=self.context["salon"], pk=pk) if 0 < pk <= _MAX_ID else None
        if found is None:
            raise serializers.ValidationError(self.missing)
        return found

    def to_representation(self, value: Any) -> int:
        return int(value.pk)


class RequestInputSerializer(serializers.Serializer):
    customer = SalonRowField(
        find=salon_customer,
        missing="No such client.",
        required=False,
        allow_null=True,
        help_text="The client's id; null when the person is not a client (yet).",
    )
    booking = SalonRowField(
        find=salon_booking,
        missing="No such booking.",
        required=False,
        allow_null=True,
        help_text="The booking it is about; its client becomes the request's when none is given.",
    )
    channel = serializers.ChoiceField(RequestChannel.choices)
    category = serializers.ChoiceField(RequestCategory.choices)
    summary = serializers.CharField(max_length=5000)
    status = serializers.ChoiceField(RequestStatus.choices, required=False)
    resolution = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    item_description = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="Lost items only: what was lost.",
    )
    item_location = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="Lost items only: where it is kept once found.",
    )
    item_returned_at = SalonDateTimeField(
        required=False,
        allow_null=True,
        help_text="Lost items only: when the item went back to its owner.",
    )


class RequestSerializer(serializers.ModelSerializer):
    customer_name = serializers.SerializerMethodField()
    opened_by = serializers.SerializerMethodField()
    item_found = serializers.BooleanField(read_only=True)
    item_returned_at = SalonDateTimeField(read_only=True, allow_null=True)
    opened_at = SalonDateTimeField(read_only=True)
    first_response_at = SalonDateTimeField(read_only=True, allow_null=True)
    resolved_at = SalonDateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = CustomerRequest
        fields = [
            "id",
            "customer",
            "customer_name",
            "booking",
            "channel",
            "category",
            "summary",
            "status",
            "resolution",
            "item_description",
            "item_location",
            "item_found",
            "item_returned_at",
            "opened_by",
            "opened_at",
            "first_response_at",
            "resolved_at",
        ]
        read_only_fields = fields

    def get_customer_name(self, row: CustomerRequest) -> str | None:
        return str(row.customer) if row.customer is not None else None

    def get_opened_by(self, row: CustomerRequest) -> str | None:
        return row.opened_by.get_username() if row.opened_by else None


class _RequestView(GenericAPIView):
    """Every member of the salon (staff and above) reads and writes its requests."""

    permission_classes = [SalonRole]
    serializer_class = RequestSerializer

    def get_serializer_context(self) -> dict[str, Any]:
        salon = request_salon(self.request)
        return {**super().get_serializer_context(), "salon": salon, "tz": salon.tz}

    def found(self, pk: int) -> CustomerRequest:
        row = request_get(salon=request_salon(self.request), pk=pk)
        if row is None:
            raise Http404
        return row

    def answer(self, row: CustomerRequest, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.found(row.pk)
        return Response(self.get_serializer(fresh).data, status=code)

    def payload(self, *, partial: bool) -> dict[str, Any]:
        serializer = RequestInputSerializer(
            data=self.request.data, partial=partial, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)


def _choice_param(params: Any, name: str, choices: Any, errors: dict[str, list[str]]) -> Any:
    value = params.get(name)
    if value in (None, ""):
        return None
    if value not in choices.values:
        errors[name] = [f"One of: {', '.join(choices.values)}."]
        return None
    return value


class RequestListView(_RequestView):
    """The salon's requests, newest first. `from` and `to` are salon-local dates
    (inclusive) on the day the request was opened."""

    @extend_schema(
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=RequestStatus.values),
            OpenApiParameter("category", OpenApiTypes.STR, enum=RequestCategory.values),
            OpenApiParameter("channel", OpenApiTypes.STR, enum=RequestChannel.values),
            OpenApiParameter("customer", OpenApiTypes.INT),
            OpenApiParameter("from", OpenApiTypes.DATE),
            OpenApiParameter("to", OpenApiTypes.DATE),
        ],
        responses=RequestSerializer(many=True),
    )
    def get(self, request: Request, salon: str) -> Response:
        params = request.query_params
        errors: dict[str, list[str]] = {}
        filters = RequestFilters(
            status=_choice_param(params, "status", RequestStatus, errors),
            category=_choice_param(params, "category", RequestCategory, errors),
            channel=_choice_param(params, "channel", RequestChannel, errors),
            customer_id=query_id(params, "customer", errors),
            first=query_date(params, "from", errors) if params.get("from") else None,
            last=query_date(params, "to", errors) if params.get("to") else None,
        )
        if filters.first and filters.last and filters.last < filters.first:
            errors["to"] = ["The end date is before the start date."]
        if errors:
            raise serializers.ValidationError(errors)
        rows = request_list(salon=request_salon(request), filters=filters)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request=RequestInputSerializer, responses={201: RequestSerializer})
    def post(self, request: Request, salon: str) -> Response:
        row = request_open(
            salon=request_salon(request), actor=request.user, **self.payload(partial=False)
        )
        return self.answer(row, status.HTTP_201_CREATED)


class RequestDetailView(_RequestView):
    """One request. Leaving "open" or writing a resolution stamps the first response;
    moving to "resolved" stamps the resolution, and reopening clears it."""

    def get(self, request: Request, salon: str, pk: int) -> Response:
        return Response(self.get_serializer(self.found(pk)).data)

    @extend_schema(request=RequestInputSerializer, responses=RequestSerializer)
    def patch(self, request: Request, salon: str, pk: int) -> Response:
        row = self.found(pk)
        request_update(customer_request=row, **self.payload(partial=True))
        return self.answer(row)


def _counts(choices: Any) -> serializers.DictField:
    return serializers.DictField(
        child=serializers.IntegerField(), help_text=f"Keys: {', '.join(choices.values)}."
    )


RequestStatsSerializer = inline_serializer(
    "RequestStats",
    {
        "from": serializers.DateField(),
        "to": serializers.DateField(),
        "timezone": serializers.CharField(),
        "total": serializers.IntegerField(),
        "by_category": _counts(RequestCategory),
        "by_status": _counts(RequestStatus),
        "by_channel": _counts(RequestChannel),
        "responded": serializers.IntegerField(help_text="Requests with a first response."),
        "resolved": serializers.IntegerField(help_text="Requests resolved now."),
        "median_first_response_seconds": serializers.IntegerField(
            allow_null=True, help_text="From opening to the first response; null when none."
        ),
        "median_resolution_seconds": serializers.IntegerField(
            allow_null=True, help_text="From opening to the resolution; null when none."
        ),
    },
)


class RequestStatsView(_RequestView):
    """Figures of the requests opened from `from` to `to` (salon-local dates, inclusive):
    how many by category, status and channel, and the median times to a first response
    and to the resolution."""

    pagination_class = None

    @extend_schema(
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, required=True),
            OpenApiParameter("to", OpenApiTypes.DATE, required=True),
        ],
        responses=RequestStatsSerializer,
    )
    def get(self, request: Request, salon: str) -> Response:
        the_salon = request_salon(request)
        errors: dict[str, list[str]] = {}
        first = query_date(request.query_params, "from", errors)
        last = query_date(request.query_params, "to", errors)
        if first is not None and last is not None and last < first:
            errors["to"] = ["The end date is before the start date."]
        if errors or first is None or last is None:
            raise serializers.ValidationError(errors)
        stats = request_stats(salon=the_salon, date_from=first, date_to=last)
        return Response(
            {
                "from": first.isoformat(),
                "to": last.isoformat(),
                "timezone": the_salon.timezone,
                "total": stats.total,
                "by_category": stats.by_category,
                "by_status": stats.by_status,
                "by_channel": stats.by_channel,
                "responded": stats.responded,
                "resolved": stats.resolved,
                "median_first_response_seconds": stats.median_first_response_seconds,
                "median_resolution_seconds": stats.median_resolution_seconds,
            }
        )
