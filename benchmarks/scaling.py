"""Scale-out benchmark: workload B on 1 vs 2 processes (torch.distributed, gloo) and 1 vs 2
XLA host devices (JAX sharding), one thread each.

    python -m benchmarks.scaling [--epochs 1] [--batches 256 1024] [--repeats 2]
                                 [--engines torch numpy jax]

B is benchmarks/workloads.py's: MLP 784-1024-1024-10, ReLU, softmax
cross-entropy, Adam, batch 256 (global: 128 rows per rank / device with 2),
16384 rows, float32; ``--batches`` adds larger global batches of the same work.
Every run is a fresh process with OMP_NUM_THREADS=1 (and XLA's CPU client
limited to one thread per device); a warm-up epoch runs first (JAX: compiles),
then ``--epochs`` epochs are timed. 1- and 2-worker runs alternate,
``--repeats`` times each, and the best rate of each is shown (the machine may be
shared: the best run is the one least disturbed).

The torch.distributed engines are PyTorch and NumPy models (``--engines``; the
default is torch and jax). For them every phase of the step is timed inside the
real ``fit`` (wrapped, not re-implemented): forward + backward, the small
``all_reduce`` of the weights, losses and stop flags, packing the gradients
into the flat buffer, their ``all_reduce`` (or, with the update split by
layers, the ``reduce`` to each layer's owner and the ``broadcast`` of the new
weights and, once a run, of the optimizer state), the optimizer update, and
the rest (the batch gather, the loop). Each is shown per step in CPU time of the process
(``time.process_time``: all its threads, gloo's included) and wall time
(which also counts waiting for the other rank). On a machine shared with other
work, CPU time is the steadier measure: the "cpu-bound" speed-up is what the 2
workers would reach with a core each and no wait: 1-process CPU time per row /
the busier rank's CPU time per row (JAX: / half the process's CPU time per row,
its 2 device threads' sum). BENCH_SPLIT=0 / 1 turns the split update of the
torch.distributed ranks off / on (mlplab.train.distributed.SPLIT_UPDATE).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time

# one XLA thread per device ("intra_op_parallelism_threads" is not an XLA flag: it was dropped)
XLA_ONE_THREAD = "--xla_cpu_multi_thread_eigen=false"
PHASES = ("forward+backward", "all_reduce (weights, loss)", "pack", "all_reduce (gradients)",
          "reduce (gradients)", "update", "broadcast (weights)", "broadcast (state)",
          "other")  # fmt: skip


class _Clock:
    """Wall and CPU seconds per phase of the timed steps."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    def timed(self, name: str, fn):
        def run(*args):
            w, c = time.perf_counter(), time.process_time()
            out = fn(*args)
            self.wall[name] = self.wall.get(name, 0.0) + time.perf_counter() - w
            self.cpu[name] = self.cpu.get(name, 0.0) + time.process_time() - c
            return out

        return run


def _instrument(clock: _Clock) -> None:
    """Time ``value_and_grads`` (forward, backward, reduce) and the in-place update in fit."""
    import mlplab.backend.loop as backend_loop
    import mlplab.train.loop as train_loop

    make_step, updater_for = train_loop.make_step, backend_loop.updater_for

    def timed_step(*args):
        step = make_step(*args)

        def wrapped(*a):
            return step(*a)

        wrapped.value_and_grads = clock.timed("value_and_grads", step.value_and_grads)
        wrapped.optimizer, wrapped.reduce = step.optimizer, getattr(step, "reduce", None)
        return wrapped

    def timed_updater(*args):
        fast = updater_for(*args)
        if fast is not None:
            fast.update = clock.timed("update", fast.update)
        return fast

    train_loop.make_step, backend_loop.updater_for = timed_step, timed_updater


