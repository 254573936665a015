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
