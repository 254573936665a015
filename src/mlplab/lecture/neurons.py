"""L4–L9: the neuron, logic gates, XOR's impossibility, wide layers, deep networks, XOR solved.

Every truth table here is *computed* by mlplab's networks (the numbers in the
arithmetic strings come from the same θ the network holds), never typed in.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..backend.arrays import available_backends, to_numpy
from ..nn.gates import TRUTH_INPUTS, TRUTH_TABLES, gate, xor_network
from ..nn.layers import dense, neuron
from ..theory.perceptron import PerceptronResult, train_gate
from ..theory.separability import SeparabilityResult, check_gate
from .registry import Claim, Figure, register
from .text import (
    fmt_num,
    show_deep,
    show_gates,
    show_neuron,
    show_wide_layer,
    show_xor_impossibility,
    show_xor_network,
)

# --- formatting the arithmetic --------------------------------------------------------


def arithmetic(
    theta: ArrayLike, x: Sequence[float] | NDArray[Any], activation: str = "H"
) -> tuple[str, float, int]:
    """``'H(−1 + 1·0 + 1·1) = H(0) = 0'`` for one neuron; also returns z and H(z)."""
    th = np.asarray(theta, dtype=np.float64)
    z = float(th[0] + np.dot(th[1:], x))
    out = int(z > 0)
    terms = [fmt_num(th[0])]
    for w, xi in zip(th[1:], x, strict=True):
        sign = "−" if w < 0 else "+"
        terms.append(f"{sign} {fmt_num(abs(w))}·{fmt_num(xi)}")
    return f"{activation}({' '.join(terms)}) = {activation}({fmt_num(z)}) = {out}", z, out


# --- L4 -------------------------------------------------------------------------------


@dataclass
class NeuronResult:
    """L4: Heaviside as defined and ``neuron`` = σ(b + w·x)."""

    z: list[float]
    heaviside: list[int]  # H(z) from mlplab's activation
    max_diff: dict[str, float]  # activation -> max |neuron(x, θ) − σ(b + w·x) by hand|
    theta: np.ndarray
    n_examples: int


def neuron_demo(seed: int = 0) -> NeuronResult:
    """H at points around 0 (``H(0) = 0``) and ``neuron`` against a hand computation."""
    from ..nn.activations import get_activation

    z = [-1.0, -1e-9, 0.0, 1e-9, 1.0]
    H = get_activation("heaviside")
    h = [int(v) for v in to_numpy(H(np.asarray(z)))]
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((16, 3))
    theta = rng.standard_normal(4)
    by_hand: dict[str, Callable[[NDArray[np.float64]], Any]] = {
        "heaviside": lambda s: (s > 0).astype(float),
        "sigmoid": lambda s: 1 / (1 + np.exp(-s)),
        "tanh": np.tanh,
        "relu": lambda s: np.maximum(s, 0),
    }
    diffs = {}
    for name, fn in by_hand.items():
        s = np.array([theta[0] + sum(theta[i + 1] * row[i] for i in range(3)) for row in x])
        diffs[name] = float(np.max(np.abs(to_numpy(neuron(x, theta, name)) - fn(s))))
    return NeuronResult(z, h, diffs, theta, len(x))


# --- L5 -------------------------------------------------------------------------------


@dataclass
class TruthRow:
    x: tuple[int, ...]
    z: float
    output: int  # computed by the mlplab network
    expected: int
    arithmetic: str


@dataclass
class GateTable:
    """L5: one gate's truth table with the arithmetic of each row."""

    name: str
    theta: list[float]
    rows: list[TruthRow]
    correct: bool  # every output equals the gate's truth table


