"""The manage token: the client's credential for their own booking.

A signed value (HMAC-SHA256 over the salon, the booking and a random nonce of 128 bits),
so the link can be sent again in any message and is revoked by changing the nonce (the
client's erasure does). It lives as long as the booking has something to manage:
`LINK_LIFETIME` after the appointment (or its cancellation, when later), and, for a
booking cancelled with credit, as long as that credit can be spent through it (API.md:
the same manage call reschedules it); the apps that know such reasons register them.
"""

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac

if TYPE_CHECKING:
    from .models import Booking

# How long a client's links (manage, pay) keep working after the appointment.
LINK_LIFETIME = dt.timedelta(days=14)

_lifetime_extensions: list[Callable[["Booking"], dt.datetime | None]] = []


def link_lifetime_extend(extension: Callable[["Booking"], dt.datetime | None]) -> None:
    """Register a reason for a booking's links to live longer: a function answering until
    when (or None)."""
    if extension not in _lifetime_extensions:
        _lifetime_extensions.append(extension)


def link_expires_at(booking: "Booking") -> dt.datetime:
    """When the booking's links stop working (answered 404 from then on)."""
    last = max(booking.end, booking.cancelled_at or booking.end)
    ends = [last + LINK_LIFETIME]
    ends += [until for extend in _lifetime_extensions if (until := extend(booking))]
    return max(ends)


_SALT = "bookings.manage"


def manage_token(*, salon_id: int, booking_id: int, nonce: str) -> str:
    return signing.dumps([salon_id, booking_id, nonce], salt=_SALT)


def manage_token_read(token: str) -> tuple[int, int, str] | None:
    """(salon id, booking id, nonce) of a genuine token, or None."""
    try:
        salon_id, booking_id, nonce = signing.loads(token, salt=_SALT)
        return int(salon_id), int(booking_id), str(nonce)
    except (signing.BadSignature, TypeError, ValueError):
        return None


# The come-back link's marker (`?n=` on the booking page): which earlier visit's message
# brought the client back. Signed, short enough for a text message, and harmless if
# copied: it says where a booking came from, it grants nothing.
_COMEBACK_SALT = "bookings.comeback"
_COMEBACK_SIGNATURE = 12


def _comeback_signature(salon_id: int, visit_id: int) -> str:
    digest = salted_hmac(_COMEBACK_SALT, f"{salon_id}:{visit_id}", algorithm="sha256")
    return digest.hexdigest()[:_COMEBACK_SIGNATURE]


def comeback_token(*, salon_id: int, visit_id: int) -> str:
    return f"{visit_id}-{_comeback_signature(salon_id, visit_id)}"


def comeback_token_read(token: object, *, salon_id: int) -> int | None:
    """The visit a genuine marker of this salon names, or None."""
    visit, _dash, signature = str(token or "").partition("-")
    if not (visit.isascii() and visit.isdigit()) or len(visit) > 18:
        return None
    expected = _comeback_signature(salon_id, int(visit))
    return int(visit) if constant_time_compare(signature, expected) else None
