"""The playground's 2-D data sets and input features (TensorFlow Playground's dataset.ts).

Points live in the square [−6, 6]², as in TensorFlow Playground. Class labels
are 0/1 (binary) or 0…k−1 (multiclass); regression targets lie in [−1, 1].
Every set is drawn from ``numpy.random.default_rng(seed)``, so a seed gives
the same points on every machine.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

Points = NDArray[np.float64]  # (n, 2) raw points
Labels = NDArray[Any]  # (n,) class indices (int64) or regression targets (float64)
DataSet = tuple[Points, Labels]

DOMAIN = 6.0  # the plotted square is [−DOMAIN, DOMAIN]²
N_CLASSIFY = 500
N_REGRESS = 1200

# name -> (problem kind, description)
DATASETS: dict[str, tuple[str, str]] = {
    "circle": ("classification", "a disc inside a ring"),
    "xor": ("classification", "the four quadrants, XOR of the signs"),
    "gauss": ("classification", "two Gaussian clouds"),
    "spiral": ("classification", "two interleaved spirals"),
    "gauss3": ("multiclass", "three Gaussian clouds (three classes)"),
    "spiral3": ("multiclass", "three interleaved spirals (three classes)"),
    "reg-plane": ("regression", "a tilted plane y = (x₁ + x₂) / 10"),
    "reg-gauss": ("regression", "six Gaussian bumps up and down"),
}

# name -> (label in the page, function of (x1, x2))
FEATURES: dict[str, tuple[str, Callable[[Points, Points], Points]]] = {
    "x1": ("x₁", lambda a, b: a),
    "x2": ("x₂", lambda a, b: b),
    "x1^2": ("x₁²", lambda a, b: a * a),
    "x2^2": ("x₂²", lambda a, b: b * b),
    "x1*x2": ("x₁x₂", lambda a, b: a * b),
    "sin(x1)": ("sin x₁", lambda a, b: np.sin(a)),
    "sin(x2)": ("sin x₂", lambda a, b: np.sin(b)),
}


def features(points: Points, names: Iterable[str]) -> Points:
    """`(n, 2)` raw points -> `(n, len(names))` model inputs, one column per feature."""
    a, b = points[:, 0], points[:, 1]
    return np.stack([FEATURES[name][1](a, b) for name in names], axis=1)


def generate(name: str, noise: float, seed: int) -> DataSet:
    """``(points (n, 2), labels (n,))`` of a built-in set; ``noise`` in [0, 0.5]."""
    rng = np.random.default_rng(seed)
    return _MAKERS[name](rng, noise)


def _circle(rng: np.random.Generator, noise: float) -> DataSet:
    radius, n = 5.0, N_CLASSIFY // 2
    parts = []
    for lo, hi in ((0.0, radius * 0.5), (radius * 0.7, radius)):
        r = rng.uniform(lo, hi, n)
        angle = rng.uniform(0, 2 * math.pi, n)
        p = np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1)
        shaken = p + rng.uniform(-radius, radius, (n, 2)) * noise
        lab = (np.hypot(shaken[:, 0], shaken[:, 1]) < radius * 0.5).astype(np.int64)
        parts.append((p, lab))
    return _join(parts)


def _xor(rng: np.random.Generator, noise: float) -> DataSet:
    n, pad = N_CLASSIFY, 0.3
    p = rng.uniform(-5, 5, (n, 2))
    p = p + np.where(p > 0, pad, -pad)
    shaken = p + rng.uniform(-5, 5, (n, 2)) * noise
    return p, (shaken[:, 0] * shaken[:, 1] >= 0).astype(np.int64)


def _gauss(rng: np.random.Generator, noise: float) -> DataSet:
    n = N_CLASSIFY // 2
    sd = math.sqrt(0.5 + (4 - 0.5) * noise / 0.5)
    parts = [(rng.normal(c, sd, (n, 2)), np.full(n, lab)) for c, lab in ((2, 1), (-2, 0))]
    return _join(parts)


def _gauss3(rng: np.random.Generator, noise: float) -> DataSet:
    n = N_CLASSIFY // 3
    sd = math.sqrt(0.4 + (3 - 0.4) * noise / 0.5)
    centres = [(0.0, 3.0), (-2.6, -1.5), (2.6, -1.5)]
    parts = [(rng.normal(c, sd, (n, 2)), np.full(n, k)) for k, c in enumerate(centres)]
    return _join(parts)


def _spirals(rng: np.random.Generator, noise: float, k: int) -> DataSet:
    n = N_CLASSIFY // k
    parts = []
    for label in range(k):
        i = np.arange(n)
        r = i / n * 5
        t = 1.75 * i / n * 2 * math.pi + 2 * math.pi * label / k
        p = np.stack([r * np.sin(t), r * np.cos(t)], axis=1)
        parts.append((p + rng.uniform(-1, 1, (n, 2)) * noise, np.full(n, label)))
    return _join(parts)


def _reg_plane(rng: np.random.Generator, noise: float) -> DataSet:
    p = rng.uniform(-DOMAIN, DOMAIN, (N_REGRESS, 2))
    shaken = p + rng.uniform(-DOMAIN, DOMAIN, (N_REGRESS, 2)) * noise
    return p, np.clip((shaken[:, 0] + shaken[:, 1]) / 10, -1, 1)


_BUMPS = [(-4, 2.5, 1), (0, 2.5, -1), (4, 2.5, 1), (-4, -2.5, -1), (0, -2.5, 1), (4, -2.5, -1)]


def _reg_gauss(rng: np.random.Generator, noise: float) -> DataSet:
    p = rng.uniform(-DOMAIN, DOMAIN, (N_REGRESS, 2))
    shaken = p + rng.uniform(-DOMAIN, DOMAIN, (N_REGRESS, 2)) * noise
    best = np.zeros(N_REGRESS)
    for cx, cy, sign in _BUMPS:
        d = np.hypot(shaken[:, 0] - cx, shaken[:, 1] - cy)
        value = sign * np.clip(1 - d / 2, 0, 1)
        best = np.where(np.abs(value) > np.abs(best), value, best)
    return p, best


def _join(parts: Sequence[DataSet]) -> DataSet:
    return np.concatenate([p for p, _ in parts]), np.concatenate([y for _, y in parts])


_MAKERS: dict[str, Callable[[np.random.Generator, float], DataSet]] = {
    "circle": _circle,
    "xor": _xor,
    "gauss": _gauss,
    "spiral": lambda rng, noise: _spirals(rng, noise, 2),
    "gauss3": _gauss3,
    "spiral3": lambda rng, noise: _spirals(rng, noise, 3),
    "reg-plane": _reg_plane,
    "reg-gauss": _reg_gauss,
}


def split(n: int, ratio: float, seed: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Seeded train / test row indices: ``ratio`` (0.1–0.9) of the rows train."""
    order = np.random.default_rng([seed, 1]).permutation(n)
    n_train = min(n - 1, max(1, int(round(n * ratio)))) if n > 1 else n
    return np.sort(order[:n_train]), np.sort(order[n_train:])


def grid(resolution: int, lo: float = -DOMAIN, hi: float = DOMAIN) -> Points:
    """`(resolution², 2)` pixel centres, row by row from the top (x₂ = hi) down."""
    step = (hi - lo) / resolution
    centres = lo + step * (np.arange(resolution) + 0.5)
    x1, x2 = np.meshgrid(centres, centres[::-1])
    return np.stack([x1.ravel(), x2.ravel()], axis=1)
