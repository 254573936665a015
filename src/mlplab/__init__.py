"""mlplab: multi-layer perceptrons as the lecture teaches them.

Neurons ``σ(b + w·x)``, wide layers ``σ(b + W x)``, deep compositions, explicit
backpropagation and gradient descent, on NumPy, PyTorch and JAX.
"""

from ._backend import Backend, available_backends, get_backend, to_numpy
from .activations import ACTIVATIONS, Activation, get_activation
from .datasets import Dataset, load_csv, load_dataset, train_test_split
from .errors import ConfigError, DataError, MLPLabError, ModelFileError, TrainingDiverged
from .gates import and_gate, gate, or_gate, single_neuron, theta_network, xor_network
from .io import FileWriteError, load_checkpoint, load_model, save_checkpoint, save_model
from .layers import dense, dense_backward, dense_forward, neuron
from .losses import MSE, BinaryCrossEntropy, SoftmaxCrossEntropy, get_loss
from .metrics import accuracy, confusion_matrix, r2_score
from .mlp import MLP, Backward, backward, forward, forward_cache, init_params
from .optim import SGD, Adam, AdamW, get_optimizer
from .preprocessing import Preprocessor, Standardizer
from .schedules import Constant, Cosine, Step, Warmup, get_schedule, learning_rates
from .train import History, TrainState, fit

__version__ = "0.1.0"

__all__ = [
    "Standardizer",
    "Preprocessor",
    "save_model",
    "save_checkpoint",
    "load_model",
    "load_checkpoint",
    "FileWriteError",
    "train_test_split",
    "load_dataset",
    "load_csv",
    "Dataset",
    "ACTIVATIONS",
    "MLP",
    "MSE",
    "SGD",
    "Activation",
    "Adam",
    "AdamW",
    "Backend",
    "Backward",
    "BinaryCrossEntropy",
    "ConfigError",
    "Constant",
    "Cosine",
    "DataError",
    "History",
    "MLPLabError",
    "ModelFileError",
    "SoftmaxCrossEntropy",
    "Step",
    "TrainState",
    "TrainingDiverged",
    "Warmup",
    "__version__",
    "accuracy",
    "and_gate",
    "available_backends",
    "backward",
    "confusion_matrix",
    "dense",
    "dense_backward",
    "dense_forward",
    "fit",
    "forward",
    "forward_cache",
    "gate",
    "get_activation",
    "get_backend",
    "get_loss",
    "get_optimizer",
    "get_schedule",
    "init_params",
    "learning_rates",
    "neuron",
    "or_gate",
    "r2_score",
    "single_neuron",
    "theta_network",
    "to_numpy",
    "xor_network",
]
