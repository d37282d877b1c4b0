"""The layout's rules (README, "Layout"), read from the source itself.

- `core/` imports nothing of the project;
- a domain app imports only the domain apps before it (DESIGN.md, "Layout": `tenants ←
  customers ← bookings ← deposits ← messaging ← support`), never a door (`web/`), and
  `config` for nothing but its settings (through `django.conf.settings`, which is not an
  import of `config` at all);
- a door's module never writes through the ORM: writes go through the domain's services.

Each rule is checked on the project's files and, to show the check can fail, on a few
lines that break it.
"""

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

CORE = "core"
# In the order their dependencies point: each may import those before it.
DOMAIN = ("tenants", "customers", "bookings", "deposits", "messaging", "support")
DOORS = ("web",)
ROOF = "config"
PROJECT = (CORE, *DOMAIN, *DOORS, ROOF)

# What writes rows: a model's or a queryset's own methods.
WRITES = frozenset(
    {
        "save",
        "delete",
        "create",
        "update",
        "bulk_create",
        "bulk_update",
        "get_or_create",
        "update_or_create",
    }
)


def modules(package: str) -> Iterator[tuple[str, Path]]:
    for path in sorted((ROOT / package).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        dotted = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        yield dotted.removesuffix(".__init__"), path


def imported(module: str, source: str, *, is_package: bool = False) -> set[str]:
    """The absolute names of every module `source` imports, at its top or in a function."""
    names: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                parent = ".".join(base + ([node.module] if node.module else []))
            else:
                parent = node.module or ""
            if node.module:
                names.add(parent)
            else:  # `from . import views`: each name is a module
                names.update(f"{parent}.{alias.name}" for alias in node.names)
    return names


def top(name: str) -> str:
    return name.partition(".")[0]


def import_violations(module: str, source: str, *, is_package: bool = False) -> list[str]:
    """The imports of `module` that the layout forbids."""
    layer = top(module)
    found = []
    for name in sorted(imported(module, source, is_package=is_package)):
        other = top(name)
        if other not in PROJECT or other == layer:
            continue
        if layer == CORE:
            found.append(f"{module} imports {name}: core/ imports nothing of the project")
        elif layer in DOMAIN and other in DOMAIN and DOMAIN.index(other) > DOMAIN.index(layer):
            found.append(f"{module} imports {name}: {other} comes after {layer}")
        elif layer in DOMAIN and other in DOORS:
            found.append(f"{module} imports {name}: a domain app never imports a door")
        elif layer in DOMAIN and other == ROOF:
            found.append(
                f"{module} imports {name}: a domain app reads config only through "
                "django.conf.settings"
            )
    return found


def _receiver_is_manager(node: ast.expr) -> bool:
    """Whether an attribute chain goes through a model's manager (`X.objects...`)."""
    while isinstance(node, ast.Attribute | ast.Call | ast.Subscript):
        if isinstance(node, ast.Attribute) and node.attr in {"objects", "_base_manager"}:
            return True
        node = node.func if isinstance(node, ast.Call) else node.value
    return False


def orm_writes(module: str, source: str) -> list[str]:
    """Calls in `source` that write through the ORM: `<manager chain>.create/update/...`,
    and `.save()` or `.delete()` on anything (a door saves no model, not even a form's)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        method = node.func.attr
        if method not in WRITES:
            continue
        if method in {"save", "delete"} or _receiver_is_manager(node.func.value):
            found.append(f"{module}:{node.lineno} calls .{method}() through the ORM")
    return found


@pytest.mark.parametrize("package", PROJECT)
def test_the_layers_import_only_below_them(package):
    violations = []
    for module, path in modules(package):
        source = path.read_text()
        violations += import_violations(module, source, is_package=path.name == "__init__.py")
    assert violations == []


def test_no_door_writes_through_the_orm():
    violations = []
    for package in DOORS:
        for module, path in modules(package):
            violations += orm_writes(module, path.read_text())
    assert violations == []


def test_every_project_package_has_a_place_in_the_layout():
    """A new top-level package must be placed in a layer, or the rules would skip it."""
    packages = {
        path.parent.name
        for path in ROOT.glob("*/__init__.py")
        if path.parent.name not in {"tests", "bench"}
    }
    assert packages == set(PROJECT)


# The checks themselves break when the rules are broken --------------------------------------


@pytest.mark.parametrize(
    ("module", "source", "rule"),
    [
        ("core.money", "from tenants.models import Salon", "core/ imports nothing"),
        ("core.money", "def f():\n    import bookings.models", "core/ imports nothing"),
        ("bookings.services", "from web.serializers import X", "never imports a door"),
        ("deposits.payments", "import web.errors", "never imports a door"),
        ("deposits.payments", "from config.celery import app", "only through"),
        ("bookings.models", "from deposits.rules import Rule", "deposits comes after bookings"),
        ("deposits.checkout", "from ..support.models import X", "support comes after deposits"),
        ("messaging.outbox.send", "from ...config import settings", "only through"),
    ],
)
def test_import_check_catches(module, source, rule):
    (violation,) = import_violations(module, source)
    assert rule in violation


def test_import_check_lets_through_what_the_layout_allows():
    allowed = "from django.conf import settings\nfrom core.errors import SlotTaken\n"
    assert import_violations("bookings.services", allowed) == []
    assert import_violations("web.public.api.booking", "from config.beat import EmbeddedBeat") == []
    assert import_violations("deposits.checkout", "from bookings.models import Booking") == []
    assert import_violations("support.phone", "from deposits.checkout import x") == []


@pytest.mark.parametrize(
    "source",
    [
        "Booking.objects.filter(pk=1).update(status='x')",
        "Customer.objects.create(name='A')",
        "booking.save(update_fields=['status'])",
        "form.save()",
        "Payment.objects.filter(pk=1).first().delete()",
    ],
)
def test_write_check_catches(source):
    assert orm_writes("web.public.booking", source)


def test_write_check_lets_reads_and_services_through():
    source = (
        "Booking.objects.filter(pk=1).first()\n"
        "booking_cancel(booking=b)\n"
        "request.session.update(x=1)\n"
        "messages.success(request, 'ok')\n"
    )
    assert orm_writes("web.public.booking", source) == []
