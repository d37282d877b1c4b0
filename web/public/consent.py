from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from customers.consent import withdraw_token_read
from customers.models import Customer
from customers.services import consent_withdraw_by_link
from web.permissions import request_salon


# The token is the credential, and mail clients send RFC 8058 one-click unsubscribes as a
# bare POST without any cookie, so CSRF protection cannot apply here.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def consent_withdraw(request: HttpRequest, salon: str, token: str) -> HttpResponse:
    """One click from a marketing message withdraws the consent.

    GET shows a page with a single button (so that link scanners withdraw nothing); POST,
    from that button or from the mail client (List-Unsubscribe-Post), withdraws.
    """
    the_salon = request_salon(request)
    read = withdraw_token_read(token)
    if read is None or read[0] != the_salon.pk:
        raise Http404
    _salon_id, customer_id, purpose = read
    customer = Customer.objects.filter(pk=customer_id, erased_at__isnull=True).first()
    if customer is None:
        raise Http404
    done = False
    if request.method == "POST":
        consent_withdraw_by_link(customer=customer, purpose=purpose)
        done = True
    return render(
        request,
        "public/consent_withdraw.html",
        {"salon": the_salon, "done": done, "purpose": purpose},
    )
