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
