r"""Universal approximation, built and measured (L10).

(a) **Constructive.** For a continuous target $g$ on $[a, b]$ and $N$ steps, put
knots $t_j = a + j h$ ($h = (b - a) / N$, $j = 0 \dots N$) and thresholds halfway
between them, $s_j = t_j - h/2$. The one-hidden-layer network

$$f(x) = g(t_0) + \sum_{j=1}^{N} \big(g(t_j) - g(t_{j-1})\big)\, H(x - s_j)$$

has $N$ Heaviside hidden neurons (bias $-s_j$, weight 1) and one linear
output neuron (bias $g(t_0)$, weights $g(t_j) - g(t_{j-1})$): the lecture's
$\theta_{2,0} + \sum_j \theta_{2,j}\, \sigma(\theta_{1,0} + \theta_{1,j} x)$. It equals $g$ at
the knot nearest to $x$, so for an $L$-Lipschitz $g$,
$\max |g - f| \le L h / 2 = L (b - a) / (2N)$: $\varepsilon \approx 1/N$.
Replacing H by a steep sigmoid ``σ(k (x − s_j))`` with ``k = slope / h`` gives
the same picture with a smooth network. Both are built exactly, with no
training, as :class:`~mlplab.nn.mlp.MLP` objects.

(b) **Trained.** tanh / ReLU MLPs of growing width fitted to g by gradient
descent (:func:`mlplab.fit`), with the same error measured on the same grid.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from ..data.expr import parse_expression
from ..errors import ConfigError, DataError, check_number
from ..nn.mlp import MLP

# name -> (expression, interval, description)
PRESETS: dict[str, tuple[str, tuple[float, float], str]] = {
    "sin": ("sin(x)", (-np.pi, np.pi), "sin(x) on [−π, π]"),
    "cubic": ("x**3 - 2*x**2 - x + 2", (-1.5, 2.5), "the lecture's cubic x³ − 2x² − x + 2"),
    "abs": ("abs(x)", (-1.0, 1.0), "|x| (a kink at 0)"),
    "step": ("step(x - 1/3)", (-1.0, 1.0), "a unit step at x = 1/3 (not continuous)"),
    "bump": ("exp(-25*x**2)", (-1.0, 1.0), "a Gaussian bump exp(−25x²)"),
}
DEFAULT_STEPS = (2, 4, 8, 16, 32, 64, 128, 256)
GRID_POINTS = 20_001


@dataclass
class Target:
    """A target function g on [a, b]."""

    name: str
    expression: str
    a: float
    b: float
    description: str
    fn: Callable[[np.ndarray], np.ndarray] = field(repr=False)

    def __call__(self, x: ArrayLike) -> np.ndarray:
        return self.fn(np.asarray(x, dtype=np.float64))


def get_target(spec: str, interval: tuple[float, float] | None = None) -> Target:
    """A preset (``sin``, ``cubic``, ``abs``, ``step``, ``bump``) or a user expression of x.

    Args:
        spec: preset name or an expression such as ``"sin(3*x) + x/2"``
            (parsed safely by :mod:`mlplab.data.expr`).
        interval: ``(a, b)``; default the preset's interval, or ``(−1, 1)``.

    Raises:
        ConfigError: bad expression or interval; DataError: g is not finite on [a, b].
    """
    if spec in PRESETS:
        source, (a, b), desc = PRESETS[spec]
        name = spec
    else:
        source, (a, b), desc, name = spec, (-1.0, 1.0), f"g(x) = {spec}", "expression"
    if interval is not None:
        a, b = interval
    check_number("a", a)
    check_number("b", b)
    if not a < b:
        raise ConfigError(f"the interval [a, b] needs a < b; got [{a}, {b}].")
    expr = parse_expression(source)
    target = Target(name, source, float(a), float(b), desc, expr)
    values = target(np.linspace(a, b, 1001))
    if not np.all(np.isfinite(values)):
        raise DataError(
            f"the target {source!r} is not finite everywhere on [{a:g}, {b:g}] "
            "(e.g. log or division by zero); choose another interval with --interval."
        )
    return target


def grid(target: Target, n_points: int = GRID_POINTS) -> np.ndarray:
    """The dense evaluation grid on [a, b]: `(n_points,)`."""
    return np.linspace(target.a, target.b, n_points)


def heaviside_network(target: Target, n_steps: int, *, dtype: str = "float64") -> MLP:
    """The exact N-step network for g (no training): 1 → N Heaviside → 1 linear."""
    return _step_network(target, n_steps, "heaviside", 1.0, dtype)


def sigmoid_network(
    target: Target, n_steps: int, *, slope: float = 20.0, dtype: str = "float64"
) -> MLP:
    """The same construction with steep sigmoids ``σ(k (x − s_j))``, ``k = slope / h``."""
    check_number("slope", slope, gt=0)
    return _step_network(target, n_steps, "sigmoid", slope, dtype)


MAX_STEPS = 4096  # the error grid grows with N; beyond this it takes minutes


def _step_network(target: Target, n_steps: int, activation: str, slope: float, dtype: str) -> MLP:
    check_number("n_steps", n_steps, ge=1, le=MAX_STEPS, integer=True)
    h = (target.b - target.a) / n_steps
    knots = target.a + h * np.arange(n_steps + 1)  # (N + 1,)
    values = target(knots)  # g(t_j)
    thresholds = knots[1:] - h / 2  # s_j, (N,)
    k = 1.0 if activation == "heaviside" else slope / h
    W1 = np.full((n_steps, 1), k)  # (N, 1): every hidden neuron sees x
    b1 = -k * thresholds  # (N,): neuron j switches on at x = s_j
    W2 = np.diff(values)[None, :]  # (1, N): the jump g(t_j) − g(t_{j−1})
    b2 = values[:1]  # (1,): g(t₀)
    return MLP.from_params([(b1, W1), (b2, W2)], [activation, "identity"], dtype=dtype)


def max_error(model: MLP, target: Target, x: np.ndarray | None = None) -> tuple[float, float]:
    """``(max |g − f|, mean |g − f|)`` on the dense grid (or on ``x``)."""
    x = grid(target) if x is None else x
    # in chunks, so a wide network never needs a (grid points, N) hidden layer at once
    chunk = max(1, 4_000_000 // max(model.sizes[1:-1], default=1))
    f = np.concatenate(
        [
            np.asarray(model.predict(x[i : i + chunk, None]), dtype=np.float64)[:, 0]
            for i in range(0, len(x), chunk)
        ]
    )
    err = np.abs(target(x) - f)
    return float(err.max()), float(err.mean())


@dataclass
class ConstructiveResult:
    """ε = max |g − f| for the constructive networks, by width N."""

    target: str
    expression: str
    interval: tuple[float, float]
    steps: list[int]
    heaviside_max: list[float]
    heaviside_mean: list[float]
    sigmoid_max: list[float]
    sigmoid_mean: list[float]
    lipschitz_bound: list[float]  # L (b − a) / (2N), with L estimated on the grid
    lipschitz: float
    grid_points: int
    x: np.ndarray = field(repr=False)  # (m,) a coarse grid for plotting
    g: np.ndarray = field(repr=False)  # (m,) g(x)
    f_by_steps: dict[int, np.ndarray] = field(
        repr=False, default_factory=dict
    )  # N -> (m,) f(x), Heaviside


def constructive(
    target: Target | str,
    steps: Iterable[int] = DEFAULT_STEPS,
    *,
    slope: float = 20.0,
    grid_points: int | None = None,
    plot_steps: Container[int] = (4, 16, 64),
) -> ConstructiveResult:
    """Build the Heaviside and steep-sigmoid networks for each N in ``steps`` and measure them.

    The error is measured on ``grid_points`` evenly spaced points (default
    ``max(20001, 20 N + 1)``, so every step of the widest network holds 20 of them).
    """
    target = get_target(target) if isinstance(target, str) else target
    steps = [int(n) for n in steps]
    for n in steps:
        check_number("steps", n, ge=1, le=MAX_STEPS, integer=True)
    if grid_points is None:
        grid_points = max(GRID_POINTS, 20 * max(steps, default=1) + 1)
    check_number("grid_points", grid_points, ge=2, integer=True)
    x = np.linspace(target.a, target.b, grid_points)
    gx = target(x)
    lipschitz = float(np.max(np.abs(np.diff(gx)) / np.diff(x)))
    x_plot = np.linspace(target.a, target.b, 801)
    res = ConstructiveResult(
        target.name,
        target.expression,
        (target.a, target.b),
        steps,
        [],
        [],
        [],
        [],
        [],
        lipschitz,
        grid_points,
        x_plot,
        target(x_plot),
    )
    for n in steps:
        hmax, hmean = max_error(heaviside_network(target, n), target, x)
        smax, smean = max_error(sigmoid_network(target, n, slope=slope), target, x)
        res.heaviside_max.append(hmax)
        res.heaviside_mean.append(hmean)
        res.sigmoid_max.append(smax)
        res.sigmoid_mean.append(smean)
        res.lipschitz_bound.append(lipschitz * (target.b - target.a) / (2 * n))
        if n in plot_steps:
            net = heaviside_network(target, n)
            res.f_by_steps[n] = np.asarray(net.predict(x_plot[:, None]))[:, 0]
    return res


@dataclass
class TrainedResult:
    """max |g − f| of trained MLPs of growing width."""

    target: str
    widths: list[int]
    activations: list[str]
    max_error: dict[str, list[float]]  # activation -> [error per width]
    mean_error: dict[str, list[float]]
    final_loss: dict[str, list[float]]
    epochs: int
    n_train: int
    x: np.ndarray = field(repr=False)
    g: np.ndarray = field(repr=False)
    f_widest: dict[str, np.ndarray] = field(
        repr=False, default_factory=dict
    )  # activation -> f on x


def trained(
    target: Target | str,
    widths: Sequence[int] = (2, 4, 8, 16, 32, 64),
    *,
    activations: Sequence[str] = ("tanh", "relu"),
    epochs: int = 2000,
    n_train: int = 256,
    lr: float = 0.01,
    seed: int = 0,
    backend: str = "numpy",
) -> TrainedResult:
    """Fit 1-w-1 MLPs (Adam, full batch, MSE) for each width w and activation; measure them.

    Inputs are mapped to [−1, 1] and targets standardised for training; the
    error is reported in g's own units on the dense grid.
    """
    from ..train import fit

    target = get_target(target) if isinstance(target, str) else target
    check_number("epochs", epochs, ge=1, integer=True)
    check_number("n_train", n_train, ge=2, integer=True)
    x_train = np.linspace(target.a, target.b, n_train)
    y_train = target(x_train)
    mid, half = (target.a + target.b) / 2, (target.b - target.a) / 2
    mu, sd = float(y_train.mean()), float(y_train.std()) or 1.0
    xs = grid(target, 4001)
    gx = target(xs)
    res = TrainedResult(
        target.name,
        [int(w) for w in widths],
        list(activations),
        {},
        {},
        {},
        epochs,
        n_train,
        xs,
        gx,
    )
    for act in activations:
        res.max_error[act], res.mean_error[act], res.final_loss[act] = [], [], []
        for w in widths:
            net = MLP(1, [int(w)], 1, activation=act, seed=seed, backend=backend)
            hist = fit(
                net,
                ((x_train - mid) / half)[:, None],
                ((y_train - mu) / sd)[:, None],
                loss="mse",
                lr=lr,
                epochs=epochs,
                seed=seed,
                verbose=0,
            )
            f = np.asarray(net.predict(((xs - mid) / half)[:, None]), float)[:, 0] * sd + mu
            err = np.abs(gx - f)
            res.max_error[act].append(float(err.max()))
            res.mean_error[act].append(float(err.mean()))
            res.final_loss[act].append(hist.train_loss[-1])
            if w == widths[-1]:
                res.f_widest[act] = f
    return res


__all__ = [
    "DEFAULT_STEPS",
    "PRESETS",
    "ConstructiveResult",
    "Target",
    "TrainedResult",
    "constructive",
    "get_target",
    "heaviside_network",
    "max_error",
    "sigmoid_network",
    "trained",
]
