from celery import shared_task

from messaging.outbox import message_deliver, messages_run, nudges_run
from tenants.models import Salon
from tenants.tasks import SalonTask, for_each_salon


@shared_task(name="messaging.messages_sweep")
def messages_sweep() -> None:
    """Every minute (beat): each salon's messages are planned (booking events, reminders,
    credit notices) and sent, in the salon's own task and scope."""
    for_each_salon(messages_apply)


@shared_task(name="messaging.messages_apply", base=SalonTask)
def messages_apply(*, salon_id: int) -> dict[str, int]:
    """Also sent after each commit that records booking events: the client hears at once."""
    salon = Salon.objects.filter(pk=salon_id).first()
    return messages_run(salon=salon) if salon is not None else {}


@shared_task(name="messaging.message_send", base=SalonTask)
def message_send(*, salon_id: int, message_id: int) -> str:
    """Send one queued message now (a payment link); a no-op when it went out already."""
    return message_deliver(message_id=message_id, salon_id=salon_id)


@shared_task(name="messaging.nudges_sweep")
def nudges_sweep() -> None:
    """Every hour (beat): each salon's invitations to come back, in the salon's own task
    and scope. Hourly, so that a salon's new day is seen soon after it begins wherever
    the salon is; a run that finds what an earlier one wrote writes nothing."""
    for_each_salon(nudges_apply)


@shared_task(name="messaging.nudges_apply", base=SalonTask)
def nudges_apply(*, salon_id: int) -> dict[str, int]:
    salon = Salon.objects.filter(pk=salon_id).first()
    return nudges_run(salon=salon) if salon is not None else {}
