"""Training survives Ctrl-C and divergence.

- SIGINT during ``mlplab train`` stops after the current step, saves a
  checkpoint, prints how to resume and exits 130; ``mlplab train --resume``
  then ends with bit-for-bit the weights of an uninterrupted run.
- A diverging run stops with a one-line message (step, last finite loss, a
  smaller learning rate) and saves its last good weights.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import numpy as np
import pytest
from safetensors.numpy import load_file

from mlplab import MLP
from mlplab.cli.main import main
from mlplab.files.checkpoint import load_checkpoint
from mlplab.files.model import load_model

# `python -m mlplab.cli.main` warns (runpy); this is what the `mlplab` script runs
MLPLAB = [sys.executable, "-c", "import sys; from mlplab.cli.main import main; sys.exit(main())"]

# 80 training rows in batches of 4: 20 steps per epoch, 40 epochs. Long enough
# that a SIGINT sent when epoch 3 is logged lands mid-run.
RUN = [
    "train", "moons", "--n-samples", "100", "--hidden", "16", "--batch-size", "4",
    "--epochs", "40", "--validation-split", "0.2", "--test-split", "0", "--no-plots",
]  # fmt: skip


def command(*args):
    return [*MLPLAB, *map(str, args)]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigint_saves_checkpoint_and_resume_gives_identical_weights(tmp_path):
    full = subprocess.run(
        command(*RUN, "--verbose", "0", "--out", "full.safetensors"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert full.returncode == 0, full.stderr

    proc = subprocess.Popen(
        command(*RUN, "--verbose", "2", "--out", "part.safetensors"),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    for line in proc.stderr:  # "epoch 3: train_loss …" once training is well under way
        if line.startswith("epoch 3:"):
            proc.send_signal(signal.SIGINT)
            break
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert "stopping after the current step" in err
    ckpt = tmp_path / "part.ckpt.safetensors"
    assert f"checkpoint saved to {ckpt.name}" in out
    assert f"Resume with: mlplab train --resume {ckpt.name}" in out
    assert not (tmp_path / "part.safetensors").exists()  # no model file from a cut-short run
    _, state, config, extra = load_checkpoint(ckpt)
    assert 3 * 20 <= state.step < 40 * 20  # stopped mid-run, after epoch 3
    assert config["epochs"] == 40 and extra["split_seed"] == 0

    resumed = subprocess.run(
        command("train", "--resume", ckpt.name, "--verbose", "0"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming from step {state.step}" in resumed.stdout
    a = load_file(tmp_path / "full.safetensors")
    b = load_file(tmp_path / "part.safetensors")
    assert sorted(a) == sorted(b)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])  # bitwise: same seed, same steps
    history = json.loads((tmp_path / "part_metrics.json").read_text())["history"]
    assert history["epoch"] == list(range(1, 41))  # the loss curve spans both halves
    reference = json.loads((tmp_path / "full_metrics.json").read_text())["history"]
    # The interrupted epoch's training loss averages only the batches run after the
    # resume (fit does not carry a partial epoch's losses); everything else is identical.
    cut = state.epoch  # index of the epoch that was cut
    h, r = history.pop("train_loss"), reference.pop("train_loss")
    assert h[:cut] + h[cut + 1 :] == r[:cut] + r[cut + 1 :]
    assert history == reference


def test_resume_refuses_changed_settings_and_changed_data(tmp_path, capsys):
    from mlplab.files.checkpoint import save_checkpoint

    # a checkpoint as `mlplab train` writes it, made from a 1-epoch run
    out = tmp_path / "m.safetensors"
    args = ["train", "xor", "--hidden", "3", "--epochs", "2", "--verbose", "0", "--no-plots"]
    assert main([*args, "--out", str(out)]) == 0
    model, meta = load_model(out)
    from mlplab.train import TrainState

    state = TrainState({"m": [(b * 0, W * 0) for b, W in model.params]}, step=1, epoch=1)
    state.opt_state["v"] = state.opt_state["m"]
    ckpt = tmp_path / "c.safetensors"
    extra = {"history": meta["history"], "outputs": {"out": str(out)}, "fingerprint": "x"}
    save_checkpoint(ckpt, model, state, config=meta["config"], extra=extra)
    capsys.readouterr()

    assert main(["train", "--resume", str(ckpt), "--lr", "0.5"]) == 2
    err = capsys.readouterr().err
    assert "--resume continues a run with the settings saved in the checkpoint; drop --lr" in err
    assert main(["train", "--resume", str(ckpt), "--verbose", "0"]) == 2
    err = capsys.readouterr().err
    assert "the training data changed since checkpoint" in err
    assert main(["train", "moons", "--resume", str(ckpt)]) == 2
    assert "was trained on 'xor', not 'moons'" in capsys.readouterr().err


def test_divergence_stops_with_one_line_and_saves_last_good_weights(tmp_path):
    res = subprocess.run(
        command(
            "train", "sine", "--hidden", "8", "--optimizer", "sgd", "--lr", "1e4",
            "--epochs", "20", "--seed", "0", "--out", "div.safetensors", "--no-plots",
            "--verbose", "0",
        ),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr
    msg = lines[0]
    assert msg.startswith("mlplab: error: training diverged at step ")
    assert "last finite loss" in msg and "--lr 1000" in msg and "div.safetensors" in msg
    model, meta = load_model(tmp_path / "div.safetensors")
    step = meta["diverged"]["step"]
    assert f"at step {step}:" in msg
    assert np.isfinite(meta["diverged"]["last_finite_loss"])
    # 200 rows in batches of 32 = 7 steps per epoch; it blew up in epoch 1, so the last
    # good weights are the seeded initial ones
    assert step <= 7
    init = MLP(1, [8], 1, activation="tanh", seed=0)
    for (b, W), (b0, W0) in zip(model.numpy_params(), init.numpy_params(), strict=True):
        np.testing.assert_array_equal(b, b0)
        np.testing.assert_array_equal(W, W0)
    # the file is a usable model
    assert main(["predict", str(tmp_path / "div.safetensors"), "sine"]) == 0
