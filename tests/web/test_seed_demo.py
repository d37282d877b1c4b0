import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone
from PIL import Image

from bookings.models import ACTIVE_STATUSES as ACTIVE
from bookings.models import Booking, Service, ServiceCategory, StaffMember
from customers.models import Customer
from deposits.recovered import deposits_recovered
from deposits.selectors import policy_get
from deposits.simulator import policy_simulate
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


def test_the_demo_has_a_year_of_history_every_figure_shows(client):
    """The deposits dashboard showed twelve months of zeros: the demo had no past."""
    call_command("seed_demo", stdout=io.StringIO())
    salon = Salon.objects.get(slug="demo")
    with salon_scope(salon):
        recovery = deposits_recovered(salon=salon)
        policy, steps = policy_get(salon=salon)
        simulated = policy_simulate(
            salon=salon, policy=policy, ramp=[(s.starts_on, s.rule) for s in steps]
        )
        assert not Booking.objects.filter(start__lt=timezone.now(), status__in=ACTIVE).exists()
    months = recovery.months
    assert all(m.appointments > 50 for m in months[:-1])  # every full month had clients
    before, after = months[:5], months[-5:-1]  # deposits turned on six months ago
    assert all(m.paid == 0 for m in before) and all(m.paid > 0 for m in after)
    rate = lambda ms: sum(m.no_shows for m in ms) / sum(m.appointments for m in ms)  # noqa: E731
    assert rate(before) > 2 * rate(after)  # deposits made clients come
    assert sum(m.kept for m in after) > 0 and sum(m.credited for m in after) > 0
    assert recovery.credit_outstanding > 0
    assert simulated.asked > 0 and simulated.no_shows > 0
    # The dashboard draws it.
    client.force_login(get_user_model().objects.get(username="demo"))
    page = client.get("/admin/deposits/depositpolicy/recovered/")
    assert len([m for m in page.context["months"] if m["paid_h"] > 0]) >= 6  # bars drawn
