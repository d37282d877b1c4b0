"""The customers API: search as the front desk types, consents from the ledger, two salons."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import ConsentEvent
from tenants.scoping import salon_scope
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

A = "/api/v1/salons/bella/backoffice/customers/"
B = "/api/v1/salons/rival/backoffice/customers/"


@pytest.fixture
def lea(team_a):
    return CustomerFactory(
        salon=team_a.salon,
        name="Léa Martin",
        phone="0612345678",
        email="lea.martin@example.org",
        tags=["vip"],
    )


@pytest.fixture
def rival_lea(team_b):
    # The same person is also a client of the other salon, and must never show here.
    return CustomerFactory(
        salon=team_b.salon, name="Léa Martin", phone="+33612345678", email="lea.martin@example.org"
    )


@pytest.mark.parametrize(
    "query",
    [
        "lea",
        "LÉA",
        "mart",
        "Léa Martin",
        "lea.martin@",
        "EXAMPLE.org",
        "06 12 34 56 78",
        "0612345678",
        "+33 6 12 34 56 78",
        "0033612345678",
        "612345678",
        "06 12 34",
    ],
)
def test_search_finds_the_person_however_typed(api, team_a, lea, rival_lea, query):
    body = api(team_a.staff).get(A, {"search": query}).json()
    assert [c["id"] for c in body["results"]] == [lea.pk]


def test_search_misses_other_people(api, team_a, lea):
    body = api(team_a.staff).get(A, {"search": "0699999999"}).json()
    assert body["count"] == 0


def test_customer_detail_shape(api, team_a, lea):
    body = api(team_a.staff).get(f"{A}{lea.pk}/").json()
    assert body["phone"] == "+33612345678"
    assert body["tags"] == ["vip"]
    assert body["marketing_consent"] is False
    for figure in ("visits", "no_shows", "cancellations", "credit_balance", "lifetime_value"):
        assert body[figure] == 0


def test_create_reads_the_phone_in_the_salons_country(api, team_b):
    response = api(team_b.staff).post(
        B, {"name": "Sam", "phone": "(416) 555-0199", "marketing_consent": True}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["phone"] == "+14165550199"
    assert body["preferred_channel"] == "sms"
    assert body["marketing_consent"] is True


def test_invalid_phone_is_a_400_with_a_field_message(api, team_a):
    response = api(team_a.staff).post(A, {"name": "Sam", "phone": "12"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert response.json()["fields"]["phone"]


def test_duplicate_phone_is_a_400(api, team_a, lea):
    response = api(team_a.staff).post(A, {"name": "Autre", "phone": "+33612345678"}, format="json")
    assert response.status_code == 400
    assert "phone" in response.json()["fields"]


def test_bad_preferences_are_a_400(api, team_a, lea):
    response = api(team_a.staff).patch(
        f"{A}{lea.pk}/", {"preferences": {"days": [9]}}, format="json"
    )
    assert response.status_code == 400
    assert "preferences" in response.json()["fields"]


def test_staff_update_preferences_tags_and_flags(api, team_a, lea):
    response = api(team_a.staff).patch(
        f"{A}{lea.pk}/",
        {
            "preferences": {
                "services": [3],
                "days": [1, 4],
                "times": ["morning"],
                "notes": "Thé vert",
            },
            "tags": ["Fidèle", "vip"],
            "trusted": True,
            "notes": "Allergie au latex",
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["tags"] == ["fidèle", "vip"]
    assert body["trusted"] is True
    assert body["preferences"]["notes"] == "Thé vert"


def test_allergies_are_kept_only_with_the_clients_consent(api, team_a, lea):
    client = api(team_a.staff)
    refused = client.patch(f"{A}{lea.pk}/", {"preferences": {"allergies": "Latex"}}, format="json")
    assert refused.status_code == 400
    assert "allergies" in refused.json()["fields"]
    body = client.patch(
        f"{A}{lea.pk}/",
        {"preferences": {"allergies": "Latex"}, "health_consent": True},
        format="json",
    ).json()
    assert body["preferences"] == {"allergies": "Latex"}
    # Withdrawn, the consent takes the allergies with it.
    body = client.patch(f"{A}{lea.pk}/", {"health_consent": False}, format="json").json()
    assert body["preferences"] == {}


def test_consent_is_read_from_the_ledger(api, team_a, lea):
    client = api(team_a.staff)
    client.patch(f"{A}{lea.pk}/", {"marketing_consent": True}, format="json")
    client.patch(f"{A}{lea.pk}/", {"marketing_consent": True}, format="json")  # no change
    body = client.patch(f"{A}{lea.pk}/", {"marketing_consent": False}, format="json").json()
    assert body["marketing_consent"] is False
    history = client.get(f"{A}{lea.pk}/consents/").json()
    assert [(e["purpose"], e["granted"], e["source"]) for e in history] == [
        ("marketing", False, "staff"),
        ("marketing", True, "staff"),
    ]
    assert history[0]["recorded_by"] == "bella-staff"
    assert all(e["text_version"] for e in history)


def test_list_answers_in_a_bounded_number_of_queries(api, team_a):
    for n in range(60):
        CustomerFactory(
            salon=team_a.salon,
            name=f"Client {n}",
            tags=["a", "b"],
            consents={"marketing": n % 2 == 0},
        )
    client = api(team_a.staff)
    client.get(A)  # the salon's lookup is cached from the first request on
    counts = []
    for size in (5, 50):
        with CaptureQueriesContext(connection) as queries:
            body = client.get(A, {"page_size": size}).json()
        assert len(body["results"]) == size
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert counts[1] <= 6  # token, membership, count, page, tags (+1 spare)


def test_another_salons_customer_is_404(api, team_a, team_b, rival_lea):
    client = api(team_a.owner)
    for suffix in ("", "export/", "consents/"):
        response = client.get(f"{A}{rival_lea.pk}/{suffix}")
        assert response.status_code == 404, suffix
    assert client.patch(f"{A}{rival_lea.pk}/", {"name": "X"}, format="json").status_code == 404
    assert client.post(f"{A}{rival_lea.pk}/erase/").status_code == 404
    rival_lea.refresh_from_db()
    assert rival_lea.name == "Léa Martin"
    assert rival_lea.erased_at is None


def test_no_list_shows_another_salons_customers(api, team_a, lea, rival_lea):
    ids = [c["id"] for c in api(team_a.owner).get(A).json()["results"]]
    assert ids == [lea.pk]


def test_member_of_a_gets_403_on_salon_b_customers(api, team_a, team_b, rival_lea):
    client = api(team_a.owner)
    assert client.get(B).status_code == 403
    assert client.get(f"{B}{rival_lea.pk}/").status_code == 403
    assert client.post(B, {"name": "X", "phone": "0612"}, format="json").status_code == 403


def test_creating_in_a_records_nothing_in_b(api, team_a, team_b):
    api(team_a.staff).post(
        A, {"name": "Sam", "email": "sam@example.org", "reminders_consent": True}, format="json"
    )
    with salon_scope(team_b.salon):
        assert not ConsentEvent.objects.exists()
    assert api(team_b.staff).get(B).json()["count"] == 0
