"""The lecture's math, forward and backward side by side. Start reading here:

:mod:`~mlplab.nn.layers` (``σ(b + Wx)`` and its backward) → :mod:`~mlplab.nn.mlp`
(deep compositions, backpropagation) → :mod:`~mlplab.nn.losses` →
:mod:`~mlplab.nn.optim` → :mod:`mlplab.train.step` → :func:`mlplab.train.fit`.
"""

from .activations import ACTIVATIONS, Activation, get_activation
from .gates import and_gate, gate, or_gate, single_neuron, theta_network, xor_network
from .layers import dense, dense_backward, dense_forward, neuron
from .losses import MSE, BinaryCrossEntropy, SoftmaxCrossEntropy, get_loss, l2_penalty
from .metrics import accuracy, confusion_matrix, r2_score
from .mlp import MLP, Backward, backward, forward, forward_cache, init_params
from .optim import SGD, Adam, AdamW, get_optimizer
from .schedules import Constant, Cosine, Step, Warmup, get_schedule, learning_rates

__all__ = [
    "ACTIVATIONS",
    "MLP",
    "MSE",
    "SGD",
    "Activation",
    "Adam",
    "AdamW",
    "Backward",
    "BinaryCrossEntropy",
    "Constant",
    "Cosine",
    "SoftmaxCrossEntropy",
    "Step",
    "Warmup",
    "accuracy",
    "and_gate",
    "backward",
    "confusion_matrix",
    "dense",
    "dense_backward",
    "dense_forward",
    "forward",
    "forward_cache",
    "gate",
    "get_activation",
    "get_loss",
    "get_optimizer",
    "get_schedule",
    "init_params",
    "l2_penalty",
    "learning_rates",
    "neuron",
    "or_gate",
    "r2_score",
    "single_neuron",
    "theta_network",
    "xor_network",
]
