"""The cost of float32 subnormals and the effect of mlplab's flush.

Run ``python -m benchmarks.subnormal``.

Two measurements, each with ``mlplab.backend.loop.FLUSH_SUBNORMALS`` off and on:

1. elementwise: ``0.9 a + 0.1 a`` (an Adam moment update) on 1M float32 values
   that are subnormal (1e-39) or normal (1e-3), NumPy;
2. training: a 64-256-256-10 ReLU net on the digits, 90% of its first-layer units
   dead (bias -100, so their gradients are exactly 0) and its Adam moments at
   1e-39, the state a long run reaches when units die; 200 minibatch steps of
   ``mlplab.fit`` on NumPy and PyTorch. Dead units keep subnormal moments for
   thousands of steps (``v`` shrinks by 0.999 a step) unless they are flushed.

Prints one line per case with the median of 3 runs (2 threads, like the suite).
"""

from __future__ import annotations

import os
import statistics
import time

os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")

import numpy as np  # noqa: E402

TINY = np.float32(1e-39)  # subnormal: below float32's smallest normal 1.18e-38


def elementwise(repeats: int = 3, n: int = 1_000_000) -> dict:
    out = {}
    for name, value in (("normal 1e-3", 1e-3), ("subnormal 1e-39", 1e-39)):
        a = np.full(n, value, dtype=np.float32)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in range(10):
                a * np.float32(0.9) + np.float32(0.1) * a
            times.append((time.perf_counter() - start) / 10)
        out[name] = statistics.median(times)
    return out


def training(backend: str, flush: bool, steps: int = 200, repeats: int = 3) -> float:
    import mlplab
    from mlplab.backend import loop as _backend
    from mlplab.nn.optim import Adam
    from mlplab.train import TrainState

    from .workloads import load_data

    data = load_data("C1")
    times = []
    for _ in range(repeats):
        net = mlplab.MLP(64, [256, 256], 10, activation="relu", seed=0)
        params = net.numpy_params()
        params[0][0][: int(0.9 * 256)] = -100.0  # dead units: gradient exactly 0
        net = mlplab.MLP.from_params(params, net.activations, backend=backend)
        opt = Adam()
        moments = [
            tuple(net.backend.asarray(np.full(p.shape, TINY, dtype=np.float32)) for p in layer)
            for layer in params
        ]
        state = TrainState({"m": moments, "v": list(moments)}, step=1000, epoch=50)
        _backend.FLUSH_SUBNORMALS = flush
        try:
            start = time.perf_counter()
            mlplab.fit(
                net, data["X"], data["y"], optimizer=opt, lr=1e-3, batch_size=64,
                steps=steps, state=state, verbose=0,
            )  # fmt: skip
            times.append(time.perf_counter() - start)
        finally:
            _backend.FLUSH_SUBNORMALS = True
    return statistics.median(times)


def main() -> int:
    ew = elementwise()
    print("elementwise 0.9a + 0.1a on 1M float32 (NumPy, no flush):")
    for name, seconds in ew.items():
        print(f"  {name:<16} {seconds * 1e3:8.2f} ms")
    print(f"  slowdown: {ew['subnormal 1e-39'] / ew['normal 1e-3']:.1f}x")
    print("200 Adam steps, 64-256-256-10 ReLU, 90% dead first-layer units, moments at 1e-39:")
    for backend in ("numpy", "torch"):
        off = training(backend, flush=False)
        on = training(backend, flush=True)
        speedup = off / on
        print(f"  {backend:<6} flush off {off:6.2f} s   flush on {on:6.2f} s   {speedup:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