def gate_table(name: str) -> GateTable:
    """The truth table of a one-neuron gate (``"and"``, ``"or"``, ``"nand"``, ``"nor"``)."""
    net = gate(name)
    ((b, W),) = net.numpy_params()
    theta = [float(b[0]), *(float(w) for w in W[0])]
    outputs = to_numpy(net(TRUTH_INPUTS)).ravel().astype(int)  # (4,)
    rows = []
    for x, out, exp in zip(TRUTH_INPUTS, outputs, TRUTH_TABLES[name], strict=True):
        text, z, by_hand = arithmetic(theta, x)
        if by_hand != out:  # the network and the arithmetic must agree
            raise AssertionError(f"{name}: network gives {out} but {text}")
        rows.append(TruthRow(tuple(int(v) for v in x), z, int(out), int(exp), text))
    return GateTable(name, theta, rows, all(r.output == r.expected for r in rows))


def gate_tables(names: Iterable[str] = ("and", "or")) -> dict[str, GateTable]:
    """L5: AND and OR with the lecture's θ."""
    return {n: gate_table(n) for n in names}


# --- L6 -------------------------------------------------------------------------------


@dataclass
class XorImpossibilityResult:
    """L6: LP verdicts for every gate and the perceptron rule on AND, OR, XOR."""

    separability: dict[str, SeparabilityResult]
    perceptron: dict[str, PerceptronResult]


def xor_impossibility(max_epochs: int = 1000) -> XorImpossibilityResult:
    """Prove XOR non-separable (LP + certificate), AND/OR/NAND/NOR separable; run the perceptron."""
    sep = {n: check_gate(n) for n in ("and", "or", "nand", "nor", "xor")}
    perc = {n: train_gate(n, max_epochs=max_epochs) for n in ("and", "or", "xor")}
    return XorImpossibilityResult(sep, perc)


# --- L7 -------------------------------------------------------------------------------


@dataclass
class WideLayerResult:
    """L7: ``dense(x, (b, W))`` equals m separate ``neuron`` calls, row j of W = neuron j."""

    n_neurons: int
    n_inputs: int
    batch: int
    max_diff: dict[str, float]  # "backend/activation" -> max |layer − stacked neurons|
    output_shape: tuple[int, int]


def wide_layer(
    n_neurons: int = 5, n_inputs: int = 3, batch: int = 8, seed: int = 0
) -> WideLayerResult:
    """Compare one wide layer with its neurons one by one, on every installed backend."""
    from ..backend.arrays import get_backend

    rng = np.random.default_rng(seed)
    W = rng.standard_normal((n_neurons, n_inputs))  # (m, d): row j is neuron j
    b = rng.standard_normal(n_neurons)  # (m,)
    x = rng.standard_normal((batch, n_inputs))  # (batch, d)
    diffs: dict[str, float] = {}
    shape = (0, 0)
    for backend in available_backends():
        be = get_backend(backend, "float64")
        xb, bb, Wb = be.asarray(x), be.asarray(b), be.asarray(W)
        for act in ("heaviside", "sigmoid", "tanh", "relu"):
            layer = to_numpy(dense(xb, (bb, Wb), act))  # (batch, m)
            theta = [np.concatenate([[b[j]], W[j]]) for j in range(n_neurons)]
            one_by_one = np.stack(
                [to_numpy(neuron(xb, be.asarray(t), act)) for t in theta], axis=1
            )  # (batch, m)
            diffs[f"{backend}/{act}"] = float(np.max(np.abs(layer - one_by_one)))
            shape = (int(layer.shape[0]), int(layer.shape[1]))
    return WideLayerResult(n_neurons, n_inputs, batch, diffs, shape)


# --- L8 -------------------------------------------------------------------------------


@dataclass
class DeepNetworkResult:
    """L8: an MLP is a composition of layers, one parameter matrix each."""

    sizes: list[int]
    depth: int
    n_matrices: int
    shapes: list[tuple[tuple[int, ...], tuple[int, ...]]]  # (b shape, W shape) per layer
    n_params: int
    n_params_counted: int  # Σ over the actual arrays
    composition_max_diff: float  # |MLP(x) − f₄(f₃(f₂(f₁(x))))|


