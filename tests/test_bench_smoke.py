"""Smoke test of the benchmark suite (``python -m benchmarks --quick``), so it cannot rot.

It checks that the suite runs, prints its tables and computes finite ratios;
it never asserts timings (those belong in docs/performance.md).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import tools, workloads  # noqa: E402
from benchmarks.runner import framework_targets, parse_args  # noqa: E402


def test_quick_suite_prints_tables_and_finite_ratios(tmp_path):
    out = tmp_path / "bench.json"
    cmd = [
        sys.executable, "-m", "benchmarks", "--quick", "--repeats", "1",
        "--only", "A1,B,Start-up", "--tools", "mlplab-numpy,mlplab-jax,numpy,sklearn",
        "--json", str(out),
    ]  # fmt: skip
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    text = done.stdout
    for heading in ("== A1 tiny", "== B wide", "== Start-up", "== Targets (issue 4) =="):
        assert heading in text
    assert "== Targets (issue 15: each backend vs its framework) ==" in text
    assert "ratio mlplab / peer" in text
    results = json.loads(out.read_text())
    for name in ("A1", "B"):
        res = results["workloads"][name]
        assert set(res) == {"mlplab-numpy", "mlplab-jax", "numpy", "sklearn"}
        for rec in res.values():
            assert rec["seconds"]["n"] == 1 and rec["seconds"]["median"] > 0
            assert all(len(run["every_s"]) == run["times"] for run in rec["runs"])  # every run
            rate = rec["steps_per_s"]
            assert math.isfinite(rate) and rate > 0
            assert math.isfinite(rec["loss"])
    for mine in ("mlplab-numpy", "mlplab-jax"):
        for peer in ("numpy", "sklearn"):
            r = (
                results["workloads"]["A1"][mine]["steps_per_s"]
                / (results["workloads"]["A1"][peer]["steps_per_s"])
            )
            assert math.isfinite(r) and r > 0
    assert results["workloads"]["B"]["numpy"]["peak_rss_kib"] > 0
    assert results["peak"]["numpy"]  # matmul peak measured in the same run
    startup = results["workloads"]["Start-up"]
    assert startup["heavy_imported"] == "[]"  # torch / jax stay unimported
    assert {t["target"].split(":")[0] for t in results["targets"]} >= {"A1", "B", "Start-up"}
    # --render prints the same report from the JSON, without running anything
    again = subprocess.run([sys.executable, "-m", "benchmarks", "--render", str(out)],
                           cwd=ROOT, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert again.returncode == 0, again.stderr[-3000:]
    assert again.stdout == text


@pytest.mark.parametrize("workload", ["A2", "C1"])
def test_every_tool_trains(workload):
    # each tool's code paths in-process on a few steps: full-batch regression (A2),
    # shuffled minibatches + test accuracy (C1 with a narrow net)
    spec = replace(workloads.spec(workload, quick=True), steps=3)
    if workload == "C1":
        spec = replace(spec, sizes=(64, 8, 8, 10), steps=None, epochs=1, batch_size=256)
    data = workloads.load_data(workload, quick=True)
    jitted = ("mlplab-jax", "jax", "equinox")  # compile once each (C1), to stay fast
    for name in tools.tools_for(workload):
        if workload == "A2" and name in jitted:
            continue
        tool = tools.TorchEager(threads=1) if name == "torch" else tools.TOOLS[name]()
        model, loss = tool.train(tool.init(spec, 0), spec, data, 0)
        assert math.isfinite(loss), name
        X = data.get("X_test", data["X"])
        assert np.asarray(tool.predict(model, spec, X)).shape[0] == X.shape[0], name


def test_workload_settings_match_the_issue():
    b = workloads.spec("B")
    assert b.sizes == (784, 1024, 1024, 10) and b.batch_size == 256 and b.epochs == 1
    assert b.n_samples_seen(16384) == 16384 and b.n_steps(16384) == 64
    assert workloads.spec("A1").steps == workloads.spec("A2").steps == 5000
    assert workloads.load_data("B")["X"].shape == (16384, 784)
    assert workloads.load_data("A2")["X"].dtype == np.float32


def test_bad_arguments_are_refused(capsys, tmp_path):
    with pytest.raises(SystemExit):
        parse_args(["--only", "Z9"])
    assert "unknown workload" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse_args(["--tools", "caffe"])
    assert "unknown tool" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse_args(["--render", "no-such-run.json"])
    assert "--render needs the JSON file of a run" in capsys.readouterr().err
    not_a_run = tmp_path / "list.json"
    not_a_run.write_text("[1, 2]")
    with pytest.raises(SystemExit):
        parse_args(["--render", str(not_a_run)])
    assert "this one has no workloads" in capsys.readouterr().err
    _, names, repeats = parse_args(["--only", "a1,start-up", "--quick"])
    assert names == ["A1", "Start-up"] and repeats == 3


def _rec(seconds, spread, **extra):
    return {"seconds": {"median": seconds, "spread": spread}, **extra}


def test_framework_targets_compare_each_backend_with_its_own_framework():
    results = {
        "workloads": {
            "C1-long": {
                "mlplab-numpy": _rec(2.0, 0.30),  # faster, but 3x the peer's spread
                "numpy": _rec(2.4, 0.10),
                "mlplab-torch": _rec(3.0, 0.05),  # slower, steadier
                "torch": _rec(2.5, 0.05),
            },
            "C2": {  # a noisy run: the PyTorch loop's spread 45%, the NumPy loop's 10%
                "mlplab-numpy": _rec(1.0, 0.40),
                "numpy": _rec(1.2, 0.10),
                "mlplab-torch": _rec(1.0, 0.35),
                "torch": _rec(1.5, 0.45),
            },
            "A2": {  # every mlplab tool erratic: they do not raise their own allowance
                "mlplab-numpy": _rec(1.0, 0.90),
                "numpy": _rec(1.2, 0.10),
                "mlplab-torch": _rec(1.0, 0.90),
                "torch": _rec(1.5, 0.12),
                "mlplab-jax": _rec(1.0, 0.90),
            },
            "B": {
                "mlplab-jax": _rec(1.0, 0.1, samples_per_s=20000, gflops=280.0, peak_rss_kib=500),
                "jax": _rec(1.1, 0.1, samples_per_s=18000, gflops=250.0, peak_rss_kib=400),
            },
        },
        "peak": {"jax": {"2048": 300.0, "4096": 310.0}, "torch": {"2048": 320.0}},
    }
    got = {text: (ok, value) for text, ok, value in framework_targets(results)}
    assert got["C1-long: mlplab-numpy >= 1.0x numpy"] == (True, "1.20x")
    spread = "spread <= 1.5x {}'s (or the run's noise)"
    # the machine's noise: the median spread of the workload's tools, 7.5% here
    assert got["C1-long: mlplab-numpy " + spread.format("numpy")] == (
        False,
        "30% vs 10% (noise: 8%)",
    )
    assert got["C1-long: mlplab-torch >= 1.0x torch"] == (False, "0.83x")
    assert got["C1-long: mlplab-torch " + spread.format("torch")][0] is True
    # 40% against the loop's 10%, within 1.5x of the run's noise (the loops' median,
    # 27.5%): the machine's
    assert got["C2: mlplab-numpy " + spread.format("numpy")] == (True, "40% vs 10% (noise: 28%)")
    assert got["A2: mlplab-numpy " + spread.format("numpy")] == (False, "90% vs 10% (noise: 11%)")
    assert got["B: mlplab-jax >= 1.0x jax"] == (True, "1.11x")
    # 280 of the best library's 320 GFLOP/s, and of JAX's own 310
    assert got["B: mlplab-jax >= 90% of the matmul peak"] == (
        False,
        "88% (90% of its own library's)",
    )
    assert got["B: mlplab-jax peak RSS <= 1.1x jax's"][0] is False  # 1.25x
    assert not any(text.startswith("C1-long: mlplab-jax") for text in got)  # no peer ran
