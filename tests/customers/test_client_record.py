"""The client's record in the admin: preferences as fields (days, times of day, staff,
products, allergies) kept in the record and checked, allergies only with the client's
consent; two records of one person merged with everything they hold, audited, never two
salons' records. Before, preferences were a raw JSON box and two clients could be merged
only when one was marked a possible duplicate of the other."""

import pytest
from django.contrib.admin.models import LogEntry
from django.core.exceptions import ValidationError

from bookings.models import Booking
from customers.models import ConsentEvent, Customer, Purpose
from customers.selectors import consent_current
from customers.services import customer_merge, customer_update
from deposits.history import CANCELLED_LATE, HONOURED, PastVisit, past_visits_import
from deposits.models import CreditEntry, Payment
from support.models import CustomerRequest
from support.services import request_open
from tenants.scoping import salon_scope
from tests.conftest import local
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

URL = "/admin/customers/customer/"


def _form(customer, **changes):
    form = {
        "name": customer.name,
        "phone": str(customer.phone or ""),
        "email": customer.email or "",
        "tag_names": "",
        "preferred_channel": "sms",
        "language": "fr",
        "notes": "",
        "preferred_products": "",
        "allergies": "",
        "consents-TOTAL_FORMS": "0",
        "consents-INITIAL_FORMS": "0",
    }
    return {**form, **changes}


def _reload(customer):
    with salon_scope(customer.salon_id):
        return Customer.objects.get(pk=customer.pk)


@pytest.fixture
def lea(team_a, catalogue_a, monday):
    return CustomerFactory(salon=team_a.salon, name="Léa Martin", phone="0612345678", email=None)


# Preferences ------------------------------------------------------------------------


def test_preferences_are_fields_that_round_trip(client, team_a, catalogue_a, lea):
    client.force_login(team_a.owner)
    page = client.get(f"{URL}{lea.pk}/change/").content.decode()
    assert 'name="preferences"' not in page  # the raw JSON box is gone
    assert 'name="preferred_days"' in page and 'name="preferred_times"' in page
    assert f'value="{catalogue_a.alice.pk}"' in page  # the salon's staff to choose from

    form = _form(
        lea,
        preferred_days=["1", "3"],
        preferred_times=["morning", "evening"],
        preferred_staff=[str(catalogue_a.alice.pk)],
        preferred_products="Shampooing sans sulfate",
        tag_names="Fidèle, VIP",
        notes="Aime le thé vert",
        health_consent="on",
        allergies="Latex",
    )
    response = client.post(f"{URL}{lea.pk}/change/", form)
    assert response.status_code == 302, response.context["adminform"].form.errors
    saved = _reload(lea)
    assert saved.preferences == {
        "days": [1, 3],
        "times": ["morning", "evening"],
        "staff": [catalogue_a.alice.pk],
        "products": "Shampooing sans sulfate",
        "allergies": "Latex",
    }
    assert saved.notes == "Aime le thé vert"
    with salon_scope(team_a.salon):
        assert sorted(t.name for t in saved.tags.all()) == ["fidèle", "vip"]
        assert consent_current(customer=saved)[Purpose.HEALTH] is True

    # Shown back as ticked boxes and text.
    page = client.get(f"{URL}{lea.pk}/change/").content.decode()
    assert 'value="3" id="id_preferred_days_3" checked' in page or (
        'name="preferred_days" value="3"' in page and "checked" in page
    )
    assert "Shampooing sans sulfate" in page and "Latex" in page


@pytest.mark.parametrize(
    "bad",
    [
        {"preferred_days": ["7"]},
        {"preferred_times": ["midnight"]},
        {"preferred_staff": ["999999"]},
    ],
)
def test_bad_preferences_are_refused(client, team_a, catalogue_a, lea, bad):
    client.force_login(team_a.owner)
    response = client.post(f"{URL}{lea.pk}/change/", _form(lea, **bad))
    assert response.status_code == 200
    assert set(bad) <= set(response.context["adminform"].form.errors)
    assert _reload(lea).preferences == {}


def test_another_salons_staff_cannot_be_preferred(client, team_a, catalogue_a, catalogue_b, lea):
    client.force_login(team_a.owner)
    page = client.get(f"{URL}{lea.pk}/change/").content.decode()
    assert f'name="preferred_staff" value="{catalogue_b.alice.pk}"' not in page
    response = client.post(
        f"{URL}{lea.pk}/change/", _form(lea, preferred_staff=[str(catalogue_b.alice.pk)])
    )
    assert "preferred_staff" in response.context["adminform"].form.errors


