"""Gradient-descent optimizers as pure functions: ``init`` + ``update``.

``state = opt.init(params)`` and
``params, state = opt.update(params, grads, state, lr, t)`` where ``params``
and ``grads`` are ``[(b, W)]`` lists, ``lr`` the learning rate of this step
(from a schedule) and ``t = 1, 2, …`` the step number. No arrays are changed in
place, so the same code runs under ``jax.jit``. Each rule follows
``torch.optim``'s to the letter (tested against it), from simplest to most
complex.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeGuard

from ..backend.arrays import namespace, zeros_like_tree
from ..errors import ConfigError, check_number

if TYPE_CHECKING:
    from .mlp import Array, Params

#: ``[(b, W)]``-shaped lists an optimizer returns (parameters, moments).
Tree = list[tuple[Any, Any]]
#: An optimizer's state: its moments by name (``{"m": tree, "v": tree}``), ``{}`` for plain SGD.
OptState = dict[str, Any]


class Optimizer(Protocol):
    """What training needs of an optimizer (:class:`SGD`, :class:`Adam`, or any such object).

    Hashable: the training step is cached per optimizer (:func:`mlplab.train.step.make_step`).
    """

    def __hash__(self) -> int: ...

    def init(self, params: Params) -> OptState: ...

    def update(
        self, params: Params, grads: Params, state: OptState, lr: float, t: int
    ) -> tuple[Tree, OptState]: ...


def tree_map(fn: Callable[..., Array], *trees: Params) -> Tree:
    """Apply ``fn`` leaf by leaf to ``[(b, W)]``-shaped lists."""
    if len(trees) == 1:  # the common cases spelled out: this runs several times a step
        return [(fn(b), fn(W)) for b, W in trees[0]]
    if len(trees) == 2:
        return [(fn(b, c), fn(W, V)) for (b, W), (c, V) in zip(*trees, strict=True)]
    return [
        tuple(fn(*leaves) for leaves in zip(*layers, strict=True))
        for layers in zip(*trees, strict=True)
    ]


@dataclass(frozen=True)
class SGD:
    """Stochastic gradient descent ``θ ← θ − lr · g``, with options.

    ``weight_decay``: ``g ← g + λ θ``. ``momentum`` μ: ``v ← μ v + g``, step along
    ``v`` (or ``g + μ v`` with ``nesterov``).
    """

    momentum: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0
    name: str = "sgd"

    def __post_init__(self) -> None:
        check_number("momentum", self.momentum, ge=0, lt=1)
        check_number("weight_decay", self.weight_decay, ge=0)
        if self.nesterov and self.momentum == 0:
            raise ConfigError("`nesterov=True` needs `momentum` > 0; got momentum=0.")

    def init(self, params: Params) -> OptState:
        return {"velocity": zeros_like_tree(params)} if self.momentum else {}

    def update(
        self, params: Params, grads: Params, state: OptState, lr: float, t: int
    ) -> tuple[Tree, OptState]:
        mu, wd = self.momentum, self.weight_decay
        if wd:
            grads = tree_map(lambda g, p: g + wd * p, grads, params)
        if not mu:  # the lecture's plain step, spelled out: it is the hot loop of tiny nets
            pairs = zip(params, grads, strict=True)
            return [(b - lr * gb, W - lr * gW) for (b, W), (gb, gW) in pairs], state
        velocity = tree_map(lambda v, g: mu * v + g, state["velocity"], grads)
        step = tree_map(lambda g, v: g + mu * v, grads, velocity) if self.nesterov else velocity
        return tree_map(lambda p, s: p - lr * s, params, step), {"velocity": velocity}


@dataclass(frozen=True)
class Adam:
    """Adam (Kingma & Ba): per-parameter steps from running moments of g and g².

    ``m ← β₁ m + (1 − β₁) g``, ``v ← β₂ v + (1 − β₂) g²``,
    ``θ ← θ − lr · m̂ / (√v̂ + ε)`` with the bias corrections
    ``m̂ = m / (1 − β₁ᵗ)``, ``v̂ = v / (1 − β₂ᵗ)``. ``weight_decay`` adds λθ to
    g (L2, as ``torch.optim.Adam``); for decoupled decay use :class:`AdamW`.
    """

    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    weight_decay: float = 0.0
    name: str = "adam"

    def __post_init__(self) -> None:
        check_number("beta1", self.beta1, ge=0, lt=1)
        check_number("beta2", self.beta2, ge=0, lt=1)
        check_number("eps", self.eps, gt=0)
        check_number("weight_decay", self.weight_decay, ge=0)

    def init(self, params: Params) -> OptState:
        return {"m": zeros_like_tree(params), "v": zeros_like_tree(params)}

    def bias_corrections(self, lr: float, t: int) -> tuple[float, float]:
        """``(lr / (1 − β₁ᵗ), √(1 − β₂ᵗ))``: the step size and the divisor of √v."""
        return lr / (1 - self.beta1**t), (1 - self.beta2**t) ** 0.5

    def _coupled_decay(self, grads: Params, params: Params) -> Params:
        wd = self.weight_decay
        return tree_map(lambda g, p: g + wd * p, grads, params) if wd else grads

    def update(
        self, params: Params, grads: Params, state: OptState, lr: float, t: int
    ) -> tuple[Tree, OptState]:
        grads = self._coupled_decay(grads, params)
        return self._adam_step(params, grads, state, lr, t)

    def _adam_step(
        self, params: Params, grads: Params, state: OptState, lr: float, t: int
    ) -> tuple[Tree, OptState]:
        b1, b2, eps = self.beta1, self.beta2, self.eps
        m = tree_map(lambda m, g: b1 * m + (1 - b1) * g, state["m"], grads)
        v = tree_map(lambda v, g: b2 * v + (1 - b2) * (g * g), state["v"], grads)
        step_size, sqrt_bc2 = self.bias_corrections(lr, t)

        def step(p: Array, m: Array, v: Array) -> Array:
            return p - step_size * m / (namespace(v).sqrt(v) / sqrt_bc2 + eps)

        return tree_map(step, params, m, v), {"m": m, "v": v}


@dataclass(frozen=True)
class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): ``θ ← θ (1 − lr λ)`` first."""

    weight_decay: float = 0.01
    name: str = "adamw"

    def update(
        self, params: Params, grads: Params, state: OptState, lr: float, t: int
    ) -> tuple[Tree, OptState]:
        wd = self.weight_decay
        if wd:
            params = tree_map(lambda p: p * (1 - lr * wd), params)
        return self._adam_step(params, grads, state, lr, t)


OPTIMIZERS: dict[str, Callable[..., Optimizer]] = {"sgd": SGD, "adam": Adam, "adamw": AdamW}


def _is_optimizer(spec: object) -> TypeGuard[Optimizer]:
    return hasattr(spec, "init") and hasattr(spec, "update")


def get_optimizer(spec: object = "adam", **settings: Any) -> Optimizer:
    """An optimizer from its name (``"sgd"``, ``"adam"``, ``"adamw"``) and settings, or itself."""
    if not isinstance(spec, str):
        if not _is_optimizer(spec):
            raise ConfigError(f"`optimizer` must be a name or an optimizer object; got {spec!r}.")
        return spec
    if spec not in OPTIMIZERS:
        known = ", ".join(OPTIMIZERS)
        raise ConfigError(f"unknown optimizer {spec!r}; known optimizers: {known}.")
    try:
        return OPTIMIZERS[spec](**settings)
    except TypeError as err:
        raise ConfigError(f"bad settings for optimizer {spec!r}: {err}.") from None
