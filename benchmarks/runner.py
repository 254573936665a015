"""Run the suite: one worker process per tool, tools interleaved repeat by repeat.

``python -m benchmarks [--quick] [--only A1,B,...] [--repeats N] [--json PATH]``.

Every tool runs in its own process, started with 2 threads
(``OMP/OPENBLAS/MKL_NUM_THREADS=2``, ``torch.set_num_threads(2)``; XLA uses the
machine's 2 cores) and with ``OPENBLAS_CORETYPE`` / ``OPENBLAS_L2_SIZE``
unset, so NumPy's OpenBLAS picks its fastest kernel (reported). Each workload
first runs once per tool (the warm-up: compilation, caches; reported as
"first"), then ``repeats`` rounds in which the tools take turns, alternating
the order (A B C, C B A, …) so slow phases of a noisy machine hit every tool.
Figures are medians; the spread is (max − min) / median.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from . import playground, tools, workloads

ROOT = Path(__file__).resolve().parent.parent
ORDER = (
    "B",
    "A1",
    "A2",
    "C1",
    "C1-long",
    "C2",
    "Scaling",
    "Start-up",
    "Playground",
)  # B first: its peak RSS is clean
DATA = {  # what each workload trains on; its settings come from workloads.SPECS
    "A1": "A1 tiny: XOR,",
    "A2": "A2 tiny: sin(3x), 256 points,",
    "B": "B wide: 16384 x 784,",
    "C1": "C1 digits:",
    "C1-long": "C1-long digits:",
    "C2": "C2 MNIST-1D:",
}
TITLES = {
    **{name: f"{data} {workloads.SPECS[name].describe()}" for name, data in DATA.items()},
    "Scaling": "Scaling: 256-W-10 ReLU, Adam, batch 256 (steps/s)",
    "Start-up": "Start-up: wall time of a fresh process",
    "Playground": "Playground: frames/s in headless Chromium, server step time",
}


def worker_env() -> dict:
    """The environment of every worker: 2 threads, OpenBLAS's own kernel choice."""
    env = dict(os.environ)
    for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):  # unset both, benchmarks only
        env.pop(key, None)
    env.update(OMP_NUM_THREADS="2", OPENBLAS_NUM_THREADS="2", MKL_NUM_THREADS="2")
    env.setdefault("JAX_PLATFORMS", "cpu")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


class WorkerProcess:
    """A running ``benchmarks.worker`` for one tool, spoken to in JSON lines."""

    def __init__(self, tool: str, env: dict):
        self.tool = tool
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.worker", tool],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=ROOT,
            env=env,
        )
        self._answer()  # {"ready": true}

    def ask(self, **request) -> dict:
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        return self._answer()

    def _answer(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"worker {self.tool} exited (code {self.proc.poll()})")
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"worker {self.tool} failed:\n{answer['error']}")
        return answer

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


TURN_S, MAX_TIMES = 0.2, 20  # a tool's turn in a round: at least 0.2 s, at most 20 runs


def summarise(values: list[float]) -> dict:
    """Median, min, max and relative spread of repeated measurements."""
    med = statistics.median(values)
    return {
        "median": med,
        "min": min(values),
        "max": max(values),
        "spread": (max(values) - min(values)) / med if med else float("nan"),
        "n": len(values),
    }


