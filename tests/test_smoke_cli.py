"""The command's entry point: help, version, one-line errors."""

import subprocess
import sys


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "mlplab.cli.main", *args], capture_output=True, text=True
    )


def test_help_lists_commands():
    res = run("--help")
    assert res.returncode == 0
    assert "tour" in res.stdout


def test_bad_choice_is_one_line_error():
    res = run("tour", "--backend", "nope")
    assert res.returncode == 2
    assert "mlplab: error:" in res.stderr
    assert "Traceback" not in res.stderr
