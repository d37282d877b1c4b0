from celery import shared_task

from tenants.tasks import SalonTask, for_each_salon

from .fees import fees_settle


@shared_task(name="support.fees_sweep")
def fees_sweep() -> None:
    """Every minute (beat): fees left pending are charged again, per salon."""
    for_each_salon(fees_apply)


@shared_task(name="support.fees_apply", base=SalonTask)
def fees_apply(*, salon_id: int) -> int:
    return fees_settle(salon_id=salon_id)
