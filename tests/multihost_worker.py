"""One process of the JAX multi-process test (tests/test_multihost.py starts two of these).

``python multihost_worker.py PROCESS_ID PORT OUT``: joins a 2-process JAX run on the CPU
(``jax.distributed.initialize`` with gloo collectives), trains every case of :data:`CASES`
with ``fit(..., devices="all")`` (the batch split over one device of each process), then a
run on a constant target with ``verbose=2`` (only process 0 may print or warn), and saves
its losses and weights to ``OUT/process<i>.npz``.
"""

from __future__ import annotations

import os
import sys

import numpy as np

# name: fit keywords (5 inputs, 203 rows, MLP 5-16-2, float64)
CASES = {
    "minibatch_weights_val": dict(batch_size=32, validation_split=0.2, weighted=True),
    "batch_7": dict(batch_size=7, epochs=1),  # odd batches: padded to 8 rows, weight 0
}


def data(weighted: bool):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(203, 5))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    return X, y, (rng.uniform(0.1, 2, size=203) if weighted else None)


def run_case(case: str, devices):
    from mlplab import MLP, fit

    kw = dict(CASES[case])
    X, y, weights = data(kw.pop("weighted", False))
    kw.setdefault("epochs", 2)
    model = MLP(5, (16,), 2, seed=1, backend="jax", dtype="float64")
    h = fit(model, X, y, sample_weight=weights, lr=0.01, verbose=0, devices=devices, **kw)
    flat = [np.ravel(np.asarray(a, np.float64)) for layer in model.numpy_params() for a in layer]
    return np.asarray(h.train_loss + h.val_loss), np.concatenate(flat)


def main() -> int:
    process, port, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    import jax

    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(
        coordinator_address=f"127.0.0.1:{port}", num_processes=2, process_id=process,
        initialization_timeout=60,
    )  # fmt: skip
    saved = {"process_count": jax.process_count(), "devices": len(jax.devices())}
    for case in CASES:
        saved[f"{case}/loss"], saved[f"{case}/w"] = run_case(case, "all")
    from mlplab import MLP, fit

    X, _, _ = data(False)
    model = MLP(5, (4,), 1, seed=1, backend="jax", dtype="float64")
    fit(model, X, np.zeros(len(X)), epochs=2, batch_size=32, verbose=2, devices="all")
    np.savez(os.path.join(out, f"process{process}.npz"), **saved)
    return 0


if __name__ == "__main__":
    sys.exit(main())
