from celery import shared_task

from tenants.models import Salon
from tenants.tasks import SalonTask, for_each_salon

from .services import holds_expire


@shared_task(name="bookings.holds_sweep")
def holds_sweep() -> None:
    """Every minute (beat): each salon's lapsed holds expire, in its own task and scope."""
    for_each_salon(holds_apply)


@shared_task(name="bookings.holds_apply", base=SalonTask)
def holds_apply(*, salon_id: int) -> list[int]:
    return holds_expire(salon=Salon.objects.get(pk=salon_id))
