"""L11: backpropagation made visible, and checked three ways.

One gradient-descent step on a small network: the forward pass, the loss, the
per-layer deltas ``δ_ℓ = ∂L/∂z_ℓ`` (the "fault" assigned to each neuron for
each example), the gradients in matrix form ``∂L/∂W_ℓ = δ_ℓᵀ a_{ℓ−1}``,
``∂L/∂b_ℓ = Σ_batch δ_ℓ``, and the update ``θ ← θ − η ∇θ L``. The same
gradients are recomputed by hand from the formulas, by central finite
differences, and by PyTorch's autograd and ``jax.grad`` when installed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ..backend.arrays import is_available, to_numpy
from ..nn.losses import get_loss
from ..nn.mlp import MLP
from .registry import Claim, Figure, missing_frameworks, register
from .text import show_backprop

if TYPE_CHECKING:
    import jax
    import torch

#: Per layer ``(b, W)`` (parameters) or ``(∂L/∂b, ∂L/∂W)`` (gradients), as float64 NumPy.
Pairs = list[tuple[NDArray[np.float64], NDArray[np.float64]]]

_NP_ACT = {
    "tanh": (np.tanh, lambda z, a: 1 - a**2),
    "sigmoid": (lambda z: 1 / (1 + np.exp(-z)), lambda z, a: a * (1 - a)),
    "relu": (lambda z: np.maximum(z, 0), lambda z, a: (z > 0).astype(float)),
    "identity": (lambda z: z, lambda z, a: np.ones_like(z)),
}


def _data(
    sizes: Sequence[int], loss: str, batch: int, seed: int
) -> tuple[NDArray[np.float64], NDArray[Any]]:
    rng = np.random.default_rng([seed, 1])
    X = rng.standard_normal((batch, sizes[0]))
    y: NDArray[Any]
    if loss == "mse":
        y = rng.standard_normal((batch, sizes[-1]))
    else:
        y = rng.integers(0, sizes[-1], size=batch)
    return X, y


# --- the oracles ------------------------------------------------------------------------


def finite_difference_grads(
    net: MLP, X: NDArray[np.float64], y: NDArray[Any], loss: str, eps: float = 1e-6
) -> Pairs:
    """Central differences ``(L(θ + ε e_i) − L(θ − ε e_i)) / 2ε`` for every parameter."""
    base = net.numpy_params()
    acts = net.activations
    loss_fn = get_loss(loss)

    def value(params: Pairs) -> float:
        probe = MLP.from_params(params, acts, dtype="float64")
        out = probe(X)
        return float(
            loss_fn.value_and_grad(out, loss_fn.prepare_targets(y, probe.n_outputs, probe.backend))[
                0
            ]
        )

    grads: Pairs = []
    for li, (b, W) in enumerate(base):
        layer: list[NDArray[np.float64]] = []
        for k, arr in enumerate((b, W)):
            g = np.zeros_like(arr)
            for idx in np.ndindex(arr.shape):
                vals = []
                for step in (eps, -eps):
                    params = [(bb.copy(), WW.copy()) for bb, WW in base]
                    params[li][k][idx] += step
                    vals.append(value(params))
                g[idx] = (vals[0] - vals[1]) / (2 * eps)
            layer.append(g)
        grads.append((layer[0], layer[1]))
    return grads


def autodiff_grads(
    net: MLP, X: NDArray[np.float64], y: NDArray[Any], loss: str, framework: str
) -> Pairs:
    """Gradients from ``torch.autograd`` or ``jax.grad`` of an independent re-implementation."""
    names = [a.name for a in net.activations]
    params = net.numpy_params()
    if framework == "torch":
        import torch
        import torch.nn.functional as F

        torch_acts: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
            "tanh": torch.tanh,
            "sigmoid": torch.sigmoid,
            "relu": torch.relu,
            "identity": lambda z: z,
        }
        ps = [
            (torch.tensor(b, requires_grad=True), torch.tensor(W, requires_grad=True))
            for b, W in params
        ]
        a = torch.tensor(X)
        for (b, W), name in zip(ps, names, strict=True):
            a = torch_acts[name](a @ W.T + b)  # (batch, d_in) @ (d_in, d_out)
        if loss == "mse":
            L = F.mse_loss(a, torch.tensor(np.asarray(y, float)))
        else:
            L = F.cross_entropy(a, torch.tensor(np.asarray(y), dtype=torch.long))
        flat = torch.autograd.grad(L, [t for pair in ps for t in pair])  # b1, W1, b2, W2, …
        return [(flat[2 * i].numpy(), flat[2 * i + 1].numpy()) for i in range(len(ps))]
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)  # type: ignore[no-untyped-call]  # unannotated in jax
    acts: dict[str, Callable[[jax.Array], jax.Array]] = {
        "tanh": jnp.tanh,
        "sigmoid": jax.nn.sigmoid,
        "relu": jax.nn.relu,
        "identity": lambda z: z,
    }

    def loss_of(ps: list[tuple[jax.Array, jax.Array]]) -> jax.Array:
        a = jnp.asarray(X)
        for (b, W), name in zip(ps, names, strict=True):
            a = acts[name](a @ W.T + b)  # (batch, d_in) @ (d_in, d_out)
        if loss == "mse":
            return jnp.mean((a - jnp.asarray(y, dtype=jnp.float64)) ** 2)
        logp = jax.nn.log_softmax(a, axis=1)
        return -jnp.mean(logp[jnp.arange(len(y)), jnp.asarray(y)])

    g = jax.grad(loss_of)([(jnp.asarray(b), jnp.asarray(W)) for b, W in params])
    return [(np.asarray(gb), np.asarray(gW)) for gb, gW in g]


# --- the gradient check -------------------------------------------------------------------


@dataclass
class GradCheckRow:
    parameter: str  # "W1", "b1", …
    shape: tuple[int, ...]
    max_abs_grad: float
    fd_abs_err: float  # max |explicit − finite differences|
    fd_rel_err: float  # max |explicit − fd| / max(|explicit|, |fd|, 1e-8)
    autodiff_abs_err: dict[str, float] = field(
        default_factory=dict
    )  # "torch"/"jax" -> max |explicit − it|


@dataclass
class GradCheckResult:
    """Explicit backprop against finite differences and autodiff, per parameter array."""

    sizes: list[int]
    activation: str
    loss: str
    batch: int
    rows: list[GradCheckRow]
    frameworks: list[str]  # autodiff oracles that ran
    max_fd_rel_err: float
    max_autodiff_abs_err: float  # 0.0 when none ran


def gradient_check(
    sizes: Sequence[int] = (3, 5, 4, 2),
    activation: str = "tanh",
    loss: str = "mse",
    batch: int = 6,
    seed: int = 0,
    frameworks: Iterable[str] = ("torch", "jax"),
) -> GradCheckResult:
    """Compare mlplab's explicit gradients with finite differences and autodiff (float64)."""
    from ..errors import check_choice, check_number

    check_choice("activation", activation, tuple(_NP_ACT))
    check_choice("loss", loss, ("mse", "softmax_cross_entropy"))
    check_number("batch", batch, ge=1, le=10_000, integer=True, hint="Pass a batch such as 6.")
    net = MLP(
        sizes[0], list(sizes[1:-1]), sizes[-1], activation=activation, seed=seed, dtype="float64"
    )
    X, y = _data(sizes, loss, batch, seed)
    _, back = net.gradients(X, y, loss)
    explicit = [(to_numpy(gb), to_numpy(gW)) for gb, gW in back.grads]
    fd = finite_difference_grads(net, X, y, loss)
    ran = [f for f in frameworks if is_available(f)]
    auto = {f: autodiff_grads(net, X, y, loss, f) for f in ran}
    rows = []
    for i, ((gb, gW), (fb, fW)) in enumerate(zip(explicit, fd, strict=True)):
        for k, (name, g, f) in enumerate(((f"W{i + 1}", gW, fW), (f"b{i + 1}", gb, fb))):
            abs_err = np.abs(g - f)
            rel = abs_err / np.maximum(np.maximum(np.abs(g), np.abs(f)), 1e-8)
            row = GradCheckRow(
                name, tuple(g.shape), float(np.abs(g).max()), float(abs_err.max()), float(rel.max())
            )
            for fw, grads in auto.items():
                other = grads[i][1 if k == 0 else 0]
                row.autodiff_abs_err[fw] = float(np.abs(g - other).max())
            rows.append(row)
    auto_err = max((e for r in rows for e in r.autodiff_abs_err.values()), default=0.0)
    return GradCheckResult(
        list(sizes), activation, loss, batch, rows, ran, max(r.fd_rel_err for r in rows), auto_err
    )


