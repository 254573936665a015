"""Packaging (issue 13, point 6): py.typed ships, extras are ranges with the exact pins in
constraints.txt, mypy --strict runs on the whole package, mnist1d is optional."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_py_typed_ships_with_the_package():
    assert (ROOT / "src" / "mlplab" / "py.typed").is_file()
    assert "py.typed" in _pyproject()["tool"]["setuptools"]["package-data"]["mlplab"]


def test_extras_are_ranges_and_the_test_pins_are_constraints():
    extras = _pyproject()["project"]["optional-dependencies"]
    for name in ("torch", "jax", "all", "onnx", "mnist1d"):
        assert not [r for r in extras[name] if "==" in r], f"extra {name!r} pins exactly"
    pins = (ROOT / "constraints.txt").read_text()
    assert "torch==2.13.0" in pins and "jax==0.10.2" in pins
    assert "-c constraints.txt" in (ROOT / "Makefile").read_text()
    assert not any("mnist1d" in d for d in _pyproject()["project"]["dependencies"])


def test_mypy_strict_covers_the_whole_package():
    config = _pyproject()["tool"]["mypy"]
    assert config["strict"] is True
    assert config["files"] == ["src/mlplab"]
    assert config.get("follow_imports", "normal") == "normal"  # no file checked silently


def test_mypy_strict_passes_on_the_whole_package():
    mypy = shutil.which("mypy", path=str(Path(sys.executable).parent))
    if mypy is None:
        pytest.skip("mypy is not installed (it is in the dev extra)")
    result = subprocess.run([mypy], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "$(BIN)/mypy" in (ROOT / "Makefile").read_text()


def test_missing_mnist1d_is_one_clear_line(monkeypatch):
    from mlplab.data.builtin import mnist1d_module
    from mlplab.errors import ConfigError

    monkeypatch.setitem(sys.modules, "mnist1d", None)  # as if it were not installed
    monkeypatch.setitem(sys.modules, "mnist1d.data", None)
    with pytest.raises(ConfigError, match=r"pip install 'mlplab\[mnist1d\]'"):
        mnist1d_module()