def deep_network(sizes: Sequence[int] = (64, 32, 16, 8, 10), seed: int = 0) -> DeepNetworkResult:
    """A four-layer MLP: its shapes, parameter count, and forward = composition of ``dense``."""
    from ..nn.mlp import MLP

    net = MLP(sizes[0], list(sizes[1:-1]), sizes[-1], activation="tanh", seed=seed, dtype="float64")
    params = net.numpy_params()
    x = np.random.default_rng(seed).standard_normal((4, sizes[0]))
    z = x
    for (b, W), act in zip(params, net.activations, strict=True):
        z = to_numpy(dense(z, (b, W), act))  # z_ℓ = σ_ℓ(b_ℓ + W_ℓ z_{ℓ−1})
    counted = sum(b.size + W.size for b, W in params)
    return DeepNetworkResult(
        list(net.sizes),
        net.depth,
        len(params),
        [(tuple(b.shape), tuple(W.shape)) for b, W in params],
        net.n_params,
        int(counted),
        float(np.max(np.abs(to_numpy(net(x)) - z))),
    )


# --- L9 -------------------------------------------------------------------------------


@dataclass
class XorRow:
    x: tuple[int, int]
    hidden: tuple[int, int]  # (OR, AND) neuron outputs
    hidden_arithmetic: tuple[str, str]
    output: int
    output_arithmetic: str
    expected: int


@dataclass
class XorNetworkResult:
    """L9: the 2-2-1 Heaviside network's truth table with hidden activations."""

    thetas: list[list[float]]
    rows: list[XorRow] = field(default_factory=list)
    correct: bool = False
    hidden_is_or_and: bool = False


def xor_network_table() -> XorNetworkResult:
    """Run the lecture's XOR network on the four inputs; show each neuron's arithmetic."""
    net = xor_network()
    (b1, W1), (b2, W2) = net.numpy_params()
    thetas = [[float(b1[j]), *map(float, W1[j])] for j in range(2)]
    thetas.append([float(b2[0]), *map(float, W2[0])])
    out, caches = net.forward(TRUTH_INPUTS)
    hidden = to_numpy(caches[0].a).astype(int)  # (4, 2)
    output = to_numpy(out).ravel().astype(int)  # (4,)
    res = XorNetworkResult(thetas)
    for i, x in enumerate(TRUTH_INPUTS):
        h_text = (arithmetic(thetas[0], x)[0], arithmetic(thetas[1], x)[0])
        o_text, _, o = arithmetic(thetas[2], hidden[i])
        if o != output[i]:
            raise AssertionError(f"network gives {output[i]} but {o_text}")
        res.rows.append(
            XorRow(
                (int(x[0]), int(x[1])),
                (int(hidden[i, 0]), int(hidden[i, 1])),
                h_text,
                int(output[i]),
                o_text,
                int(TRUTH_TABLES["xor"][i]),
            )
        )
    res.correct = all(r.output == r.expected for r in res.rows)
    res.hidden_is_or_and = bool(
        np.array_equal(hidden[:, 0], TRUTH_TABLES["or"])
        and np.array_equal(hidden[:, 1], TRUTH_TABLES["and"])
    )
    return res


# --- the claims -----------------------------------------------------------------------------


def _verdict_l4(r: NeuronResult) -> tuple[bool, str]:
    ok = r.heaviside == [0, 0, 0, 1, 1] and max(r.max_diff.values()) < 1e-12
    return ok, (
        f"H(−1), H(−1e−9), H(0), H(1e−9), H(1) = {r.heaviside}; neuron(x, θ) equals "
        f"σ(b + w·x) to {max(r.max_diff.values()):.1e}"
    )


def _verdict_l5(r: dict[str, GateTable]) -> tuple[bool, str]:
    ok = all(t.correct for t in r.values())
    return ok, "truth tables reproduced: " + ", ".join(
        f"{n.upper()} θ = [{', '.join(fmt_num(v) for v in t.theta)}]" for n, t in r.items()
    )


