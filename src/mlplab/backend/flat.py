"""The NumPy runner's forward and backward passes from one function: no call tree.

A small net's step is Python-bound. The lecture's 2-8-1 XOR net does ~35 NumPy calls
a step on arrays of a few dozen numbers, ~0.5 µs each. The readable math wraps them
in a tree of function calls: ``value_and_grads`` -> ``forward_cache`` ->
``dense_forward`` -> ``affine`` -> ``matmul``, a ``LayerCache`` per layer, then
``backward`` -> ``dense_backward`` -> ``batch_matmul_tn`` -> ``matmul``, and so on.
That tree cost 10 of the step's 31 µs, and put mlplab 0.87-0.92x behind a hand-written
NumPy loop on A1 (``python -m benchmarks --only A1``, docs/performance.md).

:func:`flat_value_and_grads` makes the same NumPy calls, in the same order, from
one function. The math stays where it is: every activation, loss and penalty is
the math modules' own function. Only the composition of the layers is written out
here, as the runner's fast path (docs/design.md, decision 3).
``tests/test_fast_paths.py`` checks that the results are bitwise equal to the pure
step's, for every activation, loss, weighting, penalty, dtype and depth.

The NumPy runner uses it for every net whose arrays are NumPy arrays of one dtype,
without a data-parallel reduction. On a wide net the products take the time and
the ~10 µs saved a step do not show; the calls are the same either way.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..nn.losses import add_l2_penalty
from .arrays import matmul

if TYPE_CHECKING:
    from ..nn.activations import Activation
    from ..nn.losses import Loss
    from ..nn.mlp import Array, Params
    from ..nn.optim import Tree
    from .loop import StepFn

    #: ``value_and_grads(params, xb, yb, wb) -> (loss, grads)``, as the pure step's.
    ValueAndGrads = Callable[[Params, Array, Array, Array | None], tuple[Array, Tree]]

_add_reduce = np.add.reduce


def flat_step_for(step_fn: StepFn, params: Params, X: Array) -> ValueAndGrads | None:
    """:func:`flat_value_and_grads` for ``step_fn``'s net, or ``None`` to run its own."""
    activations = getattr(step_fn, "activations", None)
    loss = getattr(step_fn, "loss", None)
    if activations is None or loss is None or getattr(step_fn, "reduce", None) is not None:
        return None  # a wrapped step function, or data parallel
    if type(X) is not np.ndarray or X.dtype.kind != "f":
        return None
    arrays = [array for layer in params for array in layer]
    if any(type(a) is not np.ndarray or a.dtype != X.dtype for a in arrays):
        return None  # affine's `z += b` needs one dtype (else it adds out of place)
    return functools.partial(flat_value_and_grads, activations, loss, step_fn.l2)


def flat_value_and_grads(
    activations: tuple[Activation, ...],
    loss: Loss,
    l2: float,
    params: Params,
    xb: np.ndarray,
    yb: np.ndarray,
    wb: np.ndarray | None,
) -> tuple[Array, Tree]:
    """Steps 1-4 of :func:`mlplab.train.step.make_step`'s step, bitwise: ``(loss, grads)``."""
    # 1. forward (nn.layers.dense_forward): each layer's input and pre-activation
    inputs, pre = [], []
    a = xb
    for (b, W), sigma in zip(params, activations, strict=True):
        z = matmul(a, W.T)  # (batch, d_in) @ (d_in, d_out)
        z += b  # + (d_out,): backend.ops.affine on NumPy
        inputs.append(a)
        pre.append(z)
        a = sigma(z)  # (batch, d_out)
    # 2. loss, ∂L/∂ŷ
    value, grad_a = loss.value_and_grad(a, yb, wb)
    # 3. backward (nn.layers.dense_backward), from the output layer down
    grads: list[Any] = [None] * len(params)
    for i in range(len(params) - 1, -1, -1):
        x = inputs[i]
        delta = activations[i].backward(pre[i], a, grad_a)  # (batch, d_out)
        # backend.arrays.batch_sum and batch_matmul_tn on NumPy; (d_out, batch) @ (batch, d_in)
        grads[i] = (_add_reduce(delta, axis=0), matmul(delta.T, x))
        if i:
            grad_a = matmul(delta, params[i][1])  # (batch, d_out) @ (d_out, d_in)
        a = x  # the layer below's output
    # 4. L2 penalty
    if l2:
        value, grads = add_l2_penalty(value, grads, params, l2)
    return value, grads


__all__ = ["flat_step_for", "flat_value_and_grads"]
