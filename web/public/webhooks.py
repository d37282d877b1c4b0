import logging
from typing import Any

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from deposits.gateway import (
    GatewayError,
    WebhookMalformed,
    WebhookRejected,
    payment_gateway,
    test_mode,
)
from deposits.gateway.testmode_gateway import TestModeGateway
from deposits.payments import stripe_event_apply

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
