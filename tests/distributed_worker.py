"""One rank of the data-parallel tests (tests/test_distributed.py starts two of these).

``python distributed_worker.py MODE OUT``: MODE ``train`` runs every case of
:data:`CASES` and saves this rank's losses and weights to ``OUT/rank<r>.npz``;
``hang`` / ``die`` make rank 1 stop answering (sleep) or exit while rank 0 trains.
"""

from __future__ import annotations

import functools
import os
import sys
import time

import numpy as np

from mlplab import MLP, fit
from mlplab.nn.optim import get_optimizer

# name: (backend, dtype, fit keywords); sample weights and validation as named
CASES = {
    "numpy64_weights_val": ("numpy", "float64", dict(batch_size=32, validation_split=0.2)),
    "torch64_full_l2_sgd": ("torch", "float64", dict(batch_size=None, l2=1e-3, optimizer="sgd")),
    "torch32_adam": ("torch", "float32", dict(batch_size=32)),
    "numpy64_batch1": ("numpy", "float64", dict(batch_size=1, epochs=2)),  # rank 1: empty
    # > 4096 weights: the runner applies Adam in place (backend/inplace.py), the hook stays
    "numpy64_in_place_adam": ("numpy", "float64", dict(batch_size=32, hidden=(64, 64))),
    # in place and split over the ranks by layers (train/buckets.py): 3 and 4 layers
    # (PyTorch does not split by default, SPLIT_UPDATE; this case turns it on)
    "torch64_split_adam": ("torch", "float64", dict(batch_size=32, hidden=(64, 64, 32))),
    "numpy64_split_sgd_l2": (
        "numpy",
        "float64",
        dict(batch_size=24, hidden=(64, 48), l2=1e-3, optimizer="sgd", validation_split=0.2),
    ),
    "torch64_early_stop": (
        "torch",
        "float64",
        dict(batch_size=16, validation_split=0.3, early_stopping=True, patience=2, epochs=30),
    ),
}


THREE_RANK_CASES = ("numpy64_in_place_adam", "torch64_split_adam", "numpy64_split_sgd_l2")


def data(case: str):
    rng = np.random.default_rng(0)
    n = 15 if case == "numpy64_batch1" else 203
    X = rng.normal(size=(n, 5))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    weights = rng.uniform(0.1, 2.0, size=n) if "weights" in case else None
    return X, y, weights


def run_case(case: str, distributed=None):
    backend, dtype, kw = CASES[case]
    kw = dict(kw)
    X, y, weights = data(case)
    if kw.get("optimizer") == "sgd":
        kw["optimizer"] = get_optimizer("sgd", momentum=0.9)
        kw["lr"] = 0.05
    else:
        kw.setdefault("lr", 0.01)
    kw.setdefault("epochs", 4)
    model = MLP(5, kw.pop("hidden", (16,)), 2, seed=1, backend=backend, dtype=dtype)
    from mlplab.train import distributed as dist_module

    split = dict(dist_module.SPLIT_UPDATE)
    dist_module.SPLIT_UPDATE[backend] = "split" in case or split[backend]
    try:
        h = fit(model, X, y, sample_weight=weights, verbose=0, distributed=distributed, **kw)
    finally:
        dist_module.SPLIT_UPDATE.update(split)
    dp = dist_module.last()
    print(f"{case}: split_runs={0 if dp is None else dp.split_runs}")
    weights_flat = np.concatenate(
        [np.ravel(np.asarray(a, np.float64)) for layer in model.numpy_params() for a in layer]
    )
    state = h.state.opt_state  # the optimizer's moments: whole on every rank after the run
    moments = [np.ravel(np.asarray(a, np.float64)) for k in sorted(state) for layer in state[k]
               for a in layer]  # fmt: skip
    state_flat = np.concatenate(moments) if moments else np.zeros(0)
    return np.asarray(h.train_loss), np.asarray(h.val_loss), weights_flat, state_flat


