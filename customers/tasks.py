from celery import shared_task

from tenants.models import Salon
from tenants.tasks import SalonTask, for_each_salon

from .services import customers_anonymise_inactive


@shared_task(name="customers.retention_sweep")
def retention_sweep() -> None:
    """Daily (beat): each salon's retention runs as its own task, in its own scope."""
    for_each_salon(retention_apply)


@shared_task(name="customers.retention_apply", base=SalonTask)
def retention_apply(*, salon_id: int) -> int:
    """Erase the salon's customers inactive for the retention period; safe to repeat."""
    return customers_anonymise_inactive(salon=Salon.objects.get(pk=salon_id))
