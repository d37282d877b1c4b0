from typing import Any

from celery import Task

from .scoping import salon_scope


class SalonTask(Task):
    """Base of tasks that act for one salon: the body runs inside that salon's scope.

    Such a task takes the salon's id as the keyword argument `salon_id`, like every other
    argument an id (DESIGN.md, invariant 6).
    """

    abstract = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        salon_id = kwargs.get("salon_id")
        if not isinstance(salon_id, int):
            raise TypeError(f"{self.name} needs the keyword argument salon_id (an int).")
        with salon_scope(salon_id):
            return super().__call__(*args, **kwargs)


def for_each_salon(task: Task) -> int:
    """Send `task` (a SalonTask) once per salon: each salon's work runs in its own task
    and its own scope, so one salon's failure or size never holds up another's."""
    from .models import Salon

    salon_ids = list(Salon.objects.values_list("pk", flat=True))
    for salon_id in salon_ids:
        task.delay(salon_id=salon_id)
    return len(salon_ids)
