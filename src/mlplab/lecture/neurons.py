"""L4–L9: the neuron, logic gates, XOR's impossibility, wide layers, deep networks, XOR solved.

Every truth table here is *computed* by mlplab's networks (the numbers in the
arithmetic strings come from the same θ the network holds), never typed in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..backend.arrays import available_backends, to_numpy
from ..nn.gates import TRUTH_INPUTS, TRUTH_TABLES, gate, xor_network
from ..nn.layers import dense, neuron
from ..theory.perceptron import PerceptronResult, train_gate
from ..theory.separability import SeparabilityResult, check_gate

# --- formatting the arithmetic --------------------------------------------------------


def fmt_num(v: float) -> str:
    """``-1.0`` -> ``'−1'``, ``0.5`` -> ``'0.5'`` (unicode minus, no trailing .0)."""
    s = f"{float(v):g}"
    return s.replace("-", "−")


def arithmetic(theta, x, activation: str = "H") -> tuple[str, float, int]:
    """``'H(−1 + 1·0 + 1·1) = H(0) = 0'`` for one neuron; also returns z and H(z)."""
    theta = np.asarray(theta, dtype=np.float64)
    z = float(theta[0] + np.dot(theta[1:], x))
    out = int(z > 0)
    terms = [fmt_num(theta[0])]
    for w, xi in zip(theta[1:], x, strict=True):
        sign = "−" if w < 0 else "+"
        terms.append(f"{sign} {fmt_num(abs(w))}·{fmt_num(xi)}")
    return f"{activation}({' '.join(terms)}) = {activation}({fmt_num(z)}) = {out}", z, out


# --- L4 -------------------------------------------------------------------------------


@dataclass
class NeuronResult:
    """L4: Heaviside as defined and ``neuron`` = σ(b + w·x)."""

    z: list[float]
    heaviside: list[int]  # H(z) from mlplab's activation
    max_diff: dict  # activation -> max |neuron(x, θ) − σ(b + w·x) by hand|
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
    by_hand = {
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


def gate_tables(names=("and", "or")) -> dict[str, GateTable]:
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
    max_diff: dict  # "backend/activation" -> max |layer − stacked neurons|
    output_shape: tuple[int, int]


def wide_layer(n_neurons: int = 5, n_inputs: int = 3, batch: int = 8, seed: int = 0):
    """Compare one wide layer with its neurons one by one, on every installed backend."""
    from ..backend.arrays import get_backend

    rng = np.random.default_rng(seed)
    W = rng.standard_normal((n_neurons, n_inputs))  # (m, d): row j is neuron j
    b = rng.standard_normal(n_neurons)  # (m,)
    x = rng.standard_normal((batch, n_inputs))  # (batch, d)
    diffs, shape = {}, None
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
            shape = layer.shape
    return WideLayerResult(n_neurons, n_inputs, batch, diffs, tuple(shape))


# --- L8 -------------------------------------------------------------------------------


@dataclass
class DeepNetworkResult:
    """L8: an MLP is a composition of layers, one parameter matrix each."""

    sizes: list[int]
    depth: int
    n_matrices: int
    shapes: list[tuple]
    n_params: int
    n_params_counted: int  # Σ over the actual arrays
    composition_max_diff: float  # |MLP(x) − f₄(f₃(f₂(f₁(x))))|


def deep_network(sizes=(64, 32, 16, 8, 10), seed: int = 0) -> DeepNetworkResult:
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
        h_text = tuple(arithmetic(thetas[j], x)[0] for j in range(2))
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
    "deep_network",
    "gate_table",
    "gate_tables",
    "neuron_demo",
    "wide_layer",
    "xor_impossibility",
    "xor_network_table",
]
