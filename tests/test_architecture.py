"""The shape of the code, checked: which package may import which (README ›
Architecture), the clients that must not know Flask, and what every domain holds."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "collector"

# What each layer may import besides itself, bottom to top. ``extensions`` and ``config``
# (the unbound Flask extensions and the settings) are open to all but ``core``.
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "config": {"core"},
    "extensions": set(),
    "runtime": {"core"},
    "accounts": {"core", "runtime"},
    "documents": {"core", "runtime", "accounts"},
    "teamleader": {"core", "runtime", "accounts", "documents"},
    # Collection runs ask dunning's policy whether a document may be debited; the policy
    # reads direct debit's rows (announced, under way, bank files): the one place the two
    # import each other, and only ``dunning.policy`` and its models are imported.
    "direct_debit": {"core", "runtime", "accounts", "documents", "dunning"},
    "dunning": {"core", "runtime", "accounts", "documents", "direct_debit"},
    "mail": {"core", "runtime", "accounts", "documents", "teamleader", "direct_debit", "dunning"},
    "payments": {"core", "runtime", "accounts", "documents", "teamleader", "direct_debit"},
    "exact": {"core", "runtime", "accounts", "documents", "teamleader"},
    # The customer's own pages: everything the customer sees or says, over the domains.
    "portal": {
        "core",
        "runtime",
        "accounts",
        "documents",
        "teamleader",
        "direct_debit",
        "dunning",
        "payments",
        "mail",
    },
}
OPEN_TO_ALL = {"extensions", "config"}
DOMAINS = (
    "accounts",
    "documents",
    "teamleader",
    "direct_debit",
    "dunning",
    "mail",
    "payments",
    "exact",
)
# The shell: the app factory, the UI's layout and hub pages, the API, the CLI and the
# schedule. It may import anything; nothing below it may import it.
SHELL = {"__init__", "web", "api", "cli", "cron", "devserver", "schedule"}

# Modules that talk to the outside world or read files and must work without Flask:
# the API clients (given a session, a base URL and a token source) and the bank formats.
NO_FLASK = (
    "core",
    "teamleader/auth.py",
    "teamleader/bodies.py",
    "teamleader/client.py",
    "teamleader/components.py",
    "teamleader/errors.py",
    "teamleader/fields.py",
    "teamleader/files.py",
    "teamleader/ratelimit.py",
    "teamleader/schemas.py",
    "teamleader/transport.py",
    "exact/auth.py",
    "exact/client.py",
    "exact/errors.py",
    "exact/odata.py",
    "exact/ratelimit.py",
    "exact/schemas.py",
    "exact/transport.py",
    "payments/provider.py",
    "payments/provider_errors.py",
    "payments/provider_schemas.py",
    "direct_debit/files",
)
FLASK_NAMES = ("flask", "flask_sqlalchemy", "flask_login", "flask_wtf", "collector.extensions")


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _top(path: Path) -> str:
    """The package (or top-level module) a file belongs to."""
    first = path.relative_to(PACKAGE).parts[0]
    return first.removesuffix(".py")


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every absolute import of the file, with its line, as the dotted name of the module
    it loads (also imports inside functions: a late import is still a dependency)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                name = f"{node.module}.{alias.name}"
                found.append((node.lineno, name if _is_module(name) else node.module))
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, a.name) for a in node.names)
    return found


def _is_module(dotted: str) -> bool:
    path = ROOT.joinpath(*dotted.split("."))
    return path.is_dir() or path.with_suffix(".py").is_file()


def _target(dotted: str) -> str | None:
    """The package of ``collector`` that an imported name falls in, None if outside."""
    parts = dotted.split(".")
    if parts[0] != "collector":
        return None
    if len(parts) == 1:
        return "__init__"
    return parts[1]


def test_every_import_goes_the_declared_way():
    wrong = []
    for path in _modules():
        source = _top(path)
        if source in SHELL:
            continue
        assert source in ALLOWED, f"{source}: a package the architecture does not declare"
        allowed = ALLOWED[source] | {source} | (OPEN_TO_ALL if source != "core" else set())
        for line, dotted in _imports(path):
            target = _target(dotted)
            if target is None or target in allowed:
                continue
            wrong.append(f"{path.relative_to(ROOT)}:{line} {source} → {target} ({dotted})")
    assert not wrong, "imports against README › Architecture:\n" + "\n".join(sorted(set(wrong)))


def test_clients_and_bank_formats_know_no_flask():
    wrong = []
    for entry in NO_FLASK:
        base = PACKAGE / entry
        for path in sorted(base.rglob("*.py")) if base.is_dir() else [base]:
            for line, dotted in _imports(path):
                if dotted.split(".")[0] in FLASK_NAMES or dotted.startswith(FLASK_NAMES):
                    wrong.append(f"{path.relative_to(ROOT)}:{line} imports {dotted}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_domain_has_the_same_shape(domain):
    home = PACKAGE / domain
    init = home / "__init__.py"
    assert ast.get_docstring(ast.parse(init.read_text())), f"{domain}: say what it holds"
    for part in ("models", "views", "jobs"):
        assert (home / part).is_dir() or (home / f"{part}.py").is_file(), f"{domain}: {part}"
    models = home / "models"
    if models.is_dir():
        for path in models.glob("*.py"):
            tree = ast.parse(path.read_text())
            tables = [n.name for n in tree.body if isinstance(n, ast.ClassDef) and _is_model(n)]
            assert len(tables) <= 1, f"{path.relative_to(ROOT)}: one model per file: {tables}"


def _is_model(node: ast.ClassDef) -> bool:
    return any(isinstance(b, ast.Attribute) and b.attr == "Model" for b in node.bases)


def test_no_module_is_over_400_lines():
    # A module that grows past this holds more than one idea; split it by what it does.
    long = {
        str(path.relative_to(ROOT)): n
        for path in _modules()
        if (n := len(path.read_text().splitlines())) > 400
    }
    assert not long, long
