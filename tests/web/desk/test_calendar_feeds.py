"""Staff calendar subscriptions: a private `.ics` address per staff member and one for the
salon (its owner's), read back with `icalendar`; times in the salon's zone; of the client
the first name and the service only; a revoked address answers 404 and a new one can be
issued; one salon's addresses never show another's appointments."""

import datetime as dt
import re

import icalendar
import pytest

from bookings.feeds import calendar_feed_issue, calendar_feed_revoke
from bookings.models import CalendarFeed, StaffMember
from bookings.services import booking_cancel
from tenants.scoping import salon_scope
from tests.conftest import book, local
from tests.factories import CustomerFactory

FEEDS = "/desk/{slug}/calendar-feeds/"


def _client(salon, name, phone, email=None):
    with salon_scope(salon):
        return CustomerFactory(salon=salon, name=name, phone=phone, email=email)


def _issue(salon, staff, actor) -> str:
    with salon_scope(salon):
        _feed, token = calendar_feed_issue(salon=salon, staff=staff, actor=actor)
    return f"{FEEDS.format(slug=salon.slug)}{token}.ics"


def _events(answer) -> list:
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(answer.content.decode())
    # Round trip: what we wrote reads back and writes out the same.
    written = calendar.to_ical()
    assert icalendar.Calendar.from_ical(written.decode()).to_ical() == written
    return list(calendar.walk("VEVENT"))


@pytest.fixture
def world(team_a, team_b, catalogue_a, catalogue_b, monday):
    jeanne = _client(
        team_a.salon, "Jeanne Martin", "+33612345678", email="jeanne.martin@example.org"
    )
    luc = _client(team_a.salon, "Luc Bernard", "+33699887766")
    ann = _client(team_b.salon, "Ann Lee", "+14165550123")
    alice_visit = book(catalogue_a, jeanne, local(team_a.salon, 1, 10), staff=catalogue_a.alice)
    bob_visit = book(catalogue_a, luc, local(team_a.salon, 1, 11), staff=catalogue_a.bob)
    cancelled = book(catalogue_a, luc, local(team_a.salon, 2, 11), staff=catalogue_a.alice)
    with salon_scope(team_a.salon):
        booking_cancel(booking=cancelled, by_salon=True, reason="x")
    book(catalogue_b, ann, local(team_b.salon, 1, 10), staff=catalogue_b.alice)
    return {"alice": alice_visit, "bob": bob_visit}


@pytest.mark.django_db
def test_a_staff_members_feed_lists_their_appointments_in_the_salons_time(
    client, team_a, catalogue_a, world
):
    url = _issue(team_a.salon, catalogue_a.alice, team_a.owner)
    [event] = _events(client.get(url))
    start = event.decoded("dtstart")
    assert start == local(team_a.salon, 1, 10)
    assert str(start.tzinfo) == "Europe/Paris"
    assert event["dtstart"].params["TZID"] == "Europe/Paris"
    assert str(event["summary"]) == "Jeanne · Coupe"
    text = client.get(url).content.decode()
    assert "BEGIN:VTIMEZONE" in text and "TZID:Europe/Paris" in text
    # Of the client, the first name only.
    assert "Martin" not in text and "612345678" not in text and "jeanne.martin" not in text


@pytest.mark.django_db
def test_the_salons_feed_lists_everyones_appointments_but_cancelled_ones(client, team_a, world):
    url = _issue(team_a.salon, None, team_a.owner)
    summaries = sorted(str(e["summary"]) for e in _events(client.get(url)))
    assert summaries == ["Jeanne · Coupe · Alice", "Luc · Coupe · Bob"]


@pytest.mark.django_db
def test_a_feed_shows_its_own_salon_only(client, team_a, team_b, catalogue_b, world):
    ours = _issue(team_a.salon, None, team_a.owner)
    theirs = _issue(team_b.salon, None, team_b.owner)
    assert all("Ann" not in str(e["summary"]) for e in _events(client.get(ours)))
    assert [str(e["summary"]) for e in _events(client.get(theirs))] == ["Ann · Coupe · Alice"]
    # Their secret under our salon's address is unknown here.
    token = theirs.rsplit("/", 1)[1]
    assert client.get(FEEDS.format(slug="bella") + token).status_code == 404