def test_the_service_checks_preferences_for_every_door(team_a, lea):
    with salon_scope(team_a.salon):
        for bad in ({"days": [9]}, {"times": ["noon"]}, {"colour": "red"}, {"staff": "Alice"}):
            with pytest.raises(ValidationError) as error:
                customer_update(customer=lea, preferences=bad)
            assert "preferences" in error.value.message_dict
    assert _reload(lea).preferences == {}


def test_allergies_are_refused_without_the_clients_consent(client, team_a, lea):
    client.force_login(team_a.owner)
    response = client.post(f"{URL}{lea.pk}/change/", _form(lea, allergies="Latex"))
    assert response.status_code == 200
    assert "allergies" in response.context["adminform"].form.errors
    assert _reload(lea).preferences == {}
    with salon_scope(team_a.salon), pytest.raises(ValidationError) as error:
        customer_update(customer=lea, preferences={"allergies": "Latex"})
    assert "allergies" in error.value.message_dict
    assert _reload(lea).preferences == {}


def test_withdrawing_the_consent_forgets_the_allergies(client, team_a, lea):
    with salon_scope(team_a.salon):
        customer_update(
            customer=lea,
            preferences={"allergies": "Latex", "times": ["morning"]},
            consents={Purpose.HEALTH: True},
        )
    assert _reload(lea).preferences["allergies"] == "Latex"
    client.force_login(team_a.owner)
    response = client.post(
        f"{URL}{lea.pk}/change/", _form(lea, preferred_times=["morning"], allergies="Latex")
    )
    # Unticking the consent while keeping the text is refused: she has not agreed.
    assert "allergies" in response.context["adminform"].form.errors
    response = client.post(f"{URL}{lea.pk}/change/", _form(lea, preferred_times=["morning"]))
    assert response.status_code == 302
    saved = _reload(lea)
    assert saved.preferences == {"times": ["morning"]}
    with salon_scope(team_a.salon):
        assert consent_current(customer=saved)[Purpose.HEALTH] is False
        assert ConsentEvent.objects.filter(customer=saved, purpose=Purpose.HEALTH).count() == 2


def test_what_other_doors_keep_in_the_preferences_survives_the_admin(client, team_a, lea):
    with salon_scope(team_a.salon):
        customer_update(customer=lea, preferences={"services": [3], "notes": "Thé vert"})
    client.force_login(team_a.owner)
    response = client.post(f"{URL}{lea.pk}/change/", _form(lea, preferred_days=["0"]))
    assert response.status_code == 302
    assert _reload(lea).preferences == {"services": [3], "notes": "Thé vert", "days": [0]}


# Merging ----------------------------------------------------------------------------


def _history(catalogue, customer, day_offset=0):
    """A visit honoured and a late cancellation whose deposit became credit, and a
    request."""
    salon = catalogue.salon
    visits = [
        PastVisit(
            customer=customer,
            service=catalogue.cut,
            staff=catalogue.alice,
            start=local(salon, -10 - day_offset, 10),
            booked_at=local(salon, -12 - day_offset, 10),
            source="web",
            ended=ended,
            cancelled_at=local(salon, -10 - day_offset, 8) if ended == CANCELLED_LATE else None,
            paid=1500,
        )
        for ended in (HONOURED, CANCELLED_LATE)
    ]
    visits[1] = PastVisit(**{**visits[1].__dict__, "start": local(salon, -3 - day_offset, 11)})
    with salon_scope(salon):
        past_visits_import(salon=salon, visits=visits)
        request_open(
            salon=salon, channel="phone", category="booking", summary="Question", customer=customer
        )


def _held(salon, customer_pk):
    with salon_scope(salon):
        return {
            "bookings": Booking.objects.filter(customer_id=customer_pk).count(),
            "payments": Payment.objects.filter(booking__customer_id=customer_pk).count(),
            "credit": CreditEntry.objects.filter(customer_id=customer_pk).count(),
            "requests": CustomerRequest.objects.filter(customer_id=customer_pk).count(),
            "consents": ConsentEvent.objects.filter(customer_id=customer_pk).count(),
        }


@pytest.fixture
def pair(team_a, catalogue_a, lea):
    """Two records of one person: her phone one and an e-mail one made at the desk."""
    other = CustomerFactory(
        salon=team_a.salon,
        name="L. Martin",
        phone=None,
        email="lea@example.org",
        notes="Préfère le matin",
        tags=["vip"],
        consents={"marketing": True},
    )
    _history(catalogue_a, lea)
    _history(catalogue_a, other, day_offset=20)
    return lea, other


