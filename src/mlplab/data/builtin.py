"""The built-in data sets: logic gates, 2-D toy sets, 1-D functions, scikit-learn's bundled
sets and MNIST-1D generated locally. Nothing is ever downloaded.

:func:`load_dataset` returns a :class:`~mlplab.data.dataset.Dataset`.
"""

from __future__ import annotations

import difflib
import functools
import random
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import ConfigError, DataError, check_number
from .dataset import Dataset
from .validation import (
    _jsonable,
)

DATASETS = (
    "xor",
    "and",
    "or",
    "moons",
    "circles",
    "spirals",
    "blobs",
    "sine",
    "cubic",
    "digits",
    "mnist1d",
    "iris",
    "wine",
    "breast-cancer",
    "diabetes",
)


# ----------------------------------------------------------------------------- built-in sets


class _Loader(Protocol):
    """How :func:`load_dataset` calls each built-in set's loader."""

    def __call__(self, *, seed: int, n_samples: int | None, noise: float | None) -> Dataset: ...


def load_dataset(
    name: str, *, seed: int = 0, n_samples: int | None = None, noise: float | None = None
) -> Dataset:
    """A built-in data set by name (see :data:`DATASETS`); nothing is downloaded.

    Args:
        name: one of :data:`DATASETS`.
        seed: seed of the generated sets (moons, circles, spirals, blobs, sine,
            cubic noise, noisy gates). The bundled sets are fixed; MNIST-1D is the
            canonical set (the ``mnist1d`` package's own seed 42), for comparison
            with the published baselines.
        n_samples: number of rows of a generated set (for xor/and/or: draw that
            many noisy copies of the truth table; for mnist1d: total rows, split
            80/20). Not accepted by the bundled scikit-learn sets.
        noise: standard deviation of the Gaussian noise of a generated set.

    Raises:
        DataError: unknown name (the message lists the names and how to load a CSV).
        ConfigError: ``n_samples``/``noise`` out of range or not applicable.
    """
    if not isinstance(name, str) or name.lower() not in DATASETS:
        raise DataError(_unknown_dataset_message(name))
    name = name.lower()
    check_number(
        "seed", seed, ge=0, le=2**32 - 1, integer=True
    )  # what NumPy's legacy seeding takes
    if n_samples is not None:
        check_number("n_samples", n_samples, ge=1, integer=True)
        _check_generated_size(name, n_samples)
    if noise is not None:
        check_number("noise", noise, ge=0, hint="Pass a standard deviation such as noise=0.1.")
    if name in _SKLEARN_BUNDLED and (n_samples is not None or noise is not None):
        raise ConfigError(
            f"`n_samples` and `noise` apply to generated data sets; '{name}' is a fixed set "
            f"(got n_samples={n_samples}, noise={noise}). Leave them unset."
        )
    return _LOADERS[name](seed=seed, n_samples=n_samples, noise=noise)


#: Features of each generated set (for the memory check of ``n_samples``).
_GENERATED_FEATURES = {"sine": 1, "cubic": 1, "mnist1d": 40}
#: Bytes per value a generated row costs from generation to training: the generator's
#: temporaries, the splits, the standardised copy and the model-dtype copy (8 bytes each).
_BYTES_PER_VALUE = 8 * 10


def _check_generated_size(name: str, n_samples: int) -> None:
    """Refuse, before generating anything, a set too large for the memory available."""
    from ..backend.memory import available_memory, format_bytes

    per_row = (_GENERATED_FEATURES.get(name, 2) + 1) * _BYTES_PER_VALUE
    need, have = n_samples * per_row, available_memory()
    if need > have:
        raise ConfigError(
            f"`n_samples` = {n_samples:,} rows of {name!r} need about {format_bytes(need)} of "
            f"memory to generate and train on, but only {format_bytes(have)} is available; "
            f"use at most about {max(1, have // per_row):,} rows."
        )


