import io

import pytest
from django.core.management import call_command
from PIL import Image

from bookings.models import Service, ServiceCategory, StaffMember
from customers.models import Customer
from tenants.models import Membership, Salon
from tenants.scoping import salon_scope

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


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


def _size(field) -> tuple[int, int, str | None]:
    with field.open("rb") as stored, Image.open(stored) as picture:
        return picture.width, picture.height, picture.format


def test_the_demo_salon_has_a_page_worth_showing(client):
    call_command("seed_demo", stdout=io.StringIO())
    salon = Salon.objects.get(slug="demo")
    assert salon.description and salon.address and salon.kind == "hair"
    # Its pictures, drawn at seed time and resized as an upload is.
    assert _size(salon.logo) == (256, 256, "WEBP")
    assert _size(salon.cover)[0] == 1600
    with salon_scope(salon):
        categories = list(ServiceCategory.objects.values_list("name", flat=True))
        assert categories == ["Coupes", "Couleur", "Coiffage"]
        assert not Service.objects.filter(category=None).exists()
        staff = list(StaffMember.objects.all())
    assert all(m.bio for m in staff) and len(staff) == 2
    assert all(_size(m.photo) == (400, 400, "WEBP") for m in staff)
    page = client.get("/demo/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    for text in ("Coupes", "Coiffage", staff[0].bio, salon.logo.url, "Itinéraire"):
        assert text in page
