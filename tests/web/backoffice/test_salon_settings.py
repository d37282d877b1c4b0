"""Salon settings: the owner changes them, managers read them, staff do not see them."""

import pytest

pytestmark = pytest.mark.django_db

URL = "/api/v1/salons/bella/backoffice/settings/"


def test_owner_reads_and_changes_settings(api, team_a, team_b):
    client = api(team_a.owner)
    body = client.get(URL).json()
    assert body["timezone"] == "Europe/Paris"
    assert body["slot_step_minutes"] == 15
    assert body["reminder_offsets_hours"] == [24, 2]
    assert body["stripe_account"] is None

    response = client.patch(
        URL,
        {
            "name": "Bella",
            "phone": "01 42 00 00 00",
            "slot_step_minutes": 30,
            "quiet_hours": {"start": "20:00", "end": "09:00"},
            "stripe_account": "acct_1Abc",
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["phone"] == "+33142000000"
    team_a.salon.refresh_from_db()
    assert (team_a.salon.name, team_a.salon.slot_step_minutes) == ("Bella", 30)
    team_b.salon.refresh_from_db()
    assert team_b.salon.name == "Rival Barbers"


def test_manager_reads_but_cannot_change(api, team_a):
    client = api(team_a.manager)
    assert client.get(URL).status_code == 200
    response = client.patch(URL, {"name": "Mine"}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "not_allowed"


def test_staff_cannot_read_settings(api, team_a):
    assert api(team_a.staff).get(URL).status_code == 403


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("timezone", "Mars/Olympus"),
        ("currency", "XYZ"),
        ("country", "ZZ"),
        ("phone", "12"),
        ("slot_step_minutes", 0),
        ("reminder_offsets_hours", [24, 24]),
        ("quiet_hours", {"start": "25:00", "end": "08:00"}),
        ("languages", ["tlh"]),
        ("stripe_account", "cus_123"),
        ("email", "not-an-email"),
    ],
)
def test_bad_settings_are_a_400_with_field_messages(api, team_a, field, value):
    response = api(team_a.owner).patch(URL, {field: value}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert list(body["fields"]) == [field]
    assert body["detail"].startswith(f"{field}: ")


def test_body_that_is_not_json_is_parse_error(api, team_a):
    response = api(team_a.owner).generic("PATCH", URL, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert "fields" not in response.json()


def test_form_body_is_unsupported_media_type(api, team_a):
    response = api(team_a.owner).generic(
        "PATCH", URL, "name=x", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_wrong_method_is_405(api, team_a):
    response = api(team_a.owner).delete(URL)
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
