"""The Django admin is tenant-safe: owners and managers see their salon only."""

import pytest

from tenants.models import Membership
from tenants.scoping import salon_scope

pytestmark = pytest.mark.django_db


def _membership(team, user):
    with salon_scope(team.salon):
        return Membership.objects.get(user=user)


def test_owner_lists_only_their_salons_objects(client, team_a, team_b):
    client.force_login(team_a.owner)
    page = client.get("/admin/tenants/membership/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "bella-staff" in html
    assert "rival" not in html

    salons = client.get("/admin/tenants/salon/").content.decode()
    assert "Bella Coiffure" in salons
    assert "Rival Barbers" not in salons


def test_another_salons_object_url_is_404(client, team_a, team_b):
    client.force_login(team_a.owner)
    theirs = _membership(team_b, team_b.staff)
    ours = _membership(team_a, team_a.staff)
    assert client.get(f"/admin/tenants/membership/{ours.pk}/change/").status_code == 200
    assert client.get(f"/admin/tenants/membership/{theirs.pk}/change/").status_code == 404
    assert client.get(f"/admin/tenants/membership/{theirs.pk}/delete/").status_code == 404
    assert client.get(f"/admin/tenants/salon/{team_b.salon.pk}/change/").status_code == 404
    assert client.get("/admin/tenants/membership/999999/change/").status_code == 404


def test_owner_cannot_change_another_salons_object_by_post(client, team_a, team_b):
    client.force_login(team_a.owner)
    theirs = _membership(team_b, team_b.staff)
    response = client.post(
        f"/admin/tenants/membership/{theirs.pk}/change/", {"user": theirs.user_id, "role": "owner"}
    )
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.role == "staff"


def test_owner_edits_their_own_team(client, team_a):
    client.force_login(team_a.owner)
    ours = _membership(team_a, team_a.staff)
    response = client.post(
        f"/admin/tenants/membership/{ours.pk}/change/", {"user": ours.user_id, "role": "manager"}
    )
    assert response.status_code == 302
    ours.refresh_from_db()
    assert ours.role == "manager"


def test_user_choices_do_not_reveal_other_salons_people(client, team_a, team_b):
    client.force_login(team_a.owner)
    html = client.get("/admin/tenants/membership/add/").content.decode()
    assert "bella-staff" in html
    assert "rival-staff" not in html


def test_superuser_sees_every_salon(client, superuser, team_a, team_b):
    client.force_login(superuser)
    html = client.get("/admin/tenants/membership/").content.decode()
    assert "bella-staff" in html
    assert "rival-staff" in html


def test_front_desk_staff_do_not_get_the_admin(client, team_a):
    client.force_login(team_a.staff)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