def _unknown_dataset_message(name: object) -> str:
    known = ", ".join(DATASETS)
    close = difflib.get_close_matches(str(name).lower(), DATASETS, n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    return (
        f"unknown data set {name!r}.{hint} The built-in data sets are: {known}. "
        "To use a CSV file, pass its path and the target column with --target COLUMN "
        "(load_csv(path, target=...))."
    )


def _classification(
    X: ArrayLike,
    y: ArrayLike,
    name: str,
    feature_names: Iterable[str],
    classes: Sequence[Any],
    **kw: Any,
) -> Dataset:
    task = "binary" if len(classes) == 2 else "multiclass"
    return Dataset(
        X=np.ascontiguousarray(X, dtype=np.float64),
        y=np.asarray(y, dtype=np.int64),
        task=task,
        feature_names=list(feature_names),
        target_name=kw.pop("target_name", "label"),
        classes=[_jsonable(c) for c in classes],
        name=name,
        **kw,
    )


def _regression(
    X: ArrayLike, y: ArrayLike, name: str, feature_names: Iterable[str], target_name: str = "y"
) -> Dataset:
    return Dataset(
        X=np.ascontiguousarray(X, dtype=np.float64),
        y=np.asarray(y, dtype=np.float64),
        task="regression",
        feature_names=list(feature_names),
        target_name=target_name,
        classes=None,
        name=name,
    )


def _gate(table_name: str) -> _Loader:
    def load(*, seed: int, n_samples: int | None, noise: float | None) -> Dataset:
        from ..nn.gates import TRUTH_INPUTS, TRUTH_TABLES

        X = np.asarray(TRUTH_INPUTS, dtype=np.float64)  # (4, 2)
        y = np.asarray(TRUTH_TABLES[table_name], dtype=np.int64)  # (4,)
        if n_samples is not None:
            # n noisy copies of the four corners, each corner equally often.
            rng = np.random.default_rng(seed)
            idx = rng.permutation(np.arange(n_samples) % 4)
            X = X[idx] + (noise or 0.0) * rng.standard_normal((n_samples, 2))
            y = y[idx]
        elif noise:
            X = X + noise * np.random.default_rng(seed).standard_normal(X.shape)
        return _classification(X, y, table_name, ["x1", "x2"], [0, 1])

    return load


def _moons(*, seed: int, n_samples: int | None, noise: float | None) -> Dataset:
    from sklearn.datasets import make_moons

    X, y = make_moons(
        n_samples=n_samples or 200, noise=0.2 if noise is None else noise, random_state=seed
    )
    return _classification(X, y, "moons", ["x1", "x2"], [0, 1])


def _circles(*, seed: int, n_samples: int | None, noise: float | None) -> Dataset:
    from sklearn.datasets import make_circles

    X, y = make_circles(
        n_samples=n_samples or 200,
        noise=0.1 if noise is None else noise,
        factor=0.5,
        random_state=seed,
    )
    return _classification(X, y, "circles", ["x1", "x2"], [0, 1])


def _spirals(*, seed: int, n_samples: int | None, noise: float | None) -> Dataset:
    """Two interleaved spirals: arm c at angle ``3π t + cπ``, radius ``t``, ``t ~ U(0.05, 1)``."""
    n = n_samples or 300
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    t = rng.uniform(0.05, 1.0, n)
    angle = 3 * np.pi * t + np.pi * y
    X = np.stack([t * np.cos(angle), t * np.sin(angle)], axis=1)  # (n, 2)
    X = X + (0.03 if noise is None else noise) * rng.standard_normal((n, 2))
    return _classification(X, y, "spirals", ["x1", "x2"], [0, 1])


def _blobs(*, seed: int, n_samples: int | None, noise: float | None) -> Dataset:
    from sklearn.datasets import make_blobs

    X, y = make_blobs(
        n_samples=n_samples or 300,
        centers=3,
        n_features=2,
        cluster_std=1.0 if noise is None else max(noise, 1e-12),
        random_state=seed,
    )
    return _classification(X, y, "blobs", ["x1", "x2"], [0, 1, 2])


def _sine(*, seed: int, n_samples: int | None, noise: float | None) -> Dataset:
    """``y = sin(x) + noise``, ``x ~ U(−π, π)`` sorted."""
    n = n_samples or 200
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(-np.pi, np.pi, n))
    y = np.sin(x) + (0.1 if noise is None else noise) * rng.standard_normal(n)
    return _regression(x[:, None], y, "sine", ["x"])


def cubic(x: ArrayLike) -> NDArray[np.float64]:
    """The lecture's cubic ``f(x) = x³ − 2x² − x + 2`` (roots −1, 1, 2)."""
    xs = np.asarray(x, dtype=np.float64)
    return xs**3 - 2 * xs**2 - xs + 2


