"""Activation functions σ and their derivatives, side by side.

Each :class:`Activation` has ``forward(z) -> a = σ(z)`` and
``backward(z, a, grad_a) -> grad_z = grad_a · σ'(z)``; derivatives use the
cached output ``a`` where that is cheaper (tanh: ``1 − a²``, sigmoid:
``a(1 − a)``). All functions are array-API code: they work unchanged on NumPy,
PyTorch and JAX arrays.

Heaviside is the lecture's step, ``H(z) = 1 if z > 0 else 0`` (so ``H(0) = 0``).
Its true derivative is 0 everywhere it exists, so a step network cannot learn
by gradient descent. Opt in to a *surrogate gradient* to train one anyway:
``heaviside(surrogate="sigmoid", slope=k)`` back-propagates the derivative of
``sigmoid(k z)``; ``heaviside(surrogate="straight-through")`` back-propagates 1.
The forward pass stays the exact step.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..backend import ops
from ..backend.arrays import namespace
from ..errors import ConfigError, check_number

if TYPE_CHECKING:
    from .mlp import Array

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


@dataclass(frozen=True)
class Activation:
    """A named elementwise nonlinearity σ with its derivative.

    ``params`` holds its settings (leaky_relu's ``negative_slope``, heaviside's
    surrogate), so ``Activation.spec()`` can be saved and rebuilt with
    :func:`get_activation`.
    """

    name: str
    # Compared by identity: two activations are equal only if they compute the same
    # functions (the built-in constructors are cached, so `tanh() == tanh()`); a custom
    # Activation that reuses a name never shares a cached training step with another.
    forward: Callable[[Array], Array] = field(repr=False)
    derivative: Callable[[Array, Array], Array] = field(repr=False)  # σ'(z), given (z, a)
    params: tuple[tuple[str, Any], ...] = ()
    # grad_z from (z, a, grad_a) directly, where that takes fewer passes than
    # grad_a · σ'(z) (ReLU: the gradient where z > 0); None: the product
    vjp: Callable[[Array, Array, Array], Array] | None = field(default=None, repr=False)

    def __call__(self, z: Array) -> Array:
        return self.forward(z)

    def backward(self, z: Array, a: Array, grad_a: Array) -> Array:
        """grad_z = grad_a · σ'(z); ``a`` is the cached ``σ(z)``."""
        if self.name == "identity":  # σ' = 1: skip multiplying by an array of ones
            return grad_a
        if self.vjp is not None:
            return self.vjp(z, a, grad_a)
        return grad_a * self.derivative(z, a)

    def spec(self) -> dict[str, Any]:
        """A JSON-able description: ``{"name": ..., **params}``."""
        return {"name": self.name, **dict(self.params)}


# --- the functions ---------------------------------------------------------


def _identity(z: Array) -> Array:
    return z


def _heaviside(z: Array) -> Array:
    # H(z) = 1 if z > 0 else 0. H(0) = 0, as in the lecture.
    xp = namespace(z)
    return xp.astype(z > 0, z.dtype)


def stable_sigmoid(z: Any) -> Any:
    """``1 / (1 + e^(−z))``, stable: ``exp`` only ever sees ``−|z| ≤ 0``."""
    xp = namespace(z)
    e = xp.exp(-xp.abs(z))
    return xp.where(z >= 0, 1 / (1 + e), e / (1 + e))


def _tanh(z: Array) -> Array:
    return np.tanh(z) if type(z) is np.ndarray else namespace(z).tanh(z)


def _relu(z: Array) -> Array:
    return ops.relu(z)  # max(z, 0), with the framework's own ReLU kernel


def _softplus(z: Array) -> Array:
    # log(1 + e^z) = max(z, 0) + log1p(e^−|z|), stable for large |z|.
    xp = namespace(z)
    return xp.maximum(z, 0.0) + xp.log1p(xp.exp(-xp.abs(z)))


def _gelu(z: Array) -> Array:
    # The tanh approximation (GPT-2, jax.nn.gelu's default, torch's approximate="tanh").
    xp = namespace(z)
    return 0.5 * z * (1 + xp.tanh(_SQRT_2_OVER_PI * (z + 0.044715 * z**3)))


def _gelu_derivative(z: Array, a: Array) -> Array:
    xp = namespace(z)
    u = _SQRT_2_OVER_PI * (z + 0.044715 * z**3)
    t = xp.tanh(u)
    du = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * z**2)
    return 0.5 * (1 + t) + 0.5 * z * (1 - t * t) * du


# --- constructors ----------------------------------------------------------


@functools.cache
def identity() -> Activation:
    """σ(z) = z."""
    return Activation("identity", _identity, lambda z, a: namespace(z).ones_like(z))