class Suite:
    def __init__(self, quick: bool, repeats: int, log=print, only_tools=None):
        self.quick = quick
        self.only_tools = only_tools
        self.repeats = repeats
        self.log = log
        self.env = worker_env()
        self.workers: dict[str, WorkerProcess] = {}
        self.results: dict = {"quick": quick, "repeats": repeats, "workloads": {}}
        self.cache = None

    def worker(self, tool: str) -> WorkerProcess:
        if tool not in self.workers:
            self.workers[tool] = WorkerProcess(tool, self.env)
            info = self.workers[tool].ask(op="info")
            self.results.setdefault("info", {})[tool] = info
        return self.workers[tool]

    def close(self):
        for w in self.workers.values():
            w.close()

    # --- one workload: warm-up, then interleaved rounds -------------------------
    def tools_for(self, workload: str) -> tuple[str, ...]:
        names = tools.tools_for(workload)
        return tuple(t for t in names if self.only_tools is None or t in self.only_tools)

    def measure(self, workload: str, tool_names, width=None) -> dict:
        request = {"workload": workload, "quick": self.quick, "width": width, "cache": self.cache}
        out, times = {}, {}
        for tool in tool_names:
            warm = self.worker(tool).ask(op="warmup", **request)
            out[tool] = {"first": warm["seconds"], "rss_before": warm["rss_before"], "runs": []}
            # A turn lasts >= TURN_S: a 15 ms run (A1 on JAX) is timed ~14 times back to back
            # and counts as their median, so one scheduler hiccup does not move the figure.
            times[tool] = 1
            if not self.quick:  # a smoke run stays a second's work
                once = self.worker(tool).ask(op="run", seed=0, **request)["seconds"]
                times[tool] = max(1, min(MAX_TIMES, math.ceil(TURN_S / max(once, 1e-9))))
            out[tool]["times"] = times[tool]
        for r in range(self.repeats):
            order = tool_names if r % 2 == 0 else tool_names[::-1]
            for tool in order:
                run = self.worker(tool).ask(op="run", seed=r, times=times[tool], **request)
                out[tool]["runs"].append(run)
        for rec in out.values():
            seconds = [run["seconds"] for run in rec["runs"]]
            rec["seconds"] = summarise(seconds)
            rec["compile"] = max(rec["first"] - rec["seconds"]["median"], 0.0)
            rec["loss"] = statistics.median(run["loss"] for run in rec["runs"])
            if "accuracy" in rec["runs"][0]:
                rec["accuracy"] = statistics.median(run["accuracy"] for run in rec["runs"])
        return out

    def run_workload(self, name: str):
        self.log(f"... {name}", file=sys.stderr)
        t0 = time.perf_counter()
        if name == "Start-up":
            res = startup(self.env, 3 if self.quick else max(self.repeats, 5))
        elif name == "Playground":
            res = playground.run(self.quick, self.repeats, self.env)
        elif name == "Scaling":
            widths = workloads.SCALING_WIDTHS[:2] if self.quick else workloads.SCALING_WIDTHS
            res = {}
            for w in widths:
                s = workloads.spec("Scaling", self.quick, w)
                per_tool = self.measure("Scaling", self.tools_for("Scaling"), width=w)
                for rec in per_tool.values():
                    sec = rec["seconds"]  # the fastest rate comes from the shortest time
                    rec["rate"] = {
                        **sec,
                        "median": s.steps / sec["median"],
                        "min": s.steps / sec["max"],
                        "max": s.steps / sec["min"],
                    }
                res[str(w)] = per_tool
        else:
            if name == "C2" and self.cache is None:
                self.cache = str(Path(tempfile.mkdtemp(prefix="mlplab-bench-")) / "mnist1d.npz")
                np.savez(self.cache, **workloads.mnist1d(self.quick))
            res = self.measure(name, self.tools_for(name))
            s = workloads.spec(name, self.quick)
            data = workloads.load_data(name, self.quick, self.cache) if name != "C2" else None
            n = len(data["X"]) if data else 4000 if not self.quick else 400
            for tool, rec in res.items():
                steps, samples = s.n_steps(n), s.n_samples_seen(n)
                rec["steps_per_s"] = steps / rec["seconds"]["median"]
                rec["samples_per_s"] = samples / rec["seconds"]["median"]
                rec["gflops"] = 6 * s.n_weights * samples / rec["seconds"]["median"] / 1e9
                if name == "B":
                    rec["peak_rss_kib"] = self.worker(tool).ask(op="memory")["peak"]
            if name == "B":  # the matmul probe runs after B's memory is read: it is not B's
                self.results["peak"] = {
                    lib: self.worker(lib).ask(op="peak", quick=self.quick)["gflops"]
                    for lib in ("numpy", "torch", "jax")
                    if lib in self.tools_for("B")
                }
        res_wall = time.perf_counter() - t0
        self.results["workloads"][name] = res
        self.results.setdefault("wall_s", {})[name] = res_wall


