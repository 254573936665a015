"""The one place the playground reaches into mlplab's internals.

Everything else in the playground imports the public ``mlplab`` namespace. The
package is being split into subpackages; when a module below moves, only its
import line here changes.
"""

from __future__ import annotations

from mlplab.backend.arrays import namespace
from mlplab.data.csvfile import csv_columns
from mlplab.lecture.regression import extrapolation
from mlplab.theory.approx import get_target, heaviside_network, max_error
from mlplab.theory.separability import check_separable

__all__ = [
    "check_separable",
    "csv_columns",
    "extrapolation",
    "get_target",
    "heaviside_network",
    "max_error",
    "namespace",
]
