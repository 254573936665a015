"""The C heap while a NumPy or PyTorch training runs: freed arrays reused, not re-faulted.

Every step of a training allocates and frees the same arrays: a batch, each layer's
``z``, ``a`` and delta, the gradients. NumPy and PyTorch's CPU tensors get that memory
from C's ``malloc``. glibc's ``malloc`` gives freed memory back to the system as soon
as more than its *trim threshold* lies free at the top of the heap, and serves arrays
above its *mmap threshold* from fresh mappings. Both thresholds follow a dynamic rule
(``mallopt(3)``): they rise to the largest array freed so far, and the trim threshold
to twice that. With a step's arrays of 256 KiB to a few MiB, the heap's top is trimmed
and regrown step after step, and every 4 KiB page of the regrown part is a page fault
(about 1 µs each here, more on a busy VM) the next time an array lands on it.

Measured (``resource.getrusage`` minor faults, one BLAS thread, 400 steps of
256-256-10 ReLU, batch 256, Adam): 92,000-121,000 faults a run, 1.4 ms a step, against
the hand-written NumPy loop's 45,000 and 1.0 ms; some runs, where the heap happened to
be laid out otherwise, had 500 faults and 1.1 ms a step. That is the "erratic long
training" of issue 15.

:func:`steady_heap` therefore sets both thresholds, while a training runs, to what the
dynamic rule itself reaches once a 32 MiB array has been freed (mmap threshold 32 MiB,
trim threshold 64 MiB): the run's arrays are reused from the heap instead. At the end it
hands back every free page (``malloc_trim(0)``), so the process keeps no more memory than
before. The thresholds stay at those values afterwards (glibc has no way to read them
back, nor to turn the dynamic rule on again); they are values glibc can reach on its own.

Nothing happens on a C library other than glibc (macOS, musl), or with
``MLPLAB_STEADY_HEAP=0`` in the environment. The numbers trained are the same either way.
"""

from __future__ import annotations

import ctypes
import functools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

M_TRIM_THRESHOLD = -1  # mallopt(3) parameters, from glibc's <malloc.h>
M_MMAP_THRESHOLD = -3

MMAP_THRESHOLD = 32 << 20  # glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit systems
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD  # what the dynamic rule sets next to it


@functools.cache
def glibc() -> Any | None:
    """The process's C library if it is glibc (``mallopt``, ``malloc_trim``), else None."""
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # noqa: B018 (an AttributeError says: not glibc)
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
    except (OSError, AttributeError, TypeError):
        return None
    return libc


def enabled() -> bool:
    """Whether :func:`steady_heap` acts: glibc, and not ``MLPLAB_STEADY_HEAP=0``."""
    return os.environ.get("MLPLAB_STEADY_HEAP", "1").strip() != "0" and glibc() is not None


@contextmanager
def steady_heap() -> Iterator[None]:
    """Inside the block, freed arrays stay in the heap for the next step; after it, every
    free page goes back to the system."""
    libc = glibc() if enabled() else None
    if libc is None:
        yield
        return
    libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    try:
        yield
    finally:
        libc.malloc_trim(0)
