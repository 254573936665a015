"""Griffe extension for the site: Sphinx roles in docstrings become links.

mlplab's docstrings cross-reference with Sphinx roles (``:func:`backward```,
``:class:`~mlplab.nn.mlp.MLP```) so that they read well in ``help()``. Here each
role becomes a mkdocstrings cross-reference to the object it names, resolved
like Python would from the docstring's scope. A role naming an ``mlplab``
object that does not exist is a warning, so ``mkdocs build --strict`` fails
on it; a role naming another library's object stays plain code.
"""

from __future__ import annotations

import logging
import re

import griffe

log = logging.getLogger("mkdocs.plugins.mlplab_roles")  # counted by --strict

ROLE = re.compile(r":(?:py:)?(?:func|class|mod|meth|attr|data|obj|exc|const):`(?P<target>[^`]+)`")


def _lookup(obj: griffe.Object, loader: griffe.GriffeLoader, name: str) -> str | None:
    """The path ``name`` stands for in ``obj``'s docstring, or None."""
    try:
        return obj.resolve(name)
    except griffe.NameResolutionError:
        pass
    head, _, rest = name.partition(".")
    scopes = [obj, *(p for p in _parents(obj))]
    if rest:  # `Class.method`, `module.function`: resolve the head, then walk down
        for scope in scopes:
            try:
                base = scope.resolve(head)
            except griffe.NameResolutionError:
                continue
            name = f"{base}.{rest}"
            break
    for scope in scopes:  # a method or attribute named from its class's docstring
        if scope.is_class and name in scope.all_members:
            return f"{scope.path}.{name}"
    try:
        return loader.modules_collection.get_member(name).path
    except (KeyError, ValueError, griffe.AliasResolutionError):
        return None


def _parents(obj: griffe.Object):
    while obj.parent is not None:
        obj = obj.parent
        yield obj


def convert(text: str, obj: griffe.Object, loader: griffe.GriffeLoader) -> str:
    """``text`` with every Sphinx role replaced by a cross-reference."""

    def link(match: re.Match) -> str:
        target = match["target"]
        shown = target.lstrip("~!")
        title = shown.rsplit(".", 1)[-1] if target.startswith("~") else shown
        path = _lookup(obj, loader, shown)
        if path is None:
            if f"class {shown}(" in obj.module.source:  # built on first use (lazy torch)
                return f"`{title}`"
            if shown.split(".")[0] == "mlplab" or "." not in shown:
                log.warning("%s: docstring names %r, which does not exist", obj.path, shown)
            return f"`{title}`"
        return f'<autoref identifier="{path}" optional><code>{title}</code></autoref>'

    return ROLE.sub(link, text)


class SphinxRoles(griffe.Extension):
    """Rewrite the roles of every docstring of the package once it is loaded."""

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs) -> None:
        self._walk(pkg, loader)

    def _walk(self, obj: griffe.Object, loader: griffe.GriffeLoader) -> None:
        if obj.docstring is not None and ":" in obj.docstring.value:
            obj.docstring.value = convert(obj.docstring.value, obj, loader)
        for member in obj.members.values():
            if not member.is_alias:
                self._walk(member, loader)
