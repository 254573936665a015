"""GPU runs (marker ``gpu``): skipped with a reason on a machine without CUDA / a JAX GPU.

``pytest -m gpu`` runs only these. On a GPU they check that a model placed with
``device=`` trains there (data moved once, parameters stay on the GPU) and gives
the CPU's float64 numbers, through fit, the CLI and the scikit-learn estimator.
"""

from __future__ import annotations

import numpy as np
import pytest

from mlplab import MLP, fit

pytestmark = pytest.mark.gpu


def _torch_cuda() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def _jax_gpu() -> bool:
    try:
        import jax

        return bool(jax.devices("gpu"))
    except (ImportError, RuntimeError):
        return False


needs_cuda = pytest.mark.skipif(not _torch_cuda(), reason="no CUDA GPU for PyTorch here")
needs_jax_gpu = pytest.mark.skipif(not _jax_gpu(), reason="no GPU for JAX here")


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 6))
    return X, (X[:, 0] * X[:, 1] > 0).astype(int)


def _train(backend, device):
    X, y = _data()
    model = MLP(6, (32,), 2, seed=0, backend=backend, dtype="float64", device=device)
    h = fit(model, X, y, epochs=5, batch_size=32, lr=0.01, verbose=0, validation_split=0.2)
    return model, h


@needs_cuda
def test_torch_on_cuda_trains_there_with_the_cpu_numbers():
    gpu, h_gpu = _train("torch", "cuda:0")
    cpu, h_cpu = _train("torch", "cpu")
    assert all(W.device.type == "cuda" for _, W in gpu.params)
    np.testing.assert_allclose(h_gpu.train_loss, h_cpu.train_loss, rtol=1e-10)
    np.testing.assert_allclose(gpu.numpy_params()[0][1], cpu.numpy_params()[0][1], rtol=1e-9)


@needs_jax_gpu
def test_jax_on_gpu_trains_there_with_the_cpu_numbers():
    gpu, h_gpu = _train("jax", "gpu:0")
    cpu, h_cpu = _train("jax", "cpu")
    assert all(d.platform == "gpu" for d in gpu.params[0][1].devices())
    np.testing.assert_allclose(h_gpu.train_loss, h_cpu.train_loss, rtol=1e-10)


@needs_cuda
def test_cli_and_sklearn_take_a_cuda_device(tmp_path):
    from mlplab.cli.main import main
    from mlplab.sklearn import MLPClassifier

    args = ["train", "moons", "--backend", "torch", "--device", "cuda", "--epochs", "3",
            "--out-dir", str(tmp_path), "--no-plots"]  # fmt: skip
    assert main(args) == 0
    X, y = _data()
    clf = MLPClassifier(hidden_layer_sizes=(8,), backend="torch", device="cuda", max_iter=3)
    clf.fit(X, y)
    assert clf.model_.params[0][1].device.type == "cuda"
