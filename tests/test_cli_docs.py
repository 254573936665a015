"""docs/cli.md is the current `--help` of every command (regenerate: python docs/gen_cli.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _generator():
    spec = importlib.util.spec_from_file_location("gen_cli", DOCS / "gen_cli.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_is_up_to_date():
    expected = _generator().render()
    actual = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert actual == expected, "docs/cli.md is stale: run python docs/gen_cli.py"


def test_cli_reference_covers_every_command():
    from mlplab.cli.main import build_parser

    gen = _generator()
    names = list(gen._subcommands(build_parser()))
    assert "export" in names and "train" in names
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    for name in names:
        assert f"## mlplab {name}\n" in text
        assert f"usage: mlplab {name}" in text
