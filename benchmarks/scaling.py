"""Scale-out benchmark: workload B on 1 vs 2 processes (torch.distributed, gloo) and 1 vs 2
XLA host devices (JAX sharding), one thread each.

    python -m benchmarks.scaling [--epochs 1]

B is benchmarks/workloads.py's: MLP 784-1024-1024-10, ReLU, softmax
cross-entropy, Adam, batch 256 (global: 128 rows per rank / device with 2),
16384 rows, float32. Every run is a fresh process with OMP_NUM_THREADS=1 (and
XLA's CPU client limited to one thread per device); a warm-up epoch runs first
(JAX: compiles), then ``--epochs`` epochs are timed. For torch, the time the
ranks spend inside ``all_reduce`` (waiting for each other included) is shown.
The figures depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time

XLA_ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


def child(backend: str, epochs: int) -> dict:
    from benchmarks.workloads import load_data, spec
    from mlplab import MLP, fit
    from mlplab.train import distributed

    s = spec("B")
    data = load_data("B")
    devices = int(os.environ.get("BENCH_DEVICES", "0")) or None
    kw = dict(loss=s.loss, optimizer=s.optimizer, lr=s.lr, batch_size=s.batch_size, verbose=0)
    model = MLP(s.sizes[0], s.sizes[1:-1], s.sizes[-1], activation=s.activation, seed=0,
                backend=backend)  # fmt: skip
    fit(model, data["X"], data["y"], epochs=1, devices=devices, **kw)  # warm-up / compile
    start = time.perf_counter()
    h = fit(model, data["X"], data["y"], epochs=epochs, devices=devices, **kw)
    wall = time.perf_counter() - start
    dp = distributed.last()  # each fit sets up its own: this one timed only the timed run
    return {"rows": epochs * len(data["y"]), "wall": wall, "loss": h.train_loss[-1],
            "comm": dp.comm_s if dp else 0.0}  # fmt: skip


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(backend: str, world: int, devices: int, epochs: int) -> dict:
    """Start ``world`` ranks (torch) or one process with ``devices`` XLA devices (JAX)."""
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    if backend == "jax":
        env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices} {XLA_ONE_THREAD}"
        env["BENCH_DEVICES"] = str(devices)
    port = _port()
    procs = []
    for rank in range(world):
        if world > 1:
            env.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank),
                       MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))  # fmt: skip
        cmd = [sys.executable, "-m", "benchmarks.scaling", "--child", backend, str(epochs)]
        procs.append(subprocess.Popen(cmd, env=dict(env), stdout=subprocess.PIPE, text=True))
    outs = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
    if any(p.returncode for p in procs):
        raise SystemExit(f"a {backend} run failed")
    wall = max(o["wall"] for o in outs)
    return {"rows": outs[0]["rows"], "wall": wall, "comm": max(o["comm"] for o in outs),
            "loss": outs[0]["loss"]}  # fmt: skip


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]))))
        return 0
    print(f"workload B, {args.epochs} timed epoch(s) after a warm-up one; {os.cpu_count()} cores")
    print(f"{'engine':<34}{'rows/s':>10}{'speed-up':>10}{'in all_reduce':>15}{'loss':>8}")
    for label, backend, (one, two) in (
        ("torch.distributed gloo, 1 vs 2 proc", "torch", ((1, 1), (2, 1))),
        ("JAX sharding, 1 vs 2 XLA devices", "jax", ((1, 1), (1, 2))),
    ):
        base = None
        for world, devices in (one, two):
            r = run(backend, world, devices, args.epochs)
            rate = r["rows"] / r["wall"]
            base = base or rate
            what = f"{label.split(',')[0]} x{max(world, devices)}"
            comm = f"{r['comm'] / r['wall']:.0%}" if backend == "torch" and world > 1 else "-"
            print(f"{what:<34}{rate:>10,.0f}{rate / base:>10.2f}{comm:>15}{r['loss']:>8.4f}",
                  flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