def _verdict_l6(r: XorImpossibilityResult) -> tuple[bool, str]:
    xor = r.separability["xor"]
    others = [r.separability[g] for g in ("and", "or", "nand", "nor")]
    p = r.perceptron
    ok = (
        not xor.separable
        and xor.lp_status == 2
        and xor.verified
        and all(s.separable and s.verified for s in others)
        and p["and"].converged
        and p["or"].converged
        and not p["xor"].converged
    )
    return ok, (
        f"XOR: LP infeasible (status {xor.lp_status}), Farkas certificate verified; "
        f"AND/OR/NAND/NOR separable with verified θ; perceptron converges on AND "
        f"({p['and'].epochs} epochs) and OR ({p['or'].epochs}), not on XOR "
        f"({p['xor'].stop_reason} after {p['xor'].epochs} epochs)"
    )


def _figures_l6(r: XorImpossibilityResult, out: str | os.PathLike[str]) -> list[Figure]:
    from .. import plots

    panels = []
    for name in ("and", "or", "xor"):
        s = r.separability[name]
        verdict = "separable" if s.separable else "not separable"
        panels.append(
            dict(points=s.X, labels=s.y, theta=s.theta, title=f"{name.upper()}: {verdict}")
        )
    path = plots.plot_separability_panels(
        panels,
        Path(out) / "l6_separability.png",
        note=(
            "Points on a line have $z = 0$, and $H(0) = 0$: they are 0s, correctly "
            "(AND's (0,1) and (1,0), OR's (0,0))."
        ),
    )
    caption = (
        "The LP's lines separate AND and OR; for XOR the LP is infeasible, so no line "
        "exists (the 1s sit on one diagonal, the 0s on the other)."
    )
    return [Figure(path, caption, wide=True)]


def _verdict_l7(r: WideLayerResult) -> tuple[bool, str]:
    worst = max(r.max_diff.values())
    return worst < 1e-6, (
        f"a layer of {r.n_neurons} neurons equals {r.n_neurons} neuron() calls to "
        f"{worst:.1e} on {len(r.max_diff)} backend/activation pairs"
    )


def _verdict_l8(r: DeepNetworkResult) -> tuple[bool, str]:
    ok = (
        r.depth == 4
        and r.n_matrices == 4
        and r.n_params == r.n_params_counted
        and r.composition_max_diff < 1e-12
    )
    return ok, (
        f"MLP {r.sizes}: {r.n_matrices} parameter matrices "
        f"{[s[1] for s in r.shapes]}, {r.n_params:,} parameters; forward = composition "
        f"of 4 layers to {r.composition_max_diff:.1e}"
    )


def _verdict_l9(r: XorNetworkResult) -> tuple[bool, str]:
    ok = r.correct and r.hidden_is_or_and
    return ok, (
        f"outputs {[row.output for row in r.rows]} = XOR; hidden neurons compute OR "
        f"{[row.hidden[0] for row in r.rows]} and AND {[row.hidden[1] for row in r.rows]}"
    )


def _figures_l9(r: XorNetworkResult, out: str | os.PathLike[str]) -> list[Figure]:
    from .. import plots

    path = plots.plot_decision_boundary(
        xor_network(),
        TRUTH_INPUTS,
        TRUTH_TABLES["xor"],
        Path(out) / "l9_xor_regions.png",
        title="L9: XOR = OR and not AND, output over the plane",
    )
    caption = "Two lines make a band: inside it OR fires and AND does not, so XOR = 1."
    return [Figure(path, caption)]


