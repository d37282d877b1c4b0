"""Proving who one is with a one-time code, for a salon or for a booking's manage link.

`POST /api/v1/salons/{salon}/identity/code/` `{"phone"|"email"}` → 202, the same answer
whether or not the contact is a client's (a code is sent only when it is).
`POST /api/v1/salons/{salon}/identity/verify/` `{"phone"|"email", "code"}` → 200
`{"proof", "expires_at"}`: sent back in the `X-Client-Proof` header, an online booking is
the proven client's, and a manage view of her booking shows and spends all her credit.
`POST /api/v1/manage/{token}/verify/` `{"channel"}` → 202: a code to the booking's contact.
`POST /api/v1/manage/{token}/verify/confirm/` `{"code", "channel"}` → 200 `{"proof",
"expires_at", "booking"}`: the booking is the proven client's, and `booking` is its manage
view as she sees it.
"""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from core.ratelimit import CODE, client_ip, limit_reached
from customers.identity import Contact, contact_read, proof_issue
from customers.models import Channel
from messaging.identity import booking_contact, booking_prove, identity_code_send, identity_prove
from web.permissions import request_salon
from web.public.api.manage import ManageView
from web.public.api.salon import PublicView
from web.serializers import ManageBookingSerializer

SENT = (
    "If this is the phone number or e-mail address of a client of the salon, a code was sent to it."
)
SENT_TO_BOOKING = "A code was sent to the contact this booking was made with."


class ContactSerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)


class ContactCodeSerializer(ContactSerializer):
    code = serializers.CharField(max_length=12)


class ChannelSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(Channel.choices, required=False)


class ChannelCodeSerializer(ChannelSerializer):
    code = serializers.CharField(max_length=12)


Sent = inline_serializer("CodeSent", {"detail": serializers.CharField()})
Proof = inline_serializer(
    "ClientProof", {"proof": serializers.CharField(), "expires_at": serializers.DateTimeField()}
)


def _limit(request: Request, **keys: str) -> None:
    """Counted per client address and per contact, whichever door asks: codes sent to one
    contact, and tries at its code, share one budget."""
    wait = limit_reached(request, group=CODE, keys={"ip": client_ip(request), **keys})
    if wait is not None:
        raise exceptions.Throttled(wait=wait)


class IdentityCodeView(PublicView):
    @extend_schema(request=ContactSerializer, responses={202: Sent})
    def post(self, request: Request, salon: str) -> Response:
        the_salon = request_salon(request)
        payload = ContactSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        contact = contact_read(salon=the_salon, **payload.validated_data)
        _limit(request, contact=contact.value)
        identity_code_send(salon=the_salon, contact=contact)
        return Response({"detail": SENT}, status=status.HTTP_202_ACCEPTED)


class IdentityVerifyView(PublicView):
    @extend_schema(request=ContactCodeSerializer, responses={200: Proof})
    def post(self, request: Request, salon: str) -> Response:
        the_salon = request_salon(request)
        payload = ContactCodeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        code = data.pop("code")
        contact = contact_read(salon=the_salon, **data)
        _limit(request, verify=contact.value)
        customer = identity_prove(salon=the_salon, contact=contact, code=code)
        proof, expires_at = proof_issue(customer=customer)
        return Response({"proof": proof, "expires_at": expires_at.astimezone(the_salon.tz)})


class ManageVerifyView(ManageView):
    @extend_schema(request=ChannelSerializer, responses={202: Sent})
    def post(self, request: Request, token: str) -> Response:
        booking = self.booking(token)
        payload = ChannelSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        contact = booking_contact(booking=booking, channel=payload.validated_data.get("channel"))
        _limit(request, contact=contact.value)
        identity_code_send(salon=booking.salon, contact=contact)
        return Response({"detail": SENT_TO_BOOKING}, status=status.HTTP_202_ACCEPTED)


ProofAndBooking = inline_serializer(
    "ClientProofAndBooking",
    {
        "proof": serializers.CharField(),
        "expires_at": serializers.DateTimeField(),
        "booking": ManageBookingSerializer(),
    },
)


class ManageVerifyConfirmView(ManageView):
    answer_serializer = ManageBookingSerializer

    @extend_schema(request=ChannelCodeSerializer, responses={200: ProofAndBooking})
    def post(self, request: Request, token: str) -> Response:
        booking = self.booking(token)
        payload = ChannelCodeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        contact: Contact = booking_contact(
            booking=booking, channel=payload.validated_data.get("channel")
        )
        _limit(request, verify=contact.value)
        customer = booking_prove(
            booking=booking, contact=contact, code=payload.validated_data["code"]
        )
        proof, expires_at = proof_issue(customer=customer)
        context = {"tz": booking.salon.tz, "proven": booking.customer_id == customer.pk}
        return Response(
            {
                "proof": proof,
                "expires_at": expires_at.astimezone(booking.salon.tz),
                "booking": ManageBookingSerializer(booking, context=context).data,
            }
        )