def interrupt(out: str, rank: int) -> int:
    from mlplab import files

    X, y, _ = data("torch64")
    model = MLP(5, (16,), 2, seed=1, backend="torch", dtype="float64")
    asked = {"n": 0}

    def should_stop():
        asked["n"] += 1
        return rank == 0 and asked["n"] >= 7

    h = fit(model, X, y, epochs=3, batch_size=32, lr=0.01, verbose=0, should_stop=should_stop)
    print(f"interrupted={h.interrupted} step={h.state.step}")
    if rank == 0:
        files.save_checkpoint(os.path.join(out, "run.ckpt.safetensors"), model, h.state, config={})
    return 0


def stream(out: str, rank: int) -> int:
    from mlplab.data.stream import TableStream, scan_preprocessor
    from mlplab.train.streaming import fit_stream

    source = TableStream(os.path.join(out, "t.parquet"), "label")
    prep = scan_preprocessor(source)
    model = MLP(len(source.features), (8,), 1, seed=0, backend="torch", dtype="float64")
    h = fit_stream(model, source, prep, epochs=2, batch_size=32, lr=0.01, shuffle_rows=300,
                   verbose=0)  # fmt: skip
    weights = np.concatenate([np.ravel(a) for layer in model.numpy_params() for a in layer])
    # held-out rows: each rank validates those of its row groups, the sums are reduced
    held = TableStream(os.path.join(out, "t.parquet"), "label", validation_split=0.3)
    model = MLP(len(held.features), (8,), 1, seed=0, backend="torch", dtype="float64")
    v = fit_stream(model, held, scan_preprocessor(held), epochs=6, batch_size=32, lr=0.05,
                   shuffle_rows=300, early_stopping=True, patience=1, verbose=0)  # fmt: skip
    w_val = np.concatenate([np.ravel(a) for layer in model.numpy_params() for a in layer])
    saved = dict(w=weights, loss=h.train_loss, n=h.n_steps, val=v.val_loss, w_val=w_val)
    saved.update(val_metric=v.val_metric, best=v.best_epoch or 0)
    # NumPy, > 4096 weights: the in-place update, never split (the ranks' runs of steps end
    # where each one's buffer fills, so a split run's closing collective would not line up)
    from mlplab.train.distributed import last

    big = MLP(len(source.features), (64, 64), 1, seed=0, backend="numpy", dtype="float64")
    fit_stream(big, source, prep, epochs=1, batch_size=32, lr=0.01, shuffle_rows=300,
               verbose=0)  # fmt: skip
    saved["w_numpy"] = np.concatenate([np.ravel(a) for layer in big.numpy_params() for a in layer])
    saved["split_runs"] = last().split_runs
    np.savez(os.path.join(out, f"stream{rank}.npz"), **saved)
    return 0


def resume(out: str, rank: int) -> int:
    from mlplab import files

    model, state, _, _ = files.load_checkpoint(
        os.path.join(out, "run.ckpt.safetensors"), backend="torch"
    )
    X, y, _ = data("torch64")
    fit(model, X, y, epochs=3 - state.epoch, state=state, batch_size=32, lr=0.01, verbose=0)
    weights = np.concatenate([np.ravel(a) for layer in model.numpy_params() for a in layer])
    np.save(os.path.join(out, f"resumed{rank}.npy"), weights)
    return 0


# name: (backend, dtype, rows of the global batch, sample weights); 2 ranks split the rows
REDUCE_CASES = {
    "numpy32_even": ("numpy", "float32", 256, False),
    "numpy32_uneven": ("numpy", "float32", 255, False),
    "numpy32_weights": ("numpy", "float32", 100, True),
    "torch32_uneven_weights": ("torch", "float32", 77, True),
    "numpy64_uneven": ("numpy", "float64", 101, False),
    "torch64_empty_share": ("torch", "float64", 1, False),  # rank 1 has no rows
}


