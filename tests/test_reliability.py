"""Issue 14, "reliability, second round": each numbered item of the issue, reproduced.

Every test here failed before its fix. Items 1-5: files are only ever written
where the user named them, and a finished run is never lost to Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from filebytes import join, split

from mlplab.cli import _interrupt
from mlplab.cli.main import main
from mlplab.files.atomic import FileWriteError, atomic_write_text, remove_stale_temporaries
from mlplab.files.checkpoint import load_checkpoint
from mlplab.files.model import load_model

MLPLAB = [sys.executable, "-c", "import sys; from mlplab.cli.main import main; sys.exit(main())"]
XOR = ["train", "xor", "--hidden", "4", "--epochs", "3", "--verbose", "0", "--no-plots"]
is_root = hasattr(os, "geteuid") and os.geteuid() == 0


def run_main(capsys, *argv):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def one_line_error(rc, err, *needles):
    assert rc == 2, err
    assert err.startswith("mlplab: error: ") and err.count("\n") == 1, err
    for needle in needles:
        assert needle in err, err


@pytest.fixture
def checkpoint(tmp_path, monkeypatch, capsys):
    """A checkpoint of `mlplab train xor` stopped after its first step, in tmp_path/run."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "run").mkdir()
    with monkeypatch.context() as m:
        m.setattr(_interrupt.StopSignals, "requested", lambda self: True)
        m.setattr(_interrupt.StopSignals, "exit_status", 130)
        m.setattr(_interrupt.StopSignals, "name", "Ctrl-C")
        rc, out, err = run_main(capsys, *XOR, "--out", "run/m.safetensors")
    assert rc == 130, err
    return tmp_path / "run" / "m.ckpt.safetensors"


def rewrite_meta(path: Path, change) -> None:
    header, body = split(path.read_bytes())
    meta = json.loads(header["__metadata__"]["mlplab"])
    change(meta)
    header["__metadata__"]["mlplab"] = json.dumps(meta)
    path.write_bytes(join(header, body))


# --- 1. a device, FIFO or socket is never replaced by a file ------------------------------


@pytest.mark.skipif(not is_root, reason="mknod needs root")
def test_out_on_a_character_device_writes_into_it(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.mknod("nul", stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a second /dev/null
    rc, out, err = run_main(capsys, *XOR, "--out", "nul")
    assert rc == 0, err
    assert stat.S_ISCHR(os.stat("nul").st_mode)  # still the device, not a regular file
    rc, out, err = run_main(capsys, *XOR, "--out", "m.safetensors")
    rc, out, err = run_main(capsys, "predict", "m.safetensors", "xor", "--out", "nul")
    assert rc == 0, err
    assert stat.S_ISCHR(os.stat("nul").st_mode)
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX FIFOs")
def test_a_fifo_is_written_through_not_replaced(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()))
    reader.start()
    atomic_write_text(fifo, "hello\n")
    reader.join(10)
    assert got == ["hello\n"]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_a_socket_or_symlink_loop_is_refused(tmp_path):
    sock_path = tmp_path / "s"
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(sock_path))
        with pytest.raises(FileWriteError, match="it is a socket"):
            atomic_write_text(sock_path, "x")
    assert stat.S_ISSOCK(os.stat(sock_path).st_mode)
    os.symlink(tmp_path / "b", tmp_path / "a")
    os.symlink(tmp_path / "a", tmp_path / "b")
    with pytest.raises(FileWriteError, match="cannot write"):
        atomic_write_text(tmp_path / "a", "x")


def test_out_on_a_symlink_loop_is_a_clear_error(tmp_path, capsys, monkeypatch):  # item 10
    monkeypatch.chdir(tmp_path)
    os.symlink("b", "a")
    os.symlink("a", "b")
    rc, out, err = run_main(capsys, *XOR, "--out", "a")
    one_line_error(rc, err, "cannot write 'a'")


# --- 2. a checkpoint never names where files go -----------------------------------------


def test_resume_ignores_the_paths_stored_in_a_checkpoint(checkpoint, tmp_path, capsys):
    victim = tmp_path / "elsewhere" / "victim.safetensors"
    victim.parent.mkdir()
    victim.write_bytes(b"precious")

    def aim(meta):
        meta["extra"]["outputs"] = {
            "out": str(victim),
            "out_dir": str(victim.parent / "new"),
            "checkpoint": str(victim),
        }

    rewrite_meta(checkpoint, aim)
    rc, out, err = run_main(capsys, "train", "--resume", checkpoint)
    assert rc == 0, err
    assert victim.read_bytes() == b"precious"
    assert not (victim.parent / "new").exists()
    assert sorted(p.name for p in victim.parent.iterdir()) == ["victim.safetensors"]
    # written beside the checkpoint, under the stored file name only; the stored path is shown
    load_model(checkpoint.parent / "victim.safetensors")
    assert (checkpoint.parent / "victim_metrics.json").is_file()
    assert f"the checkpoint records the output {str(victim)!r}" in out


def test_resume_outputs_follow_the_command_line(checkpoint, tmp_path, capsys):
    rc, out, err = run_main(capsys, "train", "--resume", checkpoint, "--out", "here.safetensors")
    assert rc == 0, err
    load_model(tmp_path / "here.safetensors")
    assert (tmp_path / "here_metrics.json").is_file()


