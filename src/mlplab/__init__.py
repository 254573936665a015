"""mlplab: multi-layer perceptrons as the lecture teaches them.

Neurons ``σ(b + w·x)``, wide layers ``σ(b + W x)``, deep compositions, explicit
backpropagation and gradient descent, on NumPy, PyTorch and JAX.
"""

from . import nn
from ._version import __version__
from .backend import Backend, available_backends, get_backend, to_numpy
from .data import Dataset, load_csv, load_dataset, train_test_split
from .data.preprocessing import Preprocessor, Standardizer
from .errors import ConfigError, DataError, MLPLabError, ModelFileError, TrainingDiverged
from .files import FileWriteError, load_checkpoint, load_model, save_checkpoint, save_model
from .nn import *  # noqa: F403  (the lecture's math: nn.__all__ is the list)
from .train import FitOptions, History, TrainState, fit

__all__ = [
    *nn.__all__,
    "__version__",
    "available_backends",
    "Backend",
    "ConfigError",
    "DataError",
    "Dataset",
    "FileWriteError",
    "fit",
    "FitOptions",
    "get_backend",
    "History",
    "load_checkpoint",
    "load_csv",
    "load_dataset",
    "load_model",
    "MLPLabError",
    "ModelFileError",
    "Preprocessor",
    "save_checkpoint",
    "save_model",
    "Standardizer",
    "to_numpy",
    "train_test_split",
    "TrainingDiverged",
    "TrainState",
]
