"""What the desk calls a deposit's state, in the page's language (a booking's status is its
model's label)."""

from django.utils.translation import gettext_lazy as _

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