def startup(env: dict, repeats: int) -> dict:
    """Median wall time of ``mlplab --help``, ``import mlplab`` and a bare interpreter."""
    exe = Path(sys.executable)
    cli = exe.parent / "mlplab"
    commands = {
        "python -c pass": [str(exe), "-c", "pass"],
        "import mlplab": [str(exe), "-c", "import mlplab"],
        "mlplab --help": [str(cli), "--help"] if cli.exists() else [str(exe), "-m", "mlplab"],
    }
    times: dict[str, list[float]] = {k: [] for k in commands}
    for _ in range(repeats):
        for name, cmd in commands.items():
            start = time.perf_counter()
            subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            times[name].append(time.perf_counter() - start)
    probe = "import sys, mlplab; print(sorted(m for m in ('torch', 'jax') if m in sys.modules))"
    heavy = subprocess.run([str(exe), "-c", probe], env=env, capture_output=True, text=True)
    out = {k: summarise(v) for k, v in times.items()}
    out["heavy_imported"] = heavy.stdout.strip()
    return out


# --- the report -------------------------------------------------------------------


def _fmt(x: float, digits: int = 3) -> str:
    if x != x:  # NaN
        return "nan"
    if abs(x) >= 1e4:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"


def _best_mlplab(res: dict, key) -> str | None:
    """The fastest mlplab backend in ``res`` (``None`` when ``--tools`` ran none)."""
    return max((t for t in tools.MLPLAB if t in res), key=lambda t: key(res[t]), default=None)