@pytest.fixture
def rival(team_b, catalogue_b, monday):
    sam = CustomerFactory(salon=team_b.salon, name="Sam Rival", phone="+14165550199")
    _history(catalogue_b, sam)
    return sam


def test_merging_moves_everything_to_the_kept_record(team_a, pair, rival):
    lea, other = pair
    rival_before = _held(rival.salon, rival.pk)
    with salon_scope(team_a.salon):
        kept = customer_merge(source=other, into=lea, actor=team_a.owner)
    assert _held(team_a.salon, lea.pk) == {
        "bookings": 4,
        "payments": 4,
        "credit": 2,
        "requests": 2,
        "consents": 1,
    }
    assert _held(team_a.salon, other.pk) == dict.fromkeys(rival_before, 0)
    with salon_scope(team_a.salon):
        assert not Customer.objects.filter(pk=other.pk).exists()
        assert [t.name for t in kept.tags.all()] == ["vip"]
    # Her phone kept, the other record's e-mail taken, its notes kept.
    assert str(kept.phone) == "+33612345678"
    assert kept.email == "lea@example.org"
    assert "Préfère le matin" in kept.notes
    # Audited in the kept record's history, by whom and with what moved.
    entry = LogEntry.objects.get(object_id=str(lea.pk), user=team_a.owner)
    assert f"#{other.pk}" in entry.change_message and "L. Martin" in entry.change_message
    # The other salon's client is untouched.
    assert _held(rival.salon, rival.pk) == rival_before


def test_a_contact_the_kept_record_cannot_take_is_kept_in_its_notes(team_a, lea, monday):
    other = CustomerFactory(
        salon=team_a.salon, name="Léa M.", phone="0698765432", email="lea@example.org"
    )
    with salon_scope(team_a.salon):
        kept = customer_merge(source=other, into=lea, actor=team_a.owner)
    assert str(kept.phone) == "+33612345678"  # her own, kept
    assert kept.email == "lea@example.org"  # she had none
    assert "+33698765432" in kept.notes  # the other phone is not lost


def test_two_salons_clients_are_never_merged(team_a, team_b, lea, rival):
    rival_before = _held(rival.salon, rival.pk)
    with salon_scope(team_a.salon), pytest.raises(ValidationError):
        customer_merge(source=rival, into=lea, actor=team_a.owner)
    with salon_scope(team_a.salon), pytest.raises(ValidationError):
        customer_merge(source=lea, into=rival, actor=team_a.owner)
    assert _held(rival.salon, rival.pk) == rival_before
    assert _reload(lea).pk == lea.pk


def test_the_admin_asks_which_record_to_keep_then_merges(client, team_a, pair, rival):
    lea, other = pair
    rival_before = _held(rival.salon, rival.pk)
    client.force_login(team_a.owner)
    page = client.post(URL, {"action": "merge_two", "_selected_action": [lea.pk, other.pk]})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Léa Martin" in html and "L. Martin" in html
    assert f'value="{lea.pk}" id="keep-{lea.pk}" checked' in html
    assert _held(team_a.salon, other.pk)["bookings"] == 2  # nothing merged yet

    done = client.post(
        URL,
        {
            "action": "merge_two",
            "_selected_action": [lea.pk, other.pk],
            "confirm": "yes",
            "keep": str(other.pk),
        },
    )
    assert done.status_code == 302
    with salon_scope(team_a.salon):
        assert not Customer.objects.filter(pk=lea.pk).exists()
    assert _held(team_a.salon, other.pk)["bookings"] == 4
    assert _held(rival.salon, rival.pk) == rival_before


def test_the_admin_merges_two_records_only(client, team_a, pair):
    lea, other = pair
    third = CustomerFactory(salon=team_a.salon, name="Tom Petit")
    client.force_login(team_a.owner)
    response = client.post(
        URL,
        {
            "action": "merge_two",
            "_selected_action": [lea.pk, other.pk, third.pk],
            "confirm": "yes",
            "keep": str(lea.pk),
        },
        follow=True,
    )
    assert "exactement deux" in response.content.decode() or "exactly two" in (
        response.content.decode()
    )
    assert _held(team_a.salon, other.pk)["bookings"] == 2


def test_a_superuser_cannot_merge_two_salons_clients(client, superuser, lea, rival):
    rival_before = _held(rival.salon, rival.pk)
    client.force_login(superuser)
    response = client.post(
        URL,
        {
            "action": "merge_two",
            "_selected_action": [lea.pk, rival.pk],
            "confirm": "yes",
            "keep": str(lea.pk),
        },
        follow=True,
    )
    assert response.status_code == 200
    assert _held(rival.salon, rival.pk) == rival_before
    assert _reload(lea).pk == lea.pk
