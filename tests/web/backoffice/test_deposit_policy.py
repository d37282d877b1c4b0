"""The deposit policy and quote endpoints, the public deposit figures, the admin preview."""

import datetime as dt
import io

import pytest
import time_machine
from django.core.management import call_command

from bookings.services import booking_complete, booking_mark_no_show
from deposits.models import DepositPolicy
from tenants.scoping import salon_scope
from tests.conftest import book, local
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

A = "/api/v1/salons/bella/backoffice/deposit-policy/"
B = "/api/v1/salons/rival/backoffice/deposit-policy/"

EXAMPLE = {
    "rule": {"kind": "percent", "value": 20},
    "min_amount": 500,
    "max_amount": None,
    "ramp": [
        {"starts_on": "2026-12-01", "rule": {"kind": "percent", "value": 10}},
        {"starts_on": "2027-03-01", "rule": {"kind": "percent", "value": 30}},
        {"starts_on": "2027-06-01", "rule": {"kind": "full"}},
    ],
    "allow_full_payment": True,
    "trusted_after_visits": 5,
    "full_prepayment_after_no_shows": 2,
    "cancellation_window_hours": 48,
    "late_cancellation": "credit",
    "credit_valid_days": 90,
    "hold_minutes": 15,
    "payment_link_hours": 24,
}


