"""`POST /api/v1/salons/{salon}/backoffice/phone-bookings/`: a booking taken by phone."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from bookings.models import Booking
from customers.models import Channel
from deposits.checkout import CheckoutRequest, DepositHandling
from deposits.paylinks import PaymentLink
from support.phone import phone_booking_place
from web.permissions import SalonRole, request_salon
from web.public.api.booking import customer_details
from web.serializers import BookingRequestSerializer, BookingSerializer, checkout_visit


class PhoneBookingRequestSerializer(BookingRequestSerializer):
    deposit_handling = serializers.ChoiceField(DepositHandling.CHOICES)
    waiver_reason = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default=""
    )
    send_via = serializers.ChoiceField(Channel.choices, required=False, allow_null=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if (
            attrs["deposit_handling"] == DepositHandling.WAIVED
            and not attrs["waiver_reason"].strip()
        ):
            raise serializers.ValidationError({"waiver_reason": ["Say why the deposit is waived."]})
        return attrs


class PhoneBookingSerializer(BookingSerializer):
    """The booking as the public answer has it, plus the link sent to the client."""

    payment_link = serializers.SerializerMethodField()
    deposit_handling = serializers.SerializerMethodField()

    def get_payment_link(self, booking: Booking) -> dict[str, Any] | None:
        link: PaymentLink | None = self.context.get("link")
        if link is None:
            return None
        tz = self.context["tz"]
        return {
            "url": link.url,
            "expires_at": link.expires_at.astimezone(tz).isoformat(),
            "channel": link.channel,
            "sent_to": link.sent_to,
        }

    def get_deposit_handling(self, booking: Booking) -> str:
        return str(self.context["deposit_handling"])


class PhoneBookingView(generics.GenericAPIView):
    """Staff book for a client on the phone: the client is found by phone number (in the
    salon's country) or created, and the deposit is sent as a link, paid at the desk, or
    waived with a reason. Any member of the salon may do it."""

    permission_classes = [SalonRole]

    @extend_schema(
        request=PhoneBookingRequestSerializer,
        responses={201: PhoneBookingSerializer, 409: OpenApiTypes.OBJECT, 502: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request, salon: str) -> Response:
        the_salon = request_salon(request)
        payload = PhoneBookingRequestSerializer(
            data=request.data, context={"tz": the_salon.tz, "staff": True}
        )
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        handling = data["deposit_handling"]
        checkout = phone_booking_place(
            CheckoutRequest(
                salon=the_salon,
                **checkout_visit(data),
                start=data["start"],
                staff_id=data.get("staff"),
                customer=customer_details(data),
                customer_id=data["customer"].get("id"),
                payment_option=data["payment_option"],
                notes=data["notes"],
                actor=request.user,
                deposit_handling=handling,
                waiver_reason=data["waiver_reason"],
                send_via=data.get("send_via"),
            )
        )
        context = {
            "tz": the_salon.tz,
            "checkout": checkout,
            "link": checkout.link,
            "deposit_handling": handling,
        }
        return Response(
            PhoneBookingSerializer(checkout.booking, context=context).data,
            status=status.HTTP_201_CREATED,
        )
