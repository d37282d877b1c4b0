from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from deposits.services import policy_create_default
from tenants.scoping import salon_scope
from tenants.services import auth_token_get, salon_create


class Command(BaseCommand):
    help = (
        "Open a salon with its owner and a default deposit policy; the last line printed "
        "is the owner's API token."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--name", required=True)
        parser.add_argument("--timezone", required=True)
        parser.add_argument("--currency", required=True)
        parser.add_argument("--country", required=True)
        parser.add_argument("--owner", required=True, help="the owner's username")
        parser.add_argument("--password", required=True)
        parser.add_argument("--email", default="", help="the owner's e-mail")

    def handle(self, *args: Any, **options: Any) -> None:
        User = get_user_model()
        try:
            with transaction.atomic():
                owner = User.objects.filter(username=options["owner"]).first()
                if owner is None:
                    owner = User.objects.create_user(
                        username=options["owner"],
                        email=options["email"],
                        password=options["password"],
                        is_staff=True,
                    )
                elif not owner.check_password(options["password"]):
                    raise CommandError(
                        f"User {options['owner']!r} exists and the password does not match."
                    )
                salon = salon_create(
                    slug=options["slug"],
                    name=options["name"],
                    timezone=options["timezone"],
                    currency=options["currency"].upper(),
                    country=options["country"].upper(),
                    owner=owner,
                    email=options["email"],
                )
                with salon_scope(salon):
                    policy_create_default(salon=salon)
        except ValidationError as exc:
            problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            raise CommandError(problems) from exc
        self.stdout.write(f"Salon {salon.slug!r} opened, owned by {owner.get_username()!r}.")
        self.stdout.write(f"token: {auth_token_get(user=owner)}")
