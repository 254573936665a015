"""L13 over seeds: ``python -m benchmarks.l13_seeds [digits|mnist1d ...] [--seeds N]``.

A claim of the lecture must hold whatever the seed: this trains L13's MLP on
every seed 0…N−1 (default 20; for the digits each seed is also its own
train/test split) and prints min / median / max test accuracy against the bar.
Exits 1 when any seed falls below it. ``tests/test_lecture.py`` runs the digits
part when ``MLPLAB_SLOW=1``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def accuracies(dataset: str, seeds: int) -> np.ndarray:
    from mlplab.lecture.images import train_images

    return np.array([train_images(dataset, seed=s).test_accuracy for s in range(seeds)])


def main(argv=None) -> int:
    from mlplab.lecture.images import DIGITS_THRESHOLD, MNIST1D_THRESHOLD

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("datasets", nargs="*", default=["digits", "mnist1d"])
    p.add_argument("--seeds", type=int, default=20)
    args = p.parse_args(argv)
    bars = {"digits": DIGITS_THRESHOLD, "mnist1d": MNIST1D_THRESHOLD}
    failed = False
    for name in args.datasets:
        start = time.perf_counter()
        acc = accuracies(name, args.seeds)
        below = [s for s, a in enumerate(acc) if a < bars[name]]
        failed |= bool(below)
        print(
            f"{name}: seeds 0-{args.seeds - 1}: min {acc.min():.2%}, median "
            f"{np.median(acc):.2%}, max {acc.max():.2%} (bar {bars[name]:.1%}); below the bar: "
            f"{below or 'none'}; {time.perf_counter() - start:.0f} s"
        )
        print("  " + " ".join(f"{a:.3f}" for a in acc), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
