"""The ``mlplab`` command: a thin layer over the library.

Each group of subcommands lives in its own module with a ``register(subparsers)``
function; handlers import the heavy parts (frameworks, matplotlib) only when
they run, so ``mlplab --help`` stays fast.
"""

from .main import main

__all__ = ["main"]
