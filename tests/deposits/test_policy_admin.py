"""The deposit policy's page in the admin, as a new owner uses it: a preview that saves
nothing, amounts in euros, a ramp helper that says what is wrong, a warning when a change
does nothing today; and the admin in the salon's time zone, one "Deposits" block on its
index, its names spelt right. Each test failed on the admin before it was rebuilt."""

import datetime as dt
import re

import pytest
from django.contrib.admin.models import LogEntry

from bookings.models import Service
from bookings.services import booking_cancel, booking_complete, booking_mark_no_show
from deposits.models import DepositPolicy, RampStep
from deposits.rules import Rule
from deposits.selectors import policy_get
from deposits.services import policy_set
from deposits.simulator import Simulation, policy_simulate
from tenants.scoping import salon_scope
from tests.conftest import book, local
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _form(**changes):
    form = {
        "rule_kind": "percent",
        "rule_value": "20",
        "min_amount": "",
        "max_amount": "",
        "allow_full_payment": "on",
        "trusted_after_visits": "3",
        "full_prepayment_after_no_shows": "2",
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
def policy(team_a, catalogue_a, monday):
    with salon_scope(team_a.salon):
        policy_set(salon=team_a.salon, rule={"kind": "percent", "value": 20}, ramp=[])
        return DepositPolicy.objects.get()


def _url(policy):
    return f"/admin/deposits/depositpolicy/{policy.pk}/change/"


def _saved(salon):
    with salon_scope(salon):
        policy, steps = policy_get(salon=salon)
        row = DepositPolicy.objects.values().get()
        return policy.rule, row, [(s.starts_on, s.rule) for s in steps]


def test_preview_shows_the_typed_policy_and_saves_nothing(client, team_a, catalogue_a, policy):
    """The Preview button was a GET form nested in the admin's POST form: pressing it
    saved the policy (unsaved edits went live for clients) and showed no preview."""
    client.force_login(team_a.owner)
    before = _saved(team_a.salon), LogEntry.objects.count()
    form = _form(
        rule_value="50",
        min_amount="10",
        preview_date="2027-03-10",
        preview_service=str(catalogue_a.cut.pk),
        _preview="1",
        ramp_from="60",
        ramp_to="100",
        ramp_months="2",
        ramp_first_day="2027-04-01",
    )
    page = client.post(_url(policy), form)
    assert page.status_code == 200
    assert (_saved(team_a.salon), LogEntry.objects.count()) == before  # nothing written
    preview = page.context["preview"]
    assert preview["unsaved"] is True
    rows = {row["service"]: row for row in preview["rows"]}
    assert rows["Coupe"]["amount"] == 3000  # 50 % of €60.00, as typed, not the saved 20 %
    # New client, trusted (no deposit), two no-shows (full prepayment).
    assert rows["Coupe"]["kinds"] == ["€30.00", "€0.00", "€60.00"]
    # The chart: this month at 50 %, then the ramp: 60 %, 80 %, full prepayment.
    amounts = [bar["amount"] for bar in preview["chart"]]
    assert amounts[:4] == ["€30.00", "€36.00", "€48.00", "€60.00"]
    html = page.content.decode()
    assert 'id="ramp-chart"' in html and "Preview of the policy as typed above" in html
    # The typed values stay in the form, to be saved or changed.
    assert 'name="rule_value" value="50"' in html


def test_the_preview_sits_in_the_admin_form_not_in_a_form_of_its_own(client, team_a, policy):
    client.force_login(team_a.owner)
    html = client.get(_url(policy), {"preview_date": "2027-03-10"}).content.decode()
    main = html[html.index('id="depositpolicy_form"') :]
    main = main[: main.index("</form>")]
    assert "<form" not in main  # no nested form
    assert 'name="_preview"' in main and 'id="preview_date"' in main


def test_a_saved_policy_is_previewed_on_a_get(client, team_a, policy):
    client.force_login(team_a.owner)
    page = client.get(_url(policy), {"preview_date": "2027-03-10"})
    assert "unsaved" not in page.context["preview"]
    assert {r["service"]: r["amount"] for r in page.context["preview"]["rows"]}["Coupe"] == 1200


def test_amounts_are_typed_and_shown_in_euros(client, team_a, policy):
    """ "Min amount: 500" was €5 and a fixed deposit of 10 was €0.10."""
    client.force_login(team_a.owner)
    client.cookies["django_language"] = "fr"
    response = client.post(
        _url(policy),
        _form(rule_kind="fixed", rule_value="12,50", min_amount="5", max_amount="40,00"),
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    rule, row, _steps = _saved(team_a.salon)
    assert rule == Rule("fixed", 1250)
    assert (row["min_amount"], row["max_amount"]) == (500, 4000)
    html = client.get(_url(policy), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert 'name="rule_value" value="12,50"' in html
    assert 'name="min_amount" value="5,00"' in html
    assert "(EUR)" in html


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"rule_kind": "percent", "rule_value": "12.5"}, "rule_value"),
        ({"rule_kind": "percent", "rule_value": "0"}, "rule_value"),
        ({"rule_kind": "fixed", "rule_value": "0.001"}, "rule_value"),
        ({"min_amount": "4.999"}, "min_amount"),
    ],
)
def test_odd_values_are_refused_with_a_reason(client, team_a, policy, changes, field):
    client.force_login(team_a.owner)
    before = _saved(team_a.salon)
    response = client.post(_url(policy), _form(**changes))
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert _saved(team_a.salon) == before


