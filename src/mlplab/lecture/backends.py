"""L12: the same deep and wide network on NumPy, PyTorch and JAX, with matching results.

One configuration (architecture, seed, data, optimizer, minibatch order) is
trained on every installed backend in float64. Initial weights and batch order
come from NumPy's seeded generator on every backend, so the loss curves and
final weights agree to rounding error.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ..backend.arrays import available_backends
from .registry import Claim, Figure, missing_frameworks, register
from .text import show_backends


@dataclass
class BackendResult:
    """Per backend: final loss, accuracy, seconds, and its distance from the NumPy run."""

    backends: list[str]
    sizes: list[int]
    epochs: int
    dtype: str
    final_loss: dict[str, float] = field(default_factory=dict)
    accuracy: dict[str, float] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    # max over epochs |loss − loss_numpy|
    max_loss_diff: dict[str, float] = field(default_factory=dict)
    # max |θ − θ_numpy| after training
    max_param_diff: dict[str, float] = field(default_factory=dict)
    loss_curves: dict[str, NDArray[np.float64]] = field(repr=False, default_factory=dict)


def backend_agreement(
    backends: Iterable[str] | None = None,
    *,
    hidden: Sequence[int] = (16, 16),
    epochs: int = 100,
    batch_size: int = 32,
    dtype: str = "float64",
    seed: int = 0,
) -> BackendResult:
    """Train a 2-16-16-1 tanh MLP on two moons with Adam on each backend; compare."""
    from sklearn.datasets import make_moons

    from ..nn.mlp import MLP
    from ..train import fit

    backends = list(backends or available_backends())
    if "numpy" not in backends:
        backends.insert(0, "numpy")
    X, y = make_moons(n_samples=200, noise=0.2, random_state=seed)
    res = BackendResult(backends, [2, *hidden, 1], epochs, dtype)
    reference = None
    for name in backends:
        net = MLP(2, list(hidden), 1, activation="tanh", seed=seed, backend=name, dtype=dtype)
        start = time.perf_counter()
        hist = fit(net, X, y, lr=0.01, epochs=epochs, batch_size=batch_size, seed=seed, verbose=0)
        res.seconds[name] = time.perf_counter() - start
        curve = np.asarray(hist.train_loss)
        params = net.numpy_params()
        res.loss_curves[name] = curve
        res.final_loss[name] = float(curve[-1])
        res.accuracy[name] = float(net.score(X, y))
        if reference is None:
            reference = (curve, params)
        res.max_loss_diff[name] = float(np.max(np.abs(curve - reference[0])))
        res.max_param_diff[name] = max(
            float(np.max(np.abs(a - b)))
            for (pb, pW), (rb, rW) in zip(params, reference[1], strict=True)
            for a, b in ((pb, rb), (pW, rW))
        )
    return res


# --- the claim ------------------------------------------------------------------------------


def _verdict(r: BackendResult) -> tuple[bool, str]:
    worst = max(r.max_loss_diff.values())
    # shown only when there is something to agree with: PyTorch and JAX both ran
    ok = {"torch", "jax"} <= set(r.backends) and worst < 1e-8
    ok = ok and max(r.max_param_diff.values()) < 1e-8
    return ok, (
        f"trained on {', '.join(r.backends)}: final losses "
        + ", ".join(f"{b} {v:.6f}" for b, v in r.final_loss.items())
        + f"; loss curves agree to {worst:.1e}"
    )


def _figures(r: BackendResult, out: str | os.PathLike[str]) -> list[Figure]:
    from .. import plots

    path = plots.plot_agreement(
        np.arange(1, r.epochs + 1),
        {b: r.loss_curves[b] for b in r.backends},
        Path(out) / "l12_backends.png",
        title="L12: one training run on each backend",
        xlabel="epoch",
        ylabel="training loss (binary cross-entropy)",
    )
    caption = (
        "The curves coincide (left, drawn dashed so each shows); their differences are "
        "float64 rounding, about 1e−16 (right)."
    )
    return [Figure(path, caption, wide=True)]


register(
    Claim(
        id="L12",
        title="The same deep and wide network runs on NumPy, PyTorch and JAX.",
        statement="Build deep and wide networks in PyTorch and JAX.",
        explanation=(
            "The same deep and wide network is built in NumPy, PyTorch and JAX: one "
            "configuration trained on each backend gives the same losses and weights."
        ),
        command="mlplab tour --only L12",
        run=lambda s: backend_agreement(epochs=20 if s.quick else 100, seed=s.seed),
        verdict=_verdict,
        text=show_backends,
        figures=_figures,
        skipped=lambda r: missing_frameworks(r.backends),
    )
)

__all__ = ["BackendResult", "backend_agreement"]