# --- 3. --checkpoint never replaces a model, --out and --checkpoint differ ---------------


def test_checkpoint_path_that_is_a_model_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rc, out, err = run_main(capsys, *XOR, "--out", "other.safetensors")
    assert rc == 0, err
    before = Path("other.safetensors").read_bytes()
    rc, out, err = run_main(
        capsys, *XOR, "--out", "m.safetensors", "--checkpoint", "other.safetensors"
    )
    one_line_error(rc, err, "--checkpoint 'other.safetensors' exists and is an mlplab model file")
    assert Path("other.safetensors").read_bytes() == before
    Path("notes.txt").write_text("mine")
    rc, out, err = run_main(capsys, *XOR, "--checkpoint", "notes.txt")
    one_line_error(rc, err, "is not an mlplab checkpoint")


def test_out_and_checkpoint_naming_the_same_file_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rc, out, err = run_main(capsys, *XOR, "--out", "x.safetensors", "--checkpoint", "x.safetensors")
    one_line_error(rc, err, "--out and --checkpoint would both be written to 'x.safetensors'")
    assert list(tmp_path.iterdir()) == []


# --- 4. Ctrl-C / SIGTERM: a finished run is saved, a running one checkpointed -------------


@pytest.mark.parametrize("when", ["model", "metrics"])
def test_ctrl_c_during_the_final_save_lets_it_finish(tmp_path, capsys, monkeypatch, when):
    import mlplab.files as files

    monkeypatch.chdir(tmp_path)
    real = {"model": files.save_model, "metrics": files.atomic_write_text}[when]

    def interrupted(*a, **kw):
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C arrives as the file is being written
        return real(*a, **kw)

    monkeypatch.setattr(
        files, {"model": "save_model", "metrics": "atomic_write_text"}[when], interrupted
    )
    rc, out, err = run_main(capsys, *XOR, "--out", "m.safetensors")
    assert rc == 130, err
    assert "training has finished; saving the results first" in err
    assert "every file above was written in full" in err
    load_model("m.safetensors")
    assert json.loads(Path("m_metrics.json").read_text())["metrics"]
    assert not Path("m.ckpt.safetensors").exists()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_saves_a_checkpoint_like_ctrl_c(tmp_path):
    run = ["train", "moons", "--n-samples", "100", "--hidden", "16", "--batch-size", "4"]
    run += ["--epochs", "40", "--no-plots", "--verbose", "2", "--out", "m.safetensors"]
    proc = subprocess.Popen(
        [*MLPLAB, *run], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    for line in proc.stderr:
        if line.startswith("epoch 3:"):
            proc.send_signal(signal.SIGTERM)
            break
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert "SIGTERM: stopping after the current step" in err
    assert "interrupted (SIGTERM)" in out
    _, state, _, _ = load_checkpoint(tmp_path / "m.ckpt.safetensors")
    assert state.epoch >= 3


# --- 5. temporaries of killed writers and finished checkpoints are cleaned up ------------


def test_stale_temporaries_of_dead_writers_are_removed(tmp_path):
    target = tmp_path / "m.safetensors"
    dead = tmp_path / ".m.safetensors.99999999-0123456789ab.tmp"  # no such PID
    alive = tmp_path / f".m.safetensors.{os.getppid()}-0123456789ab.tmp"  # a running writer
    other = tmp_path / ".x.safetensors.99999999-0123456789ab.tmp"  # another target's
    mine = tmp_path / ".m.safetensors.tmp"  # not our naming pattern
    for p in (dead, alive, other, mine):
        p.write_bytes(b"partial")
    atomic_write_text(target, "new")
    assert not dead.exists()
    assert alive.exists() and other.exists() and mine.exists()
    assert remove_stale_temporaries(tmp_path / "x.safetensors") == [other]


def test_a_finished_resume_removes_its_checkpoint(checkpoint, capsys):
    rc, out, err = run_main(capsys, "train", "--resume", checkpoint)
    assert rc == 0, err
    assert not checkpoint.exists()
    assert f"removed checkpoint {checkpoint}: the run it continued has finished" in out


# --- 11. crafted checkpoint fields are clear errors --------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: m["extra"]["outputs"].update(out=5), "`outputs.out` must be a path string"),
        (lambda m: m["extra"].update(outputs=[1]), "`outputs` must be a JSON object"),
        (lambda m: m["extra"]["history"].update(train_loss="x"), "`history.train_loss` must list"),
        (lambda m: m["extra"].update(fingerprint=7), "`fingerprint` must be a string"),
        (lambda m: m["train_state"].update(epoch=999999), "at epoch 999999 but the run has 3"),
        (lambda m: m["train_state"].update(epoch=3, batch_in_epoch=0), "nothing to resume"),
    ],
)
def test_crafted_checkpoint_fields(checkpoint, capsys, change, message):
    rewrite_meta(checkpoint, change)
    rc, out, err = run_main(capsys, "train", "--resume", checkpoint)
    one_line_error(rc, err, message)
    assert not (checkpoint.parent / "m.safetensors").exists()


def test_checkpoint_fixture_sanity(checkpoint):
    _, state, config, extra = load_checkpoint(checkpoint)
    assert state.step == 1 and config["epochs"] == 3
    assert np.isfinite(extra["history"]["n_steps"])
