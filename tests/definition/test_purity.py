"""The definition package is pure: no Flask, no database, nothing of the app's other layers."""

from __future__ import annotations

import ast
from pathlib import Path

import combine_app.definition as package

ALLOWED_APP_MODULES = ("combine_app.definition", "combine_app.portable_json")


def test_the_definition_modules_import_no_flask_no_database_and_no_other_layer():
    folder = Path(package.__file__).parent
    modules = sorted(folder.glob("*.py"))
    assert {path.stem for path in modules} >= {"tree", "patterns", "rules", "editing"}
    for path in modules:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                root = name.split(".")[0]
                assert root not in {
                    "flask",
                    "flask_login",
                    "flask_sqlalchemy",
                    "sqlalchemy",
                    "werkzeug",
                    "jinja2",
                    "marshmallow",
                }, (path.name, name)
                if root == "combine_app":
                    assert name.startswith(ALLOWED_APP_MODULES), (path.name, name)
