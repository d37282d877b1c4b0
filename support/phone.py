"""Bookings taken by phone: the front desk books for a client who is not online, and the
deposit follows by a payment link, is paid at the desk, or is waived (DESIGN.md, flows).

The booking is placed as every door's is (`deposits.checkout.checkout_place`); a link is
then sent to the client (messaging/paylinks.py): a signed URL to the pay page
(deposits/paylinks.py). The booking holds its slot until the link expires (the policy's
`payment_link_hours`, and never past the appointment's start), then the hold sweep frees
it and the client is told. The link is revoked when the booking is cancelled or the client
erased, and stops working some time after the appointment (bookings.tokens). Who did what,
and why a deposit was waived, is in the booking's audit trail.
"""

from dataclasses import replace

from customers.selectors import link_channel
from deposits.checkout import CheckoutRequest, DepositHandling, checkout_place
from deposits.payments import Checkout
from messaging.paylinks import payment_link_send


def phone_booking_place(request: CheckoutRequest) -> Checkout:
    """A booking taken by staff (`request.actor`), placed, then its payment link sent when
    the deposit is to be paid by link (`Checkout.link`).

    Raises what `checkout_place` raises: Invalid (shaped like the request: `send_via` for
    a client with nowhere to send the link to, `waiver_reason`, `payment_option`...),
    SlotTaken, ProviderUnavailable."""
    checkout = checkout_place(request)
    handling = request.deposit_handling or DepositHandling.PAYMENT_LINK
    if handling != DepositHandling.PAYMENT_LINK or checkout.payment is None:
        return checkout
    # The way `checkout_place` checked: never an SMS to a landline.
    via = link_channel(checkout.booking.customer, request.send_via)
    link = payment_link_send(checkout=checkout, via=via, actor=request.actor)
    return replace(checkout, link=link)
