"""L1–L3: linear regression, the polynomial blow-up, and extrapolation.

* L1 fits a multivariate linear model by the normal equations and compares it
  with independent references (SciPy's least squares, scikit-learn).
* L2 counts the columns of polynomial design matrices exactly and shows the
  refusal to build one that cannot fit in memory.
* L3 fits polynomials and a tanh MLP to the lecture's cubic on [0, 1.75] and
  evaluates them on [−5, 5].
"""

from __future__ import annotations

import os
import tracemalloc
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import ConfigError
from ..theory.linear import (
    eval_polynomial,
    fit_linear,
    fit_polynomial,
    poly_cost,
    poly_feature_count,
    polynomial_features,
)
from .registry import Claim, Figure, Settings, register
from .text import show_extrapolation, show_linear, show_poly


def cubic(x: ArrayLike) -> NDArray[np.float64]:
    """The lecture's ``f(x) = x³ − 2x² − x + 2``."""
    v = np.asarray(x, dtype=np.float64)
    out: NDArray[np.float64] = v**3 - 2 * v**2 - v + 2
    return out


def sine(x: ArrayLike) -> NDArray[np.float64]:
    """``sin(3x)``: a target that is no polynomial, so no degree fits it outside the data."""
    return np.sin(3 * np.asarray(x, dtype=np.float64))


# name -> (function, its formula in text, in LaTeX)
L3_TARGETS: dict[str, tuple[Callable[[ArrayLike], NDArray[np.float64]], str, str]] = {
    "cubic": (cubic, "x³ − 2x² − x + 2", "x^3 - 2x^2 - x + 2"),
    "sin": (sine, "sin(3x)", r"\sin(3x)"),
}


# --- L1 -----------------------------------------------------------------------------


@dataclass
class LinearRegressionResult:
    """L1: normal equations vs references on a multivariate problem."""

    n_samples: int
    n_inputs: int
    theta_true: np.ndarray  # (d + 1,) [θ₀, θ₁, …] used to generate y
    theta_solve: np.ndarray  # normal equations, np.linalg.solve
    theta_lstsq: np.ndarray  # np.linalg.lstsq on [1, X]
    theta_reference: np.ndarray  # scipy.linalg.lstsq
    theta_sklearn: np.ndarray  # sklearn LinearRegression [intercept, coef]
    max_diff_reference: float  # max |θ_solve − θ_reference|
    max_diff_sklearn: float
    rss: float
    noise: float


def linear_regression(
    n_samples: int = 200, n_inputs: int = 3, noise: float = 0.1, seed: int = 0
) -> LinearRegressionResult:
    """Generate ``y = θ₀ + X θ + noise`` and recover θ by the normal equations (float64)."""
    import scipy.linalg
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(seed)
    theta_true = np.concatenate([[3.0], rng.uniform(-2, 2, size=n_inputs)])
    X = rng.standard_normal((n_samples, n_inputs))
    y = theta_true[0] + X @ theta_true[1:] + noise * rng.standard_normal(n_samples)  # (n, d) @ (d,)
    solve = fit_linear(X, y, method="solve")
    lstsq = fit_linear(X, y, method="lstsq")
    A = np.hstack([np.ones((n_samples, 1)), X])
    reference = scipy.linalg.lstsq(A, y)[0]
    sk = LinearRegression().fit(X, y)
    theta_sk = np.concatenate([[sk.intercept_], sk.coef_])
    return LinearRegressionResult(
        n_samples,
        n_inputs,
        theta_true,
        solve.theta,
        lstsq.theta,
        reference,
        theta_sk,
        float(np.max(np.abs(solve.theta - reference))),
        float(np.max(np.abs(solve.theta - theta_sk))),
        solve.residual_sum_of_squares,
        noise,
    )


# --- L2 -----------------------------------------------------------------------------

LECTURE_D, LECTURE_M = 65_536, 3  # a 256×256 image at degree 3


@dataclass
class PolyBlowupResult:
    """L2: exact column counts, memory and cost; the refusal to build the impossible."""

    rows: list[dict[str, int]]  # one per (d, m): columns, bytes per row, XᵀX bytes, solve flops
    n_samples: int
    lecture_columns: int  # C(65539, 3) = 46,916,791,205,889
    small_columns: int  # d = 2, m = 3: 10
    small_shape: tuple[int, int]  # shape of polynomial_features on (5, 2) at degree 3
    small_matches_sklearn: bool
    refused: bool
    refusal_message: str
    refusal_peak_bytes: int  # memory traced while refusing (no big allocation happened)


