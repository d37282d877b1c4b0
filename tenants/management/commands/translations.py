"""Keep the translation catalogues whole: `manage.py translations` updates them (then
fill the new entries and run it again with `--compile`); `--check` says what is missing.

The catalogue is the project's (`locale/<language>/LC_MESSAGES/django.po`): every app's
code and templates. `--check` extracts the strings afresh into a scratch copy, so it sees
what the sources say now, not what the catalogue was last made from.
"""

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import polib
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

LANGUAGES = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
# What is not the product's: the catalogue covers every app's code and every template.
IGNORED = [".venv", "tests", "bench", "staticfiles", "node_modules", "migrations", "docs"]


def catalogues(root: Path) -> list[tuple[Path, list[str]]]:
    """(folder to run makemessages in, its arguments) for each catalogue: one, the
    project's (`locale/`)."""
    return [
        (
            root,
            [
                "--extension",
                "html,txt,py",
                *[arg for name in IGNORED for arg in ("--ignore", name)],
            ],
        )
    ]


def _makemessages(folder: Path, args: list[str], root: Path) -> None:
    subprocess.run(  # noqa: S603 - our own manage.py, our own arguments
        [
            sys.executable,
            str(root / "manage.py"),
            "makemessages",
            "--no-obsolete",
            "--no-location",
            *[a for code in LANGUAGES for a in ("-l", code)],
            *args,
        ],
        cwd=folder,
        check=True,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "DJANGO_DEBUG": "1", "PYTHONPATH": str(root)},
    )


def missing(root: Path) -> list[str]:
    """Strings the sources ask for that a committed catalogue lacks or leaves untranslated."""
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "project"
        shutil.copytree(
            root,
            copy,
            ignore=shutil.ignore_patterns(
                ".venv",
                ".git",
                "node_modules",
                "staticfiles",
                "*.pyc",
                "__pycache__",
                "db.sqlite3*",
                ".mypy_cache",
                ".ruff_cache",
                ".pytest_cache",
                "docs",
            ),
        )
        for folder, args in catalogues(copy):
            _makemessages(folder, args, copy)
            for code in LANGUAGES:
                relative = folder.relative_to(copy) / "locale" / code / "LC_MESSAGES" / "django.po"
                fresh = polib.pofile(str(copy / relative))
                committed_path = root / relative
                if not committed_path.exists():
                    problems.append(f"{relative}: missing")
                    continue
                committed = {e.msgid: e for e in polib.pofile(str(committed_path))}
                for entry in fresh:
                    known = committed.get(entry.msgid)
                    if known is None or not known.translated() or "fuzzy" in known.flags:
                        problems.append(f"{relative}: {entry.msgid!r}")
    return problems


class Command(BaseCommand):
    help = "Update the translation catalogues, or --check that they are complete."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--check", action="store_true")
        parser.add_argument("--compile", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        root = Path(settings.BASE_DIR)
        if options["check"]:
            problems = missing(root)
            if problems:
                raise CommandError("Untranslated:\n" + "\n".join(problems))
            self.stdout.write("The catalogues are complete.")
            return
        for folder, arguments in catalogues(root):
            _makemessages(folder, arguments, root)
        if options["compile"]:
            for folder, _arguments in catalogues(root):
                subprocess.run(  # noqa: S603 - our own manage.py
                    [sys.executable, str(root / "manage.py"), "compilemessages"],
                    cwd=folder,
                    check=True,
                    capture_output=True,
                )
        self.stdout.write("Catalogues updated.")
