"""What the desk calls a booking's status and its deposit's state, in the page's language."""

from django.utils.translation import gettext_lazy as _

from bookings.models import Status

BOOKING_STATUS = {
    Status.PENDING_PAYMENT: _("Awaiting payment"),
    Status.CONFIRMED: _("Confirmed"),
    Status.COMPLETED: _("Completed"),
    Status.NO_SHOW: _("No-show"),
    Status.CANCELLED: _("Cancelled"),
    Status.EXPIRED: _("Expired"),
}

# deposits.payments.deposit_state's statuses.
DEPOSIT_STATE = {
    "none": _("No deposit"),
    "pending": _("Deposit awaited"),
    "paid": _("Deposit paid online"),
    "paid_at_desk": _("Paid at the desk"),
    "waived": _("Deposit waived"),
    "refunded": _("Deposit refunded"),
    "credited": _("Deposit kept as credit"),
    "forfeited": _("Deposit kept by the salon"),
}