def polynomial_blowup(
    ds: Iterable[int] = (1, 2, 10, 100, 784, LECTURE_D),
    ms: Iterable[int] = (1, 2, 3, 4),
    n_samples: int = 1000,
) -> PolyBlowupResult:
    """Count columns C(d+m, m) for each (d, m); build a small case; refuse the lecture's image."""
    from sklearn.preprocessing import PolynomialFeatures

    rows = []
    for d in ds:
        for m in ms:
            c = poly_cost(d, m, n_samples)
            rows.append(
                {
                    "d": d,
                    "m": m,
                    "columns": c.columns,
                    "design_bytes": c.design_bytes,
                    "gram_bytes": c.gram_bytes,
                    "solve_flops": c.solve_flops,
                }
            )
    X_small = np.random.default_rng(0).standard_normal((5, 2))
    F = polynomial_features(X_small, 3)
    ref = PolynomialFeatures(3).fit_transform(X_small)
    image = np.zeros((1, LECTURE_D))  # one 256×256 image, flattened
    tracemalloc.start()
    try:
        polynomial_features(image, LECTURE_M)
        refused, message = False, ""
    except ConfigError as err:
        refused, message = True, str(err)
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return PolyBlowupResult(
        rows,
        n_samples,
        poly_feature_count(LECTURE_D, LECTURE_M),
        poly_feature_count(2, 3),
        tuple(F.shape),
        bool(F.shape == ref.shape and np.allclose(F, ref)),
        refused,
        message,
        int(peak),
    )


# --- L3 -----------------------------------------------------------------------------


@dataclass
class ExtrapolationResult:
    """L3: fits on [0, 1.75] evaluated on a wide interval."""

    x_train: np.ndarray  # (8,) 0, 0.25, …, 1.75
    y_train: np.ndarray
    x: np.ndarray = field(repr=False)  # (m,) evaluation grid on [lo, hi]
    # name -> (m,)
    predictions: dict[str, NDArray[np.float64]] = field(repr=False, default_factory=dict)
    train_rmse: dict[str, float] = field(default_factory=dict)  # name -> RMSE on the 8 samples
    max_abs: dict[str, float] = field(default_factory=dict)  # name -> max |f| on the grid
    at_ends: dict[str, tuple[float, float]] = field(default_factory=dict)  # (f(lo), f(hi))
    mlp_bound: float = 0.0  # |b₂| + Σ|W₂|: |f(x)| ≤ this for EVERY x (tanh hidden layer)
    mlp_hidden: int = 0
    interval: tuple[float, float] = (-5.0, 5.0)
    target: str = "cubic"  # a key of L3_TARGETS

    @property
    def formula(self) -> str:
        return L3_TARGETS[self.target][1]


