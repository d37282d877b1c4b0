"""The setup checklist on the admin's index, for the salons the user owns."""

from typing import Any

from django import template

from ..admin_setup import owned_checklists

register = template.Library()


@register.inclusion_tag("admin/deposits/setup_checklist.html", takes_context=True)
def setup_checklists(context: Any) -> dict[str, Any]:
    request = context.get("request")
    return {"checklists": owned_checklists(request) if request is not None else []}
