from django.apps import AppConfig


class WebConfig(AppConfig):
    """The doors: the HTTP API, the client's pages, the front desk, the commands."""

    name = "web"
    verbose_name = "Web"
