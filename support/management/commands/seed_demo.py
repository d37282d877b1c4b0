from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from tenants.models import Role, Salon
from tenants.services import membership_set, salon_create

DEMO_SLUG = "demo"
DEMO_PASSWORD = "demo"  # noqa: S105 - a demo account, printed for the newcomer
DEMO_USERS = [("demo", Role.OWNER, "Camille", "Durand"), ("accueil", Role.STAFF, "Inès", "Leroy")]


class Command(BaseCommand):
    help = "Seed the demo salon (slug 'demo'); running it again changes nothing."

    def handle(self, *args: Any, **options: Any) -> None:
        if Salon.objects.filter(slug=DEMO_SLUG).exists():
            self.stdout.write("The demo salon is already there.")
            return
        User = get_user_model()
        with transaction.atomic():
            users = {}
            for username, _role, first, last in DEMO_USERS:
                user = User.objects.filter(username=username).first()
                if user is None:
                    user = User.objects.create_user(
                        username=username,
                        password=DEMO_PASSWORD,
                        first_name=first,
                        last_name=last,
                        email=f"{username}@demo.acompte.test",
                    )
                users[username] = user
            salon = salon_create(
                slug=DEMO_SLUG,
                name="Atelier Démo",
                timezone="Europe/Paris",
                currency="EUR",
                country="FR",
                owner=users["demo"],
                phone="+33142000000",
                email="bonjour@demo.acompte.test",
                address="12 rue des Lilas, 75011 Paris",
            )
            for username, role, _first, _last in DEMO_USERS:
                membership_set(salon=salon, user=users[username], role=role)
        self.stdout.write(
            f"Demo salon {salon.name!r} seeded. Admin and front desk: "
            f"'demo' (owner) and 'accueil' (staff), password {DEMO_PASSWORD!r}."
        )
