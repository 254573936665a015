"""Atomic writes: a failure or a kill -9 at any moment leaves the old file or the new one."""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import mlplab.files.model as mio
from mlplab import MLP, ModelFileError
from mlplab.files.atomic import FileWriteError, atomic_write_text, atomic_writer
from mlplab.files.model import atomic_write_bytes, load_model, save_model


def leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_write_and_replace(tmp_path):
    path = tmp_path / "out.txt"
    atomic_write_text(path, "first ü\n")
    assert path.read_text(encoding="utf-8") == "first ü\n"
    atomic_write_bytes(path, b"second")
    assert path.read_bytes() == b"second"
    assert leftovers(tmp_path) == []


def test_streaming_writer(tmp_path):
    path = tmp_path / "table.csv"
    with atomic_writer(path) as f:
        text = io.TextIOWrapper(f, encoding="utf-8", newline="")
        writer = csv.writer(text)
        writer.writerow(["x", "y"])
        writer.writerows([[1, 2], [3, 4]])
        text.flush()
        text.detach()  # leave the binary file to atomic_writer
    assert path.read_bytes() == b"x,y\r\n1,2\r\n3,4\r\n"


def test_error_while_writing_keeps_the_old_file(tmp_path):
    path = tmp_path / "out.bin"
    path.write_bytes(b"old contents")
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_writer(path) as f:
            f.write(b"new, half written")
            raise RuntimeError("boom")
    assert path.read_bytes() == b"old contents"
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_os_failure_keeps_the_old_file(tmp_path, monkeypatch, failing):
    path = tmp_path / "out.bin"
    path.write_bytes(b"old contents")

    def fail(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(mio.os, failing, fail)
    with pytest.raises(FileWriteError, match=r"cannot write '.*out.bin': No space left on device"):
        atomic_write_bytes(path, b"new contents")
    monkeypatch.undo()
    assert path.read_bytes() == b"old contents"
    assert leftovers(tmp_path) == []


def test_bad_targets(tmp_path):
    with pytest.raises(FileWriteError, match=r"the folder '.*no/such' does not exist; create it"):
        atomic_write_text(tmp_path / "no" / "such" / "f.txt", "x")
    with pytest.raises(FileWriteError, match=r"it is a directory; give a file name"):
        atomic_write_text(tmp_path, "x")
    with pytest.raises(FileWriteError, match=r"the folder .* does not exist"):
        save_model(tmp_path / "missing" / "m.safetensors", MLP(2, [2], 1))
    assert leftovers(tmp_path) == []


def test_symlink_target_is_replaced_through_the_link(tmp_path):
    (tmp_path / "real.txt").write_text("old")
    (tmp_path / "link.txt").symlink_to(tmp_path / "real.txt")
    atomic_write_text(tmp_path / "link.txt", "new")
    assert (tmp_path / "link.txt").is_symlink()
    assert (tmp_path / "real.txt").read_text() == "new"


def test_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "new.txt", "x")
        assert (tmp_path / "new.txt").stat().st_mode & 0o777 == 0o644  # 0o666 less the umask
        (tmp_path / "old.txt").write_text("x")
        os.chmod(tmp_path / "old.txt", 0o600)
        atomic_write_text(tmp_path / "old.txt", "y")
        assert (tmp_path / "old.txt").stat().st_mode & 0o777 == 0o600  # kept
    finally:
        os.umask(umask)


# --- kill -9 while rewriting a model file, over and over ---------------------

# A writer process that forks children; each child rewrites the model file in a
# loop, alternating between two models, until the test kills it with SIGKILL.
# The bytes of each save go out in 8 KiB chunks with short pauses, so that a
# kill lands inside a write most of the time. Forking from one warm process
# keeps each round at a few milliseconds instead of a Python start-up.
WRITER = textwrap.dedent(
    """
    import os, sys, time
    import mlplab.files.atomic as atomic
    import mlplab.files.model as mio
    from mlplab import MLP

    path, mode = sys.argv[1], sys.argv[2]
    models = {s: MLP(16, [96, 96], 8, seed=s, dtype="float64") for s in (1, 2)}

    def paced(path, data):
        with (atomic.atomic_writer(path) if mode == "atomic" else open(path, "wb")) as f:
            for k in range(0, len(data), 8192):
                f.write(data[k : k + 8192])
                f.flush()
                time.sleep(0.0002)

    mio.atomic_write_bytes = paced  # what save_model writes through
    print("ready", flush=True)
    for _ in sys.stdin:
        pid = os.fork()
        if pid == 0:
            try:
                i = 0
                while True:
                    seed = 1 + i % 2
                    mio.save_model(path, models[seed], metadata={"seed": seed})
                    i += 1
            finally:
                os._exit(3)
        print(pid, flush=True)
        print(os.waitpid(pid, 0)[1], flush=True)
    """
)


def expected_models():
    return {s: MLP(16, [96, 96], 8, seed=s, dtype="float64").numpy_params() for s in (1, 2)}


def kill_writer_repeatedly(folder, mode: str, rounds: int, seed: int):
    """Kill a rewriting child ``rounds`` times; yield what the file held after each kill."""
    path = folder / "model.safetensors"
    models = expected_models()
    save_model(path, MLP(16, [96, 96], 8, seed=1, dtype="float64"), metadata={"seed": 1})
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), mode],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    rng = np.random.default_rng(seed)
    try:
        assert proc.stdout.readline().strip() == "ready"
        for _ in range(rounds):
            proc.stdin.write("go\n")
            proc.stdin.flush()
            pid = int(proc.stdout.readline())
            time.sleep(rng.uniform(0.005, 0.03))  # a random moment in the rewrite loop
            os.kill(pid, signal.SIGKILL)
            status = int(proc.stdout.readline())
            assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
            try:
                model, extra = load_model(path)
            except ModelFileError as err:
                yield "broken", str(err), len(leftovers(folder))
                continue
            seed_ = extra["seed"]
            for (b1, W1), (b2, W2) in zip(model.numpy_params(), models[seed_], strict=True):
                assert np.array_equal(b1, b2) and np.array_equal(W1, W2)
            yield "ok", seed_, len(leftovers(folder))
    finally:
        proc.stdin.close()
        proc.kill()
        proc.wait()


def test_kill_9_during_writes_leaves_old_or_new_file(tmp_path):
    results = list(kill_writer_repeatedly(tmp_path, "atomic", rounds=25, seed=0))
    broken = [r for r in results if r[0] == "broken"]
    assert broken == [], broken
    # the kills did land inside writes: they left temporary files behind, and each next
    # write removed the dead writer's leftovers (issue 14, item 5): they never pile up
    assert sum(r[2] for r in results) >= 5, results
    assert max(r[2] for r in results) <= 2, results
    assert {r[1] for r in results} <= {1, 2}


def test_kill_9_breaks_a_plain_writer(tmp_path):
    # The same harness with open(path, "wb"): shows that the kills do break a
    # non-atomic writer, so the test above would catch a broken atomic_writer.
    results = list(kill_writer_repeatedly(tmp_path, "naive", rounds=12, seed=1))
    assert any(r[0] == "broken" for r in results), results
