"""The deposit rule is one validated value (`Rule.parse`): the policy API, the catalogue
API, the services, the models and the admin all refuse a malformed one the same way; the
admin saves the policy and the catalogue through their services."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import translation

from bookings import admin as bookings_admin
from bookings.models import Service, StaffService, WorkingHours
from bookings.services import catalogue_service_save
from deposits import admin_policy as deposits_admin
from deposits.models import DepositPolicy, RampStep
from deposits.rules import Rule
from deposits.selectors import policy_get
from deposits.services import policy_set
from tenants.money import AMOUNT_MAX
from tenants.scoping import salon_scope


def _service_form(service, **changes):
    form = {
        "name": service.name,
        "description": "",
        "duration_minutes": "45",
        "price": "60",
        "buffer_before_minutes": "0",
        "buffer_after_minutes": "0",
        "processing_offset_minutes": "0",
        "processing_minutes": "0",
        "active": "on",
        "deposit_override": "null",
    }
    return {**form, **changes}


POLICY = "/api/v1/salons/bella/backoffice/deposit-policy/"
SERVICES = "/api/v1/salons/bella/backoffice/services/"


@pytest.mark.parametrize(
    ("data", "rule"),
    [
        ({"kind": "none"}, Rule("none")),
        ({"kind": "none", "value": None}, Rule("none")),
        ({"kind": "full"}, Rule("full")),
        ({"kind": "fixed", "value": 0}, Rule("fixed", 0)),
        ({"kind": "fixed", "value": 1500}, Rule("fixed", 1500)),
        ({"kind": "fixed", "value": AMOUNT_MAX}, Rule("fixed", AMOUNT_MAX)),
        ({"kind": "percent", "value": 0}, Rule("percent", 0)),
        ({"kind": "percent", "value": 100}, Rule("percent", 100)),
    ],
)
def test_a_rule_as_api_md_writes_it_is_parsed(data, rule):
    assert Rule.parse(data) == rule
    assert Rule.parse(rule.as_dict()) == rule  # what the API answers reads back


MALFORMED = [
    (None, NON_FIELD_ERRORS),
    ("fixed", NON_FIELD_ERRORS),
    ([1, 2], NON_FIELD_ERRORS),
    ({}, NON_FIELD_ERRORS),
    ({"value": 500}, NON_FIELD_ERRORS),
    ({"kind": "fixed", "value": 500, "extra": 1}, NON_FIELD_ERRORS),
    ({"kind": "half"}, "kind"),
    ({"kind": None}, "kind"),
    ({"kind": "fixed"}, "value"),
    ({"kind": "percent", "value": None}, "value"),
    ({"kind": "percent", "value": 101}, "value"),
    ({"kind": "fixed", "value": -1}, "value"),
    ({"kind": "fixed", "value": True}, "value"),
    ({"kind": "percent", "value": False}, "value"),
    ({"kind": "fixed", "value": 12.5}, "value"),
    ({"kind": "fixed", "value": "1500"}, "value"),
    ({"kind": "fixed", "value": AMOUNT_MAX + 1}, "value"),
    ({"kind": "none", "value": 0}, "value"),
    ({"kind": "full", "value": 100}, "value"),
]


@pytest.mark.parametrize(("data", "where"), MALFORMED)
def test_a_malformed_rule_is_a_validation_error_that_says_where(data, where):
    with pytest.raises(ValidationError) as caught:
        Rule.parse(data)
    found = caught.value.error_dict if hasattr(caught.value, "error_dict") else None
    assert (list(found) if found else [NON_FIELD_ERRORS]) == [where]
    assert caught.value.messages


def test_the_errors_are_translated():
    with pytest.raises(ValidationError) as caught:
        Rule.parse({"kind": "percent", "value": 150})
    with translation.override("fr"):  # written in the language of whoever reads them
        assert caught.value.messages == ["Un pourcentage ne peut pas dépasser 100."]
    with translation.override("fr"), pytest.raises(ValidationError) as caught:
        Rule.parse({"kind": "full", "value": 5})
    with translation.override("fr"):
        assert "Prépaiement intégral" in caught.value.messages[0]


# The doors ---------------------------------------------------------------------------

BAD_OVERRIDES = [data for data, _where in MALFORMED if data is not None]


@pytest.mark.django_db
@pytest.mark.parametrize("override", BAD_OVERRIDES)
def test_the_api_refuses_a_malformed_override(api, team_a, catalogue_a, override):
    owner = api(team_a.owner)
    body = {"name": "X", "duration_minutes": 30, "price": 100, "deposit_override": override}
    created = owner.post(SERVICES, body, format="json")
    assert created.status_code == 400, created.json()
    assert created.json()["code"] == "invalid"
    assert list(created.json()["fields"]) == ["deposit_override"]
    url = f"{SERVICES}{catalogue_a.cut.pk}/"
    changed = owner.patch(url, {"deposit_override": override}, format="json")
    assert changed.status_code == 400
    assert list(changed.json()["fields"]) == ["deposit_override"]
    assert owner.get(url).json()["deposit_override"] is None


@pytest.mark.django_db
def test_the_api_keeps_a_good_override_as_given(api, team_a, catalogue_a):
    url = f"{SERVICES}{catalogue_a.cut.pk}/"
    owner = api(team_a.owner)
    for override in ({"kind": "full"}, {"kind": "percent", "value": 50}, None):
        answer = owner.patch(url, {"deposit_override": override}, format="json")
        assert answer.status_code == 200
        assert answer.json()["deposit_override"] == override


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("rule", "where"),
    [
        ({"kind": "full", "value": 100}, "value"),
        ({"kind": "fixed", "value": "1500"}, "value"),
        ({"kind": "fixed", "value": True}, "value"),
        ({"kind": "fixed", "value": 1, "extra": 2}, "non_field_errors"),
    ],
)
def test_the_policy_api_refuses_a_malformed_rule_where_it_is(api, team_a, rule, where):
    owner = api(team_a.owner)
    response = owner.put(POLICY, {"rule": rule}, format="json")
    assert response.status_code == 400, response.json()
    assert list(response.json()["fields"]["rule"]) == [where]
    ramp = [{"starts_on": "2027-01-01", "rule": rule}]
    response = owner.put(POLICY, {"rule": {"kind": "none"}, "ramp": ramp}, format="json")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["ramp"]


@pytest.mark.django_db
@pytest.mark.parametrize("override", BAD_OVERRIDES)
def test_the_service_and_the_model_refuse_a_malformed_override(team_a, catalogue_a, override):
    salon = team_a.salon
    with salon_scope(salon):
        with pytest.raises(ValidationError) as caught:
            catalogue_service_save(salon=salon, service=catalogue_a.cut, deposit_override=override)
        assert list(caught.value.message_dict) == ["deposit_override"]
        # Around the services too: the model's own save refuses it.
        cut = Service.objects.get(pk=catalogue_a.cut.pk)
        cut.deposit_override = override
        with pytest.raises(ValidationError):
            cut.save()
        assert Service.objects.get(pk=cut.pk).deposit_override is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    "override",
    ["{}", "[]", '""', '{"kind": "full", "value": 5}', '{"kind": "fixed", "value": true}'],
)
def test_the_admin_form_refuses_a_malformed_override(client, team_a, catalogue_a, override):
    """`{}`, `[]` and `""` are "empty" to Django, which skips a field's validators for
    them: the model checks them all the same."""
    client.force_login(team_a.owner)
    url = f"/admin/bookings/service/{catalogue_a.cut.pk}/change/"
    response = client.post(url, _service_form(catalogue_a.cut, deposit_override=override))
    assert response.status_code == 200
    assert "deposit_override" in response.context["adminform"].form.errors
    with salon_scope(team_a.salon):
        assert Service.objects.get(pk=catalogue_a.cut.pk).deposit_override is None


# The admin saves through the services -----------------------------------------------------


BEFORE_THE_RAMP = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)


def _spy(monkeypatch, module, name):
    calls = []
    real = getattr(module, name)

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, spy)
    return calls


def _policy_form(**changes):
    form = {
        "rule_kind": "percent",
        "rule_value": "20",
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
        "steps-TOTAL_FORMS": "0",
        "steps-INITIAL_FORMS": "0",
    }
    return {**form, **changes}


@pytest.fixture
def policy(team_a):
    with salon_scope(team_a.salon):
        return policy_set(
            salon=team_a.salon,
            rule={"kind": "fixed", "value": 500},
            ramp=[{"starts_on": "2027-01-01", "rule": {"kind": "percent", "value": 10}}],
        )


@pytest.mark.django_db
def test_the_admin_saves_the_policy_through_its_service(client, monkeypatch, team_a, policy):
    calls = _spy(monkeypatch, deposits_admin, "policy_set")
    with salon_scope(team_a.salon):
        cached, _steps = policy_get(salon=team_a.salon)  # cached now
        step = RampStep.objects.get()
    assert cached.rule == Rule("fixed", 500)
    client.force_login(team_a.owner)
    form = _policy_form(
        **{
            "steps-TOTAL_FORMS": "2",
            "steps-INITIAL_FORMS": "1",
            "steps-0-id": str(step.pk),
            "steps-0-policy": str(policy.pk),
            "steps-0-starts_on": "2027-01-01",
            "steps-0-rule_kind": "percent",
            "steps-0-rule_value": "15",
            "steps-1-policy": str(policy.pk),
            "steps-1-starts_on": "2027-02-01",
            "steps-1-rule_kind": "full",
            "steps-1-rule_value": "",
        }
    )
    url = f"/admin/deposits/depositpolicy/{policy.pk}/change/"
    with time_machine.travel(BEFORE_THE_RAMP, tick=False):  # its steps still to come
        response = client.post(url, form)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert len(calls) == 1
    assert calls[0]["rule"] == {"kind": "percent", "value": 20}
    with salon_scope(team_a.salon):
        # The service moved the cached policy on: the change is read at once.
        saved, steps = policy_get(salon=team_a.salon)
    assert saved.rule == Rule("percent", 20)
    assert [(s.starts_on.isoformat(), s.rule) for s in steps] == [
        ("2027-01-01", Rule("percent", 15)),
        ("2027-02-01", Rule("full")),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"rule_kind": "full", "rule_value": "10"}, "rule_value"),
        ({"rule_kind": "fixed", "rule_value": ""}, "rule_value"),
        ({"rule_kind": "percent", "rule_value": "101"}, "rule_value"),
    ],
)
def test_the_admin_refuses_what_the_api_refuses(client, team_a, policy, changes, field):
    client.force_login(team_a.owner)
    url = f"/admin/deposits/depositpolicy/{policy.pk}/change/"
    response = client.post(url, _policy_form(**changes))
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    with salon_scope(team_a.salon):
        assert policy_get(salon=team_a.salon)[0].rule == Rule("fixed", 500)


@pytest.mark.django_db
def test_the_admin_deletes_the_policy_through_its_service(client, team_a, policy):
    with salon_scope(team_a.salon):
        assert policy_get(salon=team_a.salon)[0].pk == policy.pk  # cached now
    client.force_login(team_a.owner)
    response = client.post(f"/admin/deposits/depositpolicy/{policy.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    with salon_scope(team_a.salon):
        assert not DepositPolicy.objects.exists()
        assert policy_get(salon=team_a.salon)[0].pk is None  # not the cached one


@pytest.mark.django_db
def test_the_admin_saves_the_catalogue_through_its_services(
    client, monkeypatch, team_a, catalogue_a
):
    services = _spy(monkeypatch, bookings_admin, "catalogue_service_save")
    staff = _spy(monkeypatch, bookings_admin, "staff_save")
    hours = _spy(monkeypatch, bookings_admin, "staff_hours_set")
    time_off = _spy(monkeypatch, bookings_admin, "time_off_save")
    client.force_login(team_a.owner)

    url = f"/admin/bookings/service/{catalogue_a.cut.pk}/change/"
    form = _service_form(catalogue_a.cut, deposit_override='{"kind": "percent", "value": 30}')
    assert client.post(url, form).status_code == 302
    assert services and services[0]["service"].pk == catalogue_a.cut.pk

    bob = catalogue_a.bob
    with salon_scope(team_a.salon):
        link = StaffService.objects.get(staff=bob)
        week = list(WorkingHours.objects.filter(staff=bob).order_by("weekday"))
    form = {
        "name": "Bob",
        "active": "on",
        "staffservice_set-TOTAL_FORMS": "2",
        "staffservice_set-INITIAL_FORMS": "1",
        "staffservice_set-0-id": str(link.pk),
        "staffservice_set-0-staff": str(bob.pk),
        "staffservice_set-0-service": str(catalogue_a.cut.pk),
        "staffservice_set-1-staff": str(bob.pk),
        "staffservice_set-1-service": str(catalogue_a.colour.pk),
        "hours-TOTAL_FORMS": str(len(week)),
        "hours-INITIAL_FORMS": str(len(week)),
    }
    for n, hours in enumerate(week):
        start = "10:00" if hours.weekday == 0 else hours.start.strftime("%H:%M")
        form |= {
            f"hours-{n}-id": str(hours.pk),
            f"hours-{n}-staff": str(bob.pk),
            f"hours-{n}-weekday": str(hours.weekday),
            f"hours-{n}-start": start,
            f"hours-{n}-end": hours.end.strftime("%H:%M"),
        }
    form["hours-5-DELETE"] = "on"  # Saturday off
    response = client.post(f"/admin/bookings/staffmember/{bob.pk}/change/", form)
    assert response.status_code == 302, response.context and response.context["errors"]
    assert staff and hours
    with salon_scope(team_a.salon):
        offered = set(StaffService.objects.filter(staff=bob).values_list("service_id", flat=True))
        ranges = list(WorkingHours.objects.filter(staff=bob).values_list("weekday", "start"))
    assert offered == {catalogue_a.cut.pk, catalogue_a.colour.pk}
    assert sorted((d, t.hour) for d, t in ranges) == [(0, 10), (1, 9), (2, 9), (3, 9), (4, 9)]

    response = client.post(
        "/admin/bookings/timeoff/add/",
        {
            "staff": bob.pk,
            "start_0": "2027-03-02",
            "start_1": "00:00:00",
            "end_0": "2027-03-03",
            "end_1": "00:00:00",
            "reason": "Formation",
        },
    )
    assert response.status_code == 302
    assert time_off and time_off[0]["reason"] == "Formation"
