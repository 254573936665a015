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


# --- 6. a loss that explodes but stays finite is divergence -----------------------------


def test_finite_divergence_is_caught_by_fit():
    import mlplab as ml
    from mlplab.train.guard import DIVERGENCE_FACTOR

    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([0, 1, 1, 0])
    net = ml.MLP(2, [8], 1, seed=0)
    with np.errstate(all="ignore"), pytest.raises(ml.TrainingDiverged) as exc:
        ml.fit(net, X, y, optimizer="sgd", lr=1e30, epochs=50, verbose=0)
    assert np.isfinite(exc.value.last_finite_loss)
    assert f"more than {DIVERGENCE_FACTOR:g} times where it started" in str(exc.value)
    assert all(np.abs(W).max() < 1e6 for _, W in net.numpy_params())  # not the 5e29 weights


def test_finite_divergence_in_the_cli_exits_non_zero(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rc, out, err = run_main(
        capsys,
        "train",
        "moons",
        "--optimizer",
        "sgd",
        "--lr",
        "1e3",
        "--verbose",
        "0",
        "--no-plots",
    )
    one_line_error(rc, err, "training diverged at step", "more than 1000 times where it started")
    _, meta = load_model("model.safetensors")
    assert "diverged" in meta


def test_a_healthy_run_is_not_flagged():
    import mlplab as ml

    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    h = ml.fit(ml.MLP(2, [16], 1, seed=0), X, y, optimizer="sgd", lr=1.0, epochs=30, verbose=0)
    assert h.train_loss[-1] < h.train_loss[0]


# --- 7. one-hot encoding is sized before it is built --------------------------------------


def test_one_hot_too_large_is_refused_with_the_numbers(tmp_path, monkeypatch):
    import mlplab.data.csvfile as csvfile
    from mlplab import DataError

    rows = [f"{i % 7},cat{i % 1000},{i % 2}" for i in range(3000)]
    path = tmp_path / "wide.csv"
    path.write_text("a,code,label\n" + "\n".join(rows) + "\n")
    monkeypatch.setattr(csvfile, "MAX_ENCODED_BYTES", 2**20)  # 1 MiB: 3000 x 1001 x 8 is 23 MiB
    with pytest.raises(DataError) as exc:
        csvfile.load_csv(path, "label", one_hot=True)
    text = str(exc.value)
    assert "3,000 × 1,001 matrix (22.9 MiB), more than the 1.0 MiB limit" in text
    assert "column 'code' alone has 1,000 categories" in text and "hash" in text
    monkeypatch.setattr(csvfile, "MAX_ENCODED_BYTES", 2**30)
    ds = csvfile.load_csv(path, "label", one_hot=True)
    assert ds.X.shape == (3000, 1001) and ds.X[:, 1:].sum() == 3000


# --- 8. generated sizes are checked before generating -------------------------------------


def test_huge_n_samples_is_refused_at_once(tmp_path, capsys, monkeypatch):
    import time

    monkeypatch.chdir(tmp_path)
    t0 = time.perf_counter()
    rc, out, err = run_main(capsys, "train", "moons", "--n-samples", "1000000000")
    assert time.perf_counter() - t0 < 5
    one_line_error(rc, err, "`--n-samples` = 1,000,000,000 rows of 'moons' need about")


# --- 9. a model file's sizes are checked before its tensors are read ----------------------


def test_metadata_is_checked_before_tensors_are_read(tmp_path, capsys, monkeypatch):
    import mlplab.files.model as mio
    from mlplab import MLP, ModelFileError

    path = tmp_path / "big.safetensors"
    mio.save_model(path, MLP(1, [1000], 1000, seed=0))  # no preprocessing metadata: 8 MB
    reads = []
    real_read = mio.read_file
    monkeypatch.setattr(mio, "read_file", lambda *a: reads.append(a) or real_read(*a))
    rc, out, err = run_main(capsys, "predict", path, "xor")
    one_line_error(rc, err, "has no preprocessing metadata")
    assert reads == []  # refused from the header alone
    with open(path, "ab") as f:  # declared sizes vs the file: a tail nobody declared
        f.truncate(path.stat().st_size + 10**9)  # a 1 GB sparse file
    with pytest.raises(ModelFileError, match="1000000000 unexplained bytes"):
        mio.load_model(path)


# --- 10. internal errors that are now clear ones -------------------------------------------


def test_unreadable_csv_is_a_clear_error(tmp_path, capsys, monkeypatch):
    import builtins

    import mlplab.data.csvfile as csvfile

    path = tmp_path / "locked.csv"
    path.write_text("a,b\n1,0\n2,1\n")

    def no_permission(file, *a, **kw):
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied", str(file))
        return builtins.open(file, *a, **kw)

    monkeypatch.setattr(csvfile, "open", no_permission, raising=False)  # as chmod 000, non-root
    rc, out, err = run_main(capsys, "train", path, "--target", "b", "--out-dir", tmp_path)
    one_line_error(rc, err, f"cannot read CSV file '{path}': Permission denied.")


@pytest.mark.parametrize("data", ["moons", "circles", "blobs"])
def test_seed_beyond_32_bits_is_a_clear_error(tmp_path, capsys, data):
    rc, out, err = run_main(capsys, "train", data, "--seed", 2**32, "--out-dir", tmp_path)
    one_line_error(rc, err, "`--seed` must be <= 4294967295; got 4294967296.")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_stdout_on_a_full_disk_is_a_clear_error(tmp_path):
    subprocess.run([*MLPLAB, *XOR, "--out", "m.safetensors"], cwd=tmp_path, check=True)
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [*MLPLAB, "predict", "m.safetensors", "xor"],
            cwd=tmp_path,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
        )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == (
        "mlplab: error: cannot write or read the standard output: No space left on device.\n"
    )