def render(results: dict) -> str:
    """The text report: one table per workload, ratios mlplab / peer, targets."""
    lines: list[str] = []
    add = lines.append
    W = results["workloads"]
    kind = "quick" if results["quick"] else "full"
    add(f"mlplab benchmarks ({kind} run, {results['repeats']} interleaved repeats; "
        "median, spread = (max - min) / median)")  # fmt: skip
    info = results.get("info", {})
    if "numpy" in info:
        blas = ", ".join(f"{b['internal_api']} {b['version']} {b['architecture']}"
                         f" x{b['num_threads']}" for b in info["numpy"]["blas"])  # fmt: skip
        add(f"NumPy BLAS: {blas}")
    targets: list[tuple[str, bool, str]] = []

    def target(text: str, ok: bool, value: str):
        targets.append((text, ok, value))

    def ratio_block(name, res, rate, unit):
        add("")
        add(f"== {TITLES[name]} ==")
        header = f"{'tool':<14}{unit:>14}{'spread':>8}{'first run s':>13}{'compile s':>11}"
        extra = "accuracy" if any("accuracy" in r for r in res.values()) else "final loss"
        add(header + f"{extra:>12}")
        for tool, rec in res.items():
            value = rate(rec)
            tail = rec.get("accuracy", rec.get("loss", float("nan")))
            add(
                f"{tool:<14}{_fmt(value):>14}{rec['seconds']['spread']:>8.0%}"
                f"{rec['first']:>13.3g}{rec['compile']:>11.3g}{_fmt(tail, 4):>12}"
            )
        peers = [t for t in res if t not in tools.MLPLAB]
        mine = [t for t in tools.MLPLAB if t in res]
        add("ratio mlplab / peer (higher is better for mlplab):")
        add(f"{'':<14}" + "".join(f"{p:>11}" for p in peers))
        for m in mine:
            add(f"{m:<14}" + "".join(f"{rate(res[m]) / rate(res[p]):>10.2f}x" for p in peers))
        return {m: {p: rate(res[m]) / rate(res[p]) for p in peers} for m in mine}

    for name in ("A1", "A2"):
        if name not in W:
            continue
        res = W[name]
        ratios = ratio_block(name, res, lambda r: r["steps_per_s"], "steps/s")
        best = _best_mlplab(res, lambda r: r["steps_per_s"])
        if best is not None and "jax-fused" in res:
            x = ratios[best]["jax-fused"]
            target(f"{name}: best mlplab ({best}) >= 1.0x jax-fused", x >= 1.0, f"{x:.2f}x")
        if "mlplab-numpy" in ratios:
            for peer, goal in (("numpy", 0.9), ("sklearn", 1.2)):
                if peer in res:
                    x = ratios["mlplab-numpy"][peer]
                    target(f"{name}: mlplab-numpy >= {goal}x {peer}", x >= goal, f"{x:.2f}x")
    if "B" in W:
        res = W["B"]
        ratios = ratio_block("B", res, lambda r: r["samples_per_s"], "samples/s")
        peaks = [g for v in results.get("peak", {}).values() for g in v.values()]
        peak = max(peaks) if peaks else float("nan")
        add(f"float32 matmul peak (best of NumPy/PyTorch/JAX, n=2048/4096): {peak:.1f} GFLOP/s")
        for lib, v in results.get("peak", {}).items():
            add(f"  {lib:<8}" + "  ".join(f"n={n}: {g:.1f}" for n, g in v.items()))
        add(f"{'tool':<14}{'GFLOP/s':>10}{'of peak':>9}{'of own':>8}{'peak RSS MiB':>14}"
            f"{'RSS before MiB':>16}")  # fmt: skip
        for tool, rec in res.items():
            own = _own_peak(results, tool)  # the peak of the library the tool's products run on
            add(
                f"{tool:<14}{rec['gflops']:>10.1f}{rec['gflops'] / peak:>9.0%}"
                f"{rec['gflops'] / own:>8.0%}"
                f"{rec['peak_rss_kib'] / 1024:>14.0f}{rec['rss_before'] / 1024:>16.0f}"
            )
        best = _best_mlplab(res, lambda r: r["samples_per_s"])
        peers = [t for t in res if t not in tools.MLPLAB]
        if best is not None and peers:  # --tools may leave out either side
            fastest_peer = max(peers, key=lambda t: res[t]["samples_per_s"])
            x = ratios[best][fastest_peer]
            text = f"B: best mlplab ({best}) >= 1.1x fastest peer ({fastest_peer})"
            target(text, x >= 1.1, f"{x:.2f}x")
    for name, goal_acc in (("C1", 0.98), ("C1-long", None), ("C2", 0.68)):
        if name not in W:
            continue
        res = W[name]
        ratios = ratio_block(name, res, lambda r: 1 / r["seconds"]["median"], "1/s (speed)")
        add(f"{'tool':<14}{'train s':>10}{'accuracy':>10}")
        for tool, rec in res.items():
            add(f"{tool:<14}{rec['seconds']['median']:>10.3f}{rec['accuracy']:>10.2%}")
        best = _best_mlplab(res, lambda r: 1 / r["seconds"]["median"])
        if best is None:
            continue
        if "sklearn" in res:
            x = ratios[best]["sklearn"]
            text = f"{name}: best mlplab ({best}) time <= 0.5x sklearn"
            target(text, x >= 2.0, f"{1 / x:.2f}x the time")
        if goal_acc is None:
            continue
        acc = res[best]["accuracy"]
        target(f"{name}: {best} test accuracy >= {goal_acc:.0%}", acc >= goal_acc, f"{acc:.2%}")
    if "Scaling" in W:
        add("")
        add(f"== {TITLES['Scaling']} ==")
        res = W["Scaling"]
        tool_names = list(next(iter(res.values())))
        pairs = [
            (m, p) for m, p in tools.SAME_FRAMEWORK.items() if m in tool_names and p in tool_names
        ]
        add(f"{'width':<8}" + "".join(f"{t:>14}" for t in tool_names) + f"{'best/torch':>12}"
            + "".join(f"{m.split('-')[1] + ' x':>9}" for m, _ in pairs))  # fmt: skip
        for width, per_tool in res.items():
            rates = {t: per_tool[t]["rate"]["median"] for t in tool_names}
            best = max((rates[t] for t in tool_names if t in tools.MLPLAB), default=float("nan"))
            vs_torch = best / rates["torch"] if "torch" in rates else float("nan")
            add(f"{width:<8}" + "".join(f"{_fmt(rates[t]):>14}" for t in tool_names)
                + f"{vs_torch:>11.2f}x"
                + "".join(f"{rates[m] / rates[p]:>8.2f}x" for m, p in pairs))  # fmt: skip
        add("spread:  " + "  ".join(
            f"{w}: " + "/".join(f"{per_tool[t]['seconds']['spread']:.0%}" for t in tool_names)
            for w, per_tool in res.items()))  # fmt: skip
    if "Start-up" in W:
        add("")
        add(f"== {TITLES['Start-up']} ==")
        res = W["Start-up"]
        for key in ("python -c pass", "import mlplab", "mlplab --help"):
            s = res[key]
            add(f"{key:<16}{s['median']:>8.3f} s  (spread {s['spread']:.0%})")
        add(f"heavy backends imported by `import mlplab`: {res['heavy_imported']}")
        t = res["mlplab --help"]["median"]
        target("Start-up: mlplab --help < 0.5 s", t < 0.5, f"{t:.3f} s")
    if "Playground" in W:
        playground.render(W["Playground"], add, target)
    same = framework_targets(results)
    for title, group in (("issue 4", targets), ("issue 15: each backend vs its framework", same)):
        if group:
            add("")
            add(f"== Targets ({title}) ==")
            for text, ok, value in group:
                add(f"{'MET   ' if ok else 'MISSED'}  {text}: {value}")
    if same:
        met = sum(ok for _, ok, _ in same)
        add(f"issue 15: {met} of {len(same)} met")
    results["targets"] = [{"target": t, "met": ok, "value": v} for t, ok, v in targets + same]
    return "\n".join(lines)


