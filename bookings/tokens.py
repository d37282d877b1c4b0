"""The manage token: the client's credential for their own booking.

A signed value (HMAC-SHA256 over the salon, the booking and a random nonce of 128 bits),
so the link can be sent again in any message and is revoked by changing the nonce.
"""

from django.core import signing

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
