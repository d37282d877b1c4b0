"""Customer requests: logged, classified, timed; figures for the salon; two salons apart."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.selectors import customer_export
from customers.services import customer_erase
from support.models import CustomerRequest
from support.selectors import request_stats
from support.services import request_open, request_update
from tenants.scoping import salon_scope
from tests.conftest import MONDAY, book, local
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

A = "/api/v1/salons/bella/backoffice/requests/"
B = "/api/v1/salons/rival/backoffice/requests/"


@pytest.fixture
def lea(team_a):
    return CustomerFactory(salon=team_a.salon, name="Léa Martin", phone="0612345678")


@pytest.fixture
def sam(team_b):
    return CustomerFactory(salon=team_b.salon, name="Sam Rival", phone="+14165550199")


def log(salon, at, **fields):
    """A request opened at `at`, through the service."""
    fields = {"channel": "phone", "category": "booking", "summary": "Question", **fields}
    with time_machine.travel(at, tick=False), salon_scope(salon):
        return request_open(salon=salon, **fields)


def act(row, at, **changes):
    with time_machine.travel(at, tick=False), salon_scope(row.salon_id):
        return request_update(customer_request=row, **changes)


def after(minutes):
    return MONDAY + dt.timedelta(minutes=minutes)


# Logging and the lifecycle ----------------------------------------------------------


def test_front_desk_logs_a_request(api, team_a, lea, monday):
    response = api(team_a.staff).post(
        A,
        {
            "customer": lea.pk,
            "channel": "phone",
            "category": "pre_sale",
            "summary": "  Faites-vous les balayages ?  ",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["customer"] == lea.pk
    assert body["customer_name"] == "Léa Martin"
    assert body["summary"] == "Faites-vous les balayages ?"
    assert body["status"] == "open"
    assert body["resolution"] == ""
    assert body["opened_by"] == "bella-staff"
    assert body["opened_at"] == "2027-03-01T08:00:00+01:00"  # the salon's time zone
    assert body["first_response_at"] is None
    assert body["resolved_at"] is None
    assert api(team_a.staff).get(f"{A}{body['id']}/").json() == body


def test_someone_not_yet_a_client_may_ask(api, team_a, monday):
    response = api(team_a.staff).post(
        A,
        {
            "customer": None,
            "channel": "walk_in",
            "category": "pre_sale",
            "summary": "Prix d'une coupe enfant ?",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["customer"] is None
    assert response.json()["customer_name"] is None


def test_first_response_and_resolution_are_stamped_as_staff_act(api, team_a, lea, monday):
    client = api(team_a.staff)
    pk = client.post(
        A,
        {
            "customer": lea.pk,
            "channel": "email",
            "category": "payment",
            "summary": "Acompte débité deux fois",
        },
        format="json",
    ).json()["id"]

    monday.shift(dt.timedelta(minutes=5))
    body = client.patch(
        f"{A}{pk}/", {"summary": "Acompte débité deux fois ?"}, format="json"
    ).json()
    assert body["first_response_at"] is None  # editing the summary is not answering

    monday.shift(dt.timedelta(minutes=10))
    body = client.patch(f"{A}{pk}/", {"status": "waiting"}, format="json").json()
    assert body["first_response_at"] == "2027-03-01T08:15:00+01:00"
    assert body["resolved_at"] is None

    monday.shift(dt.timedelta(hours=2))
    body = client.patch(
        f"{A}{pk}/",
        {"status": "resolved", "resolution": "Doublon annulé chez la banque"},
        format="json",
    ).json()
    assert body["first_response_at"] == "2027-03-01T08:15:00+01:00"  # the first, kept
    assert body["resolved_at"] == "2027-03-01T10:15:00+01:00"

    monday.shift(dt.timedelta(hours=1))
    body = client.patch(
        f"{A}{pk}/", {"resolution": "Doublon annulé ; remboursé"}, format="json"
    ).json()
    assert body["resolved_at"] == "2027-03-01T10:15:00+01:00"  # still resolved: unchanged

    monday.shift(dt.timedelta(days=1))
    body = client.patch(f"{A}{pk}/", {"status": "open"}, format="json").json()
    assert body["resolved_at"] is None  # reopened
    assert body["first_response_at"] == "2027-03-01T08:15:00+01:00"

    monday.shift(dt.timedelta(hours=1))
    body = client.patch(f"{A}{pk}/", {"status": "resolved"}, format="json").json()
    assert body["resolved_at"] == "2027-03-02T12:15:00+01:00"


def test_a_resolution_written_is_a_first_response(api, team_a, monday):
    client = api(team_a.staff)
    pk = client.post(
        A,
        {"channel": "phone", "category": "booking", "summary": "Peut-on décaler ?"},
        format="json",
    ).json()["id"]
    monday.shift(dt.timedelta(minutes=3))
    body = client.patch(f"{A}{pk}/", {"resolution": "Rappel prévu demain"}, format="json").json()
    assert body["status"] == "open"
    assert body["first_response_at"] == "2027-03-01T08:03:00+01:00"


def test_a_request_answered_on_the_spot_is_logged_resolved(api, team_a, monday):
    body = (
        api(team_a.staff)
        .post(
            A,
            {
                "channel": "walk_in",
                "category": "pre_sale",
                "summary": "Horaires du samedi ?",
                "status": "resolved",
                "resolution": "9 h - 18 h",
            },
            format="json",
        )
        .json()
    )
    assert body["opened_at"] == body["first_response_at"] == body["resolved_at"]


def test_a_request_about_a_booking_is_its_clients(api, team_a, lea, catalogue_a, monday):
    booking = book(catalogue_a, lea, local(team_a.salon, 1, 10))
    body = (
        api(team_a.staff)
        .post(
            A,
            {
                "booking": booking.pk,
                "channel": "phone",
                "category": "booking",
                "summary": "Arrivera 10 minutes en retard",
            },
            format="json",
        )
        .json()
    )
    assert (body["booking"], body["customer"]) == (booking.pk, lea.pk)

    tom = CustomerFactory(salon=team_a.salon, name="Tom Petit")
    response = api(team_a.staff).post(
        A,
        {
            "customer": tom.pk,
            "booking": booking.pk,
            "channel": "phone",
            "category": "booking",
            "summary": "?",
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {"booking": ["This booking is another client's."]}


def test_a_lost_item_is_described_kept_and_returned(api, team_a, lea, monday):
    client = api(team_a.staff)
    response = client.post(
        A,
        {
            "customer": lea.pk,
            "channel": "phone",
            "category": "lost_item",
            "summary": "A oublié son écharpe mardi",
            "item_description": "Écharpe bleue",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["item_description"], body["item_found"]) == ("Écharpe bleue", False)

    monday.shift(dt.timedelta(minutes=20))
    body = client.patch(
        f"{A}{body['id']}/",
        {"item_location": "Tiroir de l'accueil", "status": "waiting"},
        format="json",
    ).json()
    assert body["item_found"] is True
    assert body["item_returned_at"] is None

    monday.shift(dt.timedelta(days=1))
    body = client.patch(
        f"{A}{body['id']}/",
        {
            "item_returned_at": "2027-03-02T08:20:00+01:00",
            "status": "resolved",
            "resolution": "Rendue en main propre",
        },
        format="json",
    ).json()
    assert body["item_returned_at"] == "2027-03-02T08:20:00+01:00"
    assert body["resolved_at"] == "2027-03-02T08:20:00+01:00"

    future = client.patch(
        f"{A}{body['id']}/", {"item_returned_at": "2027-03-09T10:00:00+01:00"}, format="json"
    )
    assert future.status_code == 400
    assert list(future.json()["fields"]) == ["item_returned_at"]


def test_only_a_lost_item_describes_an_item(api, team_a, monday):
    client = api(team_a.staff)
    response = client.post(
        A,
        {
            "channel": "phone",
            "category": "complaint",
            "summary": "Bruit",
            "item_location": "Accueil",
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "item_location": ["Only a lost-item request describes an item."]
    }
    pk = client.post(
        A,
        {
            "channel": "phone",
            "category": "lost_item",
            "summary": "Lunettes",
            "item_description": "Lunettes rouges",
        },
        format="json",
    ).json()["id"]
    reclassified = client.patch(f"{A}{pk}/", {"category": "other"}, format="json")
    assert reclassified.status_code == 400
    assert list(reclassified.json()["fields"]) == ["item_description"]
    done = client.patch(f"{A}{pk}/", {"category": "other", "item_description": ""}, format="json")
    assert done.status_code == 200


# Bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"channel", "category", "summary"}),
        ({"channel": "fax", "category": "booking", "summary": "x"}, {"channel"}),
        ({"channel": "phone", "category": "gossip", "summary": "x"}, {"category"}),
        ({"channel": "phone", "category": "booking", "summary": "   "}, {"summary"}),
        (
            {"channel": "phone", "category": "booking", "summary": "x", "status": "closed"},
            {"status"},
        ),
        ({"channel": "phone", "category": "booking", "summary": "x" * 5001}, {"summary"}),
        (
            {"channel": "phone", "category": "booking", "summary": "x", "customer": "abc"},
            {"customer"},
        ),
        (
            {"channel": "phone", "category": "booking", "summary": "x", "customer": True},
            {"customer"},
        ),
        (
            {"channel": "phone", "category": "booking", "summary": "x", "customer": "²"},
            {"customer"},
        ),
        (
            {"channel": "phone", "category": "booking", "summary": "x", "customer": 10**30},
            {"customer"},
        ),
        (
            {"channel": "phone", "category": "booking", "summary": "x", "booking": 999999},
            {"booking"},
        ),
        (
            {
                "channel": "phone",
                "category": "lost_item",
                "summary": "x",
                "item_returned_at": "hier",
            },
            {"item_returned_at"},
        ),
    ],
)
def test_bad_input_is_a_400_with_field_messages(api, team_a, body, fields):
    response = api(team_a.staff).post(A, body, format="json")
    assert response.status_code == 400
    answer = response.json()
    assert answer["code"] == "invalid"
    assert answer["detail"]
    assert set(answer["fields"]) == fields
    with salon_scope(team_a.salon):
        assert not CustomerRequest.objects.exists()


def test_a_body_that_is_not_json_is_a_parse_error(api, team_a):
    response = api(team_a.staff).post(A, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_a_body_that_is_not_an_object_is_a_400(api, team_a):
    response = api(team_a.staff).post(A, [1, 2], format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_an_erased_client_cannot_be_given_a_new_request(api, team_a, lea):
    with salon_scope(team_a.salon):
        customer_erase(customer=lea)
    response = api(team_a.staff).post(
        A,
        {"customer": lea.pk, "channel": "phone", "category": "other", "summary": "x"},
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["customer"]


# The list and its filters -------------------------------------------------------------


@pytest.fixture
def logged(team_a, lea):
    tom = CustomerFactory(salon=team_a.salon, name="Tom Petit")
    rows = {
        "lea_phone": log(team_a.salon, MONDAY, customer=lea, category="complaint"),
        # 23:30 UTC on Monday is already Tuesday 00:30 in Paris.
        "tom_email": log(
            team_a.salon,
            MONDAY + dt.timedelta(hours=16, minutes=30),
            customer=tom,
            channel="email",
            category="payment",
        ),
        "walk_in": log(
            team_a.salon,
            MONDAY + dt.timedelta(days=2),
            channel="walk_in",
            category="pre_sale",
            status="resolved",
            resolution="Oui",
        ),
    }
    return rows, tom


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["walk_in", "tom_email", "lea_phone"]),  # newest first
        ({"status": "open"}, ["tom_email", "lea_phone"]),
        ({"status": "resolved"}, ["walk_in"]),
        ({"category": "complaint"}, ["lea_phone"]),
        ({"channel": "email"}, ["tom_email"]),
        ({"from": "2027-03-01", "to": "2027-03-01"}, ["lea_phone"]),
        ({"from": "2027-03-02", "to": "2027-03-02"}, ["tom_email"]),
        ({"from": "2027-03-02"}, ["walk_in", "tom_email"]),
        ({"to": "2027-03-02"}, ["tom_email", "lea_phone"]),
        ({"status": "open", "channel": "phone"}, ["lea_phone"]),
    ],
)
def test_list_filters(api, team_a, logged, params, expected):
    rows, _tom = logged
    body = api(team_a.staff).get(A, params).json()
    assert [r["id"] for r in body["results"]] == [rows[name].pk for name in expected]
    assert body["count"] == len(expected)


def test_list_filters_by_client(api, team_a, lea, logged):
    rows, tom = logged
    body = api(team_a.staff).get(A, {"customer": tom.pk}).json()
    assert [r["id"] for r in body["results"]] == [rows["tom_email"].pk]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "closed"}, "status"),
        ({"category": "x"}, "category"),
        ({"channel": "fax"}, "channel"),
        ({"customer": "léa"}, "customer"),
        ({"customer": "²"}, "customer"),
        ({"from": "01/03/2027"}, "from"),
        ({"to": "2027-02-30"}, "to"),
        ({"from": "2027-03-02", "to": "2027-03-01"}, "to"),
        ({"from": "0001-01-01"}, "from"),
    ],
)
def test_bad_list_filters_are_a_400(api, team_a, params, field):
    response = api(team_a.staff).get(A, params)
    assert response.status_code == 400
    assert list(response.json()["fields"]) == [field]


def test_list_answers_in_a_bounded_number_of_queries(api, team_a, lea):
    for n in range(30):
        log(team_a.salon, after(n), customer=lea, summary=f"Demande {n}")
    client = api(team_a.staff)
    client.get(A)  # the salon's lookup is cached from the first request on
    counts = []
    for size in (5, 30):
        with CaptureQueriesContext(connection) as queries:
            body = client.get(A, {"page_size": size}).json()
        assert len(body["results"]) == size
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert counts[1] <= 5  # token, membership, count, page (+1 spare)


# The salon's figures --------------------------------------------------------------------


@pytest.fixture
def month(team_a, lea):
    """Four requests on Monday (Paris), answered in 10, 30, 20 minutes and never; two
    resolved, in 1 h and 3 h. One more the next week, outside the period asked."""
    salon = team_a.salon
    r1 = log(salon, after(0), category="complaint")
    act(r1, after(10), status="waiting")
    act(r1, after(60), status="resolved", resolution="Geste commercial")
    r2 = log(salon, after(60), category="complaint", channel="email")
    act(r2, after(90), resolution="Rappelée")
    act(r2, after(240), status="resolved")
    r3 = log(salon, after(120), category="lost_item", item_description="Bague")
    act(r3, after(140), status="waiting")
    log(salon, after(180), category="pre_sale", channel="walk_in")
    outside = log(salon, MONDAY + dt.timedelta(days=7), category="payment")
    act(outside, MONDAY + dt.timedelta(days=7, minutes=1), status="resolved")


def test_stats_count_and_time_the_period(api, team_a, month):
    response = api(team_a.staff).get(f"{A}stats/", {"from": "2027-03-01", "to": "2027-03-02"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["from"], body["to"], body["timezone"]) == (
        "2027-03-01",
        "2027-03-02",
        "Europe/Paris",
    )
    assert body["total"] == 4
    assert body["by_category"] == {
        "pre_sale": 1,
        "booking": 0,
        "payment": 0,
        "after_sale": 0,
        "complaint": 2,
        "lost_item": 1,
        "other": 0,
    }
    assert body["by_status"] == {"open": 1, "waiting": 1, "resolved": 2}
    assert body["by_channel"] == {"phone": 2, "email": 1, "walk_in": 1, "web": 0, "sms": 0}
    assert (body["responded"], body["resolved"]) == (3, 2)
    assert body["median_first_response_seconds"] == 20 * 60  # of 10, 20, 30 minutes
    assert body["median_resolution_seconds"] == 120 * 60  # between 1 h and 3 h


def test_stats_of_a_quiet_period_have_no_medians(api, team_a, month):
    body = api(team_a.staff).get(f"{A}stats/", {"from": "2027-02-01", "to": "2027-02-28"}).json()
    assert body["total"] == 0
    assert body["median_first_response_seconds"] is None
    assert body["median_resolution_seconds"] is None


def test_stats_days_are_the_salons(team_a):
    # 23:30 UTC on 28 February is 1 March in Paris.
    log(team_a.salon, MONDAY - dt.timedelta(hours=7, minutes=30), category="other")
    with salon_scope(team_a.salon):
        march = request_stats(
            salon=team_a.salon, date_from=dt.date(2027, 3, 1), date_to=dt.date(2027, 3, 1)
        )
        february = request_stats(
            salon=team_a.salon, date_from=dt.date(2027, 2, 28), date_to=dt.date(2027, 2, 28)
        )
    assert (march.total, february.total) == (1, 0)


def test_stats_answer_in_three_queries(team_a, month):
    with salon_scope(team_a.salon), CaptureQueriesContext(connection) as queries:
        request_stats(
            salon=team_a.salon, date_from=dt.date(2027, 3, 1), date_to=dt.date(2027, 3, 31)
        )
    assert len(queries) == 3


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({}, {"from", "to"}),
        ({"from": "2027-03-01"}, {"to"}),
        ({"from": "2027-03-01", "to": "demain"}, {"to"}),
        ({"from": "2027-03-31", "to": "2027-03-01"}, {"to"}),
        ({"from": "2027-03-01", "to": "9999-12-31"}, {"to"}),
    ],
)
def test_stats_need_a_period(api, team_a, params, fields):
    response = api(team_a.staff).get(f"{A}stats/", params)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert set(response.json()["fields"]) == fields


# Who may --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "manager", "staff"])
def test_every_member_reads_and_writes_requests(api, team_a, role, monday):
    client = api(getattr(team_a, role))
    created = client.post(
        A, {"channel": "web", "category": "other", "summary": "Parking ?"}, format="json"
    )
    assert created.status_code == 201
    pk = created.json()["id"]
    assert client.get(A).status_code == 200
    assert client.get(f"{A}{pk}/").status_code == 200
    assert client.patch(f"{A}{pk}/", {"status": "resolved"}, format="json").status_code == 200
    assert client.get(f"{A}stats/", {"from": "2027-03-01", "to": "2027-03-01"}).status_code == 200


def test_without_credentials_it_is_401(api, team_a, monday):
    row = log(team_a.salon, MONDAY)
    anonymous = api(None)
    for response in (
        anonymous.get(A),
        anonymous.post(A, {"channel": "web", "category": "other", "summary": "x"}, format="json"),
        anonymous.get(f"{A}{row.pk}/"),
        anonymous.patch(f"{A}{row.pk}/", {"status": "resolved"}, format="json"),
        anonymous.get(f"{A}stats/", {"from": "2027-03-01", "to": "2027-03-01"}),
    ):
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"
    row.refresh_from_db()
    assert row.status == "open"


# Two salons -----------------------------------------------------------------------------


def test_salon_b_staff_get_403_on_salon_a(api, team_a, team_b, lea):
    row = log(team_a.salon, MONDAY, customer=lea, summary="Réclamation")
    rival = api(team_b.staff)
    for response in (
        rival.get(A),
        rival.post(A, {"channel": "web", "category": "other", "summary": "x"}, format="json"),
        rival.get(f"{A}{row.pk}/"),
        rival.patch(f"{A}{row.pk}/", {"summary": "changé"}, format="json"),
        rival.get(f"{A}stats/", {"from": "2027-03-01", "to": "2027-03-01"}),
    ):
        assert response.status_code == 403
        assert response.json()["code"] == "not_allowed"
    row.refresh_from_db()
    assert row.summary == "Réclamation"


def test_a_request_of_salon_a_is_not_found_under_salon_b(api, team_a, team_b, lea):
    row = log(team_a.salon, MONDAY, customer=lea, summary="Réclamation")
    rival = api(team_b.staff)
    assert rival.get(f"{B}{row.pk}/").status_code == 404
    patched = rival.patch(f"{B}{row.pk}/", {"status": "resolved"}, format="json")
    assert patched.status_code == 404
    assert patched.json() == {"code": "not_found", "detail": "Not found."}
    assert rival.get(B).json()["count"] == 0
    stats = rival.get(f"{B}stats/", {"from": "2027-03-01", "to": "2027-03-01"}).json()
    assert stats["total"] == 0
    row.refresh_from_db()
    assert row.status == "open"


def test_another_salons_client_or_booking_reads_as_none(
    api, team_a, team_b, sam, catalogue_b, monday
):
    theirs = book(catalogue_b, sam, local(team_b.salon, 1, 10))
    client = api(team_a.staff)
    base = {"channel": "phone", "category": "complaint", "summary": "x"}
    foreign = client.post(A, {**base, "customer": sam.pk}, format="json")
    missing = client.post(A, {**base, "customer": 987654}, format="json")
    assert foreign.status_code == missing.status_code == 400
    assert foreign.json() == missing.json()
    assert foreign.json()["fields"] == {"customer": ["No such client."]}
    booking = client.post(A, {**base, "booking": theirs.pk}, format="json")
    assert booking.status_code == 400
    assert booking.json()["fields"] == {"booking": ["No such booking."]}

    pk = client.post(A, base, format="json").json()["id"]
    patched = client.patch(f"{A}{pk}/", {"customer": sam.pk}, format="json")
    assert patched.status_code == 400
    assert patched.json()["fields"] == {"customer": ["No such client."]}
    with salon_scope(team_a.salon):
        assert CustomerRequest.objects.get(pk=pk).customer_id is None
    with salon_scope(team_b.salon):
        assert not CustomerRequest.objects.exists()


def test_the_service_refuses_another_salons_client(team_a, sam):
    with salon_scope(team_a.salon), pytest.raises(ValidationError) as refused:
        request_open(
            salon=team_a.salon, customer=sam, channel="phone", category="other", summary="x"
        )
    assert refused.value.message_dict == {"customer": ["No such client."]}


# The admin ------------------------------------------------------------------------------

ADMIN = "/admin/support/customerrequest/"


@pytest.fixture
def both(team_a, team_b, lea, sam):
    ours = log(
        team_a.salon, MONDAY, customer=lea, summary="Couleur trop claire", category="complaint"
    )
    mine_too = log(
        team_a.salon,
        after(5),
        summary="Parapluie oublié",
        category="lost_item",
        channel="walk_in",
        status="resolved",
    )
    theirs = log(team_b.salon, MONDAY, customer=sam, summary="Barbe ratée", category="complaint")
    return ours, mine_too, theirs


def test_admin_lists_only_the_users_salon(client, team_a, both):
    client.force_login(team_a.owner)
    response = client.get(ADMIN)
    assert response.status_code == 200
    shown = {row.pk for row in response.context["cl"].result_list}
    assert shown == {both[0].pk, both[1].pk}
    assert "Barbe ratée" not in response.content.decode()


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status__exact": "resolved"}, {1}),
        ({"category__exact": "complaint"}, {0}),
        ({"channel__exact": "walk_in"}, {1}),
        ({"q": "Martin"}, {0}),
        ({"q": "parapluie"}, {1}),
        ({"q": "barbe"}, set()),
    ],
)
def test_admin_filters_and_search(client, team_a, both, params, expected):
    client.force_login(team_a.owner)
    response = client.get(ADMIN, params)
    assert response.status_code == 200
    shown = {row.pk for row in response.context["cl"].result_list}
    assert shown == {both[i].pk for i in expected}


def test_admin_404s_on_another_salons_request(client, team_a, both):
    client.force_login(team_a.owner)
    assert client.get(f"{ADMIN}{both[2].pk}/change/").status_code == 404


def test_admin_client_choices_are_the_salons_only(client, team_a, both, lea, sam):
    client.force_login(team_a.owner)
    assert client.get(f"{ADMIN}add/").status_code == 200
    params = {"app_label": "support", "model_name": "customerrequest", "field_name": "customer"}
    found = client.get("/admin/autocomplete/", {**params, "term": ""}).json()
    assert [int(r["id"]) for r in found["results"]] == [lea.pk]


def test_admin_changes_go_through_the_service(client, team_a, lea, both, team_b, sam):
    ours = both[0]
    client.force_login(team_a.owner)
    form = {
        "customer": lea.pk,
        "booking": "",
        "channel": "phone",
        "category": "complaint",
        "summary": "Couleur trop claire",
        "status": "resolved",
        "resolution": "Patine offerte",
        "item_description": "",
        "item_location": "",
        "item_returned_at_0": "",
        "item_returned_at_1": "",
    }
    response = client.post(f"{ADMIN}{ours.pk}/change/", form)
    assert response.status_code == 302, response.context["adminform"].form.errors
    ours.refresh_from_db()
    assert ours.resolved_at is not None
    assert ours.first_response_at == ours.resolved_at

    refused = client.post(f"{ADMIN}{ours.pk}/change/", {**form, "item_location": "Accueil"})
    assert refused.status_code == 200
    assert "item_location" in refused.context["adminform"].form.errors

    added = client.post(
        f"{ADMIN}add/", {**form, "summary": "Nouvelle", "status": "open", "resolution": ""}
    )
    assert added.status_code == 302, added.context["adminform"].form.errors
    with salon_scope(team_a.salon):
        new = CustomerRequest.objects.get(summary="Nouvelle")
    assert (new.salon_id, new.opened_by, new.first_response_at) == (
        team_a.salon.pk,
        team_a.owner,
        None,
    )

    foreign = client.post(f"{ADMIN}add/", {**form, "customer": sam.pk, "summary": "Autre"})
    assert foreign.status_code == 200
    assert "customer" in foreign.context["adminform"].form.errors


# GDPR -----------------------------------------------------------------------------------


def test_export_holds_the_clients_requests(team_a, lea):
    row = log(
        team_a.salon,
        MONDAY,
        customer=lea,
        category="lost_item",
        summary="A oublié ses lunettes",
        item_description="Lunettes rouges",
    )
    log(team_a.salon, MONDAY, summary="Someone else")
    with salon_scope(team_a.salon):
        export = customer_export(customer=lea)
    assert [r["id"] for r in export["requests"]] == [row.pk]
    assert export["requests"][0]["summary"] == "A oublié ses lunettes"
    assert export["requests"][0]["item_description"] == "Lunettes rouges"


def test_erasure_blanks_the_texts_and_keeps_the_figures(api, team_a, lea):
    row = log(
        team_a.salon,
        MONDAY,
        customer=lea,
        category="lost_item",
        summary="Léa a oublié ses lunettes",
        item_description="Lunettes de Léa",
        item_location="Tiroir",
        resolution="Appeler Léa au 06 12 34 56 78",
    )
    act(row, after(30), status="resolved")
    erase = f"/api/v1/salons/bella/backoffice/customers/{lea.pk}/erase/"
    assert api(team_a.manager).post(erase).status_code == 200
    row.refresh_from_db()
    assert (row.summary, row.resolution, row.item_description) == ("", "", "")
    assert (row.category, row.status, row.customer_id) == ("lost_item", "resolved", lea.pk)
    assert row.item_location == "Tiroir"  # a place in the salon, not a fact about the person
    with salon_scope(team_a.salon):
        stats = request_stats(
            salon=team_a.salon, date_from=dt.date(2027, 3, 1), date_to=dt.date(2027, 3, 1)
        )
    assert (stats.total, stats.median_resolution_seconds) == (1, 30 * 60)
    # The request stays workable; the erased client is not linked to new ones.
    with salon_scope(team_a.salon):
        act(row, after(60), status="open")