def extrapolation(
    degrees: Iterable[int] = (1, 2, 3, 5, 7),
    *,
    hidden: int = 16,
    epochs: int = 3000,
    interval: tuple[float, float] = (-5.0, 5.0),
    seed: int = 0,
    backend: str = "numpy",
    target: str = "cubic",
) -> ExtrapolationResult:
    """Fit polynomials of each degree and a 1-``hidden``-1 tanh MLP to 8 samples of a target.

    ``target`` is ``"cubic"`` (the lecture's) or ``"sin"`` (``sin(3x)``, no polynomial).
    """
    from ..errors import check_choice

    check_choice("target", target, tuple(L3_TARGETS))
    g, formula, _ = L3_TARGETS[target]
    from ..nn.mlp import MLP
    from ..train import fit

    x_train = np.arange(8) * 0.25  # 0, 0.25, …, 1.75
    y_train = g(x_train)
    lo, hi = interval
    x = np.linspace(lo, hi, 401)
    res = ExtrapolationResult(
        x_train, y_train, x, interval=(lo, hi), mlp_hidden=hidden, target=target
    )
    res.predictions[f"target {formula}"] = g(x)
    for deg in degrees:
        coef, _ = fit_polynomial(x_train, y_train, deg)
        name = f"polynomial degree {deg}"
        res.predictions[name] = eval_polynomial(coef, x)
        res.train_rmse[name] = float(
            np.sqrt(np.mean((eval_polynomial(coef, x_train) - y_train) ** 2))
        )
    # the same degree-7 interpolation with the samples disturbed by 1% noise: the
    # extra freedom turns into wild swings outside the data
    noisy = y_train + 0.01 * np.random.default_rng(seed).standard_normal(len(y_train))
    coef, _ = fit_polynomial(x_train, noisy, 7)
    name = "polynomial degree 7, samples + 1% noise"
    res.predictions[name] = eval_polynomial(coef, x)
    res.train_rmse[name] = float(np.sqrt(np.mean((eval_polynomial(coef, x_train) - noisy) ** 2)))
    net = MLP(1, [hidden], 1, activation="tanh", seed=seed, backend=backend, dtype="float64")
    fit(
        net,
        x_train[:, None],
        y_train[:, None],
        loss="mse",
        lr=0.01,
        epochs=epochs,
        seed=seed,
        verbose=0,
    )
    name = f"tanh MLP 1-{hidden}-1"
    res.predictions[name] = np.asarray(net.predict(x[:, None]), float)[:, 0]
    res.train_rmse[name] = float(
        np.sqrt(np.mean((np.asarray(net.predict(x_train[:, None]))[:, 0] - y_train) ** 2))
    )
    (b1, W1), (b2, W2) = net.numpy_params()
    res.mlp_bound = float(np.abs(b2).sum() + np.abs(W2).sum())
    for key, values in res.predictions.items():
        res.max_abs[key] = float(np.max(np.abs(values)))
        res.at_ends[key] = (float(values[0]), float(values[-1]))
    return res


# --- the claims -----------------------------------------------------------------------------


def _verdict_l1(r: LinearRegressionResult) -> tuple[bool, str]:
    ok = r.max_diff_reference < 1e-8 and r.max_diff_sklearn < 1e-8
    return ok, (
        f"normal equations match scipy lstsq to {r.max_diff_reference:.1e} and "
        f"scikit-learn to {r.max_diff_sklearn:.1e} (float64, {r.n_inputs} inputs + bias)"
    )


def _verdict_l2(r: PolyBlowupResult) -> tuple[bool, str]:
    ok = r.lecture_columns == 46_916_791_205_889 and r.small_columns == 10 and r.refused
    return ok, (
        f"C(65539, 3) = {r.lecture_columns:,} columns; d=2, m=3 → {r.small_columns}; "
        f"building the image's features was {'refused' if r.refused else 'NOT refused'} "
        f"before allocating (peak {r.refusal_peak_bytes:,} bytes traced)"
    )


# how far beyond the data's largest |y| the polynomials must go, and the MLP may go
L3_FACTOR = {"cubic": 3.0, "sin": 5.0}


def _verdict_one_l3(r: ExtrapolationResult) -> tuple[bool, str]:
    mlp = next(k for k in r.max_abs if k.startswith("tanh MLP"))
    polys = {k: v for k, v in r.max_abs.items() if k.startswith("polynomial")}
    bar = L3_FACTOR[r.target] * float(np.max(np.abs(r.y_train)))
    # the MLP must fit the 8 samples and stay bounded; the polynomials must run away
    ok = r.train_rmse[mlp] < 0.2 and r.max_abs[mlp] < bar and min(polys.values()) > bar
    return ok, (
        f"{r.formula}: the polynomials reach |f| up to {max(polys.values()):,.0f} on "
        f"[{r.interval[0]:g}, {r.interval[1]:g}] (data within "
        f"{np.max(np.abs(r.y_train)):.2f}), the tanh MLP stays within {r.max_abs[mlp]:.2f}"
    )


def _verdict_l3(
    results: ExtrapolationResult | dict[str, ExtrapolationResult],
) -> tuple[bool, str]:
    if not isinstance(results, dict):
        results = {results.target: results}
    checks = [_verdict_one_l3(r) for r in results.values()]
    return all(ok for ok, _ in checks), "; ".join(text for _, text in checks)


