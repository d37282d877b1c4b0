"""Staff endpoints: the catalogue, hours, time off and the bookings of the salon."""

from typing import Any

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from bookings.models import Booking, Resource, ResourceKind, StaffMember, Status, TimeOff
from bookings.selectors import booking_list, service_list, staff_list
from bookings.services import (
    catalogue_service_delete,
    catalogue_service_save,
    resource_delete,
    resource_kind_save,
    resource_save,
    staff_delete,
    staff_hours_set,
    staff_save,
    time_off_delete,
    time_off_save,
)
from core.query import query_date, query_id
from deposits.guarantee import booking_complete_mark, booking_no_show_mark
from deposits.payments import booking_cancel_with_money
from tenants.models import Role
from web.permissions import SalonRole, request_salon
from web.serializers import (
    HoursSerializer,
    ReasonSerializer,
    ResourceKindSerializer,
    ResourceSerializer,
    ServiceSerializer,
    StaffBookingSerializer,
    StaffSerializer,
    TimeOffSerializer,
)


class CatalogueView(generics.GenericAPIView):
    """Owners and managers change the catalogue; staff read it."""

    permission_classes = [SalonRole]
    write_role = Role.MANAGER

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "tz": request_salon(self.request).tz}

    def _object(self, queryset: Any, pk: int) -> Any:
        found = queryset.filter(pk=pk).first()
        if found is None:
            raise Http404
        return found


class ServiceListView(CatalogueView, generics.ListAPIView):
    serializer_class = ServiceSerializer

    def get_queryset(self) -> Any:
        return service_list(salon=request_salon(self.request))

    @extend_schema(responses={201: ServiceSerializer})
    def post(self, request: Request, salon: str) -> Response:
        payload = self.get_serializer(data=request.data)
        payload.is_valid(raise_exception=True)
        service = catalogue_service_save(
            salon=request_salon(request), service=None, **payload.validated_data
        )
        return Response(self.get_serializer(service).data, status=status.HTTP_201_CREATED)


