"""Losses with their gradients, computed from the network's raw outputs.

Each loss (:class:`MSE`, :class:`BinaryCrossEntropy`, :class:`SoftmaxCrossEntropy`) has
``value_and_grad(out, target, weight=None)`` returning the
scalar loss and ``∂L/∂out`` `(batch, d_out)` in one pass, and
``prepare_targets`` turning user labels into the float array it expects
(checking them). The classification losses take *logits* (the output layer's
``identity`` activation) and fold the sigmoid / softmax into the loss. That is
numerically stable (no ``log(0)``) and makes the gradient simple: for the
matched pairs sigmoid + binary cross-entropy and softmax + cross-entropy,
``∂L/∂z = (p − y) / N``; the sigmoid's and softmax's Jacobians cancel against
the log's derivative.

``weight`` `(batch,)` gives each sample a weight (scikit-learn's
``sample_weight``; padding in compiled minibatches): the loss is
``Σ wᵢ lᵢ / Σ wᵢ``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeGuard

import numpy as np

from ..backend.arrays import Backend, namespace, to_numpy
from ..backend.ops import row_max
from ..errors import ConfigError, DataError

if TYPE_CHECKING:
    from .mlp import Array, Params


class Loss(Protocol):
    """What training needs of a loss (:class:`MSE`, … or any object with these members).

    Hashable: the training step is cached per loss (:func:`mlplab.train.step.make_step`).
    """

    def __hash__(self) -> int: ...

    @property
    def name(self) -> str: ...

    @property
    def task(self) -> str: ...

    def value_and_grad(
        self, out: Array, target: Array, weight: Array | None = None
    ) -> tuple[Array, Array]: ...

    def prepare_targets(self, y: Array, n_outputs: int, backend: Backend) -> Array: ...


def _mean(xp: Any, per_sample: Array, weight: Array | None) -> tuple[Array, Array]:
    # per_sample: (batch,) -> scalar mean, weighted when `weight` is given.
    if weight is None:  # Σ / N rather than xp.mean: same number, ~5 µs less on NumPy
        n = per_sample.shape[0]
        return xp.sum(per_sample) / n, n
    # A batch whose weights are all 0 contributes nothing (loss 0, gradient 0), not 0/0.
    total = xp.maximum(xp.sum(weight), 1e-30)
    return xp.sum(per_sample * weight) / total, total


def _scale(grad: Array, n: Array, weight: Array | None) -> Array:
    # grad: (batch, d) per-sample gradients -> gradient of the (weighted) mean.
    if weight is None:
        return grad / n
    return grad * (weight / n)[:, None]


@dataclass(frozen=True)
class MSE:
    """Mean squared error ``L = (1 / (N·d)) Σᵢ Σⱼ (ŷᵢⱼ − yᵢⱼ)²`` (PyTorch's ``MSELoss``).

    ``∂L/∂ŷ = 2 (ŷ − y) / (N·d)``. For regression.
    """

    name: str = "mse"
    task: str = "regression"

    def value_and_grad(
        self, out: Array, target: Array, weight: Array | None = None
    ) -> tuple[Array, Array]:
        xp = namespace(out)
        d = out.shape[1]
        diff = out - target  # (batch, d)
        value, n = _mean(xp, xp.sum(diff * diff, axis=1) / d, weight)
        return value, _scale(2 * diff / d, n, weight)

    def prepare_targets(self, y: Array, n_outputs: int, backend: Backend) -> Array:
        y = _numeric(y, "regression targets")
        if y.ndim == 1:
            y = y[:, None]
        if y.ndim != 2 or y.shape[1] != n_outputs:
            raise DataError(
                f"regression targets must have shape (n_samples, {n_outputs}) for a model "
                f"with {n_outputs} outputs; got {y.shape}."
            )
        return backend.asarray(y)


@dataclass(frozen=True)
class BinaryCrossEntropy:
    """Binary cross-entropy from one logit z per sample.

    ``l = −[y log σ(z) + (1 − y) log(1 − σ(z))] = max(z, 0) − z y + log(1 + e^−|z|)``
    (the stable form: no overflow, and no cancellation when the loss is tiny);
    ``∂l/∂z = σ(z) − y``. Labels are 0/1 (or probabilities).
    """

    name: str = "bce"
    task: str = "binary"

    def value_and_grad(
        self, out: Array, target: Array, weight: Array | None = None
    ) -> tuple[Array, Array]:
        xp = namespace(out)
        z = out  # (batch, 1) logits
        pos = xp.maximum(z, 0.0)
        neg = z - pos  # min(z, 0), exactly
        log1p_e = xp.log1p(xp.exp(neg - pos))  # log(1 + e^−|z|); exp never overflows
        per = pos - z * target + log1p_e  # (batch, 1): log(1 + e^z) − z y, no cancellation
        value, n = _mean(xp, per[:, 0], weight)
        sigma = xp.exp(neg - log1p_e)  # σ(z) = e^min(z, 0) / (1 + e^−|z|)
        return value, _scale(sigma - target, n, weight)

    def prepare_targets(self, y: Array, n_outputs: int, backend: Backend) -> Array:
        if n_outputs != 1:
            raise ConfigError(
                f"binary cross-entropy needs a model with 1 output (a logit); this one has "
                f"{n_outputs}. Use loss='softmax_cross_entropy' for several classes."
            )
        y = _numeric(y, "binary labels")
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1:
            raise DataError(f"binary labels must be 1-D (n_samples,); got shape {y.shape}.")
        if np.any((y < 0) | (y > 1)) or np.any(np.isnan(y)):
            bad = np.unique(y[(y < 0) | (y > 1) | np.isnan(y)])[:5]
            raise DataError(
                f"binary labels must be 0 or 1 (or probabilities in [0, 1]); got {bad.tolist()}. "
                "Encode the two classes as 0/1, or use softmax_cross_entropy for more classes."
            )
        return backend.asarray(y[:, None])


@dataclass(frozen=True)
class SoftmaxCrossEntropy:
    """Softmax cross-entropy from k logits per sample.

    ``l = −Σⱼ yⱼ log softmax(z)ⱼ = logsumexp(z) − Σⱼ yⱼ zⱼ`` (for one-hot or
    probability targets y), computed with the max subtracted so logits of
    ±1e4 stay finite; ``∂l/∂z = softmax(z) − y``. Integer labels become one-hot.
    """

    name: str = "softmax_cross_entropy"
    task: str = "multiclass"

    def value_and_grad(
        self, out: Array, target: Array, weight: Array | None = None
    ) -> tuple[Array, Array]:
        xp = namespace(out)
        z = out - row_max(out)  # (batch, k) minus each row's max: exp cannot overflow
        e = xp.exp(z)
        s = xp.sum(e, axis=1, keepdims=True)  # (batch, 1)
        log_p = z - xp.log(s)  # (batch, k) log softmax
        value, n = _mean(xp, -xp.sum(target * log_p, axis=1), weight)
        return value, _scale(e / s - target, n, weight)

    def prepare_targets(self, y: Array, n_outputs: int, backend: Backend) -> Array:
        if n_outputs < 2:
            raise ConfigError(
                "softmax cross-entropy needs a model with one output per class (>= 2); this one "
                "has 1. Use loss='bce' for two classes with one output."
            )
        y = _numeric(y, "class labels")
        if y.ndim == 2 and y.shape[1] == n_outputs:  # one-hot or probabilities
            sums = y.sum(axis=1)
            if np.any(y < 0) or np.any(y > 1) or not np.allclose(sums, 1.0, atol=1e-6):
                raise DataError(
                    f"one-hot or probability targets (n_samples, {n_outputs}) must hold values in "
                    f"[0, 1] with rows summing to 1; got row sums {np.unique(sums)[:5].tolist()} "
                    f"and values from {y.min():g} to {y.max():g}. Pass integer labels 0..k-1 "
                    "instead, or normalise the rows."
                )
            return backend.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1:
            raise DataError(
                f"class labels must be integers (n_samples,) or one-hot (n_samples, {n_outputs}); "
                f"got shape {y.shape}."
            )
        if not np.all(np.equal(np.mod(y, 1), 0)):
            raise DataError(
                "class labels must be whole numbers 0..k-1; got fractional values "
                f"such as {y[np.mod(y, 1) != 0][:3].tolist()}. Encode the classes as integers."
            )
        if y.size and (y.min() < 0 or y.max() >= n_outputs):
            bad = np.unique(y[(y < 0) | (y >= n_outputs)])[:5].astype(int).tolist()
            raise DataError(
                f"class labels must lie in 0..{n_outputs - 1} for a model with {n_outputs} "
                f"outputs; got {bad}."
            )
        onehot = np.eye(n_outputs)[y.astype(np.int64)]  # (batch, k)
        return backend.asarray(onehot)


def _numeric(y: Array, what: str) -> np.ndarray:
    arr = to_numpy(y)
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise DataError(
            f"{what} must be numbers; got dtype {arr.dtype}. Encode text labels as integers."
        )
    if arr.size == 0:
        raise DataError(f"{what} are empty; pass at least one sample.")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise DataError(f"{what} contain NaN or infinite values; remove or fill them first.")
    return arr


LOSSES: dict[str, Callable[[], Loss]] = {
    "mse": MSE,
    "bce": BinaryCrossEntropy,
    "softmax_cross_entropy": SoftmaxCrossEntropy,
}
ALIASES = {
    "binary_cross_entropy": "bce",
    "cross_entropy": "softmax_cross_entropy",
    "ce": "softmax_cross_entropy",
    "squared_error": "mse",
}


def _is_loss(spec: object) -> TypeGuard[Loss]:
    return hasattr(spec, "value_and_grad") and hasattr(spec, "prepare_targets")


def get_loss(spec: object) -> Loss:
    """A loss from its name (``"mse"``, ``"bce"``, ``"softmax_cross_entropy"``) or itself."""
    if not isinstance(spec, str):
        if not _is_loss(spec):
            raise ConfigError(f"`loss` must be a name or a loss object; got {spec!r}.")
        return spec
    name = ALIASES.get(spec, spec)
    if name not in LOSSES:
        known = ", ".join([*LOSSES, *ALIASES])
        raise ConfigError(f"unknown loss {spec!r}; known losses: {known}.")
    return LOSSES[name]()


def infer_loss(y: Array, n_outputs: int) -> Loss:
    """The usual loss for targets ``y`` and a model with ``n_outputs``.

    Integer or boolean labels are classes: one output -> ``bce``, several ->
    ``softmax_cross_entropy``. Real-valued targets -> ``mse``.
    """
    arr = to_numpy(y)
    if np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool:
        return BinaryCrossEntropy() if n_outputs == 1 else SoftmaxCrossEntropy()
    return MSE()


def l2_penalty(params: Params, l2: float) -> tuple[Array, list[Array]]:
    """``(l2 / 2) Σ_ℓ ‖W_ℓ‖²`` and its gradient ``l2 · W_ℓ`` for each layer's weights.

    Biases are not penalised (their gradient is 0, so none is returned).
    """
    value = 0.5 * l2 * sum((W * W).sum() for _, W in params)
    return value, [l2 * W for _, W in params]


def add_l2_penalty(
    value: Array, grads: list[Any], params: Params, l2: float
) -> tuple[Array, list[Any]]:
    """The loss and the gradients ``[(grad_b, grad_W)]`` with :func:`l2_penalty` added."""
    penalty, grad_W = l2_penalty(params, l2)
    grads = [(gb, gW + pW) for (gb, gW), pW in zip(grads, grad_W, strict=True)]
    return value + penalty, grads
