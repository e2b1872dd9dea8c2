"""Imports point down only: the layer rules of docs/architecture.md, checked on every module.

A package may import itself and the packages listed for it here, nothing else. Nothing imports
the composition root (``socialrx``), and nothing but the composition root imports ``api``.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]

# Lowest first. Each package lists what it may import besides itself.
MAY_IMPORT: dict[str, set[str]] = {
    "domain": set(),
    "core": {"domain"},
    "catalogue": {"domain", "core"},
    "accounts": {"domain", "core", "catalogue"},
    "reports": {"domain", "core", "catalogue"},
    # Reports for the scheduled refresh of the printable page's snapshots.
    "activities": {"domain", "core", "catalogue", "reports"},
    # Activities only by reference, through the sandbox's passthrough block.
    "workflows": {"domain", "activities"},
    "api": {"domain", "core", "catalogue", "accounts", "reports", "activities", "workflows"},
    "socialrx": {
        "domain",
        "core",
        "catalogue",
        "accounts",
        "reports",
        "activities",
        "workflows",
        "api",
    },
}
# Alembic's environment must know every table to compare the schema with the models.
EXCEPTIONS = {("core/migrations/env.py", "catalogue")}


def _imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names & set(MAY_IMPORT)


def _modules() -> list[Path]:
    return sorted(p for package in MAY_IMPORT for p in (ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_down(path: Path) -> None:
    relative = path.relative_to(ROOT).as_posix()
    package = relative.split("/")[0]
    allowed = MAY_IMPORT[package] | {package}
    upward = {
        name for name in _imported_packages(path) - allowed if (relative, name) not in EXCEPTIONS
    }
    assert not upward, f"{relative} imports {sorted(upward)}, above {package} in the layers"


def test_workflows_touch_no_tables() -> None:
    """Workflow code is deterministic: no database tables or sessions inside it."""
    for path in (ROOT / "workflows").rglob("*.py"):
        text = path.read_text("utf-8")
        for forbidden in ("sqlmodel", "sqlalchemy", "domain.tables", "core."):
            assert forbidden not in text, f"{path.name} mentions {forbidden}"
