"""The customers admin: search, filters and the consent history, one salon only."""

import pytest

from customers.models import Customer
from customers.services import customer_update
from tenants.scoping import salon_scope
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

URL = "/admin/customers/customer/"


@pytest.fixture
def people(team_a, team_b):
    lea = CustomerFactory(
        salon=team_a.salon,
        name="Léa Martin",
        phone="0612345678",
        tags=["vip"],
        consents={"marketing": True},
    )
    tom = CustomerFactory(salon=team_a.salon, name="Tom Petit", trusted=True)
    sam = CustomerFactory(salon=team_b.salon, name="Sam Rival", phone="+14165550199")
    return lea, tom, sam


def test_owner_sees_only_their_salons_clients(client, team_a, people):
    client.force_login(team_a.owner)
    html = client.get(URL).content.decode()
    assert "Léa Martin" in html
    assert "Tom Petit" in html
    assert "Sam Rival" not in html


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "06 12 34 56 78"}, {"Léa Martin"}),
        ({"q": "petit"}, {"Tom Petit"}),
        ({"q": "+1 416 555 0199"}, set()),
        ({"tag": "vip"}, {"Léa Martin"}),
        ({"trusted__exact": "1"}, {"Tom Petit"}),
        ({"no_shows": "no"}, {"Léa Martin", "Tom Petit"}),
        ({"no_shows": "yes"}, set()),
    ],
)
def test_search_and_filters(client, team_a, people, params, expected):
    client.force_login(team_a.owner)
    response = client.get(URL, params)
    assert response.status_code == 200
    shown = {str(c) for c in response.context["cl"].result_list}
    assert shown == expected


def test_change_page_shows_the_consent_history(client, team_a, people):
    lea = people[0]
    with salon_scope(team_a.salon):
        customer_update(customer=lea, consents={"marketing": False})
    client.force_login(team_a.owner)
    html = client.get(f"{URL}{lea.pk}/change/").content.decode()
    assert "Consent history" in html
    assert html.count("Offers and news") >= 2


def test_another_salons_client_is_404(client, team_a, people):
    client.force_login(team_a.owner)
    sam = people[2]
    assert client.get(f"{URL}{sam.pk}/change/").status_code == 404


def test_erase_action_anonymises(client, team_a, people):
    lea = people[0]
    client.force_login(team_a.owner)
    client.post(URL, {"action": "erase", "_selected_action": [lea.pk]})
    with salon_scope(team_a.salon):
        assert Customer.objects.get(pk=lea.pk).erased_at is not None


def test_adding_a_client_in_the_admin_reads_the_phone_like_everywhere(client, team_a, people):
    client.force_login(team_a.owner)
    form = {
        "name": "Nina Roux",
        "phone": "06 98 76 54 32",
        "email": "",
        "tag_names": "VIP, neuve",
        "preferred_channel": "sms",
        "language": "fr",
        "notes": "",
        "preferences": "{}",
        "consents-TOTAL_FORMS": "0",
        "consents-INITIAL_FORMS": "0",
    }
    response = client.post(f"{URL}add/", form)
    assert response.status_code == 302, response.context["adminform"].form.errors
    with salon_scope(team_a.salon):
        nina = Customer.objects.get(name="Nina Roux")
        assert str(nina.phone) == "+33698765432"
        assert sorted(t.name for t in nina.tags.all()) == ["neuve", "vip"]
        assert "0698765432" in nina.search_text

    duplicate = client.post(f"{URL}add/", {**form, "name": "Autre", "phone": "+33 6 12 34 56 78"})
    assert duplicate.status_code == 200
    assert "phone" in duplicate.context["adminform"].form.errors
