"""CLI habits (issue 13, point 7): --help lists every choice, a mistyped subcommand, choice or
flag gets "did you mean", `mlplab info` is fast (imports no framework)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mlplab.cli.main import build_parser, main
from mlplab.config import ACTIVATION_NAMES, LOSS_NAMES, OPTIMIZER_NAMES, SCHEDULE_NAMES


def _help(command: str) -> str:
    sub = next(a for a in build_parser()._actions if hasattr(a, "choices") and a.choices)
    return " ".join(sub.choices[command].format_help().split())  # unwrapped


def test_train_help_lists_every_choice():
    text = _help("train")
    for names in (ACTIVATION_NAMES, LOSS_NAMES, OPTIMIZER_NAMES, SCHEDULE_NAMES):
        assert "one of " + ", ".join(names) in text
    assert "one of numpy, torch, jax" in text and "one of float32, float64" in text


@pytest.mark.parametrize(
    "argv, hint",
    [
        (["trian", "moons"], "did you mean 'train'?"),
        (["train", "moons", "--activation", "rleu"], "Did you mean 'relu'?"),
        (["train", "moons", "--optimizer", "adm"], "Did you mean 'adam'?"),
        (["train", "moons", "--optimzer", "adam"], "did you mean --optimizer?"),
        (["export", "m.safetensors", "--format", "onx"], "did you mean 'onnx'?"),
    ],
)
def test_typos_get_did_you_mean(argv, hint, capsys):
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own errors (subcommands, flags)
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("mlplab: error:") and hint in err


def test_info_imports_no_framework_and_is_fast():
    code = (
        "import resource, sys, time\n"
        "t = time.process_time()\n"
        "from mlplab.cli.main import main\n"
        "main(['info'])\n"
        "assert 'torch' not in sys.modules and 'jax' not in sys.modules, 'framework imported'\n"
        "print('cpu', time.process_time() - t)\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    cpu = float(res.stdout.split("cpu ")[-1])
    # CPU time, not wall time: the machine may be shared; under a second either way on an idle one
    assert cpu < 1.0, f"mlplab info took {cpu:.2f} s of CPU"
    assert "mlplab info --devices" in res.stdout
