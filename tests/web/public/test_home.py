"""The home page says what Acompte is and leads a client to her salon by its link; it
does not list the salons."""

import pytest

pytestmark = pytest.mark.django_db


def test_the_home_page_does_not_list_the_salons(client, team_a, team_b):
    page = client.get("/")
    assert page.status_code == 200
    html = page.content.decode()
    for salon in (team_a.salon, team_b.salon):
        assert salon.name not in html
        assert f"/{salon.slug}/" not in html
    assert "deposit" in html


@pytest.mark.parametrize(
    "typed", ["bella", "http://127.0.0.1:8000/bella/", "127.0.0.1:8000/bella", " Bella "]
)
def test_a_client_reaches_her_salon_by_its_link(client, team_a, typed):
    answer = client.get("/", {"salon": typed})
    assert answer.status_code == 302
    assert answer["Location"] == "/bella/"


def test_the_embedded_default_points_at_its_demo_salon_only(client, settings, team_a):
    from tests.factories import SalonFactory

    SalonFactory(slug="demo", name="Atelier Démo")
    settings.DEBUG = True
    html = client.get("/").content.decode()
    assert "Atelier Démo" in html and 'href="/demo/"' in html
    assert team_a.salon.name not in html
    settings.DEBUG = False
    assert "Atelier Démo" not in client.get("/").content.decode()
