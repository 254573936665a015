"""Linear and polynomial regression by the normal equations, and why the latter scales badly.

L1: the linear model ``ŷ = θ₀ + θ₁x₁ + … + θ_d x_d`` has the closed form
``θ = (XᵀX)⁻¹Xᵀy`` where X carries a leading column of ones (the bias). We
never form the inverse: ``XᵀX θ = Xᵀy`` is *solved* (or the least-squares
problem handed to ``lstsq``, which is better conditioned).

L2: polynomial regression of degree m on d inputs needs every monomial of
degree ≤ m as a column: ``p = C(d + m, m)`` columns. For a 256×256 image
(d = 65,536) at m = 3 that is 46,916,791,205,889 columns; ``XᵀX`` would be
p × p and solving with it costs O(p³).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations_with_replacement
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..backend.memory import available_memory, format_bytes
from ..errors import ConfigError, DataError, check_choice, check_number

# --- L1: the normal equations ---------------------------------------------------


@dataclass
class LinearFit:
    """A fitted linear model ``ŷ = bias + X @ weights``."""

    theta: NDArray[np.float64]  # (d + 1,) or (d + 1, k): [θ₀, θ₁, …, θ_d], bias first
    method: str  # "solve" or "lstsq"
    residual_sum_of_squares: float

    @property
    def bias(self) -> Any:  # θ₀: a float64, or (k,) for k targets
        return self.theta[0]

    @property
    def weights(self) -> np.ndarray:
        return self.theta[1:]

    def predict(self, X: ArrayLike) -> NDArray[np.float64]:
        """ŷ for `(n, d)` inputs: `(n,)` (or `(n, k)` for k targets)."""
        return add_bias_column(X) @ self.theta  # (n, d + 1) @ (d + 1, [k])


def add_bias_column(X: ArrayLike) -> NDArray[np.float64]:
    """``[1, X]``: `(n, d)` -> `(n, d + 1)`, the design matrix of the linear model."""
    X = _as_2d(X, "X")
    return np.hstack([np.ones((X.shape[0], 1)), X])


def fit_linear(X: ArrayLike, y: ArrayLike, *, method: str = "solve") -> LinearFit:
    """Least squares by the normal equations: ``θ`` solving ``(XᵀX) θ = Xᵀy`` with a bias column.

    Args:
        X: `(n, d)` inputs (multivariate; `(n,)` is one input).
        y: `(n,)` or `(n, k)` targets.
        method: ``"solve"`` (the normal equations, ``np.linalg.solve``) or
            ``"lstsq"`` (``np.linalg.lstsq`` on ``[1, X]`` directly, also fine
            when XᵀX is singular). Neither forms an explicit inverse.

    Returns:
        a :class:`LinearFit` with ``theta = [θ₀, θ₁, …, θ_d]``.
    """
    check_choice("method", method, ("solve", "lstsq"))
    A = add_bias_column(X)  # (n, d + 1)
    y = np.asarray(y, dtype=np.float64)
    if y.shape[0] != A.shape[0]:
        raise DataError(f"X has {A.shape[0]} rows but y has {y.shape[0]}; they must be equal.")
    if not np.all(np.isfinite(y)):
        raise DataError("y contains NaN or infinite values; clean or drop those rows.")
    if method == "solve":
        gram = A.T @ A  # (d + 1, n) @ (n, d + 1) -> (d + 1, d + 1): XᵀX
        rhs = A.T @ y  # (d + 1, n) @ (n, [k]) -> (d + 1, [k]): Xᵀy
        try:
            theta = np.linalg.solve(gram, rhs)
        except np.linalg.LinAlgError as err:
            raise DataError(
                "XᵀX is singular (collinear or too few distinct rows), so the normal "
                "equations have no unique solution; use method='lstsq' instead."
            ) from err
    else:
        theta = np.linalg.lstsq(A, y, rcond=None)[0]
    resid = y - A @ theta  # (n, d + 1) @ (d + 1, [k])
    return LinearFit(theta, method, float(np.sum(resid**2)))


def _as_2d(X: ArrayLike, name: str) -> NDArray[np.float64]:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise DataError(f"`{name}` must be 1-D or 2-D (n, d); got shape {tuple(X.shape)}.")
    if X.shape[0] == 0:
        raise DataError(f"`{name}` is empty (0 rows); pass at least one sample.")
    if not np.all(np.isfinite(X)):
        raise DataError(f"`{name}` contains NaN or infinite values; clean or drop those rows.")
    return X


# --- L2: polynomial features and their cost -----------------------------------------


def poly_feature_count(d: int, m: int) -> int:
    """Exact number of monomials of degree ≤ m in d variables: ``C(d + m, m)`` (a Python int).

    >>> poly_feature_count(2, 3)
    10
    >>> poly_feature_count(65536, 3)
    46916791205889
    """
    check_number("d", d, ge=1, integer=True)
    check_number("m", m, ge=0, integer=True)
    return math.comb(int(d) + int(m), int(m))


@dataclass
class PolyCost:
    """What degree-m polynomial regression on d inputs would take (exact integers)."""

    d: int
    m: int
    columns: int  # p = C(d + m, m), including the bias column
    bytes_per_row: int  # 8 p: one float64 row of the design matrix
    design_bytes: int  # 8 n p for n samples
    gram_bytes: int  # 8 p²: XᵀX
    solve_flops: int  # ≈ p³ / 3 (Cholesky of XᵀX)
    gram_flops: int  # ≈ n p² (forming XᵀX)
    n_samples: int


def poly_cost(d: int, m: int, n_samples: int = 1000, itemsize: int = 8) -> PolyCost:
    """Columns, memory and flops of the normal equations for degree-m features of d inputs."""
    check_number("n_samples", n_samples, ge=1, integer=True)
    p = poly_feature_count(d, m)
    return PolyCost(
        d=int(d),
        m=int(m),
        columns=p,
        bytes_per_row=itemsize * p,
        design_bytes=itemsize * p * int(n_samples),
        gram_bytes=itemsize * p * p,
        solve_flops=p**3 // 3,
        gram_flops=int(n_samples) * p * p,
        n_samples=int(n_samples),
    )


def monomial_exponents(d: int, degree: int) -> list[tuple[int, ...]]:
    """Index tuples of every monomial of degree ≤ ``degree``: ``()`` = bias, ``(0, 0)`` = x₀²."""
    return [
        combo for k in range(degree + 1) for combo in combinations_with_replacement(range(d), k)
    ]


def polynomial_features(
    X: ArrayLike, degree: int, *, include_bias: bool = True, max_bytes: int | None = None
) -> np.ndarray:
    """Every monomial of degree ≤ ``degree`` of the columns of ``X``.

    Args:
        X: `(n, d)` inputs.
        degree: m ≥ 0.
        include_bias: keep the constant column (degree 0).
        max_bytes: refuse above this many bytes (default: the memory available now).

    Returns:
        `(n, p)` with ``p = C(d + m, m)`` (minus 1 without the bias), columns
        ordered by degree then lexicographically (as :func:`monomial_exponents`).

    Raises:
        ConfigError: the matrix would not fit; raised *before* anything is allocated.
    """
    X = _as_2d(X, "X")
    check_number("degree", degree, ge=0, integer=True)
    n, d = X.shape
    p = poly_feature_count(d, degree) - (0 if include_bias else 1)
    need = n * p * 8
    limit = available_memory() if max_bytes is None else int(max_bytes)
    if need > limit:
        raise ConfigError(
            f"polynomial features of degree {degree} on {d} inputs have C({d}+{degree}, "
            f"{degree}) = {p:,} columns; for {n:,} samples that is {need:,} bytes "
            f"({format_bytes(need)}) but only {format_bytes(limit)} is available. "
            "Lower the degree or the number of inputs, or use a neural network."
        )
    out = np.empty((n, p))  # the one allocation the check above sized
    j = 0
    if include_bias:
        out[:, 0] = 1.0
        j = 1
    prev: dict[tuple[int, ...], np.ndarray] = {
        (): np.ones(n)
    }  # monomials of the previous degree (views into `out`)
    for k in range(1, degree + 1):
        cur: dict[tuple[int, ...], np.ndarray] = {}
        for combo in combinations_with_replacement(range(d), k):
            np.multiply(prev[combo[:-1]], X[:, combo[-1]], out=out[:, j])
            cur[combo] = out[:, j]
            j += 1
        prev = cur
    return out


def fit_polynomial(
    x: ArrayLike, y: ArrayLike, degree: int, *, method: str = "lstsq"
) -> tuple[np.ndarray, LinearFit]:
    """Polynomial regression of degree ``degree`` on 1-D ``x`` by least squares.

    Returns ``(coefficients, fit)`` where ``coefficients[k]`` multiplies ``x^k``.
    """
    feats = polynomial_features(np.asarray(x, float)[:, None], degree, include_bias=False)
    fit = fit_linear(feats, y, method=method)
    return np.asarray(fit.theta), fit


def eval_polynomial(coefficients: ArrayLike, x: ArrayLike) -> np.ndarray:
    """``Σ_k c_k x^k`` at `(m,)` points."""
    values: np.ndarray = np.polynomial.polynomial.polyval(
        np.asarray(x, float), np.asarray(coefficients, float)
    )
    return values


__all__ = [
    "LinearFit",
    "PolyCost",
    "add_bias_column",
    "eval_polynomial",
    "fit_linear",
    "fit_polynomial",
    "monomial_exponents",
    "poly_cost",
    "poly_feature_count",
    "polynomial_features",
]
