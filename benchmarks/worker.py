"""One tool's benchmark process: ``python -m benchmarks.worker TOOL``.

Reads one JSON request per line on stdin and answers one JSON line on stdout
(anything a library prints goes to stderr instead). Requests:

* ``{"op": "info"}``: versions, BLAS kernel (threadpoolctl), thread settings, RSS;
* ``{"op": "warmup", "workload", "quick", "width", "cache"}``: load the data, time
  one untimed-for-the-median run (compilation included);
* ``{"op": "run", "workload", "quick", "width", "seed", "times"}``: ``times`` timed
  runs back to back (default 1), reported as their median (``every_s``: each of them);
* ``{"op": "peak", "quick"}``: best float32 matmul GFLOP/s of this tool's library;
* ``{"op": "memory"}``: peak and current resident memory (``/proc/self/status``).

The parent sets the thread environment before this process starts (2 threads).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
import traceback

import numpy as np

from . import tools, workloads


def memory_kib() -> dict:
    """``{"peak": VmHWM, "now": VmRSS}`` in KiB (Linux), else ``ru_maxrss``."""
    try:
        with open("/proc/self/status") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
        return {k: int(fields[v].split()[0]) for k, v in (("peak", "VmHWM"), ("now", "VmRSS"))}
    except (OSError, KeyError):  # pragma: no cover - not Linux
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return {"peak": peak, "now": peak}


def blas_info() -> list[dict]:
    """The BLAS libraries loaded and the kernel each runs (threadpoolctl)."""
    from threadpoolctl import threadpool_info

    keep = ("internal_api", "architecture", "num_threads", "version", "prefix")
    return [{k: lib.get(k) for k in keep} for lib in threadpool_info()]


def matmul_peak(library: str, quick: bool) -> dict:
    """Best float32 ``n × n`` matmul GFLOP/s (2 n³ flops) for n = 2048 and 4096."""
    sizes = (256, 512) if quick else (2048, 4096)
    result = {}
    rng = np.random.default_rng(0)
    for n in sizes:
        a = rng.standard_normal((n, n), dtype=np.float32)
        b = rng.standard_normal((n, n), dtype=np.float32)
        if library == "numpy":
            mm = np.matmul
        elif library == "torch":
            import torch

            a, b, mm = torch.from_numpy(a), torch.from_numpy(b), torch.mm
        else:
            import jax

            a, b = jax.numpy.asarray(a), jax.numpy.asarray(b)
            f = jax.jit(jax.numpy.matmul)

            def mm(x, y, f=f):
                return jax.block_until_ready(f(x, y))

        mm(a, b)  # warm-up (and compilation)
        best = min(_timed(mm, a, b) for _ in range(2 if quick else 4))
        result[str(n)] = 2 * n**3 / best / 1e9
    return result


def _timed(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


class Worker:
    def __init__(self, name: str):
        self.name = name
        self.tool = tools.TOOLS[name]()
        self.data: dict = {}

    def _load(self, request):
        name = request["workload"]
        width = request.get("width")
        key = (name, width, request["quick"])
        if key not in self.data:
            data_name = f"Scaling-{width}" if name == "Scaling" else name
            spec = workloads.spec(name, request["quick"], width)
            data = workloads.load_data(data_name, request["quick"], request.get("cache"))
            self.data = {key: (spec, data)}  # one workload's data at a time
        return self.data[key]

    def _run(self, request, seed: int) -> dict:
        spec, data = self._load(request)
        model = self.tool.init(spec, seed)
        start = time.perf_counter()
        model, loss = self.tool.train(model, spec, data, seed)
        seconds = time.perf_counter() - start
        out = {"seconds": seconds, "loss": loss}
        if "X_test" in data:
            predicted = np.asarray(self.tool.predict(model, spec, data["X_test"]))
            out["accuracy"] = float(np.mean(predicted == data["y_test"]))
        return out

    def handle(self, request: dict) -> dict:
        op = request["op"]
        if op == "info":
            import importlib.metadata as md

            versions = {}
            for pkg in ("numpy", "torch", "jax", "equinox", "optax", "scikit-learn", "mlplab"):
                try:
                    versions[pkg] = md.version(pkg)
                except md.PackageNotFoundError:
                    pass
            env = {k: os.environ.get(k) for k in THREAD_ENV}
            return {"versions": versions, "blas": blas_info(), "env": env, **memory_kib()}
        if op == "warmup":
            self._load(request)
            before = memory_kib()
            out = self._run(request, seed=0)
            return {**out, "rss_before": before["now"]}
        if op == "run":
            seed = request.get("seed", 0)
            runs = [self._run(request, seed=seed) for _ in range(request.get("times", 1))]
            every = [run["seconds"] for run in runs]  # kept in the JSON, each of them
            seconds = statistics.median(every)
            return {**runs[-1], "seconds": seconds, "times": len(runs), "every_s": every}
        if op == "peak":
            library = {"numpy": "numpy", "torch": "torch", "jax": "jax"}[self.name]
            return {"gflops": matmul_peak(library, request["quick"])}
        if op == "memory":
            return memory_kib()
        raise ValueError(f"unknown op {op!r}")


THREAD_ENV = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "XLA_FLAGS",
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
)


def main(argv: list[str]) -> int:
    reply = os.fdopen(os.dup(1), "w", buffering=1)  # answers go to the real stdout
    os.dup2(2, 1)  # anything else printed goes to stderr
    sys.stdout = sys.stderr
    try:
        worker = Worker(argv[0])
        reply.write(json.dumps({"ready": True}) + "\n")
    except Exception:
        reply.write(json.dumps({"error": traceback.format_exc()}) + "\n")
        return 1
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            answer = worker.handle(json.loads(line))
        except Exception:
            answer = {"error": traceback.format_exc()}
        reply.write(json.dumps(answer) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
