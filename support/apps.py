from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "support"
    verbose_name = "Front desk"

    def ready(self) -> None:
        from customers.gdpr import PersonalData, personal_data_register

        from .models import CustomerRequest

        # Erasure blanks the texts, where staff wrote what the person said and what was
        # done about it; the request stays, classified and timed, for the salon's figures.
        personal_data_register(PersonalData(
            section="requests", model=CustomerRequest, customer_lookup="customer",
            exported=("id", "channel", "category", "summary", "status", "resolution",
                      "booking", "opened_at", "first_response_at", "resolved_at",
                      "item_description", "item_location", "item_returned_at"),
            erase={"summary": "", "resolution": "", "item_description": ""},
            internal=("salon", "customer", "opened_by"),
        ))  # fmt: skip
