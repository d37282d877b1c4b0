from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from messaging.models import Message
from tenants.admin import TenantAdmin


@admin.register(Message)
class MessageAdmin(TenantAdmin):
    """What each client was sent, when, by which channel, or why nothing was: read only."""

    list_display = ["created_at", "kind", "customer", "channel", "status", "sent_at"]
    list_filter = ["status", "kind", "channel"]
    search_fields = ["customer__name", "booking__reference", "recipient"]
    date_hierarchy = "created_at"
    readonly_fields = (
        "customer",
        "booking",
        "kind",
        "channel",
        "recipient",
        "language",
        "subject",
        "body",
        "status",
        "status_detail",
        "send_after",
        "attempts",
        "sent_at",
        "provider_ref",
        "created_at",
    )
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