def test_gradcheck_negative_batch(capsys):
    rc, out, err = run_main(capsys, "gradcheck", "--batch", "-4")
    one_line_error(rc, err, "`batch` must be >= 1; got -4.")


def test_ascii_terminal_never_crashes_on_non_ascii(tmp_path):
    path = tmp_path / "café.csv"
    path.write_text("a,étiquette\n1,chat\n2,chien\n3,chat\n4,chien\n", encoding="utf-8")
    proc = subprocess.run(
        [*MLPLAB, "train", path.name, "--target", "étiquette", "--epochs", "2", "--no-plots"],
        cwd=tmp_path,
        capture_output=True,
        env={**os.environ, "PYTHONIOENCODING": "ascii"},
    )
    assert proc.returncode == 0, proc.stderr
    assert b"caf\\xe9" in proc.stdout and b"Traceback" not in proc.stderr


def test_disk_full_while_writing_figures_says_the_model_is_saved(tmp_path, capsys, monkeypatch):
    import mlplab.plots as plots

    monkeypatch.chdir(tmp_path)

    def full(fig, path):
        raise FileWriteError(f"cannot write {str(path)!r}: No space left on device.")

    monkeypatch.setattr(plots, "_save", full)
    rc, out, err = run_main(capsys, "train", "xor", "--epochs", "2", "--verbose", "0")
    one_line_error(rc, err, "model.safetensors, model_metrics.json were saved, but a figure")
    assert "model_loss.png': No space left on device" in err
    load_model("model.safetensors")


# --- 12. messages that misled -------------------------------------------------------------


def test_text_column_message_shows_the_offending_value(tmp_path):
    from mlplab import DataError
    from mlplab.data import load_csv

    path = tmp_path / "t.csv"
    path.write_text("a,label\n0.1257,0\n0.5,1\nabc,0\n0.25,1\n")
    with pytest.raises(DataError, match=r"non-numeric feature column: 'a' \('abc' at line 4\)"):
        load_csv(path, "label")


