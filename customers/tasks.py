from celery import shared_task

from tenants.models import Salon
from tenants.tasks import SalonTask, for_each_salon

from .identity import contact_codes_purge
from .services import customers_anonymise_inactive


@shared_task(name="customers.retention_sweep")
def retention_sweep() -> None:
    """Daily (beat): each salon's retention runs as its own task, in its own scope."""
    for_each_salon(retention_apply)


@shared_task(name="customers.retention_apply", base=SalonTask)
def retention_apply(*, salon_id: int) -> int:
    """Erase the salon's customers inactive for the retention period, and one-time codes
    long expired; safe to repeat."""
    salon = Salon.objects.get(pk=salon_id)
    contact_codes_purge(salon=salon)
    return customers_anonymise_inactive(salon=salon)