def heaviside(surrogate: str | None = None, slope: float = 10.0) -> Activation:
    """H(z) = 1 if z > 0 else 0; derivative 0, or a surrogate for training.

    Args:
        surrogate: ``None`` (true derivative, 0), ``"sigmoid"`` (the derivative
            of ``sigmoid(slope · z)``) or ``"straight-through"`` (1).
        slope: steepness of the sigmoid surrogate, > 0.
    """
    if surrogate is None:
        return _heaviside_with(None, None)
    if surrogate == "sigmoid":
        check_number("slope", slope, gt=0)
        return _heaviside_with("sigmoid", float(slope))
    if surrogate == "straight-through":
        return _heaviside_with("straight-through", None)
    raise ConfigError(
        f"`surrogate` must be None, 'sigmoid' or 'straight-through'; got {surrogate!r}."
    )


@functools.cache  # one object per setting, so equal settings give equal activations
def _heaviside_with(surrogate: str | None, slope: float | None) -> Activation:
    if surrogate is None:
        return Activation("heaviside", _heaviside, lambda z, a: namespace(z).zeros_like(z))
    if surrogate == "sigmoid":

        def derivative(z: Array, a: Array) -> Array:
            s = stable_sigmoid(slope * z)
            return slope * s * (1 - s)

        params: tuple[tuple[str, Any], ...] = (("surrogate", "sigmoid"), ("slope", slope))
        return Activation("heaviside", _heaviside, derivative, params)
    params = (("surrogate", "straight-through"),)
    return Activation("heaviside", _heaviside, lambda z, a: namespace(z).ones_like(z), params)


@functools.cache
def sigmoid() -> Activation:
    """σ(z) = 1 / (1 + e^−z); σ' = a(1 − a)."""
    return Activation("sigmoid", stable_sigmoid, lambda z, a: a * (1 - a))


@functools.cache
def tanh() -> Activation:
    """σ(z) = tanh z; σ' = 1 − a²."""
    return Activation("tanh", _tanh, lambda z, a: 1 - a * a)


@functools.cache
def relu() -> Activation:
    """σ(z) = max(z, 0); σ' = 1 if z > 0 else 0, so grad_z = grad_a where z > 0, else 0."""
    return Activation(
        "relu",
        _relu,
        lambda z, a: namespace(z).astype(z > 0, z.dtype),
        vjp=lambda z, a, grad_a: ops.relu_backward(z, grad_a),  # grad_a * σ'(z), one pass
    )


def leaky_relu(negative_slope: float = 0.01) -> Activation:
    """σ(z) = z if z > 0 else negative_slope · z."""
    check_number("negative_slope", negative_slope, ge=0)
    return _leaky_relu_with(float(negative_slope))


@functools.cache  # one object per slope
def _leaky_relu_with(k: float) -> Activation:
    def forward(z: Array) -> Array:
        return namespace(z).where(z > 0, z, k * z)

    def derivative(z: Array, a: Array) -> Array:
        xp = namespace(z)
        return xp.where(z > 0, xp.ones_like(z), xp.full_like(z, k))

    return Activation("leaky_relu", forward, derivative, (("negative_slope", k),))


@functools.cache
def softplus() -> Activation:
    """σ(z) = log(1 + e^z); σ' = sigmoid(z)."""
    return Activation("softplus", _softplus, lambda z, a: stable_sigmoid(z))


@functools.cache
def gelu() -> Activation:
    """σ(z) = ½ z (1 + tanh(√(2/π)(z + 0.044715 z³))), the tanh approximation."""
    return Activation("gelu", _gelu, _gelu_derivative)


ACTIVATIONS: dict[str, Callable[..., Activation]] = {
    "identity": identity,
    "heaviside": heaviside,
    "sigmoid": sigmoid,
    "tanh": tanh,
    "relu": relu,
    "leaky_relu": leaky_relu,
    "softplus": softplus,
    "gelu": gelu,
}

# Activations whose units are "rectifiers": He initialisation suits them.
RELU_FAMILY = frozenset({"relu", "leaky_relu", "softplus", "gelu"})


def get_activation(spec: str | dict[str, Any] | Activation) -> Activation:
    """An :class:`Activation` from a name, a spec dict or an Activation.

    ``get_activation("tanh")``,
    ``get_activation({"name": "heaviside", "surrogate": "sigmoid", "slope": 5})``.
    Unknown names raise :class:`ConfigError` listing the known ones.
    """
    if isinstance(spec, Activation):
        return spec
    if isinstance(spec, dict):
        spec = dict(spec)
        name = spec.pop("name", None)
        params = spec
    else:
        name, params = spec, {}
    if not isinstance(name, str) or name not in ACTIVATIONS:
        known = ", ".join(ACTIVATIONS)
        raise ConfigError(f"unknown activation {name!r}; known activations: {known}.")
    try:
        return ACTIVATIONS[name](**params)
    except TypeError as err:
        raise ConfigError(f"bad settings {params!r} for activation {name!r}: {err}.") from None