class ServiceDetailView(CatalogueView):
    serializer_class = ServiceSerializer

    def get(self, request: Request, salon: str, pk: int) -> Response:
        service = self._object(service_list(salon=request_salon(request)), pk)
        return Response(self.get_serializer(service).data)

    def patch(self, request: Request, salon: str, pk: int) -> Response:
        service = self._object(service_list(salon=request_salon(request)), pk)
        payload = self.get_serializer(service, data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        service = catalogue_service_save(
            salon=request_salon(request), service=service, **payload.validated_data
        )
        return Response(self.get_serializer(service).data)

    def delete(self, request: Request, salon: str, pk: int) -> Response:
        service = self._object(service_list(salon=request_salon(request)), pk)
        catalogue_service_delete(service=service)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ResourceKindListView(CatalogueView, generics.ListAPIView):
    """What services may need besides a staff member: rooms, chairs, basins, machines."""

    serializer_class = ResourceKindSerializer

    def get_queryset(self) -> Any:
        return ResourceKind.objects.all()

    @extend_schema(responses={201: ResourceKindSerializer})
    def post(self, request: Request, salon: str) -> Response:
        payload = self.get_serializer(data=request.data)
        payload.is_valid(raise_exception=True)
        kind = resource_kind_save(salon=request_salon(request), kind=None, **payload.validated_data)
        return Response(self.get_serializer(kind).data, status=status.HTTP_201_CREATED)


class ResourceListView(CatalogueView, generics.ListAPIView):
    serializer_class = ResourceSerializer

    def get_queryset(self) -> Any:
        return Resource.objects.select_related("kind")

    @extend_schema(responses={201: ResourceSerializer})
    def post(self, request: Request, salon: str) -> Response:
        payload = self.get_serializer(data=request.data)
        payload.is_valid(raise_exception=True)
        resource = resource_save(
            salon=request_salon(request), resource=None, **payload.validated_data
        )
        return Response(self.get_serializer(resource).data, status=status.HTTP_201_CREATED)


class ResourceDetailView(CatalogueView):
    serializer_class = ResourceSerializer

    def get(self, request: Request, salon: str, pk: int) -> Response:
        return Response(self.get_serializer(self._object(Resource.objects.all(), pk)).data)

    def patch(self, request: Request, salon: str, pk: int) -> Response:
        resource = self._object(Resource.objects.all(), pk)
        payload = self.get_serializer(resource, data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        resource = resource_save(
            salon=request_salon(request), resource=resource, **payload.validated_data
        )
        return Response(self.get_serializer(resource).data)

    def delete(self, request: Request, salon: str, pk: int) -> Response:
        resource_delete(resource=self._object(Resource.objects.all(), pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class StaffListView(CatalogueView, generics.ListAPIView):
    serializer_class = StaffSerializer

    def get_queryset(self) -> Any:
        return staff_list(salon=request_salon(self.request))

    @extend_schema(responses={201: StaffSerializer})
    def post(self, request: Request, salon: str) -> Response:
        payload = self.get_serializer(data=request.data)
        payload.is_valid(raise_exception=True)
        staff = staff_save(salon=request_salon(request), staff=None, **payload.validated_data)
        return Response(self.get_serializer(staff).data, status=status.HTTP_201_CREATED)


class StaffDetailView(CatalogueView):
    serializer_class = StaffSerializer

    def get(self, request: Request, salon: str, pk: int) -> Response:
        return Response(self.get_serializer(self._object(self._staff(), pk)).data)

    def _staff(self) -> Any:
        return staff_list(salon=request_salon(self.request))

    def patch(self, request: Request, salon: str, pk: int) -> Response:
        staff = self._object(self._staff(), pk)
        payload = self.get_serializer(staff, data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        staff = staff_save(salon=request_salon(request), staff=staff, **payload.validated_data)
        return Response(self.get_serializer(staff).data)

    def delete(self, request: Request, salon: str, pk: int) -> Response:
        staff_delete(staff=self._object(self._staff(), pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class StaffHoursView(CatalogueView):
    serializer_class = HoursSerializer
    pagination_class = None  # a staff member's week, whole

    def _staff(self, pk: int) -> StaffMember:
        return self._object(staff_list(salon=request_salon(self.request)), pk)

    @extend_schema(responses=HoursSerializer(many=True))
    def get(self, request: Request, salon: str, pk: int) -> Response:
        hours = self._staff(pk).hours.order_by("weekday", "start")
        return Response(HoursSerializer(hours, many=True).data)

    @extend_schema(request=HoursSerializer(many=True), responses=HoursSerializer(many=True))
    def put(self, request: Request, salon: str, pk: int) -> Response:
        staff = self._staff(pk)
        payload = HoursSerializer(data=request.data, many=True)
        payload.is_valid(raise_exception=True)
        hours = staff_hours_set(staff=staff, ranges=payload.validated_data)
        return Response(HoursSerializer(hours, many=True).data)


class TimeOffListView(CatalogueView, generics.ListAPIView):
    serializer_class = TimeOffSerializer

    def get_queryset(self) -> Any:
        return TimeOff.objects.all()

    @extend_schema(responses={201: TimeOffSerializer})
    def post(self, request: Request, salon: str) -> Response:
        the_salon = request_salon(request)
        payload = self.get_serializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        staff = None
        if data.get("staff_id") is not None:
            staff = staff_list(salon=the_salon).filter(pk=data["staff_id"]).first()
            if staff is None:
                raise serializers.ValidationError({"staff": ["No such staff member."]})
        time_off = time_off_save(
            salon=the_salon,
            staff=staff,
            start=data["start"],
            end=data["end"],
            reason=data.get("reason", ""),
        )
        return Response(self.get_serializer(time_off).data, status=status.HTTP_201_CREATED)


class TimeOffDetailView(CatalogueView):
    serializer_class = TimeOffSerializer

    def _time_off(self, pk: int) -> TimeOff:
        return self._object(TimeOff.objects.all(), pk)

    def get(self, request: Request, salon: str, pk: int) -> Response:
        return Response(self.get_serializer(self._time_off(pk)).data)

    def delete(self, request: Request, salon: str, pk: int) -> Response:
        time_off_delete(time_off=self._time_off(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


def with_terms(bookings: Any) -> Any:
    """Bookings read with their terms and what is owed on them (two queries for all)."""
    return bookings.select_related("terms").prefetch_related("owed_entries")


class BookingListView(CatalogueView, generics.ListAPIView):
    """The salon's bookings, by date (salon-local, inclusive), staff member and status."""

    serializer_class = StaffBookingSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE),
            OpenApiParameter("to", OpenApiTypes.DATE),
            OpenApiParameter("staff", OpenApiTypes.INT),
            OpenApiParameter("status", OpenApiTypes.STR, enum=Status.values),
        ]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> Any:
        params = self.request.query_params
        errors: dict[str, list[str]] = {}
        first = query_date(params, "from", errors) if params.get("from") else None
        last = query_date(params, "to", errors) if params.get("to") else None
        staff_id = query_id(params, "staff", errors)
        status_ = params.get("status")
        if status_ is not None and status_ not in Status.values:
            errors["status"] = [f"One of: {', '.join(Status.values)}."]
        if errors:
            raise serializers.ValidationError(errors)
        return with_terms(
            booking_list(
                salon=request_salon(self.request),
                first=first,
                last=last,
                staff_id=staff_id,
                status=status_,
            )
        )


class BookingDetailView(CatalogueView):
    serializer_class = StaffBookingSerializer

    def get(self, request: Request, salon: str, pk: int) -> Response:
        return Response(self.get_serializer(self._booking(pk)).data)

    def _booking(self, pk: int) -> Booking:
        return self._object(with_terms(booking_list(salon=request_salon(self.request))), pk)


class BookingActionView(BookingDetailView):
    """Front-desk actions on a booking: every member of the salon may take them."""

    write_role = Role.STAFF
    # An action is taken, not read: the booking itself is at its own URL.
    http_method_names = ["post", "options"]

    def act(self, booking: Booking, request: Request) -> Booking:
        raise NotImplementedError

    @extend_schema(request=ReasonSerializer, responses=StaffBookingSerializer)
    def post(self, request: Request, salon: str, pk: int) -> Response:
        booking = self.act(self._booking(pk), request)
        return Response(self.get_serializer(self._booking(booking.pk)).data)


class BookingNoShowView(BookingActionView):
    def act(self, booking: Booking, request: Request) -> Booking:
        return booking_no_show_mark(booking=booking, actor=request.user)


class BookingCompleteView(BookingActionView):
    def act(self, booking: Booking, request: Request) -> Booking:
        return booking_complete_mark(booking=booking, actor=request.user)


class BookingCancelView(BookingActionView):
    """Cancelled by the salon: the client is refunded in full."""

    def act(self, booking: Booking, request: Request) -> Booking:
        payload = ReasonSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return booking_cancel_with_money(
            booking=booking,
            by_salon=True,
            actor=request.user,
            reason=payload.validated_data["reason"],
        )
