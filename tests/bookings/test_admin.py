import pytest

from bookings.models import Booking, Status
from tenants.scoping import salon_scope
from tests.conftest import book, local
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def bookings(catalogue_a, catalogue_b, monday):
    lea = CustomerFactory(salon=catalogue_a.salon, name="Léa")
    sam = CustomerFactory(salon=catalogue_b.salon, name="Sam", phone="+14165550199")
    return (
        book(catalogue_a, lea, local(catalogue_a.salon, 1, 10)),
        book(catalogue_b, sam, local(catalogue_b.salon, 1, 10)),
    )


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
    client.post(
        "/admin/bookings/booking/", {"action": "cancel", "_selected_action": [ours.pk, theirs.pk]}
    )
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


QUOTE = "/api/v1/salons/bella/backoffice/deposit-policy/quote/"


def _service_form(service, **changes):
    form = {
        "name": service.name,
        "description": "",
        "duration_minutes": "45",
        "price": "6000",
        "buffer_before_minutes": "0",
        "buffer_after_minutes": "0",
        "processing_offset_minutes": "0",
        "processing_minutes": "0",
        "active": "on",
        "deposit_override": "null",
    }
    return {**form, **changes}


@pytest.mark.parametrize(
    "override",
    [
        '{"kind": "fixed"}',
        '{"kind": "percent", "value": 150}',
        '{"kind": "half"}',
        '{"value": 500}',
        "[1, 2]",
        '"fixed"',
        '{"kind": "fixed", "value": 4294967996}',
        '{"kind": "fixed", "value": 500, "extra": 1}',
    ],
)
def test_a_malformed_deposit_override_cannot_be_saved_from_the_admin(
    client, api, team_a, catalogue_a, override
):
    """It was stored, and every quote for the service then raised KeyError."""
    client.force_login(team_a.owner)
    url = f"/admin/bookings/service/{catalogue_a.cut.pk}/change/"
    response = client.post(url, _service_form(catalogue_a.cut, deposit_override=override))
    assert response.status_code == 200
    assert "deposit_override" in response.context["adminform"].form.errors
    quote = api(team_a.owner).get(QUOTE, {"service": catalogue_a.cut.pk, "date": "2027-03-02"})
    assert quote.status_code == 200


def test_a_deposit_override_is_saved_from_the_admin(client, api, team_a, catalogue_a):
    client.force_login(team_a.owner)
    url = f"/admin/bookings/service/{catalogue_a.cut.pk}/change/"
    form = _service_form(catalogue_a.cut, deposit_override='{"kind": "fixed", "value": 1500}')
    response = client.post(url, form)
    assert response.status_code == 302, response.context["adminform"].form.errors
    quote = api(team_a.owner).get(QUOTE, {"service": catalogue_a.cut.pk, "date": "2027-03-02"})
    assert (quote.json()["amount"], quote.json()["source"]) == (1500, "service_override")


def test_cancelling_from_the_admin_refunds_what_the_client_paid(
    client, team_a, catalogue_a, monday
):
    """The admin's "Cancel (by the salon)" settles the money as the desk's cancel does: a
    salon that cancels refunds in full (DESIGN.md, the deposit policy)."""
    from deposits.models import Payment, PaymentOutcome, Refund
    from deposits.payments import checkout_at_desk
    from deposits.services import policy_set

    lea = CustomerFactory(salon=catalogue_a.salon, name="Léa")
    with salon_scope(catalogue_a.salon):
        policy_set(salon=catalogue_a.salon, rule={"kind": "fixed", "value": 1500}, ramp=[])
        paid = checkout_at_desk(
            salon=catalogue_a.salon,
            service=catalogue_a.cut,
            start=local(catalogue_a.salon, 1, 10),
            customer=lea,
            staff=catalogue_a.alice,
            actor=team_a.staff,
            waived=False,
        ).booking
    client.force_login(team_a.owner)
    client.post("/admin/bookings/booking/", {"action": "cancel", "_selected_action": [paid.pk]})
    with salon_scope(team_a.salon):
        assert Booking.objects.get(pk=paid.pk).status == Status.CANCELLED
        payment = Payment.objects.get(booking=paid)
        assert payment.outcome == PaymentOutcome.REFUNDED
        assert Refund.objects.get(payment=payment).amount == 1500
