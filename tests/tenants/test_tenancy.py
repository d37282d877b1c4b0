"""Invariant 1: tenant isolation, through the ORM, the API and its error shape."""

import pytest
from django.apps import apps
from django_scopes import ScopeError

from tenants.models import Membership, TenantModel
from tenants.scoping import salon_scope

pytestmark = pytest.mark.django_db


def _project_models():
    project_apps = {"tenants", "customers", "bookings", "deposits", "messaging", "support"}
    return [m for m in apps.get_models() if m._meta.app_label in project_apps]


def test_every_model_with_a_salon_is_tenant_owned():
    for model in _project_models():
        if any(f.name == "salon" for f in model._meta.fields):
            assert issubclass(model, TenantModel), f"{model.__name__} must derive TenantModel"


@pytest.mark.parametrize("model", [m for m in _project_models() if issubclass(m, TenantModel)])
def test_unscoped_query_of_tenant_data_raises(model, team_a, team_b):
    with pytest.raises(ScopeError):
        list(model.objects.all())
    with pytest.raises(ScopeError):
        model.objects.filter(pk=1).exists()


def test_a_scope_shows_one_salon_only(team_a, team_b):
    with salon_scope(team_a.salon):
        salons = set(Membership.objects.values_list("salon__slug", flat=True))
    assert salons == {"bella"}


def test_a_scope_without_a_salon_is_refused():
    with pytest.raises(ValueError, match="salon id"), salon_scope(None):
        pass


def _membership_id(team):
    with salon_scope(team.salon):
        return Membership.objects.get(user=team.staff).pk


def test_another_salons_object_is_404_like_a_missing_one(api, team_a, team_b):
    client = api(team_a.owner)
    theirs = _membership_id(team_b)
    ours = _membership_id(team_a)

    assert client.get(f"/api/v1/salons/bella/backoffice/members/{ours}/").status_code == 200
    other = client.get(f"/api/v1/salons/bella/backoffice/members/{theirs}/")
    missing = client.get("/api/v1/salons/bella/backoffice/members/999999/")
    assert other.status_code == missing.status_code == 404
    assert other.json() == missing.json() == {"code": "not_found", "detail": "Not found."}


def test_member_list_shows_own_salon_only(api, team_a, team_b):
    body = api(team_a.manager).get("/api/v1/salons/bella/backoffice/members/").json()
    assert body["count"] == 3
    assert {m["username"] for m in body["results"]} == {
        "bella-owner",
        "bella-manager",
        "bella-staff",
    }


@pytest.mark.parametrize("path", ["settings/", "members/"])
def test_member_of_a_gets_403_on_salon_b(api, team_a, team_b, path):
    for user in (team_a.owner, team_a.staff):
        response = api(user).get(f"/api/v1/salons/rival/backoffice/{path}")
        assert response.status_code == 403
        assert response.json()["code"] == "not_allowed"


def test_member_of_a_cannot_change_salon_b(api, team_a, team_b):
    response = api(team_a.owner).patch(
        "/api/v1/salons/rival/backoffice/settings/", {"name": "Taken"}, format="json"
    )
    assert response.status_code == 403
    team_b.salon.refresh_from_db()
    assert team_b.salon.name == "Rival Barbers"


def test_without_credentials_is_401(api, team_a):
    response = api().get("/api/v1/salons/bella/backoffice/settings/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_unknown_salon_is_404(api, team_a):
    response = api(team_a.owner).get("/api/v1/salons/nowhere/backoffice/settings/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_unknown_api_url_is_404_in_the_error_shape(api):
    response = api().get("/api/v1/no/such/thing/")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "Not found."}
