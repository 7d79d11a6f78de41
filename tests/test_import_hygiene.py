"""The core stays headless: importing any of it loads neither textual nor rich."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import smduty.core


def test_core_imports_no_ui():
    modules = [m.name for m in pkgutil.walk_packages(smduty.core.__path__, "smduty.core.")]
    assert len(modules) >= 40
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_importing_the_cli_does_not_load_textual():
    script = "import sys, smduty.cli; print('textual' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip() == "False", result.stderr


def test_choice_widgets_are_built_with_plain_labels():
    """Textual parses a str label of these widgets as markup; the TUI builds them only through
    smduty.tui.widgets.plain, which turns every label into plain text first."""
    import ast
    from pathlib import Path

    import smduty.tui

    markup_labelled = {"Select", "SelectionList", "Checkbox", "RadioButton", "RadioSet", "Tab"}
    offenders = []
    for path in Path(smduty.tui.__path__[0]).rglob("*.py"):
        if path.name == "plain.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                func = node.func.value if isinstance(node.func, ast.Subscript) else node.func
                name = getattr(func, "id", None) or getattr(func, "attr", None)
                if name in markup_labelled:
                    offenders.append(f"{path.name}:{node.lineno} {name}(...)")
    assert not offenders, offenders
