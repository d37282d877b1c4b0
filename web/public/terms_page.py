"""The salon's terms clause on deposits (CGV), generated from its policy as it is now:
the page the booking recap and every booking's terms link to."""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from deposits.selectors import policy_get, salon_today
from deposits.terms import terms_clause
from web.permissions import request_salon
from web.public.booking import page, salon_locale


@require_GET
def salon_terms(request: HttpRequest, salon: str) -> HttpResponse:
    the_salon = request_salon(request)
    with salon_locale(the_salon):
        policy, steps = policy_get(salon=the_salon)
        clauses = terms_clause(
            policy,
            steps,
            salon_name=the_salon.name,
            currency=the_salon.currency,
            today=salon_today(the_salon),
        )
        return page(request, the_salon, "terms.html", {"clauses": clauses, "policy": policy})