def test_a_service_price_is_typed_in_euros(client, team_a, catalogue_a):
    client.force_login(team_a.owner)
    url = f"/admin/bookings/service/{catalogue_a.cut.pk}/change/"
    assert 'name="price" value="60.00"' in client.get(url).content.decode()
    form = {
        "name": "Coupe",
        "description": "",
        "duration_minutes": "45",
        "price": "48",
        "buffer_before_minutes": "0",
        "buffer_after_minutes": "0",
        "processing_offset_minutes": "0",
        "processing_minutes": "0",
        "active": "on",
        "deposit_override": "null",
    }
    response = client.post(url, form)
    assert response.status_code == 302, response.context["adminform"].form.errors
    with salon_scope(team_a.salon):
        assert Service.objects.get(pk=catalogue_a.cut.pk).price == 4800
    assert "€48.00" in client.get("/admin/bookings/service/").content.decode()


@pytest.mark.parametrize(
    ("ramp", "field", "words"),
    [
        # No start date: nothing was built and the page said "changed successfully".
        (
            {"ramp_from": "10", "ramp_to": "100", "ramp_months": "3"},
            "ramp_first_day",
            "the day its first step starts",
        ),
        ({"ramp_from": "10", "ramp_first_day": "2027-04-01"}, "ramp_to", "needs this too"),
        (
            {
                "ramp_from": "50",
                "ramp_to": "20",
                "ramp_months": "3",
                "ramp_first_day": "2027-04-01",
            },
            "ramp_to",
            "goes up",
        ),
        (
            {
                "ramp_from": "10",
                "ramp_to": "50",
                "ramp_months": "3",
                "ramp_first_day": "2024-01-01",
            },
            "ramp_first_day",
            "today or later",
        ),
    ],
)
def test_the_ramp_helper_says_what_is_wrong(client, team_a, policy, ramp, field, words):
    client.force_login(team_a.owner)
    before = _saved(team_a.salon)
    response = client.post(_url(policy), _form(**ramp))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert words in " ".join(errors[field])
    assert _saved(team_a.salon) == before


def test_the_ramp_helpers_day_has_a_date_picker(client, team_a, policy):
    client.force_login(team_a.owner)
    html = client.get(_url(policy)).content.decode()
    assert re.search(r'<input[^>]*name="ramp_first_day"[^>]*class="vDateField', html) or re.search(
        r'<input[^>]*class="vDateField[^>]*name="ramp_first_day"', html
    )