def _cubic(*, seed: int, n_samples: int | None, noise: float | None) -> Dataset:
    """The lecture's samples x = 0, 0.25, …, 1.75 (or ``n_samples`` evenly on [0, 1.75])."""
    x = np.arange(8) * 0.25 if n_samples is None else np.linspace(0.0, 1.75, n_samples)
    y = cubic(x)
    if noise:
        y = y + noise * np.random.default_rng(seed).standard_normal(len(x))
    return _regression(x[:, None], y, "cubic", ["x"])


def _sklearn_bundled(loader_name: str, name: str, classes_from_names: bool | None) -> _Loader:
    def load(*, seed: int, n_samples: int | None, noise: float | None) -> Dataset:
        import sklearn.datasets

        bunch = getattr(sklearn.datasets, loader_name)()
        features = [str(f) for f in bunch.feature_names]
        if classes_from_names is None:
            return _regression(bunch.data, bunch.target, name, features, "target")
        classes: list[Any] = (
            [str(c) for c in bunch.target_names]
            if classes_from_names
            else sorted(int(c) for c in np.unique(bunch.target))
        )
        return _classification(bunch.data, bunch.target, name, features, classes)

    return load


def mnist1d_module() -> tuple[Callable[[], Any], Callable[[Any], dict[str, Any]]]:
    """``(get_dataset_args, make_dataset)`` of the optional ``mnist1d`` package, or a
    clear :class:`ConfigError` saying how to install it."""
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError:
        raise ConfigError(
            "MNIST-1D (the data set, and the tour's claim L13) needs the optional package "
            "mnist1d: pip install 'mlplab[mnist1d]' (or pip install mnist1d)."
        ) from None
    return get_dataset_args, make_dataset


@functools.lru_cache(maxsize=2)
def _mnist1d_arrays(num_samples: int) -> tuple[NDArray[Any], ...]:
    get_dataset_args, make_dataset = mnist1d_module()

    args = get_dataset_args()
    args.num_samples = num_samples
    # make_dataset seeds the global `random` and `np.random` states (seed 42);
    # put the caller's global state back afterwards.
    np_state, py_state = np.random.get_state(), random.getstate()  # noqa: NPY002
    try:
        data = make_dataset(args)
    finally:
        np.random.set_state(np_state)  # noqa: NPY002
        random.setstate(py_state)
    return tuple(
        np.asarray(data[k], dtype=np.float64 if k.startswith("x") else np.int64)
        for k in ("x", "y", "x_test", "y_test")
    )


def _mnist1d(*, seed: int, n_samples: int | None, noise: float | None) -> Dataset:
    if noise is not None:
        raise ConfigError(
            f"`noise` does not apply to 'mnist1d' (got noise={noise}); its noise is part of the "
            "canonical generator. Leave it unset."
        )
    if n_samples is not None and n_samples < 20:
        raise ConfigError(
            f"`n_samples` for 'mnist1d' must be >= 20 (2 per class per split); got {n_samples}."
        )
    X, y, X_test, y_test = _mnist1d_arrays(n_samples or 5000)
    return _classification(
        X.copy(),
        y.copy(),
        "mnist1d",
        [f"x{i}" for i in range(X.shape[1])],
        list(range(10)),
        target_name="digit",
        X_test=X_test.copy(),
        y_test=y_test.copy(),
    )


_SKLEARN_BUNDLED = {
    "digits": _sklearn_bundled("load_digits", "digits", False),
    "iris": _sklearn_bundled("load_iris", "iris", True),
    "wine": _sklearn_bundled("load_wine", "wine", True),
    "breast-cancer": _sklearn_bundled("load_breast_cancer", "breast-cancer", True),
    "diabetes": _sklearn_bundled("load_diabetes", "diabetes", None),
}
_LOADERS: dict[str, _Loader] = {
    "xor": _gate("xor"),
    "and": _gate("and"),
    "or": _gate("or"),
    "moons": _moons,
    "circles": _circles,
    "spirals": _spirals,
    "blobs": _blobs,
    "sine": _sine,
    "cubic": _cubic,
    "mnist1d": _mnist1d,
    **_SKLEARN_BUNDLED,
}


# ----------------------------------------------------------------------------- splitting


__all__ = ["DATASETS", "cubic", "load_dataset"]