def _run_l3(s: Settings) -> dict[str, ExtrapolationResult]:
    epochs = 1000 if s.quick else 3000
    return {
        "cubic": extrapolation(epochs=epochs, seed=s.seed, backend=s.backend),
        "sin": extrapolation(
            (3, 5, 7), epochs=epochs, seed=s.seed, backend=s.backend, target="sin"
        ),
    }


def _figures_l3(
    results: dict[str, ExtrapolationResult], out: str | os.PathLike[str]
) -> list[Figure]:
    from .. import plots

    keep = ["polynomial degree 3", "polynomial degree 7, samples + 1% noise"]
    panels = {f"${L3_TARGETS[t][2]}$ sampled on $[0, 1.75]$": r for t, r in results.items()}
    path = plots.plot_extrapolation_panels(
        panels,
        Path(out) / "l3_extrapolation.png",
        samples="the 8 samples",
        keep=keep + [k for k in results["cubic"].predictions if k.startswith("tanh")],
    )
    caption = (
        "Neither extrapolates: outside the data a polynomial leaves for ±∞ and the tanh MLP "
        "flattens to a constant; only the right model (degree 3 for the cubic) follows."
    )
    return [Figure(path, caption, wide=True)]


register(
    Claim(
        id="L1",
        title="Linear regression has a closed form θ = (XᵀX)⁻¹Xᵀy (with a bias column).",
        statement=(
            r"Linear regression has a closed form $\theta = (X^\top X)^{-1} X^\top y$ "
            "(with a bias column)."
        ),
        explanation=(
            r"The linear model $\hat y = \theta_0 + \theta_1 x_1 + \dots + \theta_d x_d$ "
            "has a closed-form least-squares solution once $X$ carries a column of ones for "
            r"the bias. mlplab solves $X^\top X \theta = X^\top y$ (never forming the "
            "inverse) on a multivariate problem and compares it with SciPy and scikit-learn."
        ),
        command="mlplab tour --only L1",
        run=lambda s: linear_regression(seed=s.seed),
        verdict=_verdict_l1,
        text=show_linear,
    )
)
register(
    Claim(
        id="L2",
        title="Polynomial regression scales badly: C(d+m, m) columns for d inputs at degree m.",
        statement=(
            "Polynomial regression scales badly: the design matrix for $d$ inputs and degree "
            r"$m$ has $\binom{d+m}{m}$ columns; a 256×256 image (65,536 pixels) at $m = 3$ "
            r"gives $\binom{65539}{3}$ = 46,916,791,205,889 $\approx 4.7 \times 10^{13}$ "
            r"columns, and $X^\top X$ costs $O(p^3)$ to invert."
        ),
        explanation=(
            "Polynomial regression needs one column per monomial. mlplab counts them exactly "
            "for any $(d, m)$, with the memory the matrices would take, and refuses to build a "
            "matrix that cannot fit, before allocating it."
        ),
        command="mlplab poly --inputs 65536 --degree 3",
        run=lambda s: polynomial_blowup(),
        verdict=_verdict_l2,
        text=show_poly,
    )
)
register(
    Claim(
        id="L3",
        title="Polynomials tend to ±∞ outside the data; a tanh MLP stays bounded.",
        statement=(
            r"Polynomials tend to $\pm\infty$ outside the support. Example: "
            r"$f(x) = x^3 - 2x^2 - x + 2$ sampled at $x = 0, 0.25, \dots, 1.75$."
        ),
        explanation=(
            "Polynomials of several degrees and a tanh MLP are fitted to the eight samples, "
            r"and to eight samples of $\sin(3x)$, which is no polynomial, and evaluated on "
            "$[-5, 5]$. Neither model extrapolates: a polynomial of the wrong degree leaves for "
            r"$\pm\infty$, a tanh MLP saturates to a constant. (The cubic's own degree-3 fit "
            "follows it everywhere only because it is the right model.)"
        ),
        command="mlplab extrapolate",
        run=_run_l3,
        verdict=_verdict_l3,
        text=show_extrapolation,
        figures=_figures_l3,
    )
)

__all__ = [
    "ExtrapolationResult",
    "LinearRegressionResult",
    "L3_TARGETS",
    "PolyBlowupResult",
    "cubic",
    "extrapolation",
    "linear_regression",
    "polynomial_blowup",
    "sine",
]