def test_ramp_steps_that_go_down_are_refused(client, team_a, policy):
    client.force_login(team_a.owner)
    form = _form(
        **{
            "steps-TOTAL_FORMS": "2",
            "steps-0-starts_on": "2027-04-01",
            "steps-0-rule_kind": "percent",
            "steps-0-rule_value": "50",
            "steps-1-starts_on": "2027-05-01",
            "steps-1-rule_kind": "percent",
            "steps-1-rule_value": "30",
        }
    )
    response = client.post(_url(policy), form)
    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert "only goes up" in " ".join(formset.non_form_errors())
    with salon_scope(team_a.salon):
        assert not RampStep.objects.exists()


def test_a_base_rule_change_hidden_by_the_ramp_is_warned_of(client, team_a, policy):
    """A base rule changed while a ramp step is in force has no effect today: say so."""
    with salon_scope(team_a.salon):
        step = {"starts_on": dt.date(2027, 2, 1), "rule": {"kind": "percent", "value": 40}}
        policy_set(salon=team_a.salon, rule={"kind": "percent", "value": 20}, ramp=[step])
        step_row = RampStep.objects.get()
    client.force_login(team_a.owner)
    form = _form(
        rule_value="30",
        **{
            "steps-TOTAL_FORMS": "1",
            "steps-INITIAL_FORMS": "1",
            "steps-0-id": str(step_row.pk),
            "steps-0-policy": str(policy.pk),
            "steps-0-starts_on": "2027-02-01",
            "steps-0-rule_kind": "percent",
            "steps-0-rule_value": "40",
        },
    )
    response = client.post(_url(policy), form, follow=True)
    assert response.redirect_chain, response.context["adminform"].form.errors
    warnings = [str(m) for m in response.context["messages"]]
    assert any("does not apply today" in w and "40 % of the price" in w for w in warnings)
    # Another change (the base rule left as it is now) says nothing more.
    with salon_scope(team_a.salon):
        step_row = RampStep.objects.get()
    form.update({"steps-0-id": str(step_row.pk), "hold_minutes": "20"})
    response = client.post(_url(policy), form, follow=True)
    assert response.redirect_chain, response.context["adminform"].form.errors
    assert [str(m) for m in response.context["messages"] if "does not apply" in str(m)] == []


def test_the_admin_shows_times_in_the_salons_zone(client, team_a, catalogue_a, policy):
    """A 09:00 Paris appointment showed as 8 a.m. (UTC)."""
    booking = book(catalogue_a, CustomerFactory(salon=team_a.salon), local(team_a.salon, 1, 9))
    client.force_login(team_a.owner)
    html = client.get(f"/admin/bookings/booking/{booking.pk}/change/").content.decode()
    start = html[html.index("field-start") :]
    assert "March 2, 2027, 9 a.m." in start[: start.index("</div>")]
    assert f"{booking.reference} Coupe 2027-03-02 09:00" in html  # its name, as the title
    listed = client.get("/admin/bookings/booking/").content.decode()
    assert "March 2, 2027, 9 a.m." in listed


def test_the_index_has_one_deposits_block_with_the_figures_in_it(client, team_a, policy):
    client.force_login(team_a.owner)
    html = client.get("/admin/").content.decode()
    assert html.count(">Deposits</a>") + html.count("<caption>Deposits") == 1
    block = html[html.index('class="app-deposits') :]
    block = block[: block.index("</table>")]
    assert "/admin/deposits/depositpolicy/recovered/" in block
    assert "Credit entries" in block and "entrys" not in html


# The simulator, against a history computed by hand ---------------------------------------


