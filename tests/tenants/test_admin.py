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


# Only owners change the team and the salon's settings; a salon keeps an owner.


def test_a_manager_cannot_make_himself_owner(client, team_a):
    client.force_login(team_a.manager)
    mine = _membership(team_a, team_a.manager)
    response = client.post(
        f"/admin/tenants/membership/{mine.pk}/change/", {"user": mine.user_id, "role": "owner"}
    )
    assert response.status_code == 403
    mine.refresh_from_db()
    assert mine.role == "manager"
    # He still sees the team, read only.
    assert client.get(f"/admin/tenants/membership/{mine.pk}/change/").status_code == 200
    assert client.get("/admin/tenants/membership/add/").status_code == 403


def test_a_manager_cannot_remove_the_owner(client, team_a):
    client.force_login(team_a.manager)
    owner = _membership(team_a, team_a.owner)
    response = client.post(f"/admin/tenants/membership/{owner.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert _membership(team_a, team_a.owner).role == "owner"


def test_a_manager_cannot_change_the_stripe_account(client, team_a):
    client.force_login(team_a.manager)
    url = f"/admin/tenants/salon/{team_a.salon.pk}/change/"
    assert client.get(url).status_code == 200  # managers read the settings
    response = client.post(url, _salon_form(team_a.salon, stripe_account="acct_Mallory"))
    assert response.status_code == 403
    team_a.salon.refresh_from_db()
    assert team_a.salon.stripe_account is None


def test_the_last_owner_can_neither_leave_nor_be_demoted(client, team_a):
    client.force_login(team_a.owner)
    owner = _membership(team_a, team_a.owner)
    demoted = client.post(f"/admin/tenants/membership/{owner.pk}/change/", {"role": "manager"})
    assert demoted.status_code == 200
    assert "at least one owner" in str(demoted.context["adminform"].form.errors)
    removed = client.post(
        f"/admin/tenants/membership/{owner.pk}/delete/", {"post": "yes"}, follow=True
    )
    assert "at least one owner" in removed.content.decode()
    assert _membership(team_a, team_a.owner).role == "owner"


def test_an_owner_hands_over_then_steps_down(client, team_a):
    client.force_login(team_a.owner)
    manager = _membership(team_a, team_a.manager)
    assert (
        client.post(
            f"/admin/tenants/membership/{manager.pk}/change/", {"role": "owner"}
        ).status_code
        == 302
    )
    owner = _membership(team_a, team_a.owner)
    assert (
        client.post(f"/admin/tenants/membership/{owner.pk}/change/", {"role": "staff"}).status_code
        == 302
    )
    assert _membership(team_a, team_a.owner).role == "staff"
    assert _membership(team_a, team_a.manager).role == "owner"


def test_the_team_rules_are_the_apis(team_a):
    """The admin and every other door go through the same services."""
    from django.core.exceptions import PermissionDenied, ValidationError

    from tenants.services import membership_remove, membership_set

    with pytest.raises(PermissionDenied):
        membership_set(salon=team_a.salon, user=team_a.manager, role="owner", actor=team_a.manager)
    with pytest.raises(ValidationError):
        membership_remove(membership=_membership(team_a, team_a.owner), actor=team_a.owner)


# The owner's own pages (they answered 500).


def test_an_owner_opens_their_salons_page(client, team_a):
    client.force_login(team_a.owner)
    url = f"/admin/tenants/salon/{team_a.salon.pk}/change/"
    assert client.get(url).status_code == 200
    response = client.post(url, _salon_form(team_a.salon, stripe_account="acct_Bella1"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    team_a.salon.refresh_from_db()
    assert team_a.salon.stripe_account == "acct_Bella1"


@pytest.mark.parametrize(
    "name", ["Bella\r\nBcc: victim@example.org", "Bella\x00", "Bella\tCoiffure"]
)
def test_a_salon_name_with_control_characters_is_refused(client, api, team_a, name):
    client.force_login(team_a.owner)
    url = f"/admin/tenants/salon/{team_a.salon.pk}/change/"
    response = client.post(url, _salon_form(team_a.salon, name=name))
    assert response.status_code == 200
    assert "name" in response.context["adminform"].form.errors
    answer = api(team_a.owner).patch(
        "/api/v1/salons/bella/backoffice/settings/", {"name": name}, format="json"
    )
    assert answer.status_code == 400
    assert set(answer.json()["fields"]) == {"name"}
    team_a.salon.refresh_from_db()
    assert team_a.salon.name == "Bella Coiffure"


def test_createsalon_refuses_a_name_on_two_lines(db):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="name"):
        call_command(
            "createsalon",
            "lilas",
            "--name",
            "Les Lilas\r\nX",
            "--timezone",
            "Europe/Paris",
            "--currency",
            "EUR",
            "--country",
            "FR",
            "--owner",
            "marie",
            "--password",
            "s3cret-Lilas!",
        )


def _salon_form(salon, **changes):
    form = {
        "name": salon.name,
        "timezone": salon.timezone,
        "currency": salon.currency,
        "country": salon.country,
        "phone": "",
        "email": "",
        "address": "",
        "kind": salon.kind,
        "description": "",
        "languages": '["fr", "en"]',
        "stripe_account": "",
        "slot_step_minutes": "15",
        "min_notice_minutes": "60",
        "max_advance_days": "365",
        "max_gap_minutes": "0",
        "reminder_offsets_hours": "[24, 2]",
        "quiet_hours": '{"start": "21:00", "end": "08:00"}',
        "waitlist_mode": "first_in_line",
        "offer_minutes": "30",
    }
    return {**form, **changes}