SPREAD_GOAL, RSS_GOAL, JAX_PEAK_GOAL = 1.5, 1.1, 0.9


def _speed(name: str, rec: dict) -> float:
    """The figure where higher is faster: steps/s, samples/s or 1 / train time."""
    if "rate" in rec:  # a Scaling width
        return rec["rate"]["median"]
    return {"B": rec.get("samples_per_s"), "A1": rec.get("steps_per_s"),
            "A2": rec.get("steps_per_s")}.get(name) or 1 / rec["seconds"]["median"]  # fmt: skip


def framework_targets(results: dict) -> list[tuple[str, bool, str]]:
    """Issue 15: each mlplab backend against the hand-written loop of its own framework.

    Per workload (each Scaling width on its own): speed >= 1.0x the peer's and the
    per-run spread <= 1.5x the peer's or the run's noise (:func:`_noise`); on B also
    the fraction of the matmul peak (JAX >= 90%, NumPy and PyTorch >= their peer's)
    and peak RSS <= 1.1x the peer's.
    """
    out = []
    W = results["workloads"]
    runs = []
    for name in ("A1", "A2", "B", "C1", "C1-long", "C2"):
        if name in W:
            runs.append((name, name, W[name]))
    for width, per_tool in W.get("Scaling", {}).items():
        runs.append((f"Scaling-{width}", "Scaling", per_tool))
    for label, name, res in runs:
        for mine, peer in tools.SAME_FRAMEWORK.items():
            if mine not in res or peer not in res:
                continue
            a, b = res[mine], res[peer]
            x = _speed(name, a) / _speed(name, b)
            out.append((f"{label}: {mine} >= 1.0x {peer}", x >= 1.0, f"{x:.2f}x"))
            sa, sb, noise = a["seconds"]["spread"], b["seconds"]["spread"], _noise(res)
            ok = sa <= SPREAD_GOAL * max(sb, noise)
            out.append((f"{label}: {mine} spread <= {SPREAD_GOAL}x {peer}'s (or the run's noise)",
                        ok, f"{sa:.0%} vs {sb:.0%} (noise: {noise:.0%})"))  # fmt: skip
    res = W.get("B", {})
    peaks = [g for v in results.get("peak", {}).values() for g in v.values()]
    for mine, peer in tools.SAME_FRAMEWORK.items():
        if mine not in res or peer not in res:
            continue
        a, b = res[mine], res[peer]
        if peaks:
            fa, fb = a["gflops"] / max(peaks), b["gflops"] / max(peaks)
            goal, text = (JAX_PEAK_GOAL, f"{JAX_PEAK_GOAL:.0%}") if mine == "mlplab-jax" else (
                fb, f"{peer}'s ({fb:.0%})")  # fmt: skip
            own = a["gflops"] / _own_peak(results, mine)
            out.append((f"B: {mine} >= {text} of the matmul peak", fa >= goal,
                        f"{fa:.0%} ({own:.0%} of its own library's)"))  # fmt: skip
        ra, rb = a["peak_rss_kib"], b["peak_rss_kib"]
        out.append((f"B: {mine} peak RSS <= {RSS_GOAL}x {peer}'s", ra <= RSS_GOAL * rb,
                    f"{ra / 1024:.0f} vs {rb / 1024:.0f} MiB ({ra / rb:.2f}x)"))  # fmt: skip
    return out