@pytest.fixture
def history(team_a, team_b, catalogue_a, catalogue_b, monday):
    """Bella's last days, booked on the Monday at 30 % (a cut €60.00, a colour €90.00):
    Léa's cut on Tuesday honoured, her cut on Wednesday missed, Max's colour on Wednesday
    cancelled in time, Max's cut on Friday cancelled late (Thursday noon, inside the 48
    hours), Léa's cut on Saturday missed again, a salon's cancellation; then ten days on.
    Rival Barbers' missed cut is not Bella's."""
    salon = team_a.salon
    with salon_scope(salon):
        policy_set(
            salon=salon,
            rule={"kind": "percent", "value": 30},
            ramp=[],
            full_prepayment_after_no_shows=1,
            cancellation_window_hours=48,
            late_cancellation="credit",
        )
    lea, max_ = CustomerFactory(salon=salon), CustomerFactory(salon=salon)
    b1 = book(catalogue_a, lea, local(salon, 1, 10))
    b2 = book(catalogue_a, lea, local(salon, 2, 10))
    b3 = book(catalogue_a, max_, local(salon, 2, 11), service=catalogue_a.colour)
    b4 = book(catalogue_a, max_, local(salon, 4, 10))
    b5 = book(catalogue_a, lea, local(salon, 5, 10))
    b6 = book(catalogue_a, max_, local(salon, 5, 14))
    theirs = book(catalogue_b, CustomerFactory(salon=team_b.salon), local(team_b.salon, 1, 10))
    with salon_scope(salon):
        booking_cancel(booking=b3)  # on Monday: in time
        booking_cancel(booking=b6, by_salon=True)
    monday.move_to(local(salon, 3, 12))
    with salon_scope(salon):
        booking_cancel(booking=b4)  # 46 hours before: late
    monday.move_to(local(salon, 10, 8))
    with salon_scope(salon):
        booking_complete(booking=b1)
        booking_mark_no_show(booking=b2)
        booking_mark_no_show(booking=b5)
    with salon_scope(team_b.salon):
        booking_mark_no_show(booking=theirs)
    with salon_scope(salon):
        return DepositPolicy.objects.get()


def test_the_simulator_counts_as_computed_by_hand(team_a, history, django_assert_num_queries):
    salon = team_a.salon
    with salon_scope(salon), django_assert_num_queries(3):
        figures = policy_simulate(salon=salon, policy=history, ramp=[])
    # Asked: 30 % of 60 (b1), 60 (b2), 90 (b3), 60 (b4); b5 full (Léa has missed one),
    # b6 left out (the salon cancelled): 18 + 18 + 27 + 18 + 60 = €141.00.
    assert figures == Simulation(
        days=90,
        appointments=5,
        asked=14100,
        kept=1800 + 6000,  # the two no-shows
        credited=1800,  # Max's late cancellation, as credit
        no_shows=2,
        late_cancellations=1,
    )
    # The last 7 days only (from Wednesday 08:00 on): Léa's record before them counts.
    with salon_scope(salon):
        week = policy_simulate(salon=salon, policy=history, ramp=[], days=7)
    assert (week.appointments, week.asked, week.kept, week.credited) == (2, 7800, 6000, 1800)
    # The salon keeping late cancellations: they are kept, not credited.
    history.late_cancellation = "forfeit"
    with salon_scope(salon):
        forfeit = policy_simulate(salon=salon, policy=history, ramp=[])
    assert (forfeit.kept, forfeit.credited) == (9600, 0)


def test_the_policy_page_shows_the_simulator_beside_the_saved_policy(client, team_a, history):
    client.force_login(team_a.owner)
    html = client.get(_url(history)).content.decode()
    assert "would have asked €141.00 in deposits and kept €78.00" in html
    page = client.post(
        _url(history),
        _form(
            rule_value="50",
            full_prepayment_after_no_shows="1",
            late_cancellation="forfeit",
            _preview="1",
        ),
    )
    preview = page.context["preview"]
    # 50 %: 30 + 30 + 45 + 30 + 60 asked; kept 30 + 60 and Max's 30, forfeited.
    assert (preview["simulation"]["asked"], preview["simulation"]["kept"]) == ("€195.00", "€120.00")
    assert (preview["current"]["asked"], preview["current"]["kept"]) == ("€141.00", "€78.00")
    assert 'id="simulation-compared"' in page.content.decode()
