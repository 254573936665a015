"""The lecture's hand-set networks: AND, OR (one neuron each) and XOR (2-2-1).

Built from the lecture's exact numbers, with Heaviside steps ``H(0) = 0``:

* AND: ``θ = [−1, 1, 1]`` (bias −1, weights 1, 1): fires only when both inputs are 1;
* OR: ``θ = [0, 1, 1]``: fires when either input is 1;
* XOR: ``θ = [[−0.5, 1, 1], [−1.5, 1, 1], [−0.5, 1, −2]]``: hidden neuron 1 is
  OR, hidden neuron 2 is AND, the output fires for "OR and not AND".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from .mlp import MLP

if TYPE_CHECKING:
    from .activations import Activation

AND_THETA = [-1.0, 1.0, 1.0]
OR_THETA = [0.0, 1.0, 1.0]
NAND_THETA = [1.5, -1.0, -1.0]  # H(0) = 0, so the bias must exceed 1
NOR_THETA = [0.5, -1.0, -1.0]  # and NOR needs a positive bias
XOR_THETA = [[-0.5, 1.0, 1.0], [-1.5, 1.0, 1.0], [-0.5, 1.0, -2.0]]

TRUTH_INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)  # (4, 2)
TRUTH_TABLES = {
    "and": np.array([0, 0, 0, 1]),
    "or": np.array([0, 1, 1, 1]),
    "nand": np.array([1, 1, 1, 0]),
    "nor": np.array([1, 0, 0, 0]),
    "xor": np.array([0, 1, 1, 0]),
}


def single_neuron(
    theta: ArrayLike, activation: str | dict[str, Any] | Activation = "heaviside", **backend: Any
) -> MLP:
    """A one-neuron MLP from the lecture's ``θ = [θ₀, θ₁, …, θₙ]`` (bias first)."""
    theta = np.asarray(theta, dtype=np.float64)
    b, W = theta[:1], theta[None, 1:]  # (1,), (1, n)
    return MLP.from_params([(b, W)], [activation], **backend)


def theta_network(
    thetas: ArrayLike, activation: str | dict[str, Any] | Activation = "heaviside", **backend: Any
) -> MLP:
    """A two-layer network from rows ``θ`` = hidden neurons, then the output neuron.

    ``thetas[:-1]`` are the hidden neurons' ``[bias, weights…]``; the last row
    is the output neuron's ``[bias, weights over the hidden neurons]``.
    """
    thetas = np.asarray(thetas, dtype=np.float64)
    hidden, out = thetas[:-1], thetas[-1]
    params = [(hidden[:, 0], hidden[:, 1:]), (out[:1], out[None, 1:])]
    return MLP.from_params(params, [activation, activation], **backend)


def and_gate(**backend: Any) -> MLP:
    """AND with the lecture's ``θ = [−1, 1, 1]``."""
    return single_neuron(AND_THETA, **backend)


def or_gate(**backend: Any) -> MLP:
    """OR with the lecture's ``θ = [0, 1, 1]``."""
    return single_neuron(OR_THETA, **backend)


def xor_network(**backend: Any) -> MLP:
    """XOR with the lecture's ``θ = [[−0.5, 1, 1], [−1.5, 1, 1], [−0.5, 1, −2]]``."""
    return theta_network(XOR_THETA, **backend)


def gate(name: str, **backend: Any) -> MLP:
    """The hand-set network for ``"and"``, ``"or"``, ``"nand"``, ``"nor"`` or ``"xor"``."""
    from ..errors import check_choice

    check_choice("gate", name, ("and", "or", "nand", "nor", "xor"))
    if name == "xor":
        return xor_network(**backend)
    theta = {"and": AND_THETA, "or": OR_THETA, "nand": NAND_THETA, "nor": NOR_THETA}[name]
    return single_neuron(theta, **backend)
