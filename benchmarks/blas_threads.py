"""BLAS threads for small networks: mlplab's choice (one thread below
``mlplab.backend.threads.SINGLE_THREAD_MACS``) against BLAS's default thread count.

Run: ``python -m benchmarks.blas_threads`` (or ``python benchmarks/blas_threads.py``).
It fits ``mlplab.sklearn.MLPClassifier()`` (defaults) on breast cancer (569 × 30) and
times it with ``MLPLAB_BLAS_THREADS=auto`` (one thread here) and with BLAS left at its
default, best of ``--repeat`` runs each, plus scikit-learn's ``MLPClassifier`` for scale.
The figures depend on the machine and on its load; say which when quoting them.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings


def _time(make, X, y, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        make().fit(X, y)
        best = min(best, time.perf_counter() - start)
    return best


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    from sklearn.datasets import load_breast_cancer
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier as SkMLP
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_info

    from mlplab.sklearn import MLPClassifier

    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    blas = [(i["internal_api"], i["num_threads"]) for i in threadpool_info()]
    print(f"BLAS: {blas}; os.cpu_count() = {os.cpu_count()}")
    rows = []
    for setting in ("auto", "default"):
        os.environ["MLPLAB_BLAS_THREADS"] = "auto" if setting == "auto" else str(blas[0][1])
        rows.append(
            (
                f"mlplab MLPClassifier, BLAS threads {setting}",
                _time(lambda: MLPClassifier(), X, y, args.repeat),
            )
        )
    os.environ.pop("MLPLAB_BLAS_THREADS", None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        rows.append(
            ("scikit-learn MLPClassifier", _time(lambda: SkMLP(random_state=0), X, y, args.repeat))
        )
    for name, seconds in rows:
        print(f"{name:<45} {seconds:7.3f} s")


if __name__ == "__main__":
    main()
