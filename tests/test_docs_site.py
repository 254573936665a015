"""The documentation site builds with ``mkdocs build --strict``, offline, searchable.

One build (notebooks rendered without executing them) into a temporary folder,
then checks on what it wrote: the search index leads from "backward" to the
explicit backprop with its formula and source, and no page loads anything
from the network.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("mkdocs")
pytest.importorskip("mkdocstrings_handlers.python")

ROOT = Path(__file__).resolve().parents[1]
# src= / href= / url() / @import of a remote (http, https or protocol-relative) resource
REMOTE_ASSET = re.compile(
    r"<(?:script|link|img|iframe|source|video|audio|embed)\b[^>]*?\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//"
    r"|url\(\s*[\"']?(?:https?:)?//|@import\s+[\"']?(?:https?:)?//",
    re.IGNORECASE,
)


def build_site(out: Path) -> None:
    """``mkdocs build --strict`` into ``out``, the notebooks not executed."""
    env = {**os.environ, "MLPLAB_DOCS_EXECUTE": "false", "NO_MKDOCS_2_WARNING": "1"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    seconds = time.perf_counter() - start
    warnings = [line for line in done.stderr.splitlines() if line.startswith(("WARNING", "ERROR"))]
    assert done.returncode == 0, "mkdocs build --strict failed (see mkdocs.yml):\n" + "\n".join(
        warnings or done.stderr.splitlines()[-40:]
    )
    print(f"site built in {seconds:.1f} s")


def test_site_builds_strict_offline_and_searchable(tmp_path):
    # one test, so that one build serves every check (pytest -n splits a module's tests)
    build_site(tmp_path)
    check_search_leads_from_backward_to_the_explicit_backprop(tmp_path)
    check_no_page_loads_anything_from_the_network(tmp_path)
    check_every_page_and_reference_is_there(tmp_path)


def check_search_leads_from_backward_to_the_explicit_backprop(site: Path) -> None:
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    hits = [d for d in index["docs"] if d["location"].endswith("#mlplab.nn.backward")]
    assert hits, "no search entry for mlplab.nn.backward"
    text = hits[0]["text"]
    assert hits[0]["title"] == "backward" and "Backpropagation" in text
    # the formula (KaTeX source, rendered in the page) and the source code
    assert r"\delta_\ell" in text and r"\frac{\partial L}{\partial W_\ell}" in text
    # the page: the heading searched for, the math rendered client-side, the source
    page = (site / hits[0]["location"].split("#")[0]).read_text(encoding="utf-8")
    assert 'id="mlplab.nn.backward"' in page and 'class="arithmatex"' in page
    start = page.index('id="mlplab.nn.backward"')
    assert "Source code in <code>src/mlplab/nn/mlp.py</code>" in page[start : start + 20_000]
    # the function is the best hit for "backward": MLP.backward's one-line body is not indexed
    method = [d for d in index["docs"] if d["location"].endswith("#mlplab.nn.MLP.backward")]
    assert method and "return backward(" not in method[0]["text"]


def check_no_page_loads_anything_from_the_network(site: Path) -> None:
    pages = [*site.rglob("*.html"), *site.rglob("*.css")]
    assert len(pages) > 20
    offenders = [
        f"{p.relative_to(site)}: {m.group(0)[:80]}"
        for p in pages
        for m in [REMOTE_ASSET.search(p.read_text(encoding="utf-8", errors="replace"))]
        if m
    ]
    assert offenders == []
    assert (site / "assets" / "katex" / "katex.min.js").is_file()
    assert list((site / "assets" / "katex" / "fonts").glob("*.woff2"))


def check_every_page_and_reference_is_there(site: Path) -> None:
    for page in ["index.html", "lecture.html", "cli.html", "api.html", "design.html"]:
        assert (site / page).is_file(), page
    for module in ["nn", "train", "data", "files", "sklearn", "export", "theory", "backend"]:
        assert (site / "reference" / f"{module}.html").is_file(), module
    for notebook in (ROOT / "examples").glob("*.ipynb"):
        assert (site / "examples" / f"{notebook.stem}.html").is_file(), notebook.name
    lecture = (site / "lecture.html").read_text(encoding="utf-8")
    for claim in range(1, 14):
        assert f'id="l{claim}-' in lecture, f"L{claim}"
    # every function named on the lecture page became a link into the reference
    assert lecture.count('href="reference/') >= 40
    # and every test named there is shown with its code (a collapsible block each)
    assert lecture.count('<details class="success">') >= 30
    assert "tests/test_lecture.py::test_l11_backprop_step" in lecture


def _docs_module(name: str):
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, ROOT / "docs" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_test_named_on_the_lecture_page_must_exist(caplog):
    hooks = _docs_module("hooks")
    source = hooks.test_source("tests/test_lecture.py::test_l1_normal_equations")
    assert source.startswith("def test_l1_normal_equations():")
    assert hooks.test_source("tests/test_lecture.py::test_no_such_claim") is None
    with caplog.at_level("WARNING"):
        block = hooks.tests_block(["tests/test_lecture.py::test_no_such_claim"], "lecture.md")
    assert block == "" and "test_no_such_claim, which does not exist" in caplog.text


def test_a_docstring_role_naming_a_missing_object_is_a_warning(caplog):
    import griffe

    roles = _docs_module("griffe_roles")
    loader = griffe.GriffeLoader(search_paths=[str(ROOT / "src")])
    mlp = loader.load("mlplab").get_member("nn.mlp")
    loader.resolve_aliases(implicit=False)
    text = roles.convert(":func:`backward` and :class:`~mlplab.nn.mlp.MLP`", mlp, loader)
    assert 'identifier="mlplab.nn.mlp.backward"' in text and "<code>MLP</code>" in text
    with caplog.at_level("WARNING"):
        assert roles.convert(":func:`mlplab.nn.gone`", mlp, loader) == "`mlplab.nn.gone`"
    assert "mlplab.nn.gone" in caplog.text
    assert roles.convert(":func:`numpy.linalg.solve`", mlp, loader) == "`numpy.linalg.solve`"
