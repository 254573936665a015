"""The lecture tour: every claim L1–L13 of LECTURE.md computed as a plain result object.

One module per group of claims (``regression`` L1–L3, ``neurons`` L4–L9,
``approximation`` L10, ``backprop`` L11, ``backends`` L12, ``images`` L13).
Each experiment is a function returning a dataclass of numbers and arrays;
:mod:`~mlplab.lecture.text` renders them for the terminal,
:mod:`~mlplab.lecture.report` as an HTML page, and :mod:`~mlplab.lecture.tour`
runs them all in the lecture's order.
"""

CLAIMS = {
    "L1": "Linear regression has a closed form θ = (XᵀX)⁻¹Xᵀy (with a bias column).",
    "L2": "Polynomial regression scales badly: C(d+m, m) columns for d inputs at degree m.",
    "L3": "Polynomials tend to ±∞ outside the data; a tanh MLP stays bounded.",
    "L4": "A neuron is the linear model with an activation: σ(b + w·x); H(0) = 0.",
    "L5": "AND with θ = [−1, 1, 1] and OR with θ = [0, 1, 1].",
    "L6": "XOR is impossible for a single neuron: it is not linearly separable.",
    "L7": "A wide layer σ(b + W x) is m neurons in parallel; each output row is one neuron.",
    "L8": "A deep network is a composition of layers; a four-layer MLP has four matrices.",
    "L9": "XOR with a deep and wide network: hidden OR and AND, output 'OR and not AND'.",
    "L10": "Universal approximation: the error ε shrinks as the network widens.",
    "L11": "Backpropagation assigns fault to each neuron; gradient descent updates θ.",
    "L12": "The same deep and wide network runs on NumPy, PyTorch and JAX.",
    "L13": "From McCulloch & Pitts (1943) and Rosenblatt (1958) to MLPs that read digits.",
}

__all__ = ["CLAIMS"]
