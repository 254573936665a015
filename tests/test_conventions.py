"""The conventions users already know (issue 13, point 5): Keras' History.history, fit /
evaluate / predict methods, callback objects; PyTorch's net.to(device) and net.parameters();
scikit-learn's train_test_split arguments."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import require_backend

import mlplab as ml
from mlplab.errors import ConfigError


def _data(n=80, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    return X, (X[:, 0] + X[:, 1] > 0).astype(int)


def test_history_history_is_keras_dict():
    X, y = _data()
    net = ml.MLP(2, [8], 1, seed=0)
    history = net.fit(X, y, epochs=3, validation_split=0.25, train_metrics=True, verbose=0)
    h = history.history
    assert set(h) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(h["loss"]) == 3 and h["val_loss"] == history.val_loss
    assert set(net.fit(X, y, epochs=1, verbose=0).history) == {"loss"}


def test_fit_evaluate_predict_methods():
    X, y = _data()
    net = ml.MLP(2, [8], 1, seed=0)
    net.fit(X, y, epochs=20, lr=0.05, verbose=0)
    result = net.evaluate(X, y)
    assert set(result) == {"loss", "accuracy"} and result["accuracy"] > 0.8
    assert net.predict(X).shape == (80, 1)
    reg = ml.MLP(2, [8], 1, seed=0)
    reg.fit(X, X[:, 0], epochs=5, verbose=0)
    assert set(reg.evaluate(X, X[:, 0])) == {"loss", "r2"}


def test_callback_objects_with_on_epoch_end():
    class Recorder:
        def __init__(self):
            self.seen = []

        def on_epoch_end(self, epoch, logs=None):
            self.seen.append((epoch, sorted(logs)))
            return epoch == 2  # True stops training

    X, y = _data()
    cb = Recorder()
    net = ml.MLP(2, [4], 1, seed=0)
    history = ml.fit(net, X, y, epochs=10, callbacks=[cb, lambda e, logs, m: None], verbose=0)
    assert [e for e, _ in cb.seen] == [1, 2] and history.epoch[-1] == 2
    assert cb.model is net and "loss" in cb.seen[0][1]
    with pytest.raises(ConfigError, match="on_epoch_end"):
        ml.fit(net, X, y, epochs=1, callbacks=[object()], verbose=0)


def test_to_moves_devices_like_pytorch_and_parameters():
    net = ml.MLP(2, [3], 1, seed=0)
    params = list(net.parameters())
    assert [p.shape for p in params] == [(3, 2), (3,), (1, 3), (1,)]
    assert net.to("cpu").backend.name == "numpy"
    require_backend("torch")
    import torch

    moved = net.to(device="cpu", backend="torch")
    assert moved.backend.name == "torch" and moved.backend.torch_device.type == "cpu"
    assert net.to(torch.device("cpu")).backend.name == "torch"  # NumPy → a framework device
    assert net.to("torch", "float64").backend.dtype == "float64"  # the old positional form
    if torch.cuda.is_available():
        assert net.to("cuda").backend.torch_device.type == "cuda"
    else:
        with pytest.raises(ConfigError, match="no CUDA GPU"):
            net.to("cuda")


def test_train_test_split_takes_sklearns_arguments():
    X, y = _data(100)
    a = ml.train_test_split(X, y, test_size=0.2, random_state=3, stratify=y)
    b = ml.train_test_split(X, y, test_size=0.2, seed=3, stratify=y)
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)
    assert len(a[1]) == 20
    with pytest.raises(ConfigError, match="not both"):
        ml.train_test_split(X, y, seed=1, random_state=2)
