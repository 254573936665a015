"""The lecture, playable: presets that load exact numbers and say what to notice.

Each preset sets the controls, the data (the truth table for the gates) and,
for the hand-set networks, the lecture's weights, then names what to look at.
The numbers are mlplab's own (:mod:`mlplab.nn.gates`: AND θ = [−1, 1, 1],
OR θ = [0, 1, 1], XOR rows [−0.5, 1, 1], [−1.5, 1, 1], [−0.5, 1, −2]).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

import numpy as np

from . import _engine, explain
from .frames import Problem
from .protocol import CommandError, Message

if TYPE_CHECKING:
    from .session import Session

#: One layer's ``([b…], [[w…]…])`` as the lecture writes it.
Layer = tuple[list[float], list[list[float]]]


class Preset(TypedDict):
    """A preset: the lecture it is from, its title, notes, and what it loads."""

    lecture: str
    title: str
    notes: list[str]
    settings: NotRequired[dict[str, Any]]  # the controls (the rest are the defaults)
    labels: NotRequired[list[int]]  # the truth table's, for TRUTH_X (the gates)
    params: NotRequired[list[Layer]]  # the lecture's weights
    neuron_labels: NotRequired[dict[str, str]]  # "layer,neuron" -> its name


class PresetInfo(TypedDict):
    """What the page shows of the preset loaded (``Session.preset``)."""

    name: str
    lecture: str
    title: str
    notes: list[str]
    neuron_labels: dict[str, str]
    truth: bool  # a gate's truth table is shown
    panel: str | None  # the lecture panel the page opens


TRUTH_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
GATE_VIEW = (-0.5, 1.5)
AND_THETA = [-1.0, 1.0, 1.0]
OR_THETA = [0.0, 1.0, 1.0]
XOR_THETA = [[-0.5, 1.0, 1.0], [-1.5, 1.0, 1.0], [-0.5, 1.0, -2.0]]


def _one_neuron(theta: list[float]) -> list[Layer]:
    return [([theta[0]], [theta[1:]])]


def _two_two_one(rows: list[list[float]]) -> list[Layer]:
    (h1, h2, out) = rows
    return [([h1[0], h2[0]], [h1[1:], h2[1:]]), ([out[0]], [out[1:]])]


_GATE: dict[str, Any] = {
    "layers": [],
    "activations": [],
    "output_activation": "heaviside",
    "batch": 4,
}

PRESETS: dict[str, Preset] = {
    "and": {
        "lecture": "L4/L5",
        "title": "AND: one Heaviside neuron, θ = [−1, 1, 1]",
        "settings": _GATE,
        "labels": [0, 0, 0, 1],
        "params": _one_neuron(AND_THETA),
        "notes": [
            "One neuron H(b + w·x) with b = −1, w = (1, 1): it fires only when both inputs are 1.",
            "H(0) = 0: the row (0,1) gives H(−1 + 0 + 1) = H(0) = 0.",
            "Hover the output neuron's bias or a weight line and click to edit it; the truth "
            "table below recomputes every row.",
        ],
    },
    "or": {
        "lecture": "L4/L5",
        "title": "OR: one Heaviside neuron, θ = [0, 1, 1]",
        "settings": _GATE,
        "labels": [0, 1, 1, 1],
        "params": _one_neuron(OR_THETA),
        "notes": [
            "b = 0, w = (1, 1): any input at 1 makes b + w·x ≥ 1 > 0.",
            "The row (0,0) gives H(0) = 0 thanks to H(0) = 0.",
        ],
    },
    "xor1": {
        "lecture": "L6",
        "title": "XOR with one neuron: impossible",
        "settings": {**_GATE, "lr": 0.1},
        "labels": [0, 1, 1, 0],
        "notes": [
            "Press play: the neuron trains (with a sigmoid surrogate gradient for H) but never "
            "gets all four rows right: at best 3 of 4.",
            "It is not bad luck: the linear program below proves no θ exists.",
        ],
    },
    "xor2": {
        "lecture": "L9",
        "title": "XOR with 2-2-1: hidden OR and AND",
        "settings": {**_GATE, "layers": [2], "activations": ["heaviside"]},
        "labels": [0, 1, 1, 0],
        "params": _two_two_one(XOR_THETA),
        "neuron_labels": {"1,0": "OR", "1,1": "AND"},
        "notes": [
            "Hidden neuron 1 is OR (θ = [−0.5, 1, 1]), hidden neuron 2 is AND (θ = [−1.5, 1, 1]).",
            "The output H(−0.5 + OR − 2·AND) fires for 'OR and not AND': XOR.",
            "Look at the hidden neurons' heat-maps: each is one straight cut; the output "
            "combines the two cuts.",
        ],
    },
    "stepmode": {
        "lecture": "L11",
        "title": "One SGD step, in stages",
        "settings": {
            **_GATE,
            "layers": [2],
            "activations": ["tanh"],
            "output_activation": "identity",
            "lr": 0.5,
            "seed": 3,
        },  # fmt: skip
        "labels": [0, 1, 1, 0],
        "notes": [
            "Step mode shows one SGD step on one training point: the forward values on every "
            "neuron, the blame δ = ∂L/∂z of every neuron, the updates −lr·∂L/∂θ, then applies "
            "them.",
            "The numbers are mlplab.MLP.gradients' own.",
        ],
    },
    "approx": {
        "lecture": "L10",
        "title": "Universal approximation: N Heaviside steps",
        "notes": [
            "f(x) = g(t₀) + Σⱼ (g(tⱼ) − g(tⱼ₋₁)) H(x − sⱼ): N hidden Heaviside neurons, no "
            "training. Move N and watch ε = max|g − f| fall like 1/N.",
        ],
    },
    "extrapolation": {
        "lecture": "L3",
        "title": "Polynomials leave for ±∞, an MLP stays bounded",
        "notes": [
            "Eight samples of the cubic on [0, 1.75]; polynomials of degree 3 and 7 and a tanh "
            "MLP fit them; seen on [−5, 5] the polynomials explode, the MLP flattens out.",
        ],
    },
}


def catalogue() -> list[dict[str, str]]:
    return [{"name": k, "lecture": p["lecture"], "title": p["title"]} for k, p in PRESETS.items()]


def apply(session: Session, name: str) -> None:
    """Load preset ``name`` into ``session`` (its settings, data and weights)."""
    from .session import DEFAULTS

    if name not in PRESETS:
        raise CommandError(f"unknown preset {name!r}; known presets: {', '.join(PRESETS)}.")
    p = PRESETS[name]
    session.preset = {
        "name": name,
        "lecture": p["lecture"],
        "title": p["title"],
        "notes": p["notes"],
        "neuron_labels": p.get("neuron_labels", {}),
        "truth": "labels" in p,
        "panel": name if name in ("approx", "extrapolation", "stepmode", "xor1") else None,
    }
    if "labels" not in p:  # a 1-D lecture view: the 2-D playground keeps its state
        return
    backend = session.settings["backend"]
    session.settings = {**DEFAULTS, **p["settings"], "backend": backend, "dataset": "custom"}
    labels = np.array(p["labels"], dtype=np.int64)
    session.custom = (TRUTH_X.copy(), labels, Problem("binary", 2, (0, 1)))
    session.view = GATE_VIEW
    session._load_data()
    session.train_idx, session.test_idx = np.arange(4), np.arange(0)
    session._frames()
    if "params" in p:
        session._build_model(params=p["params"])
    else:
        session._build_model()


def extras(session: Session, name: str) -> list[Message]:
    """The preset's lecture panels: the LP certificate, a 1-D plot, the step stages."""
    if name == "xor1":
        res = _engine.check_separable(TRUTH_X, np.array(PRESETS[name]["labels"]))
        lines = res.certificate.lines if res.certificate is not None else []
        return [{"type": "lecture", "title": "Linear program: infeasible", "lines": lines}]
    if name == "approx":
        return [explain.approximation("cubic", 8)]
    if name == "extrapolation":
        return [explain.extrapolation()]
    if name == "stepmode":
        return [explain.step_detail(session, 0)]
    return []
