"""Issue 14's adversarial pass as a script: every case, by category, with counts.

    PYTHONPATH=src .venv/bin/python tests/fuzz/adversarial_cli.py [--kills N]

Each case runs `mlplab` on something hostile or broken in a fresh folder beside an
``outside/`` folder holding a file nobody named. A case passes when the command
ends with a finished run (exit 0) or one clear line (exit 2, ``mlplab: error: …``,
never ``internal error`` or a traceback), as the case expects, and no file was lost:
the files it was given are unchanged, nothing outside its folder was written, and
no device, FIFO or socket was replaced. The kill table interrupts real training
runs at random moments (SIGINT, SIGTERM, SIGKILL) and checks what is left.
Prints two Markdown tables (docs/reliability.md quotes them); exits 1 if a case failed.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from mlplab.cli import _interrupt
from mlplab.cli.main import main

MLPLAB = [sys.executable, "-c", "import sys; from mlplab.cli.main import main; sys.exit(main())"]
XOR = ["train", "xor", "--hidden", "4", "--epochs", "3", "--verbose", "0", "--no-plots"]
ROOT = Path(tempfile.mkdtemp(prefix="mlplab-adversarial-"))
CASES: list[tuple[str, str, str, object]] = []  # (category, name, expect, run(folder))


def case(category: str, name: str, expect: str = "clear"):
    def register(fn):
        CASES.append((category, name, expect, fn))
        return fn

    return register


def cli(*argv, env=None, stdout=None) -> tuple[int, str, str]:
    """Run `mlplab` in this process (fast) or, with ``env``/``stdout``, in a child."""
    argv = [str(a) for a in argv]
    if env is not None or stdout is not None:
        proc = subprocess.run(
            [*MLPLAB, *argv],
            env={**os.environ, **(env or {})},
            stdout=stdout or subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        decode = lambda b: (b or b"").decode("utf-8", "replace")  # noqa: E731
        return proc.returncode, decode(proc.stdout), decode(proc.stderr)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main(argv)
        except SystemExit as exc:  # argparse
            rc = exc.code
    return rc, out.getvalue(), err.getvalue()


def trained(folder: Path, name="m.safetensors") -> Path:
    rc, _, err = cli(*XOR, "--out", folder / name)
    assert rc == 0, err
    return folder / name


def checkpoint(folder: Path) -> Path:
    real = _interrupt.StopSignals.requested
    _interrupt.StopSignals.requested = lambda self: True
    try:
        rc, _, err = cli(*XOR, "--out", folder / "m.safetensors")
    finally:
        _interrupt.StopSignals.requested = real
    assert rc == 130, err
    return folder / "m.ckpt.safetensors"


def rewrite(path: Path, change) -> Path:
    import struct

    data = path.read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8 : 8 + n])
    meta = json.loads(header["__metadata__"]["mlplab"])
    change(meta)
    header["__metadata__"]["mlplab"] = json.dumps(meta)
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data[8 + n :])
    return path


def csv(folder: Path, text: str, name="d.csv") -> Path:
    (folder / name).write_text(text, encoding="utf-8")
    return folder / name


# --- writes where nobody asked ----------------------------------------------------------------


def _device(folder):
    os.mknod(folder / "nul", stat.S_IFCHR | 0o666, os.makedev(1, 3))
    return folder / "nul"


if hasattr(os, "geteuid") and os.geteuid() == 0:

    @case("output targets", "train --out on a character device", "ok")
    def _(f):
        return cli(*XOR, "--out", _device(f))

    @case("output targets", "predict --out on a character device", "ok")
    def _(f):
        m = trained(f)
        return cli("predict", m, "xor", "--out", _device(f))

    @case("output targets", "evaluate --out on a character device", "ok")
    def _(f):
        m = trained(f)
        return cli("evaluate", m, "xor", "--out", _device(f))

    @case("output targets", "--checkpoint on a character device (written through)", "ok")
    def _(f):
        return cli(*XOR, "--out", f / "m.safetensors", "--checkpoint", _device(f))


@case("output targets", "predict --out /dev/stdout", "ok")
def _(f):
    m = trained(f)
    return cli("predict", m, "xor", "--out", "/dev/stdout", stdout=subprocess.PIPE, env={})


@case("output targets", "predict --out on a socket")
def _(f):
    m = trained(f)
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(f / "sock"))
    try:
        return cli("predict", m, "xor", "--out", f / "sock")
    finally:
        s.close()


@case("output targets", "--out on a symlink loop")
def _(f):
    os.symlink(f / "a", f / "b")
    os.symlink(f / "b", f / "a")
    return cli(*XOR, "--out", f / "a")


@case("output targets", "--out is a folder")
def _(f):
    (f / "dir").mkdir()
    return cli(*XOR, "--out", f / "dir")


@case("output targets", "--out in a missing folder", "ok")  # the folder is created, as -p
def _(f):
    return cli(*XOR, "--out", f / "new" / "m.safetensors")


@case("output targets", "--out is the training CSV")
def _(f):
    d = csv(f, "a,b,y\n1,2,0\n2,1,1\n3,3,0\n4,1,1\n")
    return cli("train", d, "--target", "y", "--out", d, "--no-plots")


@case("output targets", "predict --out is the model")
def _(f):
    m = trained(f)
    return cli("predict", m, "xor", "--out", m)


@case("output targets", "--out and --checkpoint the same file")
def _(f):
    return cli(*XOR, "--out", f / "x.safetensors", "--checkpoint", f / "x.safetensors")


@case("output targets", "--checkpoint names an existing model")
def _(f):
    trained(f, "other.safetensors")
    return cli(*XOR, "--out", f / "m.safetensors", "--checkpoint", f / "other.safetensors")


@case("output targets", "--checkpoint names an unrelated file")
def _(f):
    (f / "notes.txt").write_text("mine")
    return cli(*XOR, "--out", f / "m.safetensors", "--checkpoint", f / "notes.txt")


@case("output targets", "--out-dir is a file")
def _(f):
    (f / "file").write_text("x")
    return cli(*XOR, "--out-dir", f / "file")


@case("output targets", "stale temporaries of a killed writer", "ok")
def _(f):
    (f / ".m.safetensors.99999999-0123456789ab.tmp").write_bytes(b"partial")
    rc, out, err = cli(*XOR, "--out", f / "m.safetensors")
    left = [p.name for p in f.iterdir() if p.name.endswith(".tmp")]
    return (rc if not left else 99), out, err + (f"left: {left}" if left else "")


# --- crafted checkpoints ------------------------------------------------------------------------


def _resume_with(change, expect="clear"):
    def run(f):
        c = rewrite(checkpoint(f), change)
        return cli("train", "--resume", c)

    return run


OUTSIDE_PATHS = ["{outside}/precious.safetensors", "/etc/passwd", "../../x.safetensors", ".."]
for target in OUTSIDE_PATHS:
    for key in ("out", "checkpoint", "out_dir"):

        def aim(meta, key=key, target=target):
            meta["extra"]["outputs"][key] = target.format(outside=ROOT / "outside")

        case("crafted checkpoints", f"outputs.{key} = {target!r}", "ok")(_resume_with(aim))

for field, value, what in [
    ("out", 5, "outputs.out: 5"),
    ("out", None, "outputs.out: null"),
    ("plots", "yes", "outputs.plots: 'yes'"),
    ("checkpoint", ["a"], "outputs.checkpoint: a list"),
]:
    case("crafted checkpoints", what)(
        _resume_with(lambda m, fi=field, v=value: m["extra"]["outputs"].update({fi: v}))
    )
for change, what in [
    (lambda m: m["extra"].update(outputs="x"), "outputs: a string"),
    (lambda m: m["extra"].pop("outputs"), "no outputs"),
    (lambda m: m["extra"].update(history=[]), "history: a list"),
    (lambda m: m["extra"]["history"].update(train_loss="x"), "history.train_loss: a string"),
    (lambda m: m["extra"]["history"].update(epoch=[True]), "history.epoch: [true]"),
    (lambda m: m["extra"]["history"].update(n_steps=-1), "history.n_steps: -1"),
    (lambda m: m["extra"].update(fingerprint=7), "fingerprint: 7"),
    (lambda m: m["extra"].update(fingerprint="0" * 64), "fingerprint of other data"),
    (lambda m: m["train_state"].update(epoch=999999), "train_state.epoch: 999999"),
    (lambda m: m["train_state"].update(epoch=3), "train_state.epoch = epochs (finished)"),
    (lambda m: m["train_state"].update(step=-1), "train_state.step: -1"),
    (lambda m: m["train_state"].update(epoch_loss_sum=1e400), "epoch_loss_sum: 1e400"),
    (lambda m: m["config"].update(epochs=0), "config.epochs: 0"),
    (lambda m: m["config"].update(lr=-1), "config.lr: -1"),
    (lambda m: m["config"].update(evil=1), "config: an unknown key"),
    (lambda m: m["config"].update(data="moons"), "config.data: other data"),
    (lambda m: m.update(format="mlplab-model"), "a model file's format"),
]:
    case("crafted checkpoints", what)(_resume_with(change))


# --- crafted model files ------------------------------------------------------------------------


def _predict_with(change, expect="clear"):
    def run(f):
        m = rewrite(trained(f), change)
        return cli("predict", m, "xor", "--out", f / "p.csv")

    return run


def _classes(value):
    def change(m):
        m["extra"]["classes"] = value
        m["extra"]["preprocessor"]["classes"] = value

    return change


for value, what in [
    ([0, 1, 2, 3, 4], "5 classes, 1 output"),
    ([0, 0], "duplicate classes"),
    (["0", 0], "classes '0' and 0"),
    ([0], "1 class"),
]:
    case("crafted model files", what)(_predict_with(_classes(value)))
case("crafted model files", "no preprocessing metadata")(
    _predict_with(lambda m: m["extra"].pop("preprocessor"))
)
case("crafted model files", "preprocessing of another width")(
    _predict_with(lambda m: m["extra"]["preprocessor"]["feature_names"].append("z"))
)


@case("crafted model files", "1 GB sparse tail after the tensors")
def _(f):
    m = trained(f)
    with open(m, "ab") as fh:
        fh.truncate(m.stat().st_size + 10**9)
    t0 = time.perf_counter()
    rc, out, err = cli("predict", m, "xor")
    return (rc if time.perf_counter() - t0 < 5 else 98), out, err


@case("crafted model files", "a checkpoint given to predict")
def _(f):
    return cli("predict", checkpoint(f), "xor", "--out", f / "p.csv")


# --- memory checked before it is spent --------------------------------------------------------


@case("memory", "one-hot of 30k rows x 9,500 categories")
def _(f):
    rows = "\n".join(f"{i % 5},c{i % 9500},{i % 2}" for i in range(30000))
    d = csv(f, "a,code,y\n" + rows + "\n")
    return cli("train", d, "--target", "y", "--one-hot", "--no-plots", "--out-dir", f)


for n in ("1000000000", "100000000000"):

    @case("memory", f"--n-samples {n}")
    def _(f, n=n):
        return cli("train", "moons", "--n-samples", n, "--out-dir", f)


@case("memory", "--hidden 100000,100000,100000")
def _(f):
    return cli("train", "xor", "--hidden", "100000,100000,100000", "--out-dir", f)


# --- internal errors that became clear ones ----------------------------------------------------


@case("clear errors", "unreadable CSV (as a non-root user)")
def _(f):
    import builtins

    import mlplab.data.csvfile as csvfile

    d = csv(f, "a,y\n1,0\n2,1\n")

    def refuse(file, *a, **kw):
        if str(file) == str(d):
            raise PermissionError(13, "Permission denied", str(file))
        return builtins.open(file, *a, **kw)

    csvfile.open = refuse
    try:
        return cli("train", d, "--target", "y", "--out-dir", f)
    finally:
        del csvfile.open


for data in ("moons", "circles", "blobs"):
    case("clear errors", f"train {data} --seed 4294967296")(
        lambda f, data=data: cli("train", data, "--seed", 2**32, "--out-dir", f)
    )
case("clear errors", "gradcheck --batch -4")(lambda f: cli("gradcheck", "--batch", "-4"))


@case("clear errors", "predict > /dev/full")
def _(f):
    m = trained(f)
    with open("/dev/full", "w") as full:
        return cli("predict", m, "xor", stdout=full)


@case("clear errors", "non-ASCII labels and paths on an ASCII terminal", "ok")
def _(f):
    d = csv(f, "a,étiquette\n1,chat\n2,chien\n3,chat\n4,chien\n", name="café.csv")
    return cli("train", d, "--target", "étiquette", "--epochs", "2", "--no-plots",
               "--out-dir", f, env={"PYTHONIOENCODING": "ascii"})  # fmt: skip


@case("clear errors", "full disk while writing the figures")
def _(f):
    import mlplab.plots as plots
    from mlplab.files import FileWriteError

    real = plots._save

    def full(fig, path):
        raise FileWriteError(f"cannot write {str(path)!r}: No space left on device.")

    plots._save = full
    try:
        return cli("train", "xor", "--epochs", "2", "--verbose", "0", "--out-dir", f)
    finally:
        plots._save = real


case("clear errors", "argparse: unknown flag")(lambda f: cli("train", "xor", "--nope"))
case("clear errors", "--hidden ''")(lambda f: cli("train", "xor", "--hidden", ""))
case("clear errors", "regression target whose variance overflows")(
    lambda f: cli(
        "train",
        csv(f, "a,y\n1,1e300\n2,-1e300\n3,1e300\n4,5\n"),
        "--target",
        "y",
        "--task",
        "regression",
        "--out-dir",
        f,
    )  # fmt: skip
)
case("clear errors", "a numeric-looking text column")(
    lambda f: cli(
        "train", csv(f, "a,y\n0.1257,0\n0.5,1\nabc,0\n0.2,1\n"), "--target", "y", "--out-dir", f
    )  # fmt: skip
)
case("clear errors", "Arabic-Indic digits")(
    lambda f: cli("train", csv(f, "a,y\n١,0\n٢,1\n٣,0\n"), "--target", "y", "--out-dir", f)
)
case("clear errors", "target mixing 0, 1 and 'cat' (warns, trains)", "ok")(
    lambda f: cli(
        "train",
        csv(f, "a,y\n1,0\n2,1\n3,cat\n4,0\n5,1\n"),
        "--target",
        "y",
        "--epochs",
        "2",
        "--no-plots",
        "--verbose",
        "0",
        "--out-dir",
        f,
    )  # fmt: skip
)

# --- divergence ------------------------------------------------------------------------------

case("divergence", "sgd moons --lr 1 (converges: not flagged)", "ok")(
    lambda f: cli(
        "train",
        "moons",
        "--optimizer",
        "sgd",
        "--lr",
        "1",
        "--epochs",
        "30",
        "--verbose",
        "0",
        "--no-plots",
        "--out-dir",
        f,
    )  # fmt: skip
)
for args in (["xor", "--lr", "1e30", "--epochs", "50"], ["moons", "--lr", "1e3"],
             ["moons", "--lr", "1e6"], ["sine", "--lr", "1e4"],
             ["circles", "--lr", "1e4", "--batch-size", "full"]):  # fmt: skip
    case("divergence", "sgd " + " ".join(args))(
        lambda f, a=args: cli(
            "train", *a, "--optimizer", "sgd", "--verbose", "0", "--no-plots", "--out-dir", f
        )  # fmt: skip
    )


# --- running the cases ---------------------------------------------------------------------------


def snapshot(folder: Path) -> dict:
    out = {}
    for p in sorted(folder.rglob("*")):
        st = os.lstat(p)
        kind = stat.S_IFMT(st.st_mode)
        data = p.read_bytes() if stat.S_ISREG(st.st_mode) else None
        out[p] = (kind, data)
    return out


def run_case(i: int, category, name, expect, fn) -> dict:
    folder = ROOT / f"case{i:03d}"
    folder.mkdir()
    outside = snapshot(ROOT / "outside")
    rc, out, err = fn(folder)
    lost = []
    if snapshot(ROOT / "outside") != outside:
        lost.append("outside/ changed")
    for p in folder.rglob("*"):
        mode = os.lstat(p).st_mode
        if p.name in ("nul",) and not stat.S_ISCHR(mode):
            lost.append(f"{p.name} is no longer a device")
        if p.name == "sock" and not stat.S_ISSOCK(mode):
            lost.append("the socket was replaced")
    lines = [ln for ln in err.splitlines() if not ln.startswith("mlplab: warning:")]
    clear = rc == 2 and len(lines) >= 1 and lines[0].startswith("mlplab: error: ")
    clear = clear and (len(lines) == 1 or (len(lines) == 2 and lines[1].startswith("see `")))
    bad = "internal error" in err or "Traceback" in err
    ok = (rc == 0 if expect == "ok" else clear) and not bad and not lost
    return {"category": category, "name": name, "rc": rc, "clear": clear, "ok": ok,
            "lost": lost, "err": err.strip().splitlines()[:2]}  # fmt: skip


def kill_trials(n: int, rng: random.Random) -> list[dict]:
    """Interrupt real runs at random moments of training or of the final save; check what is left.

    The moment is drawn from the run's own progress lines (``--verbose 2`` prints one per
    epoch): after a random epoch line (training), or after the last one (the final save:
    metrics, model file, metrics JSON, figures), plus a random delay.
    """
    run = ["train", "moons", "--n-samples", "400", "--hidden", "32,32", "--batch-size", "4",
           "--epochs", "8", "--verbose", "2", "--test-split", "0"]  # fmt: skip
    rows = []
    for how in ("SIGINT", "SIGTERM", "SIGKILL"):
        for t in range(n):
            folder = ROOT / f"kill-{how}-{t}"
            folder.mkdir()
            phase = "training" if t % 2 == 0 else "saving"
            after = rng.randint(1, 7) if phase == "training" else 8
            proc = subprocess.Popen(
                [*MLPLAB, *run, "--out", "m.safetensors"],
                cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )  # fmt: skip
            for line in proc.stderr:
                if line.startswith(f"epoch {after}:"):
                    break
            time.sleep(rng.uniform(0.0, 0.05 if phase == "training" else 1.5))
            proc.send_signal(getattr(signal, how))
            out, err = proc.communicate(timeout=300)
            rows.append({"how": how, "phase": phase, **_left(folder, proc.returncode, err)})
    return rows


def _left(folder: Path, rc: int, err: str) -> dict:
    from mlplab import ModelFileError
    from mlplab.files import load_checkpoint, load_model

    model, ckpt = folder / "m.safetensors", folder / "m.ckpt.safetensors"
    state = "nothing written"
    try:
        if model.exists():
            load_model(model)
            json.loads((folder / "m_metrics.json").read_text())
            state = "finished run saved"
        elif ckpt.exists():
            load_checkpoint(ckpt)
            state = "checkpoint saved"
    except (ModelFileError, OSError, ValueError) as e:
        state = f"BROKEN: {e}"
    if rc in (0, 130, 143) and state == "nothing written":
        state = "BROKEN: a signal handled, nothing saved"
    tmp = [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]
    return {"rc": rc, "state": state, "tmp": tmp, "internal": "internal error" in err}


def main_() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=6, help="trials per signal (default 6)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    (ROOT / "outside").mkdir()
    (ROOT / "outside" / "precious.safetensors").write_bytes(b"not yours")
    results = [run_case(i, *c) for i, c in enumerate(CASES)]
    table = defaultdict(lambda: [0, 0, 0, 0])
    for r in results:
        t = table[r["category"]]
        t[0] += 1
        t[1] += r["clear"]
        t[2] += len(r["lost"])
        t[3] += not r["ok"]
    print("| category | cases | clear errors (exit 2) | finished runs (exit 0) | files lost "
          "| failed |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for cat, (n, clear, lost, failed) in table.items():
        print(f"| {cat} | {n} | {clear} | {n - clear} | {lost} | {failed} |")
    tot = [sum(t[i] for t in table.values()) for i in range(4)]
    print(f"| **all** | {tot[0]} | {tot[1]} | {tot[0] - tot[1]} | {tot[2]} | {tot[3]} |")
    for r in results:
        if not r["ok"]:
            print(f"FAILED: {r['category']}: {r['name']}: exit {r['rc']} {r['lost']} {r['err']}")
    kills = kill_trials(args.kills, random.Random(args.seed)) if args.kills else []
    if kills:
        print("\n| signal | when | runs | finished run saved | checkpoint saved | broken files "
              "| .tmp left | exit statuses |")  # fmt: skip
        print("|---|---|---|---|---|---|---|---|")
        for how in ("SIGINT", "SIGTERM", "SIGKILL"):
            for phase in ("training", "saving"):
                rows = [k for k in kills if k["how"] == how and k["phase"] == phase]
                count = lambda s, rows=rows: sum(k["state"] == s for k in rows)  # noqa: E731
                broken = sum(k["state"].startswith("BROKEN") or k["internal"] for k in rows)
                codes = ", ".join(sorted({str(k["rc"]) for k in rows}))
                print(f"| {how} | {phase} | {len(rows)} | {count('finished run saved')} | "
                      f"{count('checkpoint saved')} | {broken} | "
                      f"{sum(bool(k['tmp']) for k in rows)} | {codes} |")  # fmt: skip
    failed = tot[3] + sum(k["state"].startswith("BROKEN") or k["internal"] for k in kills)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main_())
