"""BLAS threads chosen by the size of the matrix products.

A small MLP multiplies small matrices (a 200-row batch through a 30×100
layer is 0.6 M multiply-adds): BLAS threads cost more to wake and synchronise
than the product takes, and on a busy machine they wait for cores. mlplab
therefore runs NumPy's BLAS on one thread while it trains a network whose
largest product (batch × d_in × d_out) is below :data:`SINGLE_THREAD_MACS`, and
leaves BLAS alone for larger ones (see ``benchmarks/blas_threads.py``).

PyTorch on the CPU gets the same rule for its own threads: its two threads wait for
each other by spinning, and on a busy machine one of them waits for a core. The
digits workload trained for 200 epochs (C1-long: 64-256-256-10 at batch 64, 4.2 M
multiply-adds), eight runs back to back in one process: 2.28-3.61 s on two threads,
2.51-2.77 s on one, with half the CPU time (``benchmarks`` worker settings). On a
quiet machine the second thread is 5-17% faster between 4 and 12 M multiply-adds
(docs/performance.md, "BLAS threads for small networks"): one thread is the choice
for a machine that is also doing something else; ``MLPLAB_BLAS_THREADS=2`` takes
the second back.

``MLPLAB_BLAS_THREADS`` overrides the choice: a number of threads, or ``auto``
(the default).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from threadpoolctl import ThreadpoolController

#: Below this many multiply-adds in the largest matrix product, BLAS runs on one thread.
#: Measured on 2 quiet cores, ``fit`` ms a step with 1 / 2 BLAS threads: 4.2 M (C1's
#: 64-256-256-10 at batch 64) 0.7 / 0.8; 8.4 M 0.7 / 0.7; 16.8 M 1.1 / 1.0; 33.6 M 2.4 / 2.0.
SINGLE_THREAD_MACS = 12_000_000


def blas_threads_for(sizes: Sequence[int], batch: int) -> int | None:
    """The BLAS thread count for training layers ``sizes`` on ``batch`` rows:
    1 for small products, ``None`` (BLAS's own choice) for large ones."""
    setting = os.environ.get("MLPLAB_BLAS_THREADS", "auto").strip().lower()
    if setting not in ("", "auto"):
        try:
            return max(1, int(setting))
        except ValueError:
            return None
    largest = max((i * o for i, o in zip(sizes[:-1], sizes[1:], strict=True)), default=0)
    return 1 if batch * largest < SINGLE_THREAD_MACS else None


_CACHED: dict[str, Any] = {}


def _controller() -> ThreadpoolController | None:
    """threadpoolctl's controller of the BLAS libraries loaded now.

    Building one scans the process (several ms), so it is kept while no module was
    imported since; a BLAS that arrives with an import (PyTorch's, SciPy's) is then seen.
    """
    import sys

    key = len(sys.modules)
    if _CACHED.get("key") != key:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
            return None
        _CACHED.update(key=key, controller=ThreadpoolController())
    controller: ThreadpoolController = _CACHED["controller"]
    return controller


@contextlib.contextmanager
def blas_threads(n_threads: int | None, torch_cpu: bool = False) -> Iterator[None]:
    """Limit NumPy's BLAS to ``n_threads`` inside the block (``None``: no change); with
    ``torch_cpu``, PyTorch's CPU threads too (``torch.set_num_threads``, then as before)."""
    if n_threads is None:
        yield
        return
    with _torch_threads(n_threads if torch_cpu else None):
        controller = _controller()
        if controller is None:
            yield
            return
        with controller.limit(limits=n_threads, user_api="blas"):
            yield


@contextlib.contextmanager
def _torch_threads(n_threads: int | None) -> Iterator[None]:
    """PyTorch's intra-op threads set to ``n_threads`` inside the block (``None``: unchanged)."""
    if n_threads is None:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)
