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

:func:`steady_heap` therefore sets both thresholds while a training runs: the mmap
threshold to 32 MiB (the most the dynamic rule reaches), so a step's arrays come from
the heap, and the trim threshold to 1.2 times the bytes of one step's arrays
(:func:`step_bytes`; at least 4 MiB), so that they are reused from it instead of being
handed back. At the end it hands back every free page (``malloc_trim(0)``). The trim
threshold is kept near a step's size, not raised further, because memory kept free
counts as used: with 64 MiB, the wide benchmark B's peak memory grew from 169 to
182 MiB; with 1.2 steps (19 MiB) it stays at 169-171 MiB. An mmap threshold sized by
the network instead (twice its largest array) made small networks slower: below
glibc's own 128 KiB it sent their data and plans to fresh mappings (100 fits of a
2-8-8-1 net 4.1 ms each against 3.0). The thresholds stay at those values afterwards
(glibc has no way to read them back, nor to turn its dynamic rule on again).

Nothing happens on a C library other than glibc (macOS, musl), or with
``MLPLAB_STEADY_HEAP=0`` in the environment. The numbers trained are the same either way.
"""

from __future__ import annotations

import ctypes
import functools
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

M_TRIM_THRESHOLD = -1  # mallopt(3) parameters, from glibc's <malloc.h>
M_MMAP_THRESHOLD = -3

MMAP_THRESHOLD = 32 << 20  # glibc's ceiling (HEAP_MAX_SIZE / 2 on 64-bit systems)
MIN_TRIM_THRESHOLD = 4 << 20
TRIM_STEPS = 1.2  # the trim threshold, in steps' worth of arrays


def step_bytes(sizes: Sequence[int], batch: int, itemsize: int) -> int:
    """Bytes of the arrays one training step of layers ``sizes`` on ``batch`` rows
    allocates: the batch, each layer's ``z``, ``a``, blame and delta, the gradients."""
    layers = zip(sizes[:-1], sizes[1:], strict=True)
    per_layer = [4 * batch * d_out + d_out * (d_in + 1) for d_in, d_out in layers]
    return itemsize * (batch * sizes[0] + sum(per_layer))


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
def steady_heap(sizes: Sequence[int], batch: int, itemsize: int) -> Iterator[None]:
    """While the block trains layers ``sizes`` on batches of ``batch`` rows, freed arrays
    stay in the heap for the next step; after it, every free page goes back to the system."""
    libc = glibc() if enabled() else None
    if libc is None:
        yield
        return
    libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    trim = int(TRIM_STEPS * step_bytes(sizes, batch, itemsize))
    libc.mallopt(M_TRIM_THRESHOLD, max(MIN_TRIM_THRESHOLD, trim))
    try:
        yield
    finally:
        libc.malloc_trim(0)
