"""createsalon, the token endpoint and its throttling."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from tenants.models import Salon

pytestmark = pytest.mark.django_db


def createsalon(*args: str) -> list[str]:
    out = io.StringIO()
    call_command("createsalon", *args, stdout=out)
    return out.getvalue().splitlines()


def test_createsalon_then_token_works_on_its_staff_endpoints(api, team_b):
    lines = createsalon(
        "lilas",
        "--name",
        "Les Lilas",
        "--timezone",
        "Europe/Brussels",
        "--currency",
        "eur",
        "--country",
        "be",
        "--owner",
        "marie",
        "--password",
        "s3cret-Lilas!",
        "--email",
        "marie@example.org",
    )
    assert lines[-1].startswith("token: ")
    printed = lines[-1].removeprefix("token: ")

    response = api().post(
        "/api/v1/auth/token/", {"username": "marie", "password": "s3cret-Lilas!"}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert token == printed

    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    settings = client.get("/api/v1/salons/lilas/backoffice/settings/")
    assert settings.status_code == 200
    assert settings.json()["currency"] == "EUR"
    assert settings.json()["timezone"] == "Europe/Brussels"
    assert client.get("/api/v1/salons/lilas/backoffice/members/").json()["count"] == 1
    assert client.get("/api/v1/salons/rival/backoffice/settings/").status_code == 403


def test_createsalon_with_bad_values_writes_nothing():
    with pytest.raises(CommandError, match="timezone"):
        createsalon(
            "lilas",
            "--name",
            "Les Lilas",
            "--timezone",
            "Europe/Nowhere",
            "--currency",
            "EUR",
            "--country",
            "BE",
            "--owner",
            "marie",
            "--password",
            "s3cret-Lilas!",
        )
    assert not Salon.objects.exists()
    assert not get_user_model().objects.filter(username="marie").exists()


def test_createsalon_refuses_an_existing_user_with_another_password(team_a):
    with pytest.raises(CommandError, match="password"):
        createsalon(
            "lilas",
            "--name",
            "Les Lilas",
            "--timezone",
            "Europe/Paris",
            "--currency",
            "EUR",
            "--country",
            "FR",
            "--owner",
            "bella-owner",
            "--password",
            "guess",
        )
    assert not Salon.objects.filter(slug="lilas").exists()


def test_bad_credentials_are_a_400(api, team_a):
    response = api().post(
        "/api/v1/auth/token/", {"username": "bella-owner", "password": "wrong"}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert "non_field_errors" in body["fields"]


def test_missing_credentials_are_field_errors(api):
    response = api().post("/api/v1/auth/token/", {}, format="json")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"username", "password"}


@pytest.mark.rate_limits
def test_token_endpoint_is_throttled(api, team_a):
    client = api()
    codes = [
        client.post("/api/v1/auth/token/", {"username": "x", "password": "y"}, format="json")
        for _ in range(12)
    ]
    assert [r.status_code for r in codes[:10]] == [400] * 10
    assert codes[10].status_code == 429
    assert codes[10].json()["code"] == "throttled"
    assert "Retry-After" in codes[10].headers
