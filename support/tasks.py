from celery import shared_task

from support.refill import freed_time_refill, waitlist_run
from tenants.models import Salon
from tenants.tasks import SalonTask, for_each_salon

from .fees import fees_settle


@shared_task(name="support.waitlist_sweep")
def waitlist_sweep() -> None:
    """Every minute (beat): each salon's freed times recorded and refilled, its lapsed
    offers passed on to the next client, in the salon's own task and scope. What a lost
    broker missed after a commit is done here."""
    for_each_salon(waitlist_apply)


@shared_task(name="support.waitlist_apply", base=SalonTask)
def waitlist_apply(*, salon_id: int) -> dict[str, int]:
    """Also sent after each commit that freed a time: the waiting clients hear at once."""
    salon = Salon.objects.filter(pk=salon_id).first()
    if salon is None:
        return {}
    done = waitlist_run(salon=salon)
    if done.get("offers"):
        _messages_now(salon_id)
    return done


@shared_task(name="support.freed_time_refill", base=SalonTask)
def freed_time_refill_task(*, salon_id: int, freed_id: int) -> int:
    """Refill one freed time (an offer turned down or taken): the next client hears."""
    made = len(freed_time_refill(freed_id=freed_id))
    if made:
        _messages_now(salon_id)
    return made


def _messages_now(salon_id: int) -> None:
    """The offers just queued go out now, not at the outbox's next sweep."""
    from messaging.tasks import messages_apply

    messages_apply.apply_async(kwargs={"salon_id": salon_id})


@shared_task(name="support.fees_sweep")
def fees_sweep() -> None:
    """Every minute (beat): fees left pending are charged again, per salon."""
    for_each_salon(fees_apply)


@shared_task(name="support.fees_apply", base=SalonTask)
def fees_apply(*, salon_id: int) -> int:
    return fees_settle(salon_id=salon_id)
