import logging
from typing import Any, cast

from django.conf import settings
from django.http import Http404, HttpResponse, QueryDict
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from deposits.gateway import (
    GatewayError,
    WebhookMalformed,
    WebhookRejected,
    payment_gateway,
    test_mode,
)
from deposits.gateway.testmode_gateway import TestModeGateway
from deposits.payments import stripe_event_apply
from support.replies import TextIn, text_reply_receive

log = logging.getLogger(__name__)


WebhookAnswer = inline_serializer(
    "StripeWebhookAnswer",
    {"received": serializers.BooleanField(), "outcome": serializers.CharField()},
)


class StripeWebhookView(APIView):
    """Stripe's events: signature checked, each applied once, answered fast. Stripe signs
    the raw body: it is read untouched (never parsed here), and there is no cookie to
    protect. A body whose signature does not check out is a 400."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        parameters=[OpenApiParameter("Stripe-Signature", str, OpenApiParameter.HEADER)],
        responses={200: WebhookAnswer},
    )
    def post(self, request: Request) -> Response:
        try:
            event = payment_gateway().webhook_event(
                payload=request.body, signature=request.headers.get("Stripe-Signature", "")
            )
        except WebhookMalformed as exc:
            log.warning("webhook refused: %s", exc)
            raise serializers.ValidationError({"data": [str(exc)]}) from exc
        except (WebhookRejected, GatewayError) as exc:
            log.warning("webhook refused: %s", exc)
            raise serializers.ValidationError(
                {"Stripe-Signature": ["The event's signature does not check out."]}
            ) from exc
        outcome = stripe_event_apply(event)
        return Response({"received": True, "outcome": outcome})


stripe_webhook = StripeWebhookView.as_view()


TwilioInbound = inline_serializer(
    "TwilioInboundMessage",
    {
        "From": serializers.CharField(),
        "To": serializers.CharField(),
        "Body": serializers.CharField(allow_blank=True),
        "MessageSid": serializers.CharField(),
    },
)
ErrorAnswer = inline_serializer(
    "TwilioInboundRefused", {"code": serializers.CharField(), "detail": serializers.CharField()}
)


class InboundSmsSerializer(serializers.Serializer):
    From = serializers.CharField(max_length=40)
    To = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    Body = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, trim_whitespace=False, default=""
    )
    MessageSid = serializers.CharField(max_length=64)


def signed_url(request: Request) -> str:
    """The address Twilio sent the request to, as it signed it: the product's public
    address (`SITE_URL`) and the path with its query. Built from `SITE_URL` rather than
    from the request's Host and scheme, which a proxy or load balancer in front rewrites:
    the webhook is to be configured at `SITE_URL` + `/api/v1/sms/inbound/` (README)."""
    return f"{settings.SITE_URL}{request.get_full_path()}"


def twilio_signature_valid(request: Request, form: QueryDict) -> bool:
    """`X-Twilio-Signature` checked with the auth token by Twilio's own helper. Without
    a token nothing is trusted."""
    token = getattr(settings, "TWILIO_AUTH_TOKEN", "")
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    return bool(RequestValidator(token).validate(signed_url(request), form, signature))


def twiml(answer: str) -> HttpResponse:
    """The TwiML answer: the reply as one message, or an empty `<Response/>`."""
    response = MessagingResponse()
    if answer:
        response.message(answer)
    return HttpResponse(str(response), content_type="text/xml; charset=utf-8")


class SmsInboundView(APIView):
    """Twilio's inbound messages: the signature over the signed URL and the form fields
    checked (403 `not_allowed` otherwise), each message acted on once (support.replies),
    answered with TwiML. No cookie, no session: the signature is the credential."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    parser_classes = [FormParser]

    @extend_schema(
        request={"application/x-www-form-urlencoded": TwilioInbound},
        parameters=[OpenApiParameter("X-Twilio-Signature", str, OpenApiParameter.HEADER)],
        responses={(200, "text/xml"): OpenApiTypes.STR, 403: ErrorAnswer},
    )
    def post(self, request: Request) -> HttpResponse:
        # Read by the form parser only: a body of another type is a 415.
        form = cast(QueryDict, request.data)
        if not twilio_signature_valid(request, form):
            log.warning("inbound SMS refused: its signature does not check out")
            raise exceptions.PermissionDenied("The message's signature does not check out.")
        payload = InboundSmsSerializer(data=form.dict())
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        answer = text_reply_receive(
            text=TextIn(
                sid=data["MessageSid"], sender=data["From"], to=data["To"], body=data["Body"]
            )
        )
        return twiml(answer)


sms_inbound = SmsInboundView.as_view()


class TestModePay(APIView):
    """TEST MODE ONLY (no Stripe keys): completes a test-mode payment as a card would.
    No money moves. Answers 404 whenever a real provider is configured."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=inline_serializer(
            "TestModePayment",
            {
                "client_secret": serializers.CharField(),
                "outcome": serializers.ChoiceField(["succeeded", "failed"], default="succeeded"),
            },
        ),
        responses=inline_serializer("TestModePaid", {"status": serializers.CharField()}),
    )
    def post(self, request: Request, intent_id: str) -> Response:
        if not test_mode():
            raise Http404
        gateway = TestModeGateway()
        try:
            intent = gateway.retrieve_intent(intent_id=intent_id)
        except GatewayError as exc:
            raise Http404 from exc
        data = request.data if isinstance(request.data, dict) else {}
        if data.get("client_secret") != intent.client_secret:
            raise serializers.ValidationError({"client_secret": ["This is not the intent's."]})
        succeed = data.get("outcome", "succeeded") != "failed"
        try:
            status = payment_complete_in_test_mode(intent_id=intent_id, succeed=succeed)
        except GatewayError as exc:
            raise serializers.ValidationError({"non_field_errors": [str(exc)]}) from exc
        return Response({"status": status})


def payment_complete_in_test_mode(*, intent_id: str, succeed: bool = True) -> str:
    """TEST MODE ONLY: the test-mode gateway's card is charged, and the event it makes is
    applied like a webhook's. Returns the intent's status."""
    gateway = TestModeGateway()
    stripe_event_apply(gateway.pay(intent_id=intent_id, succeed=succeed))
    return gateway.retrieve_intent(intent_id=intent_id).status
