from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    """The doors: the HTTP API, the client's pages, the front desk, the commands."""

    name = "web"
    verbose_name = _("Web")
