import pytest

from bookings.models import Booking, Status
from tenants.scoping import salon_scope

from .conftest import book, local
from .factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def bookings(catalogue_a, catalogue_b, monday):
    lea = CustomerFactory(salon=catalogue_a.salon, name="Léa")
    sam = CustomerFactory(salon=catalogue_b.salon, name="Sam", phone="+14165550199")
    return (book(catalogue_a, lea, local(catalogue_a.salon, 1, 10)),
            book(catalogue_b, sam, local(catalogue_b.salon, 1, 10)))  # fmt: skip


@pytest.mark.parametrize("model", ["service", "staffmember", "timeoff", "booking"])
def test_admin_lists_only_the_owners_salon(client, team_a, bookings, catalogue_b, model):
    client.force_login(team_a.owner)
    response = client.get(f"/admin/bookings/{model}/")
    assert response.status_code == 200
    for obj in response.context["cl"].result_list:
        assert obj.salon_id == team_a.salon.pk


def test_admin_404s_on_another_salons_objects(client, team_a, bookings, catalogue_b):
    client.force_login(team_a.owner)
    theirs = bookings[1]
    assert client.get(f"/admin/bookings/booking/{theirs.pk}/change/").status_code == 404
    assert client.get(f"/admin/bookings/service/{catalogue_b.cut.pk}/change/").status_code == 404
    assert (
        client.get(f"/admin/bookings/staffmember/{catalogue_b.alice.pk}/change/").status_code == 404
    )


def test_admin_actions_go_through_the_services(client, team_a, bookings):
    ours, theirs = bookings
    client.force_login(team_a.owner)
    client.post("/admin/bookings/booking/", {"action": "cancel",
                                             "_selected_action": [ours.pk, theirs.pk]})  # fmt: skip
    with salon_scope(team_a.salon):
        cancelled = Booking.objects.get(pk=ours.pk)
        assert cancelled.status == Status.CANCELLED
        assert cancelled.events.filter(kind="cancelled").exists()
    theirs.refresh_from_db()
    assert theirs.status == Status.CONFIRMED


def test_staff_page_edits_hours_and_services_inline(client, team_a, catalogue_a):
    client.force_login(team_a.owner)
    page = client.get(f"/admin/bookings/staffmember/{catalogue_a.bob.pk}/change/")
    assert page.status_code == 200
    assert "Services offered" in page.content.decode()
