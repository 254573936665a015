"""The steady heap (mlplab.backend.heap): a training's later steps do not page-fault,
and the numbers trained are the same with it and without it."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import mlplab as ml
from mlplab.backend import heap

glibc_only = pytest.mark.skipif(
    not sys.platform.startswith("linux") or heap.glibc() is None, reason="needs glibc's malloc"
)


def _data(n=1024, d=256, k=10, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)).astype(np.float32), rng.integers(0, k, n)


# A fresh process: what glibc does with freed memory depends on the heap's history, and
# this one (the benchmark's Scaling-256 data, then a fit) re-faulted every step without it.
FIT = """
import resource, sys
import numpy as np
import mlplab as ml
rng = np.random.default_rng(0)
X = rng.standard_normal((2048, 256), dtype=np.float32)
y = np.argmax(X @ rng.standard_normal((256, 10), dtype=np.float32), axis=1)
model = ml.MLP(256, [256], 10, seed=0)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
ml.fit(model, X, y, batch_size=256, steps=int(sys.argv[1]), verbose=0)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults_of_fit(steps: int) -> int:
    env = {**os.environ, "MLPLAB_BLAS_THREADS": "2", "OPENBLAS_NUM_THREADS": "2"}
    env.pop("MLPLAB_STEADY_HEAP", None)
    out = subprocess.run(
        [sys.executable, "-c", FIT, str(steps)], env=env, capture_output=True, text=True, check=True
    )
    return int(out.stdout.split()[-1])


@glibc_only
def test_later_steps_reuse_the_heap():
    """180 more steps of 256-256-10 at batch 256 cost almost no page faults: each step's
    arrays come from the heap, which is no longer trimmed and regrown step after step."""
    short, long = _faults_of_fit(20), _faults_of_fit(200)
    # without it (MLPLAB_STEADY_HEAP=0): 6,400 and 35,600 here, 180 faults a step
    assert long - short < 1_000, (short, long)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_same_numbers_with_and_without(backend, monkeypatch):
    if backend == "torch":
        pytest.importorskip("torch")
    X, y = _data(n=300, d=16, k=3, seed=1)
    weights = []
    for setting in ("0", "1"):
        monkeypatch.setenv("MLPLAB_STEADY_HEAP", setting)
        model = ml.MLP(16, [64, 32], 3, seed=2, backend=backend)
        ml.fit(model, X, y, epochs=3, batch_size=32, verbose=0)
        weights.append(model.numpy_params())
    for (b0, W0), (b1, W1) in zip(*weights, strict=True):
        np.testing.assert_array_equal(W0, W1)
        np.testing.assert_array_equal(b0, b1)


def test_switched_off_by_the_environment(monkeypatch):
    calls = []

    class FakeLibc:
        def mallopt(self, *args):
            calls.append(("mallopt", *args))

        def malloc_trim(self, *args):
            calls.append(("malloc_trim", *args))

    monkeypatch.setattr(heap, "glibc", lambda: FakeLibc())
    monkeypatch.setenv("MLPLAB_STEADY_HEAP", "0")
    with heap.steady_heap([256, 4096, 10], 256, 4):
        pass
    assert calls == [] and not heap.enabled()
    monkeypatch.setenv("MLPLAB_STEADY_HEAP", "1")
    with heap.steady_heap([256, 4096, 10], 256, 4):
        assert calls == [
            ("mallopt", heap.M_MMAP_THRESHOLD, 32 << 20),
            ("mallopt", heap.M_TRIM_THRESHOLD, int(1.2 * heap.step_bytes([256, 4096, 10], 256, 4))),
        ]
    assert calls[-1] == ("malloc_trim", 0)  # free pages handed back at the end
    calls.clear()
    with heap.steady_heap([2, 8, 1], 4, 8):  # a tiny net: the 4 MiB floor
        assert calls[1] == ("mallopt", heap.M_TRIM_THRESHOLD, 4 << 20)


def test_step_bytes():
    # 256-4096-10 at batch 256, float32: the batch, z/a/blame/delta of each layer, the gradients
    total = heap.step_bytes([256, 4096, 10], 256, 4)
    assert total == 4 * (256 * 256 + 4 * 256 * 4096 + 4096 * 257 + 4 * 256 * 10 + 10 * 4097)


def test_no_glibc_no_change(monkeypatch):
    monkeypatch.setattr(heap, "glibc", lambda: None)
    monkeypatch.delenv("MLPLAB_STEADY_HEAP", raising=False)
    assert not heap.enabled()
    with heap.steady_heap([2, 3, 1], 4, 8):
        pass
