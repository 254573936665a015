"""Splitting rows into a training and a test part, seeded and optionally stratified."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ..errors import ConfigError, DataError, check_number
from .validation import length_message


def train_test_split(
    X: ArrayLike,
    y: ArrayLike,
    *,
    test_size: float | int = 0.25,
    seed: int | None = None,
    stratify: ArrayLike | None = None,
    random_state: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split rows into train and test parts, seeded; stratified by ``stratify`` labels.

    The arguments are scikit-learn's (``test_size``, ``random_state``,
    ``stratify``); ``seed`` is mlplab's name for ``random_state``. The rows
    drawn differ from scikit-learn's for the same seed (another generator).

    Args:
        X: `(n, d)` features.
        y: `(n, …)` targets.
        test_size: fraction in (0, 1) or a row count in [1, n − 1].
        seed: seed of ``numpy.random.default_rng`` (default 0).
        random_state: scikit-learn's name for ``seed``.
        stratify: `(n,)` labels whose proportions both parts keep (per class,
            rounded so the total test size is exact), or ``None``.

    Returns:
        ``(X_train, X_test, y_train, y_test)``, rows in shuffled order.
    """
    if seed is not None and random_state is not None and seed != random_state:
        raise ConfigError(
            f"give `random_state` or `seed` (the same thing), not both; got {random_state} "
            f"and {seed}."
        )
    seed = seed if seed is not None else (random_state if random_state is not None else 0)
    X, y = np.asarray(X), np.asarray(y)
    n = len(X)
    if len(y) != n:
        raise DataError(length_message(n, len(y)))
    check_number("seed", seed, ge=0, integer=True)
    if isinstance(test_size, float):
        check_number("test_size", test_size, gt=0, lt=1, hint="Pass a fraction such as 0.25.")
        n_test = int(round(test_size * n))
    else:
        check_number("test_size", test_size, ge=1, integer=True)
        n_test = int(test_size)
    if not 1 <= n_test <= n - 1:
        raise DataError(
            f"cannot split {n} rows with test_size={test_size}: it gives {n_test} test rows; "
            "both parts need at least one row."
        )
    rng = np.random.default_rng(seed)
    if stratify is None:
        perm = rng.permutation(n)
        test, train = perm[:n_test], perm[n_test:]
    else:
        labels = np.asarray(stratify)
        if len(labels) != n:
            raise DataError(f"`stratify` has {len(labels)} labels for {n} rows; they must match.")
        _, codes = np.unique(labels, return_inverse=True)
        counts = np.bincount(codes)
        # Largest-remainder rounding of n_test · (class share): exact total, fair per class.
        quota = n_test * counts / n
        per_class = np.floor(quota).astype(int)
        order = np.argsort(-(quota - per_class), kind="stable")
        per_class[order[: n_test - per_class.sum()]] += 1
        test_parts, train_parts = [], []
        for k in range(len(counts)):
            idx = rng.permutation(np.flatnonzero(codes == k))
            test_parts.append(idx[: per_class[k]])
            train_parts.append(idx[per_class[k] :])
        test = rng.permutation(np.concatenate(test_parts))
        train = rng.permutation(np.concatenate(train_parts))
    return X[train], X[test], y[train], y[test]


__all__ = ["train_test_split"]
