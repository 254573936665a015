"""One neuron and one wide layer, forward and backward.

The lecture's neuron is ``f(x, θ) = σ(θ₀ + θ₁:ₙ · x) = σ(b + w · x)`` and its
wide layer ``f(x, (b, W)) = σ(b + W x)`` where row j of ``W`` holds neuron j's
weights. Inputs are batch-first: ``x`` is ``(batch, d_in)``, so a layer
computes ``σ(x Wᵀ + b)`` and returns ``(batch, d_out)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ..backend.arrays import batch_matmul_tn, batch_sum, matmul, namespace
from ..backend.ops import affine
from ..errors import DataError
from .activations import Activation, get_activation

if TYPE_CHECKING:
    from .mlp import Array


def neuron(x: Array, theta: Array, activation: str | Activation = "heaviside") -> Array:
    r"""One artificial neuron: $f(x, \theta) = \sigma(\theta_0 + \sum_i \theta_i x_i)$.

    Args:
        x: `(n,)` one input, or `(batch, n)` a batch of inputs.
        theta: `(n + 1,)` the bias θ₀ followed by the weights θ₁…θₙ.
        activation: σ, by name or :class:`~mlplab.nn.activations.Activation`.

    Returns:
        a scalar for one input, `(batch,)` for a batch.
    """
    x, theta = _as_arrays(x, theta)
    xp = namespace(x, theta)
    sigma = get_activation(activation)
    if theta.ndim != 1:
        raise DataError(f"`theta` must be 1-D (n + 1,); got shape {tuple(theta.shape)}.")
    if theta.shape[-1] != x.shape[-1] + 1:
        raise DataError(
            f"`theta` must have n + 1 = {x.shape[-1] + 1} entries (bias then weights) "
            f"for inputs with n = {x.shape[-1]} features; got {theta.shape[-1]}."
        )
    b, w = theta[0], theta[1:]
    return sigma(b + xp.sum(x * w, axis=-1))  # (batch, n) · (n,) -> (batch,)


def _as_arrays(*values: Any) -> list[Array]:
    """Lists and scalars as float64 NumPy arrays; arrays of any backend unchanged."""
    plain = (list, tuple, int, float)
    return [np.asarray(v, dtype=np.float64) if isinstance(v, plain) else v for v in values]


class LayerCache(NamedTuple):
    """What a layer's backward pass needs from its forward pass."""

    x: Array  # (batch, d_in)  the layer's input
    z: Array  # (batch, d_out) pre-activation b + W x
    a: Array  # (batch, d_out) output σ(z)


def dense(
    x: Array, params: tuple[Array, Array], activation: str | Activation = "identity"
) -> Array:
    r"""A wide layer: $f(x, (b, W)) = \sigma(b + W x)$ for every row of ``x``.

    Args:
        x: `(batch, d_in)`.
        params: ``(b, W)`` with ``b`` `(d_out,)` and ``W`` `(d_out, d_in)`;
            row j of ``W`` is neuron j.
        activation: σ.

    Returns:
        `(batch, d_out)`.
    """
    return dense_forward(x, params, get_activation(activation)).a


def dense_forward(x: Array, params: tuple[Array, Array], sigma: Activation) -> LayerCache:
    """Forward pass of :func:`dense`, keeping ``(x, z, a)`` for the backward pass."""
    b, W = params
    z = affine(x, W, b)  # x Wᵀ + b: (batch, d_in) @ (d_in, d_out) + (d_out,) -> (batch, d_out)
    return LayerCache(x, z, sigma(z))


def dense_backward(
    cache: LayerCache,
    params: tuple[Array, Array],
    sigma: Activation,
    grad_a: Array,
    need_grad_x: bool = True,
) -> tuple[Array | None, tuple[Array, Array], Array]:
    """Backward pass of :func:`dense` (a vector-Jacobian product).

    Given ``grad_a = ∂L/∂a`` `(batch, d_out)`, returns ``(grad_x, (grad_b, grad_W), delta)``:

    * ``delta = ∂L/∂z = grad_a · σ'(z)`` `(batch, d_out)`: the "fault" (blame)
      assigned to each neuron for each example;
    * ``grad_W = deltaᵀ x`` `(d_out, d_in)` and ``grad_b = Σ_batch delta`` `(d_out,)`;
    * ``grad_x = delta W`` `(batch, d_in)`: the blame passed to the layer below
      (``None`` when ``need_grad_x`` is false, as for the first layer).
    """
    _, W = params
    delta = sigma.backward(cache.z, cache.a, grad_a)  # (batch, d_out)
    grad_W = batch_matmul_tn(delta, cache.x)  # deltaᵀ x: (d_out, batch) @ (batch, d_in)
    grad_b = batch_sum(delta)  # (d_out,)
    grad_x = matmul(delta, W) if need_grad_x else None  # (batch, d_out) @ (d_out, d_in)
    return grad_x, (grad_b, grad_W), delta
