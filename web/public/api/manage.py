"""The client's own booking and the staff's cancellation, with what happens to the money."""

import datetime as dt

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from bookings.models import Booking, StaffMember, Status
from deposits.checkout import Rebooking, checkout_place
from deposits.payments import booking_cancel_with_money, booking_move
from web.public.api import manage_base as manage
from web.public.api.booking import PROOF_PARAMETER
from web.serializers import ManageBookingSerializer, RescheduleSerializer


class ManageBookingView(manage.ManageBookingView):
    answer_serializer = ManageBookingSerializer

    @extend_schema(parameters=[PROOF_PARAMETER], responses=ManageBookingSerializer)
    def get(self, request: Request, token: str) -> Response:
        return super().get(request, token)


class ManageRescheduleView(manage.ManageRescheduleView):
    """What was paid stays with the booking, which keeps its id: it moves with it, and so
    does the cancellation deadline it already passed. A booking cancelled with credit (or
    whose rebooking lapsed unpaid) comes back through this same call, paid by its credit."""

    answer_serializer = ManageBookingSerializer

    def move(self, booking: Booking, start: dt.datetime, staff: StaffMember | None) -> Booking:
        return booking_move(booking=booking, start=start, staff=staff)

    @extend_schema(
        request=RescheduleSerializer,
        parameters=[PROOF_PARAMETER],
        responses=ManageBookingSerializer,
    )
    def post(self, request: Request, token: str) -> Response:
        booking = self.booking(token)
        if booking.status not in (Status.CANCELLED, Status.EXPIRED):
            return super().post(request, token)
        payload = RescheduleSerializer(data=request.data, context={"tz": booking.salon.tz})
        payload.is_valid(raise_exception=True)
        checkout = checkout_place(
            Rebooking(
                booking=booking,
                start=payload.validated_data["start"],
                staff_id=payload.validated_data.get("staff"),
                proven=self.proven(booking),
            )
        )
        return self.answer(checkout.booking)


class ManageCancelView(manage.ManageView):
    answer_serializer = ManageBookingSerializer

    @extend_schema(request=manage.CancelSerializer, responses=ManageBookingSerializer)
    def post(self, request: Request, token: str) -> Response:
        booking = self.booking(token)
        payload = manage.CancelSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        booking = booking_cancel_with_money(
            booking=booking, resolution=payload.validated_data["resolution"]
        )
        return self.answer(booking)
