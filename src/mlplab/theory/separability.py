"""Linear separability decided by linear programming, with a proof either way.

A single Heaviside neuron ``H(θ₀ + θ·x)`` computes labels y ∈ {0, 1} exactly when

    θ₀ + θ·x > 0 for every positive x   and   θ₀ + θ·x ≤ 0 for every negative x.

Because θ can be scaled, "> 0" may be replaced by "≥ 1" (a strict solution
scaled up satisfies it), which gives the linear feasibility problem ``A θ ≤ c``:

    −(θ₀ + θ·x) ≤ −1 for positives,   θ₀ + θ·x ≤ 0 for negatives.

If it is feasible, scipy's ``linprog`` returns a θ (we take the one of least
``|θ|₁``, which for AND and OR is the lecture's own θ) and we verify it on
every point. If it is infeasible, Farkas' lemma promises multipliers
``u ≥ 0`` with ``uᵀA = 0`` and ``uᵀc < 0``: a weighted sum of the positive
rows equals a weighted sum of the negative rows as a function of θ, yet the
first must be > 0 and the second ≤ 0. We find u with a second LP, turn it into
small integers and check it exactly (in rationals); for XOR it reads
"(0,1) + (1,0) and (0,0) + (1,1) both sum to 2θ₀ + θ₁ + θ₂".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from math import lcm

import numpy as np
from numpy.typing import ArrayLike

from ..errors import DataError


@dataclass
class Certificate:
    """A Farkas proof that no θ separates the data."""

    multipliers: np.ndarray  # (n,) u ≥ 0, one per data point (small integers when exact)
    positive_rows: list[int]  # indices of positives with u > 0
    negative_rows: list[int]  # indices of negatives with u > 0
    combination: np.ndarray  # (d + 1,) integer coefficients of [θ₀, θ₁, …] of both sums
    positive_lower_bound: float  # Σ u over the positive rows: the positive sum is ≥ this (> 0)
    lines: list[str] = field(default_factory=list)  # the proof in words
    exact: bool = True  # integer u checked in rationals (else float u checked to 1e-9)

    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass
class SeparabilityResult:
    """Outcome of :func:`check_separable`."""

    separable: bool
    lp_status: int  # scipy linprog status: 0 feasible (optimal), 2 infeasible
    lp_message: str
    theta: np.ndarray | None  # (d + 1,) separating [θ₀, θ₁, …] when separable
    verified: bool  # θ reproduces every label, or the certificate checks out exactly
    certificate: Certificate | None
    X: np.ndarray
    y: np.ndarray


def _constraints(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``A θ ≤ c`` for θ = [θ₀, θ₁, …]: rows in data order."""
    A1 = np.hstack([np.ones((len(X), 1)), X])  # (n, d + 1): [1, x]
    sign = np.where(y == 1, -1.0, 1.0)[:, None]
    A = sign * A1  # positives: −[1, x]; negatives: +[1, x]
    c = np.where(y == 1, -1.0, 0.0)
    return A, c


def check_separable(X: ArrayLike, y: ArrayLike) -> SeparabilityResult:
    """Decide whether one Heaviside neuron can reproduce labels ``y`` on inputs ``X``.

    Args:
        X: `(n, d)` inputs.
        y: `(n,)` labels in {0, 1}.

    Returns:
        a :class:`SeparabilityResult` with a verified separating θ or a verified
        Farkas certificate of infeasibility.
    """
    from scipy.optimize import linprog

    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y).ravel()
    if X.ndim != 2 or X.shape[0] != y.shape[0] or X.shape[0] == 0:
        raise DataError(
            f"X must be (n, d) with one label per row; got X {tuple(X.shape)}, y {y.shape}."
        )
    if not np.all(np.isin(y, (0, 1))):
        raise DataError(f"labels must be 0 or 1; got {sorted(set(y.tolist()))}.")
    A, c = _constraints(X, y)
    k = A.shape[1]
    # minimise |θ|₁ with θ = p − q, p, q ≥ 0
    res = linprog(np.ones(2 * k), A_ub=np.hstack([A, -A]), b_ub=c, bounds=(0, None), method="highs")
    if res.status == 0:
        theta = res.x[:k] - res.x[k:]
        theta = _snap(theta)
        z = theta[0] + X @ theta[1:]  # (n, d) @ (d,) -> (n,)
        verified = bool(np.array_equal((z > 0).astype(int), y.astype(int)))
        return SeparabilityResult(True, res.status, res.message, theta, verified, None, X, y)
    if res.status != 2:
        raise DataError(f"the linear program did not decide separability: {res.message}")
    cert = farkas_certificate(X, y)
    return SeparabilityResult(False, res.status, res.message, None, cert is not None, cert, X, y)


def _snap(theta: np.ndarray) -> np.ndarray:
    """Round LP output to nearby simple fractions (HiGHS returns e.g. 0.9999999999)."""
    snapped = np.array([float(Fraction(t).limit_denominator(1000)) for t in theta])
    return snapped if np.allclose(snapped, theta, atol=1e-7) else theta


