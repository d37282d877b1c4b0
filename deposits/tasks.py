from celery import shared_task

from tenants.tasks import SalonTask, for_each_salon

from .credit import credits_expire
from .figures import owner_figures
from .models import FigureDirty
from .payments import payments_abandon_lapsed, payments_reconcile


@shared_task(name="deposits.payments_sweep")
def payments_sweep() -> None:
    """Every minute (beat): the intents of lapsed holds are cancelled, per salon."""
    for_each_salon(payments_apply)


@shared_task(name="deposits.payments_apply", base=SalonTask)
def payments_apply(*, salon_id: int) -> int:
    return payments_abandon_lapsed(salon_id=salon_id) + payments_reconcile(salon_id=salon_id)


@shared_task(name="deposits.credit_sweep")
def credit_sweep() -> None:
    """Daily (beat): what is left of lapsed credit is recorded as expired, per salon."""
    for_each_salon(credit_apply)


@shared_task(name="deposits.credit_apply", base=SalonTask)
def credit_apply(*, salon_id: int) -> int:
    return credits_expire(salon_id=salon_id)


@shared_task(name="deposits.figures_sweep")
def figures_sweep() -> None:
    """Nightly (beat): each salon's figures read once, so that the months its day's
    writes marked are counted again and their marks consumed, whether or not the owner
    opened the page (deposits/summaries.py)."""
    for_each_salon(figures_apply)


@shared_task(name="deposits.figures_apply", base=SalonTask)
def figures_apply(*, salon_id: int) -> int:
    """The salon's figures read; returns the marks left (none, but for a write that landed
    meanwhile)."""
    from tenants.models import Salon

    owner_figures(salon=Salon.objects.get(pk=salon_id))
    return FigureDirty.objects.filter(salon_id=salon_id).count()
