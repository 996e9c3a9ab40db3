"""How the modules may lean on each other: no private name crosses a module, and only the
doors (the pages' and the API's units of work, the commands, the sign-in views) commit."""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "combine_app"
# Where a transaction may end: the doors, never a service or a helper.
MAY_COMMIT = {
    "database.py",  # transaction() and unit_of_work themselves
    "web/unit.py",  # the pages' one write path
    "api/__init__.py",  # a refused token's failure is kept
    "api/preconditions.py",  # the API's instance changes
    "auth/views.py",  # sign-in and sign-out
    "auth/commands.py",
    "catalog/commands.py",
    "workflows/commands.py",
}


def modules():
    for path in sorted(APP.rglob("*.py")):
        yield path.relative_to(APP).as_posix(), ast.parse(path.read_text(), filename=str(path))


def test_no_module_imports_a_private_name_of_another():
    found = [
        (name, node.module, alias.name)
        for name, tree in modules()
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("combine_app")
        for alias in node.names
        if alias.name.startswith("_")
    ]
    assert found == []


def test_only_the_doors_commit_or_open_a_unit_of_work():
    committing = set()
    for name, tree in modules():
        for node in ast.walk(tree):
            called = node.func if isinstance(node, ast.Call) else None
            if isinstance(called, ast.Name) and called.id == "transaction":
                committing.add(name)
            if isinstance(called, ast.Attribute) and called.attr == "commit":
                owner = called.value
                if not (isinstance(owner, ast.Name) and owner.id == "savepoint"):
                    committing.add(name)
    assert committing <= MAY_COMMIT, committing - MAY_COMMIT
    assert "web/unit.py" in committing  # the check sees what it looks for
