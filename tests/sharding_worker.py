"""Run by tests/test_sharding.py in a fresh Python with XLA_FLAGS splitting the CPU in 2.

Prints one JSON line: per case, the largest differences between a 1-device and
a 2-device run (losses, weights), and whether the compiled steps hold an
all-reduce (the batch's weight and loss), a reduce-scatter (each device gets the
summed gradients of its rows of the weights) and an all-gather (the updated
weights): the batch and the optimizer's update really are split.
"""

from __future__ import annotations

import json

import numpy as np

from mlplab import MLP, fit
from mlplab.backend import jax_loop

CASES = {
    "float64_minibatch_weights_val": ("float64", 32, True),
    "float64_full_batch": ("float64", None, False),
    "float32_minibatch": ("float32", 32, False),
    "float64_batch_3": ("float64", 3, False),  # odd batches: padded to 4, weight 0
    # 15 hidden units: the first layer's rows do not split over 2 devices (summed whole)
    "float64_odd_width": ("float64", 32, False, (15,)),
}


def run(dtype, batch_size, weighted, devices, hidden=(16,)):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(203, 5))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    sw = rng.uniform(0.1, 2, size=203) if weighted else None
    model = MLP(5, hidden, 2, seed=1, backend="jax", dtype=dtype)
    h = fit(model, X, y, epochs=3, batch_size=batch_size, sample_weight=sw, lr=0.01,
            validation_split=0.2 if weighted else 0.0, verbose=0, devices=devices)  # fmt: skip
    weights = np.concatenate([np.ravel(np.asarray(a, np.float64)) for p in model.numpy_params()
                              for a in p])  # fmt: skip
    on = sorted(str(d) for d in model.params[0][1].devices())
    return np.asarray(h.train_loss + h.val_loss), weights, on


def main():
    out = {}
    for case, (dtype, batch_size, weighted, *hidden) in CASES.items():
        loss1, w1, _ = run(dtype, batch_size, weighted, None, *hidden)
        loss2, w2, on = run(dtype, batch_size, weighted, 2, *hidden)
        out[case] = {
            "loss_rel": float(np.max(np.abs(loss2 - loss1) / np.abs(loss1))),
            "w_rel": float(np.max(np.abs(w2 - w1) / np.maximum(np.abs(w1), 1e-3))),
            "n_losses": [len(loss1), len(loss2)],
            "params_on": on,
        }
    sharded = [k for k in jax_loop._JAX_RUNNERS if k[0] == "zero"]
    out["mesh_runners"] = len(sharded)
    for op in ("all-reduce", "reduce-scatter", "all-gather"):
        out[op] = all(op in text for text in HLO) and bool(HLO)
    print(json.dumps(out))


HLO = []
_real_run_sharded = jax_loop._run_sharded


def _spy(backend, step_fn, params, opt_state, data, plan, mesh):
    runner_before = set(jax_loop._JAX_RUNNERS)
    result = _real_run_sharded(backend, step_fn, params, opt_state, data, plan, mesh)
    for key in set(jax_loop._JAX_RUNNERS) - runner_before:
        HLO.append(_compiled_text(key, backend, params, opt_state, data, plan, mesh))
    return result


def _compiled_text(key, backend, params, opt_state, data, plan, mesh):
    from mlplab.backend import sharding
    from mlplab.backend.loop import StepPlan

    X, Y, SW = data
    batches = plan.batches or [np.arange(X.shape[0])] * plan.n_steps
    idx, mask = StepPlan(batches, plan.lrs, plan.t).padded(multiple=mesh.devices.size)
    args = sharding.replicated((params, opt_state, X, Y, SW), mesh)
    dt = backend.dtype
    lowered = jax_loop._JAX_RUNNERS[key].lower(
        *args, idx, mask.astype(dt), plan.lrs.astype(dt), plan.t.astype(dt)
    )
    return lowered.compile().as_text()


jax_loop._run_sharded = _spy

if __name__ == "__main__":
    main()
