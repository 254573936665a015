"""The claim registry: each lecture claim L1–L13 is one :class:`Claim`, defined in its group module.

A claim bundles everything the tour needs to show it: the lecture's statement,
the experiment (``run``), the check (``verdict``), its terminal tables
(``text``) and its figures (``figures``). The group modules (``regression``,
``neurons``, ``approximation``, ``backprop``, ``backends``, ``images``) each
:func:`register` their claims at import; :mod:`~mlplab.lecture.tour`,
:mod:`~mlplab.lecture.text` and :mod:`~mlplab.lecture.report` only iterate
:func:`claims`. Adding a claim L14 means adding one ``register(Claim(...))`` to
a group module.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SHOWN, NOT_SHOWN, NOT_RUN = "shown", "NOT shown", "not run"


@dataclass(frozen=True)
class Settings:
    """The tour's settings, handed to every claim's ``run``."""

    quick: bool = False
    seed: int = 0
    backend: str = "numpy"


@dataclass(frozen=True)
class Figure:
    """One figure of a claim: the PNG written and the one line that says what to notice."""

    path: Path
    caption: str
    wide: bool = False  # spans the page's width (otherwise figures sit side by side)


@dataclass(frozen=True)
class Claim:
    """One claim of the lecture, with everything that computes, checks and shows it.

    ``run(settings)`` computes the result object; ``verdict(result)`` returns
    ``(shown, one-line summary)``; ``text(console, result)`` prints its tables;
    ``figures(result, out_dir)`` draws its figures and returns them as
    :class:`Figure` objects. ``statement`` is the lecture's claim (LECTURE.md),
    ``title`` its one-line form (terminal, contents, ``results.json``),
    ``explanation`` what the software computes, ``command`` how to show it alone.
    """

    id: str
    title: str
    statement: str
    explanation: str
    command: str
    run: Callable[[Settings], Any]
    verdict: Callable[[Any], tuple[bool, str]]
    text: Callable[[Any, Any], None]
    figures: Callable[[Any, Path], list[Figure]] = field(default=lambda result, out: [])
    # the result's "not run" reason (an optional framework is missing), or None: it ran
    skipped: Callable[[Any], str | None] = field(default=lambda result: None)

    def check(self, result: Any) -> tuple[str, str]:
        """``(status, one-line summary)``: status is ``SHOWN``, ``NOT_SHOWN`` or ``NOT_RUN``.

        A claim that needs an optional framework which is not installed is not
        run (``skipped`` says why), which is not the same as failing.
        """
        reason = self.skipped(result)
        if reason:
            return NOT_RUN, reason
        ok, summary = self.verdict(result)
        return (SHOWN if ok else NOT_SHOWN), summary


def missing_frameworks(
    ran: Collection[str], needed: Sequence[str] = ("torch", "jax")
) -> str | None:
    """``"not run: install mlplab[torch,jax]"`` for the frameworks of ``needed`` not in ``ran``."""
    missing = [f for f in needed if f not in ran]
    return f"not run: install mlplab[{','.join(missing)}]" if missing else None


_REGISTRY: dict[str, Claim] = {}


def register(claim: Claim) -> Claim:
    """Add ``claim`` to the registry (its id must be new); returns it."""
    if claim.id in _REGISTRY:
        raise ValueError(f"claim {claim.id} is registered twice")
    _REGISTRY[claim.id] = claim
    return claim


def claims() -> dict[str, Claim]:
    """Every registered claim, in the lecture's order (L1, L2, …, L10, …)."""
    from . import approximation, backends, backprop, images, neurons, regression  # noqa: F401

    return dict(sorted(_REGISTRY.items(), key=lambda kv: int(kv[0].lstrip("L"))))


def get_claim(cid: str) -> Claim:
    """The claim ``cid`` (``"L1"`` … ``"L13"``); ``KeyError`` when there is none."""
    return claims()[cid]


__all__ = [
    "NOT_RUN",
    "NOT_SHOWN",
    "SHOWN",
    "Claim",
    "Figure",
    "Settings",
    "claims",
    "get_claim",
    "missing_frameworks",
    "register",
]
