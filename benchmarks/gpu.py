"""GPU benchmark: mlplab on PyTorch and JAX beside PyTorch eager and JAX, with the matmul peak.

    python -m benchmarks.gpu            (benchmarks/gpu.sh runs it with a time limit)

Workloads (float32, Adam lr 1e-3, softmax cross-entropy, ReLU, synthetic data
labelled by a linear teacher, all on the GPU before the clock starts):

* B: 784-1024-1024-10, batch 256, 16384 rows (benchmarks/workloads.py's B);
* wide: 784-4096-4096-10, batch 1024, 65536 rows.

Each tool runs in its own process: one warm-up epoch (compilation, cuBLAS
heuristics), then 3 timed epochs; the median epoch is reported as rows/s and
as TFLOP/s (6 · Σ d_in·d_out multiply-adds per row: forward, and backward's two
products), beside the GPU's float32 matmul peak measured in the same run
(8192² matmuls, full float32: no TF32, as mlplab's JAX loop and PyTorch's
default use). Needs a CUDA GPU, PyTorch with CUDA and jax[cuda].
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

WORKLOADS = {
    "B": ((784, 1024, 1024, 10), 256, 16384),
    "wide": ((784, 4096, 4096, 10), 1024, 65536),
}
TOOLS = ("mlplab-torch", "torch-eager", "mlplab-jax", "jax-jit")
EPOCHS = 3
# BENCH_SMOKE=1: tiny sizes on the CPU, to check the script itself on a machine without a GPU
SMOKE = os.environ.get("BENCH_SMOKE") == "1"
if SMOKE:
    WORKLOADS = {"B": ((20, 16, 16, 10), 32, 256), "wide": ((20, 32, 32, 10), 64, 512)}
MATMUL = 256 if SMOKE else 8192


def data(n: int, d: int):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d), dtype=np.float32)
    y = np.argmax(X @ rng.standard_normal((d, 10), dtype=np.float32), axis=1)
    return X, y


def mlplab_epochs(backend: str, sizes, batch, X, y):
    from mlplab import MLP, fit

    device = "cpu" if SMOKE else "cuda" if backend == "torch" else "gpu"
    model = MLP(sizes[0], sizes[1:-1], sizes[-1], activation="relu", backend=backend,
                device=device)  # fmt: skip
    Xd, yd = model.backend.asarray(X), y  # the inputs on the GPU once
    kw = dict(batch_size=batch, lr=1e-3, verbose=0, loss="softmax_cross_entropy")
    times = []
    for _ in range(EPOCHS + 1):
        start = time.perf_counter()
        h = fit(model, Xd, yd, epochs=1, **kw)
        times.append(time.perf_counter() - start)  # fit returns after the loss is on the host
    return times[1:], h.train_loss[-1]


def torch_epochs(sizes, batch, X, y):
    import torch

    dev = torch.device("cpu" if SMOKE else "cuda")
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(torch.nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    net = torch.nn.Sequential(*layers).to(dev)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    Xd, yd = torch.as_tensor(X, device=dev), torch.as_tensor(y, device=dev)
    lossf = torch.nn.CrossEntropyLoss()
    times = []
    for epoch in range(EPOCHS + 1):
        perm = torch.as_tensor(np.random.default_rng(epoch).permutation(len(X)), device=dev)
        sync()
        start = time.perf_counter()
        for i in range(0, len(X), batch):
            idx = perm[i : i + batch]
            opt.zero_grad(set_to_none=True)
            loss = lossf(net(Xd[idx]), yd[idx])
            loss.backward()
            opt.step()
        last = float(loss)  # synchronizes
        times.append(time.perf_counter() - start)
    return times[1:], last


def jax_epochs(sizes, batch, X, y):
    import jax
    import jax.numpy as jnp
    import optax

    key = jax.random.PRNGKey(0)
    params = []
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        key, sub = jax.random.split(key)
        params.append((jax.random.normal(sub, (a, b)) * np.sqrt(2 / a), jnp.zeros(b)))
    opt = optax.adam(1e-3)
    state = opt.init(params)

    def loss_fn(p, x, t):
        for i, (W, b) in enumerate(p):
            x = x @ W + b
            if i < len(p) - 1:
                x = jax.nn.relu(x)
        return optax.softmax_cross_entropy_with_integer_labels(x, t).mean()

    @jax.jit
    def step(p, s, x, t):
        value, g = jax.value_and_grad(loss_fn)(p, x, t)
        updates, s = opt.update(g, s, p)
        return optax.apply_updates(p, updates), s, value

    Xd, yd = jnp.asarray(X), jnp.asarray(y)
    times = []
    with jax.default_matmul_precision("highest"):
        for epoch in range(EPOCHS + 1):
            perm = jnp.asarray(np.random.default_rng(epoch).permutation(len(X)))
            start = time.perf_counter()
            for i in range(0, len(X) - batch + 1, batch):
                idx = perm[i : i + batch]
                params, state, value = step(params, state, Xd[idx], yd[idx])
            last = float(value)
            times.append(time.perf_counter() - start)
    return times[1:], last


def matmul_peak() -> float:
    """Float32 TFLOP/s of 8192² matmuls on this GPU (TF32 off), best of 10."""
    import torch

    torch.backends.cuda.matmul.allow_tf32 = False
    dev = "cpu" if SMOKE else "cuda"
    a = torch.randn(MATMUL, MATMUL, device=dev)
    b = torch.randn(MATMUL, MATMUL, device=dev)
    best = float("inf")
    for _ in range(12):
        if not SMOKE:
            torch.cuda.synchronize()
        start = time.perf_counter()
        (a @ b).sum().item()
        best = min(best, time.perf_counter() - start)
    return 2 * MATMUL**3 / best / 1e12


def child(tool: str, workload: str) -> dict:
    sizes, batch, n = WORKLOADS[workload]
    X, y = data(n, sizes[0])
    if tool == "peak":
        return {"tflops": matmul_peak()}
    if tool.startswith("mlplab"):
        times, loss = mlplab_epochs(tool.split("-")[1], sizes, batch, X, y)
    elif tool == "torch-eager":
        times, loss = torch_epochs(sizes, batch, X, y)
    else:
        times, loss = jax_epochs(sizes, batch, X, y)
    epoch = statistics.median(times)
    macs = sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    return {"rows_s": n / epoch, "tflops": 6 * macs * n / epoch / 1e12, "loss": loss}


def _run(tool: str, workload: str) -> dict:
    env = dict(os.environ, XLA_PYTHON_CLIENT_PREALLOCATE="false")
    done = subprocess.run([sys.executable, "-m", "benchmarks.gpu", tool, workload],
                          capture_output=True, text=True, env=env, timeout=240)  # fmt: skip
    if done.returncode:
        return {"error": done.stderr.strip().splitlines()[-1][:120] if done.stderr else "failed"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    if len(sys.argv) == 3:
        print(json.dumps(child(sys.argv[1], sys.argv[2])))
        return 0
    peak = _run("peak", "B")
    if "error" in peak:
        print(f"no usable CUDA GPU: {peak['error']}")
        return 1
    print(f"float32 matmul peak (8192², TF32 off): {peak['tflops']:.1f} TFLOP/s")
    for workload, (sizes, batch, n) in WORKLOADS.items():
        print(f"\n{workload}: {'-'.join(map(str, sizes))}, batch {batch}, {n} rows, Adam, float32")
        print(f"{'tool':<14}{'rows/s':>12}{'TFLOP/s':>10}{'% peak':>8}{'loss':>9}")
        for tool in TOOLS:
            r = _run(tool, workload)
            if "error" in r:
                print(f"{tool:<14}  failed: {r['error']}")
                continue
            share = r["tflops"] / peak["tflops"]
            print(f"{tool:<14}{r['rows_s']:>12,.0f}{r['tflops']:>10.2f}{share:>8.1%}"
                  f"{r['loss']:>9.4f}", flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
