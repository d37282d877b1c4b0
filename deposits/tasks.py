from celery import shared_task

from tenants.models import Salon
from tenants.tasks import SalonTask

from .credit import credits_expire
from .payments import payments_abandon_lapsed


@shared_task(name="deposits.payments_sweep")
def payments_sweep() -> None:
    """Every minute (beat): the intents of lapsed holds are cancelled, per salon."""
    for salon_id in Salon.objects.values_list("pk", flat=True):
        payments_apply.delay(salon_id=salon_id)


@shared_task(name="deposits.payments_apply", base=SalonTask)
def payments_apply(*, salon_id: int) -> int:
    return payments_abandon_lapsed(salon_id=salon_id)


@shared_task(name="deposits.credit_sweep")
def credit_sweep() -> None:
    """Daily (beat): what is left of lapsed credit is recorded as expired, per salon."""
    for salon_id in Salon.objects.values_list("pk", flat=True):
        credit_apply.delay(salon_id=salon_id)


@shared_task(name="deposits.credit_apply", base=SalonTask)
def credit_apply(*, salon_id: int) -> int:
    return credits_expire(salon_id=salon_id)
