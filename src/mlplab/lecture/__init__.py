"""The lecture tour: every claim L1–L13 of LECTURE.md computed as a plain result object.

Each claim is one :class:`~mlplab.lecture.registry.Claim` (statement,
experiment, verdict, terminal text, figures), registered in its group module:
``regression`` L1–L3, ``neurons`` L4–L9, ``approximation`` L10, ``backprop``
L11, ``backends`` L12, ``images`` L13. Each experiment is a function returning
a dataclass of numbers and arrays; :mod:`~mlplab.lecture.tour` runs them in
the lecture's order, :mod:`~mlplab.lecture.text` prints them and
:mod:`~mlplab.lecture.report` writes the HTML page. All three iterate the
registry, so a new claim is added in one group module.
"""

from .registry import Claim, Figure, Settings, claims

CLAIMS = claims()  # "L1" … "L13" -> Claim, in the lecture's order

__all__ = ["CLAIMS", "Claim", "Figure", "Settings", "claims"]