def reduce_inputs(case: str, rank: int, world: int = 2):
    """This rank's (value, grads, rows, weights) of a reduction case, as float64 NumPy.

    Every rank can compute every rank's inputs (the test's reference sums them).
    """
    _, _, n, weighted = REDUCE_CASES[case]
    rows = np.array_split(np.arange(n), world)[rank]
    rng = np.random.default_rng([len(case), rank])
    weights = rng.uniform(0.1, 2.0, size=len(rows)) if weighted else None
    if len(rows) == 0:  # a mean over no rows: NaN loss, zero gradients
        grads = [(np.zeros(7), np.zeros((7, 5))), (np.zeros(3), np.zeros((3, 7)))]
        return float("nan"), grads, rows, weights
    grads = [(rng.normal(size=7), rng.normal(size=(7, 5))), (rng.normal(size=3),
             rng.normal(size=(3, 7)))]  # fmt: skip
    return float(rng.uniform(0.5, 2.0)), grads, rows, weights


def _as(torch, dtype, a):
    a = np.asarray(a, dtype)
    return a if torch is None else torch.as_tensor(a)


def reduce_cases(out: str, rank: int) -> int:
    """Call DataParallel.reduce on each case's inputs, twice (the buffer is reused)."""
    import torch

    from mlplab.backend.arrays import get_backend
    from mlplab.train.distributed import setup

    dp = setup(True, get_backend("torch"))
    saved = {}
    for case, (backend, dtype, _, _) in REDUCE_CASES.items():
        value, grads, rows, weights = reduce_inputs(case, rank)
        conv = functools.partial(_as, torch if backend == "torch" else None, dtype)
        xb = np.zeros((len(rows), 5))
        wb = None if weights is None else conv(weights)
        for _ in range(2):
            got, summed = dp.reduce(conv(value), [tuple(map(conv, g)) for g in grads], xb, wb)
        flat = [np.asarray(a) for layer in summed for a in layer]
        saved[f"{case}/value"] = np.asarray(got)
        saved[f"{case}/grads"] = np.concatenate([a.ravel() for a in flat])
        saved[f"{case}/dtypes"] = np.array([str(a.dtype) for a in flat])
        if backend == "numpy":  # views of one flat buffer, no copies
            base = flat[0].base
            saved[f"{case}/one_buffer"] = np.array(
                base is not None and all(a.base is base for a in flat)
            )
    np.savez(os.path.join(out, f"reduce{rank}.npz"), **saved)
    return 0


def main() -> int:
    mode, out = sys.argv[1], sys.argv[2]
    rank = int(os.environ["RANK"])
    if mode == "reduce":  # DataParallel.reduce on crafted gradients (float32 exactness)
        return reduce_cases(out, rank)
    if mode == "stream":  # each rank reads its own row groups of OUT/t.parquet
        return stream(out, rank)
    if mode == "resume":  # continue OUT/run.ckpt.safetensors (written by 1 process) on 2 ranks
        return resume(out, rank)
    if mode == "warn":  # a constant target, verbose=2: rank 0 alone warns and prints
        X, _, _ = data("numpy64")
        fit(MLP(5, (4,), 1, seed=1), X, np.zeros(len(X)), epochs=2, batch_size=32, verbose=2)
        return 0
    if mode == "interrupt":  # only rank 0 asks to stop, after 7 steps; rank 0 saves
        return interrupt(out, rank)
    if mode in ("train", "train3"):  # train3: the split cases, on 3 ranks
        saved = {}
        for case in CASES if mode == "train" else THREE_RANK_CASES:
            train, val, weights, state = run_case(case)
            saved.update({f"{case}/train": train, f"{case}/val": val, f"{case}/w": weights,
                          f"{case}/state": state})  # fmt: skip
        np.savez(os.path.join(out, f"rank{rank}.npz"), **saved)
        return 0
    from mlplab.backend.arrays import get_backend
    from mlplab.errors import MLPLabError
    from mlplab.train.distributed import setup

    setup(True, get_backend("torch"))  # the group, with mlplab's timeout (MLPLAB_DIST_TIMEOUT)
    if rank == 1:
        if mode == "die":
            os._exit(3)
        time.sleep(120)  # hang: never join the training's all_reduce
        return 0
    start = time.perf_counter()
    try:
        run_case("torch32_adam")
    except MLPLabError as err:
        print(f"{type(err).__name__} after {time.perf_counter() - start:.1f}s: {err}")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