def child(backend: str, epochs: int, batch: int) -> dict:
    import torch

    from benchmarks.workloads import load_data, spec
    from mlplab import MLP, fit
    from mlplab.train import distributed

    s = spec("B")
    data = load_data("B")
    devices = int(os.environ.get("BENCH_DEVICES", "0")) or None
    kw = dict(loss=s.loss, optimizer=s.optimizer, lr=s.lr, batch_size=batch, verbose=0)
    model = MLP(s.sizes[0], s.sizes[1:-1], s.sizes[-1], activation=s.activation, seed=0,
                backend=backend)  # fmt: skip
    if os.environ.get("BENCH_SPLIT") in ("0", "1"):  # split the update by layers, or not
        distributed.SPLIT_UPDATE[backend] = os.environ["BENCH_SPLIT"] == "1"
    fit(model, data["X"], data["y"], epochs=1, devices=devices, **kw)  # warm-up / compile
    clock = _Clock()
    if backend != "jax":
        _instrument(clock)
    start, cpu = time.perf_counter(), time.process_time()
    h = fit(model, data["X"], data["y"], epochs=epochs, devices=devices, **kw)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    dp = distributed.last()  # each fit sets up its own: this one timed only the timed run
    wall_by, cpu_by = _phases(clock, dp, wall, cpu)
    return {"rows": epochs * len(data["y"]), "steps": epochs * -(-len(data["y"]) // batch),
            "wall": wall, "cpu": cpu, "loss": h.train_loss[-1], "phases_wall": wall_by,
            "phases_cpu": cpu_by, "torch_threads": torch.get_num_threads(),
            "os_threads": len(os.listdir("/proc/self/task"))}  # fmt: skip


def _phases(clock: _Clock, dp, wall: float, cpu: float) -> tuple[dict, dict]:
    """Per phase seconds (wall, cpu); forward+backward is value_and_grads less the reduction."""
    out = []
    phases = getattr(dp, "phases", None)  # (mlplab before 30 Nov 2026 had none)
    for mine, total, theirs in ((clock.wall, wall, phases and phases.wall),
                                (clock.cpu, cpu, phases and phases.cpu)):  # fmt: skip
        by = dict(theirs or {})
        by.pop("all_reduce (other)", None)
        after = {k: by.pop(k) for k in ("broadcast (weights)", "broadcast (state)") if k in by}
        by["forward+backward"] = mine.get("value_and_grads", 0.0) - sum(by.values())
        by["update"] = mine.get("update", 0.0)
        by.update(after)  # inside the (split) update, timed on their own
        by["other"] = total - sum(by.values())
        out.append(by)
    return out[0], out[1]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(backend: str, world: int, devices: int, epochs: int, batch: int) -> dict:
    """Start ``world`` ranks (torch) or one process with ``devices`` XLA devices (JAX)."""
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    if backend == "jax":
        env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices} {XLA_ONE_THREAD}"
        env["BENCH_DEVICES"] = str(devices)
    port = _port()
    procs = []
    for rank in range(world):
        if world > 1:
            env.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank),
                       MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))  # fmt: skip
        cmd = [sys.executable, "-m", "benchmarks.scaling", "--child", backend, str(epochs),
               str(batch)]  # fmt: skip
        procs.append(subprocess.Popen(cmd, env=dict(env), stdout=subprocess.PIPE, text=True))
    outs = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
    if any(p.returncode for p in procs):
        raise SystemExit(f"a {backend} run failed")
    slow = max(outs, key=lambda o: o["wall"])
    return dict(slow, cpu=max(o["cpu"] for o in outs))


def _best(backend: str, worlds, args, batch: int) -> list[dict]:
    """The best of ``--repeats`` alternating runs of each (world, devices)."""
    best: list[dict | None] = [None] * len(worlds)
    for _ in range(args.repeats):
        for k, (world, devices) in enumerate(worlds):
            r = run(backend, world, devices, args.epochs, batch)
            if best[k] is None or r["wall"] < best[k]["wall"]:
                best[k] = r
    return best  # type: ignore[return-value]


def _row(what: str, r: dict, base: dict, threads: int = 1) -> str:
    """``threads``: the XLA devices (threads) of one process whose CPU time is summed."""
    rate, rate1 = r["rows"] / r["wall"], base["rows"] / base["wall"]
    cpu_speedup = threads * (base["cpu"] / base["rows"]) / (r["cpu"] / r["rows"])
    return (f"{what:<36}{rate:>9,.0f}{rate / rate1:>9.2f}{cpu_speedup:>10.2f}"
            f"{r['loss']:>8.4f}")  # fmt: skip


def _phase_table(r1: dict, r2: dict) -> list[str]:
    lines = [f"  {'per step, ms (cpu / wall)':<30}{'1 process':>18}{'2 ranks (slower)':>20}"]
    for name in PHASES:
        cells = []
        for r in (r1, r2):
            cpu = 1e3 * r["phases_cpu"].get(name, 0.0) / r["steps"]
            wall = 1e3 * r["phases_wall"].get(name, 0.0) / r["steps"]
            cells.append(f"{cpu:7.2f} / {wall:7.2f}" if name in r["phases_cpu"] else "-")
        lines.append(f"  {name:<30}{cells[0]:>18}{cells[1]:>20}")
    for r, who in ((r1, "1 process"), (r2, "each rank")):
        lines.append(f"  threads ({who}): torch intra-op {r['torch_threads']}, "
                     f"OS threads {r['os_threads']}")  # fmt: skip
    return lines


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batches", type=int, nargs="+", default=[256, 1024])
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--engines", nargs="+", default=["torch", "jax"])
    p.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]), int(args.child[2]))))
        return 0
    load = os.getloadavg()
    print(
        f"workload B, {args.epochs} timed epoch(s) after a warm-up one, best of "
        f"{args.repeats}; {os.cpu_count()} cores, load average {load[0]:.2f} at the start"
    )
    for batch in args.batches:
        print(f"\nglobal batch {batch}")
        print(f"{'engine':<36}{'rows/s':>9}{'speed-up':>9}{'cpu-bound':>10}{'loss':>8}")
        for backend in args.engines:
            label, worlds = {"torch": ("torch.distributed gloo", ((1, 1), (2, 1))),
                             "numpy": ("NumPy, torch.distributed gloo", ((1, 1), (2, 1))),
                             "jax": ("JAX sharding", ((1, 1), (1, 2)))}[backend]  # fmt: skip
            one, two = _best(backend, worlds, args, batch)
            print(_row(f"{label} x1", one, one))
            print(_row(f"{label} x2", two, one, 2 if backend == "jax" else 1), flush=True)
            if backend != "jax":
                print("\n".join(_phase_table(one, two)), flush=True)
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
