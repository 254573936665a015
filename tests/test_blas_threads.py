"""BLAS threads per matrix size (issue 13, point 8): small products train on one BLAS thread."""

from __future__ import annotations

import numpy as np
import pytest

import mlplab as ml
from mlplab.backend.threads import SINGLE_THREAD_MACS, blas_threads_for

threadpoolctl = pytest.importorskip("threadpoolctl")


def _blas_threads() -> list[int]:
    return [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]


def _threads_seen_by_fit(net, X, y, batch_size):
    seen = []
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):  # as if BLAS had 2
        before = _blas_threads()
        ml.fit(net, X, y, epochs=1, batch_size=batch_size, verbose=0,
               callbacks=[lambda e, logs, m: seen.extend(_blas_threads())])  # fmt: skip
        after = _blas_threads()
    return before, seen, after


def test_small_layers_train_on_one_blas_thread(monkeypatch):
    monkeypatch.delenv("MLPLAB_BLAS_THREADS", raising=False)
    if not _blas_threads():
        pytest.skip("NumPy's BLAS is not visible to threadpoolctl")
    X = np.random.default_rng(0).normal(size=(64, 30))
    y = (X[:, 0] > 0).astype(int)
    before, seen, after = _threads_seen_by_fit(ml.MLP(30, [100], 1, seed=0), X, y, 32)
    assert set(before) == {2} and set(seen) == {1} and after == before  # restored afterwards


def test_large_products_keep_blas_threads(monkeypatch):
    monkeypatch.delenv("MLPLAB_BLAS_THREADS", raising=False)
    assert blas_threads_for([30, 100, 1], 200) == 1
    assert blas_threads_for([512, 512, 10], 256) is None  # 67 M multiply-adds
    assert 256 * 512 * 512 > SINGLE_THREAD_MACS
    monkeypatch.setenv("MLPLAB_BLAS_THREADS", "3")
    assert blas_threads_for([2, 2, 1], 4) == 3


def test_small_layers_train_on_one_torch_thread_on_the_cpu(monkeypatch):
    """PyTorch's own threads follow the same rule on the CPU, and come back afterwards."""
    torch = pytest.importorskip("torch")
    monkeypatch.delenv("MLPLAB_BLAS_THREADS", raising=False)
    X = np.random.default_rng(0).normal(size=(200, 30)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        # 32 x 30 x 100 multiply-adds: one thread; 128 x 30 x 4096 = 15.7 M: PyTorch's two
        for hidden, batch, expected in (([100], 32, {1}), ([4096], 128, {2})):
            seen: list[int] = []
            net = ml.MLP(30, hidden, 1, seed=0, backend="torch", device="cpu")
            record = seen.append
            ml.fit(net, X, y, epochs=1, batch_size=batch, verbose=0,
                   callbacks=[lambda e, logs, m, r=record: r(torch.get_num_threads())])  # fmt: skip
            assert set(seen) == expected
            assert torch.get_num_threads() == 2  # restored
    finally:
        torch.set_num_threads(before)


def test_threads_left_alone_on_jax_and_on_a_gpu(monkeypatch):
    """Only NumPy and PyTorch on the CPU get the one-thread rule."""
    from types import SimpleNamespace

    from mlplab.train.loop import _threads

    monkeypatch.delenv("MLPLAB_BLAS_THREADS", raising=False)
    data, opts = SimpleNamespace(n=100), SimpleNamespace(batch_size=32)

    def model(name, device_type="cpu"):
        backend = SimpleNamespace(name=name, torch_device=SimpleNamespace(type=device_type))
        return SimpleNamespace(backend=backend, sizes=[30, 100, 1])

    assert _threads(model("numpy"), data, opts) == (1, False)
    assert _threads(model("torch"), data, opts) == (1, True)
    assert _threads(model("torch", "cuda"), data, opts) == (None, False)
    assert _threads(model("jax"), data, opts) == (None, False)
