"""JAX data parallel: fit(devices=2) over a 2-device mesh equals one device.

The CPU is split into 2 XLA devices in a fresh Python
(XLA_FLAGS=--xla_force_host_platform_device_count=2) running
tests/sharding_worker.py; float64 must agree to 1e-12 relative, float32 to 1e-5,
and the compiled step must split both the batch and the optimizer's update.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("jax")

from mlplab import MLP, fit  # noqa: E402
from mlplab.errors import ConfigError  # noqa: E402

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def two_devices():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2")
    env["PYTHONPATH"] = str(HERE.parent / "src") + os.pathsep + env.get("PYTHONPATH", "")
    done = subprocess.run(
        [sys.executable, str(HERE / "sharding_worker.py")],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "case",
    [
        "float64_minibatch_weights_val",
        "float64_full_batch",
        "float32_minibatch",
        "float64_batch_3",
        "float64_odd_width",
    ],  # fmt: skip
)
def test_two_devices_equal_one(two_devices, case):
    result = two_devices[case]
    tol = 1e-5 if case.startswith("float32") else 1e-12
    assert result["n_losses"][0] == result["n_losses"][1]
    assert result["loss_rel"] <= tol
    assert result["w_rel"] <= tol  # relative to max(|w|, 1e-3)
    assert result["params_on"] == ["cpu:0"]  # the model comes back to one device


def test_the_batch_and_the_update_are_split_over_the_devices(two_devices):
    assert two_devices["mesh_runners"] >= 1
    assert two_devices["all-reduce"]  # the weight and the loss of the global batch
    assert two_devices["reduce-scatter"]  # each device: the summed gradients of its rows
    assert two_devices["all-gather"]  # the updated rows, assembled on every device


def test_devices_errors_are_clear():
    X, y = np.zeros((8, 2)), np.zeros(8, dtype=int)
    with pytest.raises(ConfigError, match="xla_force_host_platform_device_count"):
        fit(MLP(2, (3,), 1, backend="jax"), X, y, epochs=1, devices=4096, verbose=0)
    with pytest.raises(ConfigError, match="torchrun"):
        fit(MLP(2, (3,), 1), X, y, epochs=1, devices=2, verbose=0)
    with pytest.raises(ConfigError, match="positive integer or 'all'"):
        fit(MLP(2, (3,), 1, backend="jax"), X, y, epochs=1, devices="two", verbose=0)


def test_cli_devices_and_device_errors_are_one_line(capsys):
    from mlplab.cli.main import main

    assert main(["train", "moons", "--devices", "2", "--epochs", "1", "--no-plots"]) != 0
    assert "torchrun" in capsys.readouterr().err
    assert main(["train", "moons", "--backend", "numpy", "--device", "cuda"]) != 0
    assert "NumPy runs on the CPU only" in capsys.readouterr().err
