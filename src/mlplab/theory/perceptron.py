"""Rosenblatt's perceptron learning rule for one Heaviside neuron.

For each example in turn, ``ŷ = H(θ₀ + θ·x)`` and

    θ ← θ + η (y − ŷ) [1, x]

(nothing changes when the example is right). An *epoch* is one pass over the
examples in a fixed order. If an epoch makes no mistake the rule has
converged (it always does on linearly separable data: the perceptron
convergence theorem). The rule is deterministic, so if θ at the start of an
epoch equals θ at the start of an earlier epoch it will repeat that stretch
forever: a *cycle*, a proof that it never converges from there. On XOR, which
no θ separates, that is what happens; an epoch cap guards any other case.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ..errors import DataError, check_number


@dataclass
class PerceptronResult:
    """What the learning rule did."""

    converged: bool
    stop_reason: str  # "converged", "cycle" or "epoch cap"
    epochs: int  # epochs run
    theta: np.ndarray  # (d + 1,) final [θ₀, θ₁, …]
    mistakes: list[int] = field(default_factory=list)  # mistakes in each epoch
    thetas: list[np.ndarray] = field(default_factory=list)  # θ at the start of each epoch
    cycle_start: int | None = None  # epoch (1-based) whose starting θ recurs
    cycle_length: int | None = None  # epochs per repetition
    predictions: np.ndarray | None = None  # (n,) H(θ₀ + θ·x) with the final θ


def train_perceptron(
    X: ArrayLike,
    y: ArrayLike,
    *,
    lr: float = 1.0,
    theta0: ArrayLike | None = None,
    max_epochs: int = 1000,
) -> PerceptronResult:
    """Run the perceptron rule on ``(X, y)`` until convergence, a detected cycle or ``max_epochs``.

    Args:
        X: `(n, d)` inputs.
        y: `(n,)` labels in {0, 1}.
        lr: η > 0.
        theta0: `(d + 1,)` starting ``[θ₀, θ₁, …]`` (default zeros).
        max_epochs: the epoch cap.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y).ravel().astype(np.int64)
    if X.ndim != 2 or X.shape[0] != y.shape[0] or X.shape[0] == 0:
        raise DataError(
            f"X must be (n, d) with one label per row; got X {tuple(X.shape)}, y {y.shape}."
        )
    if not np.all(np.isin(y, (0, 1))):
        raise DataError(f"labels must be 0 or 1; got {sorted(set(y.tolist()))}.")
    check_number("lr", lr, gt=0)
    check_number("max_epochs", max_epochs, ge=1, integer=True)
    A = np.hstack([np.ones((len(X), 1)), X])  # (n, d + 1): [1, x]
    theta = np.zeros(A.shape[1]) if theta0 is None else np.array(theta0, dtype=np.float64)
    if theta.shape != (A.shape[1],):
        raise DataError(f"`theta0` must have {A.shape[1]} entries; got shape {theta.shape}.")

    seen: dict[bytes, int] = {}  # θ at the start of an epoch -> that epoch (0-based)
    result = PerceptronResult(False, "epoch cap", 0, theta)
    for epoch in range(max_epochs):
        key = theta.tobytes()
        if key in seen:
            result.stop_reason = "cycle"
            result.cycle_start = seen[key] + 1
            result.cycle_length = epoch - seen[key]
            break
        seen[key] = epoch
        result.thetas.append(theta.copy())
        mistakes = 0
        for a, target in zip(A, y, strict=True):
            out = int(theta @ a > 0)  # H(θ₀ + θ·x), with H(0) = 0
            if out != target:
                theta = theta + lr * (target - out) * a
                mistakes += 1
        result.mistakes.append(mistakes)
        result.epochs = epoch + 1
        if mistakes == 0:
            result.converged, result.stop_reason = True, "converged"
            break
    result.theta = theta
    result.predictions = (A @ theta > 0).astype(np.int64)  # (n, d + 1) @ (d + 1,)
    return result


def train_gate(name: str, **kwargs: Any) -> PerceptronResult:
    """:func:`train_perceptron` on a two-input gate's truth table (``"and"``, …, ``"xor"``)."""
    from ..errors import check_choice
    from ..nn.gates import TRUTH_INPUTS, TRUTH_TABLES

    check_choice("gate", name, tuple(TRUTH_TABLES))
    return train_perceptron(TRUTH_INPUTS, TRUTH_TABLES[name], **kwargs)


__all__ = ["PerceptronResult", "train_gate", "train_perceptron"]
