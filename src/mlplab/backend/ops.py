"""A layer's elementwise work, spelled per framework: the affine map and ReLU.

The math (:mod:`mlplab.nn.layers`, :mod:`mlplab.nn.activations`) says *what* a layer
computes; these functions compute it with the fewest passes over a `(batch, width)`
array each framework allows (docs/design.md, decision 3). They return the same numbers
as the array-API spelling in their docstrings: bitwise on NumPy and JAX (the same
operations in the same order); on PyTorch to rounding, as stated in each function
(``tests/test_fast_paths.py`` checks both).

Measured on the CPU with one thread, a `(256, 4096)` float32 array (Scaling-4096's
hidden layer), best of 9: PyTorch's ``z > 0`` 0.78 ms, its cast to float 0.80 ms and
the product 0.51 ms, against 0.50 ms for ``threshold_backward``; ``maximum(z, 0)``
through the array-API wrapper (a 0-d tensor made per call) against ``relu`` 0.33 ms;
NumPy's cast of the mask 0.22 ms of the 0.91 ms of ``g * astype(z > 0)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .arrays import matmul, namespace


def _is_torch(x: Any) -> bool:
    return type(x).__module__.partition(".")[0] == "torch"


def affine(x: Any, W: Any, b: Any) -> Any:
    """``x @ W.T + b``: `(batch, d_in)`, `(d_out, d_in)`, `(d_out,)` -> `(batch, d_out)`.

    * NumPy: the product, then ``+= b`` into it (the product is a fresh array: the
      same additions, without a second `(batch, d_out)` array); bitwise equal.
    * PyTorch: one ``addmm`` (what ``nn.Linear`` runs): the bias is the matrix
      product's starting value instead of a second pass. BLAS may then add it in a
      different order: equal to rounding (a few ulp of the largest term).
    * JAX: ``matmul(x, W.T) + b`` (XLA fuses the addition itself).
    """
    if type(x) is np.ndarray:
        z = matmul(x, W.T)  # (batch, d_in) @ (d_in, d_out)
        if type(z) is np.ndarray and type(b) is np.ndarray and z.dtype == b.dtype:
            z += b
            return z
        return z + b
    if _is_torch(x) and x.ndim == 2 and b.ndim == 1:
        import torch

        return torch.addmm(b, x, W.T)
    return matmul(x, W.T) + b  # (batch, d_in) @ (d_in, d_out) + (d_out,)


def relu(z: Any) -> Any:
    """``maximum(z, 0)``; on PyTorch ``torch.relu`` (the array-API wrapper makes a 0-d
    tensor of the 0 every call). Equal on every input, NaN included; the sign of a zero
    may differ on PyTorch (``relu(-0.0)`` is ``-0.0``, ``maximum`` may write ``0.0``)."""
    if _is_torch(z):
        import torch

        return torch.relu(z)
    return namespace(z).maximum(z, 0.0)


def relu_backward(z: Any, grad_a: Any) -> Any:
    """``grad_a · σ'(z)`` for ReLU, ``grad_a * astype(z > 0)``: the gradient where z > 0, else 0.

    * NumPy: ``grad_a * (z > 0)`` (the boolean mask is cast inside the product, not
      into a float array first): bitwise equal.
    * PyTorch: ``threshold_backward``, one pass (what autograd runs for ``relu``). It
      writes 0 where the product wrote ``-0.0`` (a negative gradient of a dead unit),
      and passes the gradient where ``z`` is NaN (the product writes 0 there): equal
      as numbers for every finite ``z``.
    * JAX: the product (XLA fuses it into one pass).
    """
    if type(z) is np.ndarray and type(grad_a) is np.ndarray:
        return grad_a * (z > 0)
    if _is_torch(z):
        import torch

        return torch.ops.aten.threshold_backward(grad_a, z, 0)
    xp = namespace(z)
    return grad_a * xp.astype(z > 0, z.dtype)


def row_max(x: Any) -> Any:
    """``max(x, axis=1, keepdims=True)``: `(batch, k)` -> `(batch, 1)`, the same numbers.

    NumPy reduces a short last axis row by row (~0.08 µs a row: 20-60 µs for 256 rows
    of 10 logits, more than the rest of the loss); for >= 128 rows of <= 32 columns it
    takes the maximum column by column instead, ``k - 1`` passes over the batch (max
    is exact, so the order does not change the result).
    """
    if type(x) is np.ndarray and x.ndim == 2 and x.shape[0] >= 128 and 2 <= x.shape[1] <= 32:
        m = np.maximum(x[:, 0], x[:, 1])
        for j in range(2, x.shape[1]):
            np.maximum(m, x[:, j], out=m)
        return m[:, None]
    return namespace(x).max(x, axis=1, keepdims=True)