@pytest.mark.django_db
def test_a_revoked_address_answers_404_and_a_new_one_works(client, team_a, catalogue_a, world):
    old = _issue(team_a.salon, catalogue_a.bob, team_a.owner)
    assert client.get(old).status_code == 200
    new = _issue(team_a.salon, catalogue_a.bob, team_a.owner)  # replaces it
    assert client.get(old).status_code == 404
    assert len(_events(client.get(new))) == 1
    with salon_scope(team_a.salon):
        assert calendar_feed_revoke(salon=team_a.salon, staff=catalogue_a.bob, actor=None) == 1
        # Only a digest of the secret is kept.
        assert not CalendarFeed.objects.filter(digest=new.rsplit("/", 1)[1][:-4]).exists()
    assert client.get(new).status_code == 404
    assert client.get(FEEDS.format(slug="bella") + "made-up.ics").status_code == 404


@pytest.mark.django_db
def test_staff_issue_and_revoke_their_own_feed_at_the_desk(client, team_a, catalogue_a, world):
    with salon_scope(team_a.salon):
        StaffMember.objects.filter(pk=catalogue_a.bob.pk).update(user=team_a.staff)
    client.force_login(team_a.staff)
    page = client.get(FEEDS.format(slug="bella"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="feed-' + str(catalogue_a.bob.pk) + '"' in page
    assert 'id="feed-salon"' not in page and 'id="feed-' + str(catalogue_a.alice.pk) not in page
    issued = client.post(FEEDS.format(slug="bella") + "issue/", {"feed": catalogue_a.bob.pk})
    url = re.search(
        r'id="feed-url" href="[^"]*(/desk/bella/calendar-feeds/[^"]+\.ics)"',
        issued.content.decode(),
    )
    assert url is not None
    assert [str(e["summary"]) for e in _events(client.get(url.group(1)))] == ["Luc · Coupe"]
    # Not someone else's, nor the salon's.
    assert (
        client.post(
            FEEDS.format(slug="bella") + "issue/", {"feed": catalogue_a.alice.pk}
        ).status_code
        == 404
    )
    assert client.post(FEEDS.format(slug="bella") + "issue/", {"feed": "salon"}).status_code == 404
    client.post(FEEDS.format(slug="bella") + "revoke/", {"feed": catalogue_a.bob.pk})
    assert client.get(url.group(1)).status_code == 404


@pytest.mark.django_db
def test_the_owner_manages_the_salons_feed_and_another_salon_cannot(client, team_a, team_b, world):
    client.force_login(team_a.owner)
    page = client.get(FEEDS.format(slug="bella"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert 'id="feed-salon"' in page and "Tout le salon" in page
    assert client.post(FEEDS.format(slug="bella") + "issue/", {"feed": "salon"}).status_code == 200
    client.force_login(team_b.owner)
    assert client.post(FEEDS.format(slug="bella") + "revoke/", {"feed": "salon"}).status_code == 403
    with salon_scope(team_a.salon):
        assert CalendarFeed.objects.filter(revoked_at=None, staff=None).count() == 1


@pytest.mark.django_db
def test_a_feed_from_a_month_back_to_a_year_ahead(client, team_a, catalogue_a, world, monday):
    url = _issue(team_a.salon, catalogue_a.alice, team_a.owner)
    monday.move_to(dt.datetime(2027, 5, 1, tzinfo=dt.UTC))
    assert _events(client.get(url)) == []


@pytest.mark.django_db
def test_issuing_and_revoking_need_the_forms_csrf_token(team_a, catalogue_a):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(team_a.owner)
    for action in ("issue/", "revoke/"):
        answer = strict.post(FEEDS.format(slug="bella") + action, {"feed": "salon"})
        assert answer.status_code == 403, action
    with salon_scope(team_a.salon):
        assert not CalendarFeed.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_feeds_page_in_a_browser_is_axe_clean(browser_page, team_a, catalogue_a):
    from playwright.sync_api import expect

    from tests.browser.harness import axe_violations
    from tests.factories import PASSWORD

    page = browser_page
    page.goto("/desk/login/")
    page.fill("#id_username", "bella-owner")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/desk/bella/$"))
    page.goto(FEEDS.format(slug="bella"))
    assert axe_violations(page) == []
    page.locator("#feed-salon button").first.click()
    expect(page.locator("#feed-url")).to_contain_text("/desk/bella/calendar-feeds/")
    assert axe_violations(page) == []
    url = page.locator("#feed-url").get_attribute("href") or ""
    assert url.endswith(".ics")
