import io

import pytest
from django.core.management import call_command

from customers.models import Customer
from tenants.models import Membership, Salon
from tenants.scoping import salon_scope

pytestmark = pytest.mark.django_db


def _counts():
    salon = Salon.objects.get(slug="demo")
    with salon_scope(salon):
        return (Salon.objects.count(), Membership.objects.count(), Customer.objects.count())


def test_seed_demo_seeds_once_and_changes_nothing_when_run_again():
    call_command("seed_demo", stdout=io.StringIO())
    first = _counts()
    assert first[0] == 1
    assert first[1] >= 2
    assert first[2] >= 4
    call_command("seed_demo", stdout=io.StringIO())
    assert _counts() == first