# --- one step, made visible -------------------------------------------------------------


@dataclass
class BackpropStepResult:
    """L11: one training step on a small network with everything shown."""

    sizes: list[int]
    activations: list[str]
    X: np.ndarray  # (batch, d_in)
    y: np.ndarray  # (batch, d_out)
    lr: float
    loss_before: float
    loss_after: float
    deltas: list[np.ndarray]  # δ_ℓ, (batch, d_ℓ): blame per example and neuron
    grads: list[tuple[np.ndarray, np.ndarray]]  # (∂L/∂b_ℓ, ∂L/∂W_ℓ)
    params_before: list[tuple[np.ndarray, np.ndarray]]
    params_after: list[tuple[np.ndarray, np.ndarray]]
    by_hand_max_diff: float  # explicit backprop vs the matrix formulas written out in NumPy
    check: GradCheckResult = field(repr=False)


def backprop_step(lr: float = 0.5, seed: int = 0) -> BackpropStepResult:
    """One gradient-descent step of a 2-3-1 tanh network on XOR (MSE, float64)."""
    from ..nn.gates import TRUTH_INPUTS, TRUTH_TABLES
    from ..nn.optim import SGD

    net = MLP(2, [3], 1, activation="tanh", seed=seed, dtype="float64")
    X = TRUTH_INPUTS
    y = TRUTH_TABLES["xor"].astype(float)[:, None]  # (4, 1)
    before = net.numpy_params()
    loss_before, back = net.gradients(X, y, "mse")
    deltas = [to_numpy(d) for d in back.deltas]
    grads = [(to_numpy(gb), to_numpy(gW)) for gb, gW in back.grads]

    # the same thing written out with the lecture's matrix formulas
    (b1, W1), (b2, W2) = before
    z1 = X @ W1.T + b1  # (4, 2) @ (2, 3) -> (4, 3)
    a1 = np.tanh(z1)
    z2 = a1 @ W2.T + b2  # (4, 3) @ (3, 1) -> (4, 1)
    d2 = 2 * (z2 - y) / len(X)  # ∂L/∂z₂ for L = mean (ŷ − y)², identity output
    d1 = (d2 @ W2) * (1 - a1**2)  # (4, 1) @ (1, 3) -> (4, 3), times tanh'(z₁)
    by_hand = [(d1.sum(0), d1.T @ X), (d2.sum(0), d2.T @ a1)]  # δᵀ a_{ℓ−1}: (3, 4) @ (4, 2) …
    diff = max(
        float(np.max(np.abs(g - h)))
        for (gb, gW), (hb, hW) in zip(grads, by_hand, strict=True)
        for g, h in ((gb, hb), (gW, hW))
    )
    diff = max(diff, float(np.max(np.abs(deltas[0] - d1))), float(np.max(np.abs(deltas[1] - d2))))

    opt = SGD()
    params, _ = opt.update(net.params, back.grads, opt.init(net.params), lr, 1)
    net.params = params
    loss_after, _ = net.gradients(X, y, "mse")
    check = gradient_check((2, 3, 1), "tanh", "mse", batch=4, seed=seed)
    return BackpropStepResult(
        list(net.sizes),
        [a.name for a in net.activations],
        X,
        y,
        lr,
        loss_before,
        loss_after,
        deltas,
        grads,
        before,
        net.numpy_params(),
        diff,
        check,
    )


