import logging

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .gateway import GatewayError, WebhookRejected, payment_gateway
from .payments import stripe_event_apply

log = logging.getLogger(__name__)


# Stripe signs the raw body: it is read untouched, and there is no cookie to protect.
@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    """Stripe's events: signature checked, each applied once, answered fast."""
    try:
        event = payment_gateway().webhook_event(
            payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
    except (WebhookRejected, GatewayError) as exc:
        log.warning("webhook refused: %s", exc)
        return JsonResponse(
            {"code": "invalid", "detail": "The event's signature does not check out."},
            status=400,
        )
    outcome = stripe_event_apply(event)
    return JsonResponse({"received": True, "outcome": outcome})