def test_the_policy_of_api_md_round_trips(api, team_a, team_b):
    client = api(team_a.manager)
    assert client.get(A).json()["rule"] == {"kind": "none", "value": None}
    response = client.put(A, EXAMPLE, format="json")
    assert response.status_code == 200, response.json()
    body = client.get(A).json()
    assert body["rule"] == {"kind": "percent", "value": 20}
    assert body["ramp"][2] == {"starts_on": "2027-06-01", "rule": {"kind": "full", "value": None}}
    assert {k: body[k] for k in ("min_amount", "hold_minutes", "late_cancellation")} == {
        "min_amount": 500,
        "hold_minutes": 15,
        "late_cancellation": "credit",
    }
    # The other salon's policy is untouched.
    assert api(team_b.owner).get(B).json()["rule"]["kind"] == "none"
    assert client.put(B, EXAMPLE, format="json").status_code == 403


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"rule": {"kind": "percent", "value": 120}}, "rule"),
        ({"rule": {"kind": "fixed"}}, "rule"),
        ({"rule": {"kind": "half"}}, "rule"),
        ({"min_amount": 900, "max_amount": 500}, "max_amount"),
        ({"hold_minutes": 0}, "hold_minutes"),
        ({"late_cancellation": "maybe"}, "late_cancellation"),
        (
            {
                "ramp": [
                    {"starts_on": "2027-01-01", "rule": {"kind": "none"}},
                    {"starts_on": "2027-01-01", "rule": {"kind": "full"}},
                ]
            },
            "ramp",
        ),
        ({"ramp": [{"starts_on": "soon", "rule": {"kind": "none"}}]}, "ramp"),
    ],
)
def test_bad_policies_are_400_and_change_nothing(api, team_a, change, field):
    client = api(team_a.owner)
    client.put(A, EXAMPLE, format="json")
    response = client.put(A, {**EXAMPLE, **change}, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["fields"]
    assert client.get(A).json()["rule"] == {"kind": "percent", "value": 20}


def test_front_desk_staff_do_not_see_the_policy(api, team_a):
    assert api(team_a.staff).get(A).status_code == 403
    assert api(team_a.staff).get(f"{A}quote/").status_code == 403


def test_quote_follows_the_ramp_and_the_client(api, team_a, catalogue_a, monday):
    owner = api(team_a.owner)
    owner.put(A, EXAMPLE, format="json")
    cut = catalogue_a.cut  # 60.00 EUR
    answer = owner.get(f"{A}quote/", {"service": cut.pk, "date": "2027-02-28"}).json()
    assert answer == {
        "amount": 600,
        "currency": "EUR",
        "rule": {"kind": "percent", "value": 10},
        "source": "ramp_step",
        "reason": answer["reason"],
    }
    assert (
        owner.get(f"{A}quote/", {"service": cut.pk, "date": "2027-03-01"}).json()["amount"] == 1800
    )

    lea = CustomerFactory(salon=team_a.salon)
    for day in (1, 2):
        book(catalogue_a, lea, local(team_a.salon, day, 10))
    monday.shift(dt.timedelta(days=3))
    with salon_scope(team_a.salon):
        for booking in lea.bookings.all():
            booking_mark_no_show(booking=booking)
    answer = owner.get(
        f"{A}quote/", {"service": cut.pk, "date": "2027-03-05", "customer": lea.pk}
    ).json()
    assert (answer["amount"], answer["source"]) == (6000, "no_show_history")


def test_quote_refuses_other_salons_ids(api, team_a, catalogue_a, catalogue_b):
    owner = api(team_a.owner)
    sam = CustomerFactory(salon=catalogue_b.salon, phone="+14165550199")
    bad_service = owner.get(f"{A}quote/", {"service": catalogue_b.cut.pk, "date": "2027-03-01"})
    assert "service" in bad_service.json()["fields"]
    bad_customer = owner.get(
        f"{A}quote/", {"service": catalogue_a.cut.pk, "date": "2027-03-01", "customer": sam.pk}
    )
    assert "customer" in bad_customer.json()["fields"]


def test_trusted_after_visits(api, team_a, catalogue_a, monday):
    owner = api(team_a.owner)
    owner.put(A, {**EXAMPLE, "trusted_after_visits": 2}, format="json")
    tom = CustomerFactory(salon=team_a.salon)
    for day in (1, 2):
        visit = book(catalogue_a, tom, local(team_a.salon, day, 11))
        with salon_scope(team_a.salon):
            booking_complete(booking=visit)
    answer = owner.get(
        f"{A}quote/", {"service": catalogue_a.cut.pk, "date": "2027-03-05", "customer": tom.pk}
    ).json()
    assert (answer["amount"], answer["source"]) == (0, "trusted_customer")


def test_public_deposit_today_changes_at_salon_midnight(api, team_a, catalogue_a):
    api(team_a.owner).put(A, EXAMPLE, format="json")
    url = "/api/v1/salons/bella/services/"
    # 23:30 on 28 February in Paris: the step in force since December (10 %).
    with time_machine.travel(dt.datetime(2027, 2, 28, 22, 30, tzinfo=dt.UTC), tick=False):
        before = {s["name"]: s["deposit_today"] for s in api().get(url).json()}
    # 00:30 on 1 March in Paris, still 28 February in UTC: the 30 % step.
    with time_machine.travel(dt.datetime(2027, 2, 28, 23, 30, tzinfo=dt.UTC), tick=False):
        after = {s["name"]: s["deposit_today"] for s in api().get(url).json()}
    assert before == {"Coupe": 600, "Couleur": 900}
    assert after == {"Coupe": 1800, "Couleur": 2700}


def test_public_terms_state_the_policy(api, team_a, team_b):
    api(team_a.owner).put(A, EXAMPLE, format="json")
    with time_machine.travel(dt.datetime(2027, 4, 1, 12, tzinfo=dt.UTC), tick=False):
        terms = api().get("/api/v1/salons/bella/").json()["deposit_terms"]
    assert "30 %" in terms
    assert "at least €5.00" in terms
    assert "48 hours" in terms
    assert "credit" in terms
    assert api().get("/api/v1/salons/rival/").json()["deposit_terms"] == (
        "No deposit is asked when booking online."
    )


def test_admin_preview_matches_the_api_quote(client, api, team_a, catalogue_a):
    owner = api(team_a.owner)
    owner.put(A, {**EXAMPLE, "min_amount": 2000}, format="json")
    with salon_scope(team_a.salon):
        policy = DepositPolicy.objects.get()
    client.force_login(team_a.owner)
    for day in ("2027-02-28", "2027-03-01", "2027-07-01"):
        page = client.get(
            f"/admin/deposits/depositpolicy/{policy.pk}/change/", {"preview_date": day}
        )
        assert page.status_code == 200
        rows = {r["service"]: r["amount"] for r in page.context["preview"]["rows"]}
        for service in (catalogue_a.cut, catalogue_a.colour):
            quote = owner.get(f"{A}quote/", {"service": service.pk, "date": day}).json()
            assert rows[service.name] == quote["amount"], (day, service.name)


def test_admin_preview_says_why_in_the_admins_language(client, api, team_a, catalogue_a):
    """The preview's "why" was the API's English reason, on the French page too."""
    owner = api(team_a.owner)
    owner.put(A, {**EXAMPLE, "min_amount": 2000, "max_amount": 5000}, format="json")
    with salon_scope(team_a.salon):
        policy = DepositPolicy.objects.get()
    client.force_login(team_a.owner)
    url = f"/admin/deposits/depositpolicy/{policy.pk}/change/"
    expected = {
        # 20 % of 60 EUR is 12 EUR: the minimum of 20 EUR is asked.
        ("fr", "2026-11-30"): (
            "20\u00a0% du prix, règle du salon. "
            "Le minimum du salon de 20,00\u00a0€ s\u2019applique."
        ),
        (
            "en",
            "2026-11-30",
        ): "20 % of the price, the salon's rule. The salon's minimum of €20.00 applies.",
        # From 1 June 2027 the ramp's full prepayment: neither bound applies.
        (
            "fr",
            "2027-07-01",
        ): "Prépaiement intégral, étape de la progression depuis le 1 juin 2027.",
        ("en", "2027-07-01"): "Full prepayment, the ramp's step since June 1, 2027.",
    }
    for (language, day), reason in expected.items():
        page = client.get(url, {"preview_date": day}, HTTP_ACCEPT_LANGUAGE=language)
        rows = {r["service"]: r["reason"] for r in page.context["preview"]["rows"]}
        assert rows[catalogue_a.cut.name] == reason, (language, day)


def test_admin_ramp_helper_builds_the_steps(client, api, team_a):
    api(team_a.owner).put(A, EXAMPLE, format="json")
    with salon_scope(team_a.salon):
        policy = DepositPolicy.objects.get()
    client.force_login(team_a.owner)
    form = {
        "rule_kind": "percent",
        "rule_value": "10",
        "min_amount": "",
        "max_amount": "",
        "allow_full_payment": "on",
        "trusted_after_visits": "",
        "full_prepayment_after_no_shows": "",
        "cancellation_window_hours": "48",
        "late_cancellation": "credit",
        "credit_valid_days": "90",
        "hold_minutes": "15",
        "payment_link_hours": "24",
        "ramp_from": "10",
        "ramp_to": "100",
        "ramp_months": "3",
        "ramp_first_day": "2027-01-01",
        "steps-TOTAL_FORMS": "0",
        "steps-INITIAL_FORMS": "0",
    }
    with time_machine.travel(dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC), tick=False):
        response = client.post(f"/admin/deposits/depositpolicy/{policy.pk}/change/", form)
    assert response.status_code == 302, response.context["adminform"].form.errors
    ramp = api(team_a.owner).get(A).json()["ramp"]
    assert [(s["starts_on"], s["rule"]["kind"], s["rule"]["value"]) for s in ramp] == [
        ("2027-01-01", "percent", 10),
        ("2027-02-01", "percent", 40),
        ("2027-03-01", "percent", 70),
        ("2027-04-01", "full", None),
    ]