def farkas_certificate(X: ArrayLike, y: ArrayLike) -> Certificate | None:
    """Multipliers ``u ≥ 0`` with ``uᵀA = 0`` and ``uᵀc < 0`` (Farkas), as a readable proof.

    Solves ``min Σu`` s.t. ``Aᵀu = 0``, ``cᵀu = −1``, ``u ≥ 0``; rounds u to
    the smallest integers and re-checks both conditions exactly (for data such
    as truth tables), or else checks the float u to 1e-9. Returns ``None`` if
    no certificate exists (the data are separable).
    """
    from scipy.optimize import linprog

    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y).ravel().astype(int)
    A, c = _constraints(X, y)
    n = A.shape[0]
    A_eq = np.vstack([A.T, c[None, :]])  # (d + 2, n)
    b_eq = np.concatenate([np.zeros(A.shape[1]), [-1.0]])
    res = linprog(np.ones(n), A_eq=A_eq, b_eq=b_eq, bounds=(0, None), method="highs")
    if res.status != 0:
        return None
    u: list[int] | np.ndarray | None
    u, exact = _integer_multipliers(res.x, A, c)
    if u is None:
        # not small rationals (general float data): verify in floating point instead
        u = np.where(res.x > 1e-12, res.x, 0.0)
        scale = np.abs(A).sum() + 1.0
        if np.max(np.abs(u @ A)) > 1e-9 * scale or not u @ c < -1e-9:
            return None
    pos = [i for i in range(n) if u[i] > 0 and y[i] == 1]
    neg = [i for i in range(n) if u[i] > 0 and y[i] == 0]
    A1 = np.hstack([np.ones((n, 1)), X])
    combo = sum(u[i] * A1[i] for i in pos)  # (d + 1,): Σ u_i [1, x_i] over positives
    bound = sum(u[i] for i in pos)
    form = _linear_form(combo)
    lines = [
        "Suppose one neuron H(θ₀ + θ·x) computed these labels. Then",
        *(
            f"  {_pt(X[i])} → 1 needs  {_linear_form(A1[i])} > 0"
            + (f"   (taken {u[i]:.4g}×)" if u[i] != 1 else "")
            for i in pos
        ),
        *(
            f"  {_pt(X[i])} → 0 needs  {_linear_form(A1[i])} ≤ 0"
            + (f"   (taken {u[i]:.4g}×)" if u[i] != 1 else "")
            for i in neg
        ),
        f"Adding the positive rows {_weighted(u, X, pos)}: {form} > 0.",
        f"Adding the negative rows {_weighted(u, X, neg)}: {form} ≤ 0.",
        f"Both sums are the same expression {form}, which cannot be both > 0 and ≤ 0: "
        "no θ exists, so no single neuron computes these labels.",
    ]
    return Certificate(np.asarray(u), pos, neg, np.asarray(combo, dtype=float), bound, lines, exact)


def _integer_multipliers(
    x: np.ndarray, A: np.ndarray, c: np.ndarray
) -> tuple[list[int] | None, bool]:
    """u as the smallest integers, if that is exact: ``(u, True)``, else ``(None, False)``.

    Checks ``uᵀA = 0`` and ``uᵀc < 0`` in exact rational arithmetic.
    """
    fracs = [Fraction(v).limit_denominator(10_000) for v in x]
    scale = lcm(*(f.denominator for f in fracs))
    u = [int(f * scale) for f in fracs]
    n, k = A.shape
    A_q = [[Fraction(v) for v in row] for row in A]
    if any(sum(u[i] * A_q[i][j] for i in range(n)) != 0 for j in range(k)):
        return None, False
    if sum(u[i] * Fraction(c[i]) for i in range(n)) >= 0:
        return None, False
    return u, True


def _weighted(u: Sequence[float] | np.ndarray, X: np.ndarray, rows: Iterable[int]) -> str:
    return " + ".join(("" if u[i] == 1 else f"{u[i]:.4g}·") + _pt(X[i]) for i in rows)


def _pt(x: Iterable[float]) -> str:
    return "(" + ",".join(f"{v:g}" for v in x) + ")"


def _linear_form(coef: Iterable[float]) -> str:
    """``[2, 1, 1]`` -> ``'2θ₀ + θ₁ + θ₂'``."""
    subs = "₀₁₂₃₄₅₆₇₈₉"
    terms: list[str] = []
    for j, a in enumerate(coef):
        if a == 0:
            continue
        name = "θ" + "".join(subs[int(ch)] for ch in str(j))
        mag = abs(a)
        body = name if mag == 1 else f"{mag:g}{name}"
        if not terms:
            terms.append(body if a > 0 else f"−{body}")
        else:
            terms.append(f"{'+' if a > 0 else '−'} {body}")
    return " ".join(terms) if terms else "0"


def check_gate(name: str) -> SeparabilityResult:
    """:func:`check_separable` on a two-input gate's truth table (``"and"``, …, ``"xor"``)."""
    from ..errors import check_choice
    from ..nn.gates import TRUTH_INPUTS, TRUTH_TABLES

    check_choice("gate", name, tuple(TRUTH_TABLES))
    return check_separable(TRUTH_INPUTS, TRUTH_TABLES[name])


__all__ = [
    "Certificate",
    "SeparabilityResult",
    "check_gate",
    "check_separable",
    "farkas_certificate",
]
