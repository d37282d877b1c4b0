import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from bookings.models import Service, StaffMember
from bookings.selectors import availability_for
from bookings.services import (
    booking_create,
    catalogue_service_save,
    resource_kind_save,
    resource_save,
    service_category_save,
    staff_hours_set,
    staff_save,
)
from customers.services import customer_create
from deposits.selectors import salon_today
from deposits.services import policy_set
from support.services import request_open
from tenants.models import Role, Salon
from tenants.scoping import salon_scope
from tenants.services import membership_set, salon_create, salon_update
from web.management import demo_pictures
from web.management.demo_history import history_seed

DEMO_SLUG = "demo"
DEMO_PASSWORD = "demo"  # noqa: S105 - a demo account, printed for the newcomer
DEMO_USERS = [("demo", Role.OWNER, "Camille", "Durand"), ("accueil", Role.STAFF, "Inès", "Leroy")]
DEMO_DESCRIPTION = (
    "Un atelier de quartier lumineux, à deux pas de la place Voltaire. Coupes, couleurs "
    "et soins sur mesure, avec des produits choisis pour respecter vos cheveux. Prenez "
    "rendez-vous en ligne à toute heure\u00a0: un acompte réserve votre créneau."
)
DEMO_STAFF = (
    ("Inès", "Coloriste depuis douze ans, elle aime les couleurs naturelles et les balayages."),
    ("Karim", "Coupes homme et femme, dégradés précis et conseils de coiffage au quotidien."),
)
DEMO_CUSTOMERS = [
    {
        "name": "Léa Martin",
        "phone": "06 12 34 56 78",
        "email": "lea.martin@example.org",
        "tags": ["fidèle"],
        "consents": {"reminders": True, "marketing": True},
        "preferences": {"days": [1, 3], "times": ["morning"], "notes": "Thé vert, sans sucre"},
    },
    {"name": "Hugo Bernard", "phone": "07 81 22 33 44", "consents": {"reminders": True}},
    {
        "name": "Zoé Petit",
        "email": "zoe.petit@example.org",
        "preferred_channel": "email",
        "notes": "Préfère Inès pour les colorations.",
        "consents": {"reminders": True},
    },
    {
        "name": "Marcel Roux",
        "phone": "01 43 55 66 77",
        "tags": ["par téléphone"],
        "notes": "Pas d'e-mail : appeler la veille.",
    },
]


class Command(BaseCommand):
    help = "Seed the demo salon (slug 'demo'); running it again changes nothing."

    def _catalogue(
        self, salon: Salon, customers: list[Any]
    ) -> list[tuple[StaffMember, list[Service]]]:
        basin = resource_kind_save(salon=salon, kind=None, name="Bac à shampoing")
        resource_save(salon=salon, resource=None, name="Bacs", kind=basin, quantity=2)
        catalogue: tuple[dict[str, Any], ...] = (
            {
                "name": "Coupe femme",
                "duration_minutes": 45,
                "price": 4800,
                "description": "Shampooing, coupe et coiffage.",
                "rebook_after_days": 42,
            },
            {"name": "Coupe homme", "duration_minutes": 30, "price": 2600},
            {
                "name": "Couleur",
                "duration_minutes": 90,
                "price": 7500,
                "buffer_after_minutes": 15,
                # Applied, then 45 minutes of setting while the colourist is free.
                "processing_offset_minutes": 30,
                "processing_minutes": 45,
                "rebook_after_days": 56,
                "description": "Couleur complète, soin inclus.",
            },
            {
                "name": "Brushing",
                "duration_minutes": 30,
                "price": 3000,
                "resource_kind": basin,
            },
        )
        services = [
            catalogue_service_save(salon=salon, service=None, **fields) for fields in catalogue
        ]
        women, men, colour, blowdry = services
        for position, (category, members) in enumerate(
            (("Coupes", [women, men]), ("Couleur", [colour]), ("Coiffage", [blowdry]))
        ):
            heading = service_category_save(
                salon=salon, category=None, name=category, position=position
            )
            for service in members:
                catalogue_service_save(salon=salon, service=service, category=heading)
        catalogue_service_save(salon=salon, service=colour, addons=[women, blowdry])
        catalogue_service_save(salon=salon, service=women, addons=[blowdry])
        week = [{"weekday": d, "start": dt.time(9), "end": dt.time(19)} for d in range(1, 6)]
        saturday = [{"weekday": 5, "start": dt.time(9), "end": dt.time(17)}]
        staff = []
        offers = (services, services[:2] + services[3:])
        for n, ((name, bio), offered) in enumerate(zip(DEMO_STAFF, offers, strict=True)):
            member = staff_save(
                salon=salon,
                staff=None,
                name=name,
                bio=bio,
                photo=demo_pictures.portrait(name, n),
                service_ids=[s.pk for s in offered],
            )
            staff_hours_set(staff=member, ranges=week[:-1] + saturday)
            staff.append((member, list(offered)))
        # A few bookings in the coming days, on the first free slots.
        today = salon_today(salon)
        slots = availability_for(
            salon=salon, service=services[0], first=today, last=today + dt.timedelta(days=7)
        )
        for customer, slot in zip(customers, slots[::7], strict=False):
            booking_create(
                salon=salon, service=services[0], start=slot.start, customer=customer, staff=None
            )
        return staff

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
                max_gap_minutes=15,
                kind="hair",
                description=DEMO_DESCRIPTION,
            )
            # Its pictures, drawn here and resized as an owner's upload is.
            salon_update(salon=salon, logo=demo_pictures.logo("AD"), cover=demo_pictures.cover())
            for username, role, _first, _last in DEMO_USERS:
                membership_set(salon=salon, user=users[username], role=role)
            with salon_scope(salon):
                customers = [
                    customer_create(salon=salon, **customer)  # type: ignore[arg-type]
                    for customer in DEMO_CUSTOMERS
                ]
                staff = self._catalogue(salon, customers)
                # A year of appointments; deposits from six months ago.
                history_seed(salon=salon, staff=staff, customers=customers, now=timezone.now())
                # No deposit at first; started gently six months ago (20 %, at least
                # 5 EUR), then 30 % from next month.
                today = salon_today(salon)
                started = (today - dt.timedelta(days=182)).replace(day=1)
                next_month = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
                policy_set(
                    salon=salon,
                    rule={"kind": "none"},
                    ramp=[
                        {"starts_on": started, "rule": {"kind": "percent", "value": 20}},
                        {"starts_on": next_month, "rule": {"kind": "percent", "value": 30}},
                    ],
                    min_amount=500,
                    trusted_after_visits=5,
                    full_prepayment_after_no_shows=2,
                )
        with salon_scope(salon):
            # The front desk's log: a lost item kept for a client, a question before booking.
            request_open(
                salon=salon,
                channel="walk_in",
                category="lost_item",
                customer=customers[0],
                summary="A oublié son écharpe après son rendez-vous.",
                item_description="Écharpe bleue en laine",
                item_location="Vestiaire, en haut",
                actor=users["accueil"],
            )
            request_open(
                salon=salon,
                channel="phone",
                category="pre_sale",
                customer=customers[3],
                summary="Demande si une couleur convient à des cheveux fins.",
                actor=users["accueil"],
            )
        self.stdout.write(
            f"Demo salon {salon.name!r} seeded. Admin and front desk: "
            f"'demo' (owner) and 'accueil' (staff), password {DEMO_PASSWORD!r}."
        )