def _noise(per_tool: dict) -> float:
    """The machine's noise in one workload: the median spread of the peers measured
    (mlplab's own tools left out, so an erratic mlplab cannot raise its allowance).

    The tools run interleaved, so a busy spell of the machine reaches all of them. On a
    shared 2-core VM it moves any one tool's spread by tens of percent from run to run
    (the loops' own spreads ranged 3-87% over three full runs), and a steal of the same
    seconds is a larger share of a faster tool's time. A spread within 1.5x of this
    noise is the machine's; a tool that is erratic on its own (issue 15: 2.6 s, then
    3.8-5.2 s) stands out of it.
    """
    peers = {tool: rec for tool, rec in per_tool.items() if tool not in tools.MLPLAB}
    spreads = [rec["seconds"]["spread"] for rec in peers.values()
               if isinstance(rec, dict) and "seconds" in rec]  # fmt: skip
    return statistics.median(spreads) if spreads else 0.0


#: The library whose matrix product each tool runs (for "of own" on B).
OWN_LIBRARY = {"mlplab-numpy": "numpy", "numpy": "numpy", "sklearn": "numpy",
               "mlplab-torch": "torch", "torch": "torch",
               "mlplab-jax": "jax", "jax": "jax", "jax-fused": "jax", "equinox": "jax"}  # fmt: skip


def _own_peak(results: dict, tool: str) -> float:
    """The best float32 matmul GFLOP/s of ``tool``'s own library in this run (NaN if not run)."""
    v = results.get("peak", {}).get(OWN_LIBRARY.get(tool, ""), {})
    return max(v.values()) if v else float("nan")


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="mlplab beside NumPy, PyTorch, JAX, Equinox and scikit-learn.",
        epilog="example: python -m benchmarks --only A1,A2 --repeats 5 --json bench.json",
    )
    p.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run of seconds")
    p.add_argument("--only", default=None, help="comma-separated workloads: " + ",".join(ORDER))
    p.add_argument("--repeats", type=int, default=None, help="timed rounds (default 5; quick 3)")
    p.add_argument("--json", default=None, help="also write all figures to this JSON file")
    p.add_argument(
        "--tools", default=None, help="comma-separated subset of: " + ",".join(tools.TOOLS)
    )
    p.add_argument(
        "--render", default=None, metavar="JSON",
        help="print the report of an earlier run's --json file (verdicts by today's rules); "
        "runs nothing",
    )  # fmt: skip
    args = p.parse_args(argv)
    if args.render:
        try:
            args.render = json.loads(Path(args.render).read_text())
        except (OSError, ValueError) as err:
            p.error(f"--render needs the JSON file of a run (--json); {args.render}: {err}")
        if not isinstance(args.render, dict) or "workloads" not in args.render:
            p.error("--render needs the JSON file of a run (--json): this one has no workloads")
    if args.tools:
        chosen = [t.strip() for t in args.tools.split(",") if t.strip()]
        unknown = [t for t in chosen if t not in tools.TOOLS]
        if unknown:
            p.error(f"unknown tool(s) {unknown}; choose from {', '.join(tools.TOOLS)}")
        args.tools = chosen
    names = list(ORDER)
    if args.only:
        by_lower = {n.lower(): n for n in ORDER}
        wanted = [w.strip().lower() for w in args.only.split(",") if w.strip()]
        unknown = [w for w in wanted if w not in by_lower]
        if unknown:
            p.error(f"unknown workload(s) {unknown}; choose from {', '.join(ORDER)}")
        names = [n for n in ORDER if n.lower() in wanted]
    repeats = args.repeats if args.repeats is not None else (3 if args.quick else 5)
    if repeats < 1:
        p.error(f"--repeats must be >= 1; got {repeats}")
    return args, names, repeats


def main(argv=None) -> int:
    args, names, repeats = parse_args(argv)
    if args.render:
        print(render(args.render))
        return 0
    suite = Suite(args.quick, repeats, only_tools=args.tools)
    start = time.perf_counter()
    try:
        for name in names:
            suite.run_workload(name)
    finally:
        suite.close()
    suite.results["total_wall_s"] = time.perf_counter() - start
    report = render(suite.results)
    print(report)
    if args.json:
        Path(args.json).write_text(json.dumps(suite.results, indent=1, default=float))
    return 0
