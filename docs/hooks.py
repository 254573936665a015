"""MkDocs hooks of the site (mkdocs.yml `hooks:`).

- The notebooks in ``examples/`` become pages ``examples/*.ipynb`` (rendered by
  mkdocs-jupyter), and the guide's links ``../examples/X.ipynb`` (right when
  docs/ is read as plain Markdown) point at those pages.
- ``<!-- claim: L6 -->`` (lecture.md) becomes the claim's heading, statement,
  explanation and command from the tour's registry (:mod:`mlplab.lecture`), and
  ``<!-- tests: tests/test_x.py::test_y … -->`` each test's code; a claim or a
  test that does not exist, or a registered claim the page leaves out, is a warning.
- ``reference/index.md``'s placeholder becomes the table of everything
  ``mlplab`` exports, each name linked to the page that documents it, so a name
  that is exported but documented nowhere fails ``mkdocs build --strict``.
"""

from __future__ import annotations

import ast
import logging
import re
import sys
import textwrap
from pathlib import Path

import griffe
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # the claims of this checkout, not an installed mlplab
EXAMPLES = ROOT / "examples"
API_TABLE = "<!-- mlplab-api-table -->"
# the reference pages, in the order a name is looked up to link it
DOCUMENTED = ["mlplab.nn", "mlplab.train", "mlplab.data", "mlplab.files", "mlplab.backend"]
DOCUMENTED += ["mlplab.errors", "mlplab.sklearn", "mlplab.export"]
ROLE = re.compile(r":(?:py:)?[a-z]+:`~?([^`]+)`")
CLAIM = re.compile(r"^<!-- claim: (?P<id>L\d+) -->$", re.MULTILINE)
TESTS = re.compile(r"^<!-- tests: (?P<ids>[^>]*) -->$", re.MULTILINE)
log = logging.getLogger("mkdocs.plugins.mlplab_hooks")  # its warnings fail --strict


@event_priority(100)  # before mkdocs-jupyter wraps the notebooks
def on_files(files, config):
    for source in [*sorted(EXAMPLES.glob("*.ipynb")), EXAMPLES / "make_notebooks.py"]:
        files.append(
            File(
                f"examples/{source.name}",
                str(ROOT),
                config["site_dir"],
                config["use_directory_urls"],
            )
        )
    return files


def on_page_markdown(markdown, page, config, files):
    if page.file.src_uri.count("/") == 0:  # a guide page at the top of docs/
        markdown = markdown.replace("](../examples/)", "](#examples)")  # the folder itself
        markdown = markdown.replace("](../examples/", "](examples/")
    if CLAIM.search(markdown):
        markdown = claim_sections(markdown, page.file.src_uri)
    markdown = TESTS.sub(lambda m: tests_block(m["ids"].split(), page.file.src_uri), markdown)
    if API_TABLE in markdown:
        markdown = markdown.replace(API_TABLE, api_table())
    return markdown


def _summary(obj) -> str:
    """First line of the docstring, Sphinx roles as plain code, pipes escaped."""
    text = obj.docstring.value.strip().splitlines()[0] if obj.docstring else ""
    return ROLE.sub(lambda m: f"`{m[1].rsplit('.', 1)[-1]}`", text).replace("|", r"\|")


def api_table() -> str:
    """Markdown table: every name of ``mlplab.__all__`` → where it is documented."""
    package = griffe.load("mlplab", search_paths=[str(ROOT / "src")])
    modules = [package[path.removeprefix("mlplab.")] for path in DOCUMENTED]
    rows = ["| name | what it is | documented in |", "|---|---|---|"]
    for name in sorted(package.exports or [], key=str.lower):
        if name == "__version__":
            continue
        home = next((m for m in modules if name in m.members and m.members[name].is_public), None)
        if home is None:  # not on any reference page: a dangling link fails --strict
            rows.append(f"| [`{name}`][mlplab.{name}] | | |")
            continue
        obj = home.members[name]
        rows.append(f"| [`{name}`][{home.path}.{name}] | {_summary(obj)} | `{home.path}` |")
    return "\n".join(rows)


def test_source(node_id: str) -> str | None:
    """The source of the test ``tests/test_x.py::test_name`` (decorators included), or None."""
    path, _, name = node_id.partition("::")
    file = ROOT / path
    if not file.is_file() or not path.startswith("tests/"):
        return None
    text = file.read_text(encoding="utf-8")
    for node in ast.parse(text).body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            start = min([d.lineno for d in node.decorator_list] + [node.lineno])
            return "\n".join(text.splitlines()[start - 1 : node.end_lineno])
    return None


def tests_block(node_ids: list[str], page: str) -> str:
    """One collapsible block per test, showing its code; a test that is gone is a warning."""
    blocks = []
    for node_id in node_ids:
        source = test_source(node_id)
        if source is None:
            log.warning("%s names the test %s, which does not exist", page, node_id)
            continue
        code = textwrap.indent(f"```python\n{source}\n```", "    ")
        blocks.append(f'??? success "`{node_id}`"\n\n{code}\n')
    return "\n".join(blocks)


def claim_sections(markdown: str, page: str) -> str:
    """Each ``<!-- claim: Ln -->`` marker as the claim's section, from the registry."""
    from mlplab.lecture import claims

    registry = claims()
    missing = set(registry) - set(CLAIM.findall(markdown))
    if missing:
        log.warning("%s leaves out the claims %s", page, ", ".join(sorted(missing)))

    def section(match: re.Match) -> str:
        claim = registry.get(match["id"])
        if claim is None:
            log.warning("%s names the claim %s, which is not registered", page, match["id"])
            return ""
        commands = " or ".join(f"`{c.strip()}`" for c in claim.command.split(";"))
        return (
            f"## {claim.id} — {claim.title}\n\n> {claim.statement}\n\n{claim.explanation}\n\n"
            f"Shown alone by {commands}.\n"
        )

    return CLAIM.sub(section, markdown)
