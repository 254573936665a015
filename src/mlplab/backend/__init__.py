"""Array backends (NumPy, PyTorch, JAX): namespaces, devices, conversion, the step loops.

The math in :mod:`mlplab.nn` never imports a framework; this package is the one
place that knows them.
"""

from .arrays import (
    BACKENDS,
    DTYPES,
    Backend,
    available_backends,
    backend_of,
    get_backend,
    is_available,
    namespace,
    to_numpy,
)
from .loop import StepPlan, run_steps

__all__ = [
    "BACKENDS",
    "DTYPES",
    "Backend",
    "StepPlan",
    "available_backends",
    "backend_of",
    "get_backend",
    "is_available",
    "namespace",
    "run_steps",
    "to_numpy",
]
