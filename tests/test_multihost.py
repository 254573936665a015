"""JAX across processes: two local processes joined by ``jax.distributed.initialize`` (CPU,
gloo collectives) train with ``fit(..., devices="all")``, the batch split over one device of
each process, and give the one-process losses and weights (float64, 1e-12 relative).

Process 0 alone prints progress and warnings.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

jax = pytest.importorskip("jax")

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
import multihost_worker as worker  # noqa: E402


def _gloo_missing() -> str | None:
    """Why this jax build cannot run CPU collectives across processes (None: it can)."""
    from jax._src.lib import _jax

    if not hasattr(_jax, "make_gloo_tcp_collectives"):
        return f"jax {jax.__version__} was built without gloo CPU collectives"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory):
    reason = _gloo_missing()
    if reason:
        pytest.skip(reason)
    out, port = tmp_path_factory.mktemp("multihost"), str(_free_port())
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env.pop("XLA_FLAGS", None)  # one CPU device per process
    env["PYTHONPATH"] = str(HERE.parent / "src") + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, str(HERE / "multihost_worker.py")]
    procs = [
        subprocess.Popen([*cmd, str(i), port, str(out)], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for i in range(2)
    ]  # fmt: skip
    results, here = [], {}
    try:
        for case in worker.CASES:  # meanwhile, here: one process, one device
            here[case] = worker.run_case(case, None)
        for p in procs:
            stdout, stderr = p.communicate(timeout=120)
            results.append((p.returncode, stdout + stderr))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    for i, (code, text) in enumerate(results):
        assert code == 0, f"process {i} failed:\n{text[-3000:]}"
    saved = [np.load(out / f"process{i}.npz") for i in range(2)]
    return saved, [text for _, text in results], here


def test_two_processes_form_one_mesh(two_processes):
    saved, _, _ = two_processes
    for s in saved:
        assert int(s["process_count"]) == 2 and int(s["devices"]) == 2


@pytest.mark.parametrize("case", list(worker.CASES))
def test_two_processes_equal_one(two_processes, case):
    saved, _, here = two_processes
    loss1, w1 = here[case]
    np.testing.assert_array_equal(saved[0][f"{case}/w"], saved[1][f"{case}/w"])
    for s in saved:
        loss2, w2 = s[f"{case}/loss"], s[f"{case}/w"]
        assert loss2.shape == loss1.shape
        assert np.max(np.abs(loss2 - loss1) / np.abs(loss1)) <= 1e-12
        assert np.max(np.abs(w2 - w1) / np.maximum(np.abs(w1), 1e-3)) <= 1e-12


def test_only_process_0_prints_and_warns(two_processes):
    _, (first, second), _ = two_processes
    assert "every training target is the same" in first and "epoch 2:" in first
    assert "every training target is the same" not in second and "epoch" not in second
