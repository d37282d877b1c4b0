"""The client's own booking through its manage link (API.md, "Manage"): the token is the
credential; what was paid moves, is refunded or kept as credit with the booking."""

from typing import Any

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bookings.models import Booking, Status
from bookings.selectors import booking_by_manage_token, staff_list
from bookings.tokens import manage_token_read
from customers.identity import proof_from_request, proof_holds
from deposits.checkout import Rebooking, checkout_place
from deposits.payments import booking_cancel_with_money, booking_move
from tenants.scoping import salon_scope
from web.public.api.booking import PROOF_PARAMETER
from web.serializers import ManageBookingSerializer, RescheduleSerializer


class CancelSerializer(serializers.Serializer):
    resolution = serializers.ChoiceField(["refund", "credit"], default="refund")


class ManageView(APIView):
    """Runs in the scope of the salon the token names; a bad token is a 404."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    answer_serializer: type[ManageBookingSerializer] = ManageBookingSerializer

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        read = manage_token_read(kwargs.get("token", ""))
        with salon_scope(read[0] if read else 0):
            return super().dispatch(request, *args, **kwargs)

    def booking(self, token: str) -> Booking:
        booking = booking_by_manage_token(token)
        if booking is None:
            raise Http404
        return booking

    def proven(self, booking: Booking) -> bool:
        """Whether the caller proved she is the booking's client (a one-time code): the
        manage token alone shows and spends only what the booking's own money made."""
        proven = proof_from_request(self.request, salon_id=booking.salon_id)
        return proof_holds(customer=booking.customer, proven=proven)

    def answer(self, booking: Booking) -> Response:
        context = {"tz": booking.salon.tz, "proven": self.proven(booking)}
        return Response(self.answer_serializer(booking, context=context).data)


class ManageBookingView(ManageView):
    @extend_schema(parameters=[PROOF_PARAMETER], responses=ManageBookingSerializer)
    def get(self, request: Request, token: str) -> Response:
        return self.answer(self.booking(token))


class ManageRescheduleView(ManageView):
    """What was paid stays with the booking, which keeps its id: it moves with it, and so
    does the cancellation deadline it already passed. A booking cancelled with credit (or
    whose rebooking lapsed unpaid) comes back through this same call, paid by its credit."""

    @extend_schema(
        request=RescheduleSerializer,
        parameters=[PROOF_PARAMETER],
        responses=ManageBookingSerializer,
    )
    def post(self, request: Request, token: str) -> Response:
        booking = self.booking(token)
        payload = RescheduleSerializer(data=request.data, context={"tz": booking.salon.tz})
        payload.is_valid(raise_exception=True)
        start, staff_id = payload.validated_data["start"], payload.validated_data.get("staff")
        if booking.status in (Status.CANCELLED, Status.EXPIRED):
            checkout = checkout_place(
                Rebooking(
                    booking=booking, start=start, staff_id=staff_id, proven=self.proven(booking)
                )
            )
            return self.answer(checkout.booking)
        staff = None
        if staff_id is not None:
            staff = (
                staff_list(salon=booking.salon, active_only=True)
                .filter(pk=staff_id, staffservice__service=booking.service)
                .first()
            )
            if staff is None:
                raise serializers.ValidationError({"staff": ["Nobody by this id offers it."]})
        return self.answer(booking_move(booking=booking, start=start, staff=staff))


class ManageCancelView(ManageView):
    @extend_schema(request=CancelSerializer, responses=ManageBookingSerializer)
    def post(self, request: Request, token: str) -> Response:
        booking = self.booking(token)
        payload = CancelSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        booking = booking_cancel_with_money(
            booking=booking, resolution=payload.validated_data["resolution"]
        )
        return self.answer(booking)
