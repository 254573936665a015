"""Workload B, looked at closely: peak memory of one tool, and where JAX's step time goes.

``python -m benchmarks.b_profile rss TOOL`` (e.g. ``mlplab-numpy``, ``numpy``)
runs B in one worker the way the suite does (warm-up, then four runs, in this
process) and prints the peak resident memory (``VmHWM``) after each run and how
much it rose over the memory before the first run: the suite's "peak RSS"
and "RSS before" figures, without the other tools.

``python -m benchmarks.b_profile jax [N]`` measures, in CPU seconds with one
XLA thread (steady under load, unlike wall time on a shared machine), min of N
interleaved runs: the matmul peak (4096 x 4096), mlplab's ``fit`` on B, its
compiled scan alone, and the same scan without the optimizer's update (the
forward and backward passes only): the shares of the step that are matmuls,
update, and ``fit``'s fixed cost. Set the thread environment before Python
starts, as for the suite; the ``jax`` mode sets one XLA thread itself.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np


def rss(tool: str) -> None:
    from .worker import Worker

    worker = Worker(tool)
    request = {"workload": "B", "quick": False, "width": None, "cache": None}
    before = worker.handle({"op": "warmup", **request})["rss_before"] / 1024
    peaks = [worker.handle({"op": "memory"})["peak"] / 1024]
    for seed in (0, 0, 1, 2):
        worker.handle({"op": "run", "seed": seed, **request})
        peaks.append(worker.handle({"op": "memory"})["peak"] / 1024)
    print(
        f"{tool}: RSS before {before:.0f} MiB, peak after each run "
        f"{[round(p) for p in peaks]} MiB, +{peaks[-1] - before:.0f} MiB"
    )


def jax_shares(n: int) -> None:
    os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    import jax
    import jax.numpy as jnp
    from jax import lax

    import mlplab.train.loop as loop
    from mlplab.nn.losses import get_loss
    from mlplab.nn.optim import get_optimizer
    from mlplab.train.step import make_step

    from . import tools, workloads

    spec, data = workloads.spec("B"), workloads.load_data("B")
    tool = tools.TOOLS["mlplab-jax"]()
    times: dict[str, list[float]] = {"matmul": [], "fit": [], "scan": [], "fwd/bwd": []}
    run_steps = loop.run_steps

    def timed_run_steps(*args, **kwargs):
        start = time.process_time()
        out = run_steps(*args, **kwargs)
        jax.block_until_ready(out[0])
        times["scan"].append(time.process_time() - start)
        return out

    loop.run_steps = timed_run_steps
    net, loss = tool.init(spec, 0), get_loss(spec.loss)
    step = make_step(tuple(net.activations), loss, get_optimizer(spec.optimizer), 0.0)
    X = net.backend.asarray(data["X"])
    Y = loss.prepare_targets(data["y"], spec.sizes[-1], net.backend)
    n_rows = X.shape[0] // spec.batch_size * spec.batch_size
    idx = np.random.default_rng(0).permutation(X.shape[0])[:n_rows]
    idx = idx.reshape(-1, spec.batch_size).astype(np.int32)

    @jax.jit
    def forward_backward(params, X, Y, idx):  # every step's gradients, summed; no update
        def body(total, i):
            value, grads = step.value_and_grads(params, X[i], Y[i], None)
            return jax.tree_util.tree_map(jnp.add, total, grads), value

        return lax.scan(body, jax.tree_util.tree_map(jnp.zeros_like, params), idx)

    A = jnp.asarray(np.random.default_rng(0).standard_normal((4096, 4096), dtype=np.float32))
    matmul = jax.jit(jnp.matmul)

    def cpu(fn) -> float:
        start = time.process_time()
        jax.block_until_ready(fn())
        return time.process_time() - start

    with jax.default_matmul_precision("highest"):
        for _ in range(n + 1):  # the first round compiles
            times["matmul"].append(cpu(lambda: matmul(A, A)))
            model = tool.init(spec, 0)
            times["fit"].append(cpu(lambda model=model: tool.train(model, spec, data, 0)[0].params))
            times["fwd/bwd"].append(cpu(lambda: forward_backward(net.params, X, Y, idx)))
    best = {k: min(v[1:]) for k, v in times.items()}
    peak = 2 * 4096**3 / best["matmul"] / 1e9
    flops = 6 * spec.n_weights * X.shape[0]
    steps = spec.n_steps(X.shape[0])
    print(f"matmul peak, 1 thread: {peak:.1f} GFLOP/s (CPU time, min of {n})")
    for name, label in (
        ("fit", "fit"),
        ("scan", "its compiled scan"),
        ("fwd/bwd", "scan, no update"),
    ):
        t = best[name]
        print(
            f"{label:18s} {t * 1e3:7.1f} ms CPU = {t / steps * 1e3:5.2f} ms a step, "
            f"{flops / t / 1e9 / peak:6.1%} of the peak, {t / best['fit']:6.1%} of fit"
        )


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["rss"] and len(args) == 2:
        rss(args[1])
    elif args[:1] == ["jax"]:
        jax_shares(int(args[1]) if len(args) > 1 else 5)
    else:
        raise SystemExit("usage: python -m benchmarks.b_profile rss TOOL | jax [N]")
