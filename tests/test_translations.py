"""French and English throughout: the catalogue holds every string the templates and the
code ask for, translated, and it compiles."""

import subprocess
from pathlib import Path

import polib
from django.conf import settings
from django.utils import translation

from tenants.management.commands.translations import missing

ROOT = Path(settings.BASE_DIR)


def test_every_string_of_the_templates_and_the_code_is_translated():
    assert missing(ROOT) == []


def test_the_catalogue_compiles_and_the_compiled_one_is_current(tmp_path):
    po = ROOT / "locale" / "fr" / "LC_MESSAGES" / "django.po"
    mo = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(mo), str(po)], check=True)
    compiled = {e.msgid: e.msgstr for e in polib.mofile(str(po.with_suffix(".mo")))}
    assert compiled == {e.msgid: e.msgstr for e in polib.mofile(str(mo))}


def test_pages_speak_french_when_asked(client, db):
    with translation.override("fr"):
        assert translation.gettext("Skip to content") == "Aller au contenu"
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="fr")
    assert "Aller au contenu" in page.content.decode()
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Skip to content" in page.content.decode()
