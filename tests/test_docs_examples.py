"""Every ```python block of docs/*.md and README.md runs, top to bottom, one test per file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^```python[^\n]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
WITH_CODE = [p for p in PAGES if FENCE.search(p.read_text(encoding="utf-8"))]


def blocks(path: Path) -> list[tuple[int, str]]:
    """``(line number, code)`` of each ```python block of ``path``, in order."""
    text = path.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start()) + 2, m.group(1)) for m in FENCE.finditer(text)]


def test_the_pages_have_examples():
    names = {p.name for p in WITH_CODE}
    assert {"README.md", "quickstart.md", "api.md", "sklearn.md", "interop.md"} <= names


@pytest.mark.parametrize("page", WITH_CODE, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_python_blocks_run(page, tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")  # figures are drawn, never shown
    monkeypatch.chdir(tmp_path)  # files the examples write land in a temporary folder
    namespace: dict = {"__name__": f"docs_{page.stem}"}
    for line, code in blocks(page):
        compiled = compile(code, f"{page.name}:{line}", "exec")
        try:
            exec(compiled, namespace)
        except Exception as err:
            raise AssertionError(f"{page.name}, block at line {line}: {err!r}") from err
