"""customer_find_or_create: one person, one customer, per salon, however they are typed."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from customers.models import Customer
from customers.services import customer_erase, customer_find_or_create
from tenants.scoping import salon_scope
from tests.factories import SalonFactory

pytestmark = pytest.mark.django_db

FORMS = {
    "FR": ["06 12 34 56 78", "+33 6 12 34 56 78", "0033612345678", "06.12.34.56.78"],
    "BE": ["0470 12 34 56", "+32 470 12 34 56", "0032470123456", "0470/12.34.56"],
    "CH": ["078 123 45 67", "+41 78 123 45 67", "0041781234567", "0781234567"],
    "CA": ["(416) 555-0199", "416-555-0199", "+1 416 555 0199", "1 416 555 0199"],
}


@pytest.mark.parametrize("country", sorted(FORMS))
def test_every_form_of_a_number_is_one_customer(country):
    salon = SalonFactory(country=country)
    with salon_scope(salon):
        found = {
            customer_find_or_create(salon=salon, name="Léa Martin", phone=typed).pk
            for typed in FORMS[country]
        }
        assert len(found) == 1
        assert Customer.objects.count() == 1


def test_invalid_number_is_a_field_error():
    salon = SalonFactory(country="FR")
    with pytest.raises(ValidationError) as exc:
        customer_find_or_create(salon=salon, name="X", phone="06 12")
    assert "phone" in exc.value.message_dict


def test_a_phone_or_an_email_is_required():
    salon = SalonFactory()
    with pytest.raises(ValidationError) as exc:
        customer_find_or_create(salon=salon, name="X", phone="", email=" ")
    assert "phone" in exc.value.message_dict


def test_email_matches_whatever_its_case():
    salon = SalonFactory()
    with salon_scope(salon):
        first = customer_find_or_create(salon=salon, name="Léa", email="Lea.Martin@Example.org")
        again = customer_find_or_create(salon=salon, name="Léa", email="lea.martin@example.ORG ")
        assert first.pk == again.pk
        assert again.email == "lea.martin@example.org"


def test_a_missing_contact_detail_is_filled_in():
    salon = SalonFactory()
    with salon_scope(salon):
        by_phone = customer_find_or_create(salon=salon, name="Léa", phone="0612345678")
        again = customer_find_or_create(
            salon=salon, name="Léa", phone="+33612345678", email="lea@example.org"
        )
        assert again.pk == by_phone.pk
        assert again.email == "lea@example.org"


def test_a_new_email_given_with_a_known_phone_is_kept():
    """It was silently dropped: the reminders went on to the address she had left."""
    salon = SalonFactory()
    with salon_scope(salon):
        first = customer_find_or_create(
            salon=salon, name="Léa", phone="0612345678", email="lea@old.example.org"
        )
        again = customer_find_or_create(
            salon=salon, name="Léa", phone="06 12 34 56 78", email="lea@new.example.org"
        )
        assert again.pk == first.pk
        again.refresh_from_db()
        assert again.email == "lea@new.example.org"
        assert Customer.objects.filter(search_text__contains="lea@new.example.org").exists()


def test_two_people_are_never_merged():
    salon = SalonFactory()
    with salon_scope(salon):
        lea = customer_find_or_create(salon=salon, name="Léa", phone="0612345678")
        tom = customer_find_or_create(salon=salon, name="Tom", email="tom@example.org")
        found = customer_find_or_create(
            salon=salon, name="?", phone="0612345678", email="tom@example.org"
        )
        assert found.pk == lea.pk
        lea.refresh_from_db()
        tom.refresh_from_db()
        assert lea.email is None  # Tom's e-mail is not taken from him
        assert tom.phone is None


def test_the_same_person_in_two_salons_is_two_customers():
    a, b = SalonFactory(), SalonFactory()
    with salon_scope(a):
        in_a = customer_find_or_create(salon=a, name="Léa", phone="0612345678")
    with salon_scope(b):
        in_b = customer_find_or_create(salon=b, name="Léa", phone="0612345678")
    assert in_a.pk != in_b.pk
    assert (in_a.salon_id, in_b.salon_id) == (a.pk, b.pk)
    with salon_scope(a):
        assert Customer.objects.count() == 1


def test_an_erased_person_coming_back_is_a_new_customer():
    salon = SalonFactory()
    with salon_scope(salon):
        old = customer_find_or_create(salon=salon, name="Léa", phone="0612345678")
        customer_erase(customer=old)
        new = customer_find_or_create(salon=salon, name="Léa", phone="0612345678")
        assert new.pk != old.pk


@pytest.mark.django_db(transaction=True)
def test_concurrent_bookers_of_one_new_person_make_one_customer():
    salon = SalonFactory()
    barrier = threading.Barrier(8)
    ids, errors = [], []

    def book():
        try:
            barrier.wait()
            with salon_scope(salon):  # as each booking request is
                ids.append(customer_find_or_create(salon=salon, name="Léa", phone="0612345678").pk)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=book) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(ids)) == 1
    with salon_scope(salon):
        assert Customer.objects.count() == 1
