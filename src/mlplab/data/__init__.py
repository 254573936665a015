"""Data: the built-in sets, CSV files, the :class:`Dataset` container, preprocessing and checks.

- :func:`load_dataset` (:mod:`~mlplab.data`): gates, toy sets, functions,
  scikit-learn's bundled sets, MNIST-1D, generated locally.
- :func:`load_csv` (:mod:`~mlplab.data.csvfile`): a CSV file with a header row and a
  target column, every problem a :class:`~mlplab.errors.DataError` that says what to do.
- :class:`Preprocessor` (:mod:`~mlplab.data.preprocessing`): the JSON-able recipe
  (columns, one-hot, imputation, standardisation, label classes) stored with a model.
- :func:`check_X`, :func:`check_X_y`, :func:`encode_labels` (:mod:`~mlplab.data.validation`).
- :func:`train_test_split` (:mod:`~mlplab.data.split`).
"""

from .builtin import DATASETS, cubic, load_dataset
from .csvfile import (
    MAX_CSV_BYTES,
    MAX_INFERRED_CLASSES,
    csv_columns,
    default_max_bytes,
    load_csv,
    load_csv_for_prediction,
)
from .dataset import TASKS, Dataset
from .preprocessing import Preprocessor, Standardizer
from .split import train_test_split
from .validation import MISSING_TOKENS, check_labels_known, check_X, check_X_y, encode_labels

__all__ = [
    "DATASETS",
    "MAX_CSV_BYTES",
    "MAX_INFERRED_CLASSES",
    "MISSING_TOKENS",
    "TASKS",
    "Dataset",
    "Preprocessor",
    "Standardizer",
    "check_X",
    "check_X_y",
    "check_labels_known",
    "csv_columns",
    "cubic",
    "default_max_bytes",
    "encode_labels",
    "load_csv",
    "load_csv_for_prediction",
    "load_dataset",
    "train_test_split",
]
