import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from factory.django import DjangoModelFactory

from customers.models import Customer
from tenants.models import Membership, Role, Salon
from tenants.scoping import salon_scope

PASSWORD = "correct horse battery staple"


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password(PASSWORD)


class SalonFactory(DjangoModelFactory[Salon]):
    class Meta:
        model = Salon

    slug = factory.Sequence(lambda n: f"salon-{n}")
    name = factory.Sequence(lambda n: f"Salon {n}")
    timezone = "Europe/Paris"
    currency = "EUR"
    country = "FR"


class TenantFactory(DjangoModelFactory):
    """A salon's row is written in that salon's scope, as the product writes it: row-level
    security refuses it otherwise."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        with salon_scope(kwargs["salon"]):
            return cls._create_in_scope(model_class, *args, **kwargs)

    @classmethod
    def _create_in_scope(cls, model_class, *args, **kwargs):
        return super()._create(model_class, *args, **kwargs)


class MembershipFactory(TenantFactory):
    class Meta:
        model = Membership

    salon = factory.SubFactory(SalonFactory)
    user = factory.SubFactory(UserFactory, is_staff=True)
    role = Role.STAFF


class CustomerFactory(TenantFactory):
    """Through the service, as every path that creates customers goes."""

    class Meta:
        model = Customer

    salon = factory.SubFactory(SalonFactory)
    name = factory.Faker("name", locale="fr_FR")
    phone = factory.Sequence(lambda n: f"+3361{n:07d}")
    email = factory.LazyAttribute(lambda c: f"client{c.phone[-7:]}@example.org")

    @classmethod
    def _create_in_scope(cls, model_class, *args, **kwargs):
        from customers.services import customer_create

        return customer_create(**kwargs)