def test_createsalon_gives_a_default_policy(api):
    out = io.StringIO()
    call_command(
        "createsalon",
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
        "marie",
        "--password",
        "s3cret-Lilas!",
        stdout=out,
    )
    token = out.getvalue().splitlines()[-1].removeprefix("token: ")
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    body = client.get("/api/v1/salons/lilas/backoffice/deposit-policy/").json()
    assert body["rule"] == {"kind": "none", "value": None}
    assert body["hold_minutes"] == 15


INT_MAX = 2**31 - 1  # what PostgreSQL's integer, the amounts' column, holds


@pytest.mark.parametrize("value", [4294967996, 2**31 + 5, INT_MAX + 1])
@pytest.mark.parametrize(
    ("where", "body"),
    [
        (
            "ramp",
            lambda v: {
                **EXAMPLE,
                "ramp": [{"starts_on": "2027-01-01", "rule": {"kind": "fixed", "value": v}}],
            },
        ),
        ("rule", lambda v: {**EXAMPLE, "rule": {"kind": "fixed", "value": v}}),
        ("min_amount", lambda v: {**EXAMPLE, "min_amount": v}),
        ("max_amount", lambda v: {**EXAMPLE, "max_amount": v}),
    ],
)
def test_an_amount_beyond_its_column_is_refused_not_wrapped(api, team_a, value, where, body):
    """4294967996 cents in a ramp step was stored as 700; 2³¹+5 answered 500."""
    owner = api(team_a.owner)
    owner.put(A, EXAMPLE, format="json")
    response = owner.put(A, body(value), format="json")
    assert response.status_code == 400, response.content
    assert set(response.json()["fields"]) == {where}
    assert owner.get(A).json()["ramp"] == api(team_a.owner).get(A).json()["ramp"]
    assert owner.get(A).json()["rule"] == EXAMPLE["rule"]


