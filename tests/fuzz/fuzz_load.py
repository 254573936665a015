"""Coverage-guided fuzzing of the model-file loader with atheris (optional, not run by pytest).

Starts from a valid model file, a valid checkpoint and a checkpoint written by
``mlplab train``, and mutates them; every input must load or raise
:class:`mlplab.errors.ModelFileError`, and ``mlplab train --resume`` on it must
end in a finished run (exit 0) or a one-line error (exit 2), writing nothing
outside the input's folder. Anything else is reported by atheris as a crash,
with the input saved to ``crash-*``.

    .venv/bin/pip install atheris
    .venv/bin/python tests/fuzz/fuzz_load.py -atheris_runs=50000
    .venv/bin/python tests/fuzz/fuzz_load.py -max_total_time=60 CORPUS_DIR

Without a corpus folder, a temporary one is seeded with the two valid files.
"""

from __future__ import annotations

import contextlib
import io
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports():
    import mlplab.files as mio
    from mlplab import MLP, ModelFileError, TrainState
    from mlplab.cli import _interrupt
    from mlplab.cli.main import main as mlplab_main
    from mlplab.nn.optim import Adam

SCRATCH = Path(tempfile.mkdtemp(prefix="mlplab-fuzz-")) / "input.safetensors"


def seed_corpus(folder: Path) -> None:
    model = MLP(3, [4, 2], 2, activation=["tanh", {"name": "leaky_relu", "negative_slope": 0.1}])
    mio.save_model(folder / "model.safetensors", model, metadata={"classes": ["a", "b"]})
    state = TrainState(Adam().init(model.params), step=7, epoch=2)
    mio.save_checkpoint(folder / "checkpoint.safetensors", model, state, config={"lr": 0.01})
    requested = _interrupt.StopSignals.requested
    _interrupt.StopSignals.requested = lambda self: True  # stop after the first step
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            mlplab_main(["train", "xor", "--hidden", "4", "--epochs", "3", "--verbose", "0",
                         "--no-plots", "--out", str(folder / "train.safetensors")])  # fmt: skip
    finally:
        _interrupt.StopSignals.requested = requested
    (folder / "train.safetensors").unlink(missing_ok=True)


def one_input(data: bytes) -> None:
    for p in SCRATCH.parent.iterdir():
        p.unlink()
    SCRATCH.write_bytes(data)
    for load in (mio.load_model, mio.load_checkpoint):
        try:
            load(SCRATCH)
        except ModelFileError:
            pass
    around = set(SCRATCH.parent.parent.iterdir())
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        rc = mlplab_main(["train", "--resume", str(SCRATCH), "--no-plots"])
    if rc not in (0, 2) or "internal error" in err.getvalue():
        raise RuntimeError(f"resume ended with {rc}: {err.getvalue()}")
    if set(SCRATCH.parent.parent.iterdir()) != around:
        raise RuntimeError("resume wrote outside the checkpoint's folder")


def main() -> None:
    args = list(sys.argv)
    if not any(not a.startswith("-") for a in args[1:]):
        corpus = Path(tempfile.mkdtemp(prefix="mlplab-fuzz-corpus-"))
        seed_corpus(corpus)
        args.append(str(corpus))
    atheris.Setup(args, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