register(
    Claim(
        id="L4",
        title="A neuron is the linear model with an activation: σ(b + w·x); H(0) = 0.",
        statement=(
            r"A neuron is the linear model with an activation: $\sigma(b + w \cdot x)$. "
            r"Heaviside $H(z) = 1$ if $z > 0$ else $0$ (note $H(0) = 0$)."
        ),
        explanation=(
            r"A neuron is the linear model followed by an activation: "
            r"$f(x, \theta) = \sigma(\theta_0 + \sum_i \theta_i x_i)$. mlplab's Heaviside is "
            "evaluated around 0, and its neuron is compared with the formula computed by hand "
            "for four activations."
        ),
        command="mlplab gates",
        run=lambda s: neuron_demo(seed=s.seed),
        verdict=_verdict_l4,
        text=show_neuron,
    )
)
register(
    Claim(
        id="L5",
        title="AND with θ = [−1, 1, 1] and OR with θ = [0, 1, 1].",
        statement=r"AND with $\theta = [-1, 1, 1]$, OR with $\theta = [0, 1, 1]$.",
        explanation=(
            "One Heaviside neuron computes each gate. Each row shows the arithmetic the "
            "network performs (the slide's OR table has arithmetic typos; these are computed)."
        ),
        command="mlplab gates",
        run=lambda s: gate_tables(),
        verdict=_verdict_l5,
        text=show_gates,
    )
)
register(
    Claim(
        id="L6",
        title="XOR is impossible for a single neuron: it is not linearly separable.",
        statement="XOR is impossible for a single neuron: it is not linearly separable.",
        explanation=(
            r"This is proved, not searched for: the linear program $\theta_0 + \theta \cdot x "
            r"\ge 1$ on the 1s and $\le 0$ on the 0s is infeasible, and Farkas multipliers give "
            "a human-readable certificate. The same check finds a separating θ for AND, OR, "
            "NAND and NOR. Rosenblatt's learning rule converges on AND and OR and cycles on XOR."
        ),
        command="mlplab xor-proof; mlplab perceptron",
        run=lambda s: xor_impossibility(),
        verdict=_verdict_l6,
        text=show_xor_impossibility,
        figures=_figures_l6,
    )
)
register(
    Claim(
        id="L7",
        title="A wide layer σ(b + W x) is m neurons in parallel; each output row is one neuron.",
        statement=(
            r"A wide layer $\sigma(b + W x)$ is $m$ neurons in parallel; each output row is "
            "one neuron."
        ),
        explanation=(
            r"In $f(x, (b, W)) = \sigma(b + W x)$ row $j$ of $W$ holds neuron $j$'s weights, "
            "and output $j$ is that neuron's output: one layer call is compared with $m$ "
            "separate neuron calls on every backend and activation."
        ),
        command="mlplab tour --only L7",
        run=lambda s: wide_layer(seed=s.seed),
        verdict=_verdict_l7,
        text=show_wide_layer,
    )
)
register(
    Claim(
        id="L8",
        title="A deep network is a composition of layers; a four-layer MLP has four matrices.",
        statement=(
            "A deep network is a composition of layers; “a four-layer MLP has four parameter "
            "matrices”."
        ),
        explanation=(
            r"$z_1 = f_1(x)$, $z_2 = f_2(z_1)$, …: mlplab's MLP is compared with the "
            "composition of its four layers, and its parameters are counted on the arrays."
        ),
        command="mlplab tour --only L8",
        run=lambda s: deep_network(seed=s.seed),
        verdict=_verdict_l8,
        text=show_deep,
    )
)
register(
    Claim(
        id="L9",
        title="XOR with a deep and wide network: hidden OR and AND, output 'OR and not AND'.",
        statement=(
            r"XOR with a deep and wide network: $\theta = [[-0.5, 1, 1], [-1.5, 1, 1], "
            r"[-0.5, 1, -2]]$ (rows: hidden neuron 1 = OR, hidden neuron 2 = AND, output neuron)."
        ),
        explanation=(
            "Two layers solve XOR: the output neuron fires for “OR and not AND”. The truth "
            "table is computed by the network, with each neuron's arithmetic."
        ),
        command="mlplab xor",
        run=lambda s: xor_network_table(),
        verdict=_verdict_l9,
        text=show_xor_network,
        figures=_figures_l9,
    )
)

__all__ = [
    "DeepNetworkResult",
    "GateTable",
    "NeuronResult",
    "TruthRow",
    "WideLayerResult",
    "XorImpossibilityResult",
    "XorNetworkResult",
    "XorRow",
    "arithmetic",
    "fmt_num",
    "deep_network",
    "gate_table",
    "gate_tables",
    "neuron_demo",
    "wide_layer",
    "xor_impossibility",
    "xor_network_table",
]
