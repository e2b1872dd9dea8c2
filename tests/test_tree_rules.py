"""The test tree's own rules: fixtures come from conftest.py files through pytest, never by
import; helpers that tests import live in tests/support/."""

import ast
from pathlib import Path

TESTS = Path(__file__).parent


def conftest_imports(source: str) -> list[str]:
    """The modules named conftest that this Python source imports, as written."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            names = [node.module or ""] + [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found += [name for name in names if "conftest" in name.split(".")]
    return found


def test_no_module_imports_from_a_conftest() -> None:
    offenders = {
        str(path.relative_to(TESTS)): imports
        for path in sorted(TESTS.rglob("*.py"))
        if (imports := conftest_imports(path.read_text("utf-8")))
    }
    assert not offenders, f"import fixtures by name, helpers from tests.support: {offenders}"


def test_the_check_sees_each_way_of_importing_a_conftest() -> None:
    assert conftest_imports("from tests.referrals.conftest import driver") == [
        "tests.referrals.conftest"
    ]
    assert conftest_imports("from tests import conftest") == ["conftest"]
    assert conftest_imports("import tests.conftest") == ["tests.conftest"]
    assert conftest_imports("def f():\n    from .conftest import x\n") == ["conftest"]
    assert conftest_imports("from tests.support.database import empty_all_tables") == []