def test_the_largest_amount_a_column_holds_is_kept(api, team_a):
    owner = api(team_a.owner)
    ramp = [{"starts_on": "2027-01-01", "rule": {"kind": "fixed", "value": INT_MAX}}]
    assert owner.put(A, {**EXAMPLE, "ramp": ramp}, format="json").status_code == 200
    assert owner.get(A).json()["ramp"][0]["rule"]["value"] == INT_MAX


def test_an_owner_adds_a_ramp_step_inline(client, api, team_a):
    """The inline row had no salon: the database's row-level security refused it (500)."""
    api(team_a.owner).put(A, {**EXAMPLE, "ramp": []}, format="json")
    with salon_scope(team_a.salon):
        policy = DepositPolicy.objects.get()
    client.force_login(team_a.owner)
    form = {
        "rule_kind": "percent",
        "rule_value": "20",
        "min_amount": "5",
        "max_amount": "",
        "allow_full_payment": "on",
        "trusted_after_visits": "5",
        "full_prepayment_after_no_shows": "2",
        "cancellation_window_hours": "48",
        "late_cancellation": "credit",
        "credit_valid_days": "90",
        "hold_minutes": "15",
        "payment_link_hours": "24",
        "steps-TOTAL_FORMS": "1",
        "steps-INITIAL_FORMS": "0",
        "steps-0-starts_on": "2027-01-01",
        "steps-0-rule_kind": "fixed",
        "steps-0-rule_value": "7",  # in euros: 700 cents
    }
    before = time_machine.travel(dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC), tick=False)
    before.start()
    response = client.post(f"/admin/deposits/depositpolicy/{policy.pk}/change/", form)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert api(team_a.owner).get(A).json()["ramp"] == [
        {"starts_on": "2027-01-01", "rule": {"kind": "fixed", "value": 700}}
    ]
    # Beyond what the column holds: a form error, not a number wrapped around.
    form.update({"steps-0-starts_on": "2027-02-01", "steps-0-rule_value": "4294967996"})
    response = client.post(f"/admin/deposits/depositpolicy/{policy.pk}/change/", form)
    before.stop()
    assert response.status_code == 200
    assert len(api(team_a.owner).get(A).json()["ramp"]) == 1