# --- the claim ------------------------------------------------------------------------------


def _verdict(r: BackpropStepResult) -> tuple[bool, str]:
    ok = (
        r.check.max_fd_rel_err < 1e-5
        and r.by_hand_max_diff < 1e-12
        and r.loss_after < r.loss_before
        and r.check.max_autodiff_abs_err < 1e-10
        and bool(r.check.frameworks)  # an autodiff oracle actually ran
    )
    fws = " and ".join(r.check.frameworks) or "no autodiff framework"
    return ok, (
        f"one step: loss {r.loss_before:.4f} → {r.loss_after:.4f}; gradients match the "
        f"matrix formulas to {r.by_hand_max_diff:.1e}, finite differences to "
        f"{r.check.max_fd_rel_err:.1e} (relative) and {fws} to "
        f"{r.check.max_autodiff_abs_err:.1e}"
    )


def _figures(r: BackpropStepResult, out: str | os.PathLike[str]) -> list[Figure]:
    from .. import plots

    path = plots.plot_blame(
        r.deltas,
        Path(out) / "l11_deltas.png",
        row_labels=[str(tuple(int(v) for v in x)) for x in r.X],
        title=r"L11: the blame $\delta_\ell = \partial L / \partial z_\ell$ per example and neuron",
    )
    caption = (
        "Blue: raising that neuron's z would lower the loss (δ < 0); red: it would raise it; "
        "pale: little blame."
    )
    return [Figure(path, caption, wide=True)]


register(
    Claim(
        id="L11",
        title="Backpropagation assigns fault to each neuron; gradient descent updates θ.",
        statement=(
            "Neural networks need no analytical solution but are trained: backpropagation "
            "assigns “fault” to each neuron; gradient descent updates $\\theta$."
        ),
        explanation=(
            "Backpropagation gives each neuron its share of the fault, "
            r"$\delta_\ell = \partial L / \partial z_\ell$; the gradients follow in matrix "
            r"form, $\partial L / \partial W_\ell = \delta_\ell^\top a_{\ell-1}$, and gradient "
            r"descent updates $\theta \leftarrow \theta - \eta \nabla_\theta L$. The gradients "
            "are checked against finite differences and autodiff."
        ),
        command="mlplab backprop; mlplab gradcheck",
        run=lambda s: backprop_step(seed=s.seed),
        verdict=_verdict,
        text=show_backprop,
        figures=_figures,
        skipped=lambda r: missing_frameworks(r.check.frameworks),
    )
)

__all__ = [
    "BackpropStepResult",
    "GradCheckResult",
    "GradCheckRow",
    "autodiff_grads",
    "backprop_step",
    "finite_difference_grads",
    "gradient_check",
]
