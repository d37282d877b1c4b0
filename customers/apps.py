from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = _("Clients")

    def ready(self) -> None:
        from .gdpr import PersonalData, personal_data_register
        from .models import ConsentEvent, Customer

        personal_data_register(
            PersonalData(
                section="customer",
                model=Customer,
                customer_lookup="pk",
                exported=(
                    "id",
                    "name",
                    "phone",
                    "email",
                    "preferred_channel",
                    "language",
                    "preferences",
                    "notes",
                    "trusted",
                    "blocked",
                    "created_at",
                    "last_seen_at",
                    "erased_at",
                ),
                erase={"name": "", "phone": None, "email": None, "notes": "", "preferences": {}},
                internal=("salon", "search_text", "tags", "duplicate_of"),
            )
        )
        personal_data_register(
            PersonalData(
                section="consents",
                model=ConsentEvent,
                customer_lookup="customer",
                exported=(
                    "id",
                    "purpose",
                    "granted",
                    "text_version",
                    "channel",
                    "source",
                    "recorded_at",
                ),
                internal=("salon", "customer", "recorded_by"),
            )
        )