def test_overflowing_target_is_named_as_the_target(tmp_path):
    from mlplab import DataError
    from mlplab.config import TrainConfig
    from mlplab.pipeline import TrainingData

    path = tmp_path / "o.csv"
    path.write_text("a,y\n1,1e300\n2,-1e300\n3,1e300\n4,5\n")
    with pytest.raises(DataError, match=r"column\(s\) \['y'\] of the target are too large"):
        TrainingData(TrainConfig(data=str(path), target="y", task="regression"))


def test_usage_errors_are_one_line_and_a_pointer(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["train", "xor", "--no-such-flag"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err == (
        "mlplab: error: unrecognized arguments: --no-such-flag\nsee `mlplab train --help`\n"
    )


# --- 13. the Python API -------------------------------------------------------------------


def test_api_checks():
    import warnings

    import mlplab as ml
    from mlplab.data import load_csv

    with pytest.raises(ml.ConfigError, match="`model` must be an mlplab MLP"):
        ml.fit(None, np.zeros((4, 2)), np.zeros(4))
    with pytest.raises(ml.ConfigError, match="`path` must be a CSV file path"):
        load_csv(None, "y")
    net = ml.MLP(2, [3], 3, seed=0)
    with pytest.raises(ml.DataError, match=r"NaN or infinite values in 1 row\(s\) \(1\)"):
        net.predict_class(np.array([[0.0, 1.0], [np.nan, 1.0]]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ml.fit(ml.MLP(1, [3], 1), np.arange(6.0)[:, None], np.ones(6), epochs=1, verbose=0)
    assert any("every training target is the same value" in str(w.message) for w in caught)


# --- 14. classes that do not fit the output layer -----------------------------------------


@pytest.mark.parametrize(
    ("classes", "message"),
    [
        ([0, 1, 2, 3, 4], "it names 5 classes but its network has 1 output"),
        (["0", 0], "its class names repeat ('0' more than once)"),
    ],
)
def test_classes_are_checked_against_the_output_layer(
    tmp_path, capsys, monkeypatch, classes, message
):
    monkeypatch.chdir(tmp_path)
    rc, out, err = run_main(capsys, *XOR, "--out", "m.safetensors")
    assert rc == 0, err

    def craft(meta):
        meta["extra"]["classes"] = classes
        meta["extra"]["preprocessor"]["classes"] = classes

    rewrite_meta(tmp_path / "m.safetensors", craft)
    rc, out, err = run_main(capsys, "predict", "m.safetensors", "xor", "--out", "p.csv")
    one_line_error(rc, err, message)
    assert not Path("p.csv").exists()


# --- 15. judgement calls --------------------------------------------------------------------


def test_a_target_mixing_numbers_and_text_warns(tmp_path):
    from mlplab.data import load_csv

    path = tmp_path / "m.csv"
    path.write_text("a,y\n1,0\n2,1\n3,cat\n4,0\n5,1\n")
    with pytest.warns(UserWarning, match=r"mixes numbers \('0', '1'\) and text \('cat'\)"):
        ds = load_csv(path, "y")
    assert ds.classes == ["0", "1", "cat"]


def test_arabic_indic_digits_are_text(tmp_path):
    from mlplab import DataError
    from mlplab.data import load_csv

    path = tmp_path / "d.csv"
    path.write_text("a,y\n\u0661,0\n\u0662,1\n\u0663,0\n", encoding="utf-8")
    with pytest.raises(DataError, match="ASCII digits 0-9"):
        load_csv(path, "y")


def test_empty_hidden_is_refused(capsys):
    with pytest.raises(SystemExit):
        main(["train", "xor", "--hidden", ""])
    assert "pass widths such as 64,64, or 'none'" in capsys.readouterr().err


# --- one atomic writer (issue 10's restructure, checked here) ------------------------------


def test_every_file_is_written_through_the_one_atomic_writer():
    src = Path(__file__).resolve().parents[1] / "src" / "mlplab"
    own = []
    for path in src.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if path.name != "atomic.py" and any(k in text for k in ("os.replace(", "mkstemp(")):
            own.append(str(path.relative_to(src)))
    assert own == [], f"modules with their own rename-into-place writer: {own}"
