"""The client's card beside the phone booking: the fragment the panel's script fetches
when a client is chosen, and the page itself renders on a reload (without the script)."""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.dates import WEEKDAYS

from customers.preferences import TIME_CHOICES
from support.desk_card import ClientCard, client_card
from tenants.models import Salon
from web.desk.access import desk_context, desk_view


def card_context(card: ClientCard | None) -> dict[str, Any]:
    """What the card's template shows: the card, its preferred days and times in words."""
    if card is None:
        return {"card": None}
    times = dict(TIME_CHOICES)
    chosen = card.preferences
    return {
        "card": card,
        "days": [str(WEEKDAYS[d]) for d in chosen.get("days", []) if d in WEEKDAYS],
        "times": [str(times[t]) for t in chosen.get("times", []) if t in times],
    }


@desk_view
def client_card_fragment(request: HttpRequest, salon: Salon, pk: int) -> HttpResponse:
    """The card of client `pk`, as HTML to place in the panel's card region."""
    card = client_card(salon=salon, pk=pk)
    if card is None:
        raise Http404
    return render(request, "desk/_client_card.html", desk_context(salon, **card_context(card)))
