"""Data commands: ``train``, ``predict``, ``evaluate``, ``explain`` and ``info``.

``mlplab train`` is a thin layer over the library: flags -> :class:`TrainConfig`
-> data (:mod:`mlplab.data`) -> :class:`~mlplab.nn.mlp.MLP` ->
:func:`~mlplab.train.fit` -> :func:`~mlplab.files.model.save_model` + metrics JSON +
plots. Every file is written atomically. Ctrl-C during training stops after the
current step and saves a checkpoint that ``mlplab train --resume`` continues to
the same final weights; a diverging run saves its last good weights.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar, TypeVarTuple

from mlplab.config import (
    ACTIVATION_NAMES,
    BACKEND_NAMES,
    DTYPE_NAMES,
    IMPUTE_NAMES,
    LOSS_NAMES,
    OPTIMIZER_NAMES,
    SCHEDULE_NAMES,
    TASK_NAMES,
    TrainConfig,
)
from mlplab.errors import ConfigError, DataError, ModelFileError, TrainingDiverged

if TYPE_CHECKING:
    from mlplab.nn.mlp import MLP
    from mlplab.pipeline import TrainingData
    from mlplab.train.state import History, TrainState

    from ._interrupt import StopSignals
    from .main import Subparsers

T = TypeVar("T")
Ts = TypeVarTuple("Ts")

_D = TrainConfig()  # the defaults shown in --help

# CLI flag of each TrainConfig field whose name differs from "--" + field.
_FLAGS = {f: "--" + f.replace("_", "-") for f in TrainConfig.__dataclass_fields__}
_FLAGS["hidden"] = "--hidden"


# --- argument types ----------------------------------------------------------


class _Metavar(TypedDict):
    metavar: str


def _choices(names: Sequence[str]) -> _Metavar:
    """A short metavar; the help text lists the names (``_one_of``). The names are checked
    by TrainConfig (one error line, with "did you mean"), not by argparse."""
    return {"metavar": "NAME"}


def _one_of(names: Iterable[str]) -> str:
    return "one of " + ", ".join(names)


def _hidden(text: str) -> tuple[int, ...]:
    text = text.strip()
    if not text:  # an unset shell variable, most likely: never a silent linear model
        raise argparse.ArgumentTypeError(
            "got an empty value; pass widths such as 64,64, or 'none' for a model without "
            "hidden layers"
        )
    if text.lower() == "none":
        return ()
    try:
        return tuple(int(t) for t in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated widths such as 64,64; got {text!r}"
        ) from None


def _names(text: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(","))
    if not all(names):
        raise argparse.ArgumentTypeError(f"expected comma-separated column names; got {text!r}")
    return names


def _batch(text: str) -> int | None:
    if text.lower() in ("full", "none"):
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer or 'full'; got {text!r}") from None


def _devices(text: str) -> int | str:
    if text.lower() == "all":
        return "all"
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a device count or 'all'; got {text!r}"
        ) from None


def _epilog(text: str) -> str:
    return text


def _parser(sub: Subparsers, name: str, help: str, example: str) -> argparse.ArgumentParser:
    return sub.add_parser(
        name,
        help=help,
        description=help[0].upper() + help[1:] + ".",
        epilog=example,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


# --- registration ------------------------------------------------------------


def register(sub: Subparsers) -> None:
    """Add the ``train``, ``predict``, ``evaluate``, ``explain`` and ``info`` subcommands."""
    S = argparse.SUPPRESS
    p = _parser(
        sub,
        "train",
        "train an MLP on a built-in data set or a CSV file",
        "Examples:\n"
        "  mlplab train moons --hidden 16,16 --epochs 200 --out-dir runs/moons\n"
        "  mlplab train data.csv --target label --one-hot --validation-split 0.2\n"
        "  mlplab train --resume model.ckpt.safetensors   # after Ctrl-C\n"
        "  mlplab train big.parquet --target label --one-hot --validation-split 0.1\n\n"
        "Built-in data sets: xor, and, or, moons, circles, spirals, blobs, sine, cubic,\n"
        "digits, mnist1d, iris, wine, breast-cancer, diabetes.\n"
        "Ctrl-C stops after the current step and saves a checkpoint to resume from.",
    )
    p.add_argument("data", nargs="?", default=S, help="a built-in data set name or a CSV path")
    g = p.add_argument_group("data")
    g.add_argument("--target", default=S, metavar="COLUMN", help="the CSV's target column")
    g.add_argument(
        "--task",
        default=S,
        **_choices(TASK_NAMES),
        help=f"{_one_of(TASK_NAMES)} (default: from the target)",
    )
    g.add_argument("--one-hot", action="store_true", default=S, help="one-hot encode text columns")
    g.add_argument(
        "--features",
        type=_names,
        default=S,
        metavar="COLUMNS",
        help="comma-separated feature columns of the CSV (default: all but the target)",
    )
    g.add_argument(
        "--drop",
        type=_names,
        default=S,
        metavar="COLUMNS",
        help="comma-separated CSV columns to leave out, e.g. --drop id,name",
    )
    g.add_argument("--delimiter", default=S, help="CSV field separator (default: detected)")
    g.add_argument(
        "--drop-missing", action="store_true", default=S, help="drop rows with missing values"
    )
    g.add_argument(
        "--impute",
        default=S,
        **_choices(IMPUTE_NAMES),
        help=f"fill missing feature values: {_one_of(IMPUTE_NAMES)} (the column mean)",
    )
    g.add_argument("--n-samples", type=int, default=S, help="size of a generated data set")
    g.add_argument("--noise", type=float, default=S, help="noise of a generated data set")
    g.add_argument(
        "--stream",
        action="store_true",
        help="read a large CSV in pieces instead of loading it (.parquet always streams; "
        "a checkpoint at every epoch end)",
    )
    g.add_argument(
        "--shuffle-rows",
        type=int,
        default=65536,
        help="streaming: rows of the shuffle buffer, which bounds the memory (default 65536)",
    )
    g.add_argument(
        "--test-split",
        type=float,
        default=S,
        help="fraction held out for testing, stratified and seeded (default: 0.2 for data "
        "of 50 rows or more, none below; a data set's own test set if it has one); "
        "0 keeps every row for training (train metrics only)",
    )
    g = p.add_argument_group("model and training")
    g.add_argument(
        "--hidden",
        type=_hidden,
        default=S,
        help=f"hidden widths, e.g. 64,64; 'none' for no hidden layer "
        f"(default {','.join(map(str, _D.hidden))})",
    )
    g.add_argument(
        "--activation",
        default=S,
        **_choices(ACTIVATION_NAMES),
        help=f"hidden activation: {_one_of(ACTIVATION_NAMES)} (default {_D.activation})",
    )
    g.add_argument(
        "--loss",
        default=S,
        **_choices(LOSS_NAMES),
        help=f"{_one_of(LOSS_NAMES)} (default: from the task)",
    )
    g.add_argument(
        "--optimizer",
        default=S,
        **_choices(OPTIMIZER_NAMES),
        help=f"{_one_of(OPTIMIZER_NAMES)} (default {_D.optimizer})",
    )
    g.add_argument(
        "--lr", type=float, default=S, help="learning rate (default 0.1 for sgd, 1e-3 for adam)"
    )
    g.add_argument("--momentum", type=float, default=S, help="SGD momentum (default 0)")
    g.add_argument(
        "--schedule",
        default=S,
        **_choices(SCHEDULE_NAMES),
        help=f"learning-rate schedule: {_one_of(SCHEDULE_NAMES)} (default {_D.schedule})",
    )
    g.add_argument("--epochs", type=int, default=S, help=f"epochs (default {_D.epochs})")
    g.add_argument(
        "--batch-size",
        type=_batch,
        default=S,
        help=f"minibatch size or 'full' (default {_D.batch_size})",
    )
    g.add_argument("--l2", type=float, default=S, help="L2 penalty on the weights (default 0)")
    g.add_argument(
        "--validation-split",
        type=float,
        default=S,
        help=f"fraction held out for validation (default {_D.validation_split})",
    )
    g.add_argument(
        "--early-stopping",
        action="store_true",
        default=S,
        help="stop when the validation loss stops improving",
    )
    g.add_argument(
        "--patience", type=int, default=S, help=f"early-stopping patience (default {_D.patience})"
    )
    g.add_argument("--seed", type=int, default=S, help="seed of weights, splits, batches (0)")
    g.add_argument(
        "--backend",
        default=S,
        **_choices(BACKEND_NAMES),
        help=f"{_one_of(BACKEND_NAMES)} (default numpy)",
    )
    g.add_argument(
        "--dtype",
        default=S,
        **_choices(DTYPE_NAMES),
        help=f"{_one_of(DTYPE_NAMES)} (default float32)",
    )
    g = p.add_argument_group("where to run (also when resuming)")
    g.add_argument(
        "--device",
        default=None,
        help="cpu, cuda or cuda:N for --backend torch / jax (default: a GPU when present)",
    )
    g.add_argument(
        "--devices",
        type=_devices,
        default=None,
        help="JAX: split every batch over N devices (or 'all'); for NumPy / PyTorch "
        "start N processes with torchrun instead",
    )
    g = p.add_argument_group("output")
    g.add_argument("--out", default=None, help="the model file (default OUT_DIR/model.safetensors)")
    g.add_argument("--out-dir", default=None, help="folder for metrics and plots (default .)")
    g.add_argument(
        "--checkpoint",
        default=None,
        metavar="PATH",
        help="where Ctrl-C saves the checkpoint (default OUT_DIR/<model>.ckpt.safetensors)",
    )
    g.add_argument(
        "--resume", default=None, metavar="CHECKPOINT", help="continue an interrupted run"
    )
    g.add_argument("--no-plots", action="store_true", help="skip the PNG figures")
    g.add_argument(
        "--verbose",
        type=int,
        default=1,
        choices=(0, 1, 2),
        help="0 quiet, 1 progress bar on a terminal, 2 one line per epoch",
    )
    p.set_defaults(func=run_train)

    p = _parser(
        sub,
        "predict",
        "predict with a saved model",
        "Examples:\n  mlplab predict model.safetensors new.csv --out preds.csv\n"
        "  mlplab predict model.safetensors moons",
    )
    p.add_argument("model", help="a model file written by mlplab train")
    p.add_argument("data", help="a CSV with the model's feature columns, or a built-in name")
    p.add_argument("--out", default=None, help="write the predictions to this CSV (else stdout)")
    p.add_argument(
        "--backend",
        default="numpy",
        **_choices(BACKEND_NAMES),
        help=f"{_one_of(BACKEND_NAMES)} (default numpy)",
    )
    p.add_argument("--delimiter", default=None, help="CSV field separator (default: detected)")
    p.set_defaults(func=run_predict)

    p = _parser(
        sub,
        "evaluate",
        "evaluate a saved model on labelled data",
        "Example:\n  mlplab evaluate model.safetensors test.csv",
    )
    p.add_argument("model", help="a model file written by mlplab train")
    p.add_argument("data", help="a CSV with the feature columns and the target, or a built-in")
    p.add_argument("--out", default=None, help="also write the metrics to this JSON file")
    p.add_argument(
        "--backend",
        default="numpy",
        **_choices(BACKEND_NAMES),
        help=f"{_one_of(BACKEND_NAMES)} (default numpy)",
    )
    p.add_argument("--delimiter", default=None, help="CSV field separator (default: detected)")
    p.set_defaults(func=run_evaluate)

    p = _parser(
        sub,
        "explain",
        "show every neuron's σ(b + w·x) with the actual numbers, layer by layer",
        "Examples:\n  mlplab explain --gate xor --input 1,0\n"
        "  mlplab explain model.safetensors --input 0.5,-1.2",
    )
    p.add_argument("model", nargs="?", default=None, help="a model file written by mlplab train")
    p.add_argument(
        "--gate",
        default=None,
        help="explain a hand-set lecture network instead: and, or, nand, nor, xor",
    )
    p.add_argument(
        "--input",
        default=None,
        help="comma-separated input values, one per feature in the training data's units "
        "(one-hot columns as 0/1); with --gate the default is all four truth-table rows",
    )
    p.add_argument(
        "--terms",
        type=int,
        default=12,
        help="write out the products w·x of neurons with at most this many inputs (default 12)",
    )
    p.set_defaults(func=run_explain)

    p = _parser(
        sub,
        "info",
        "show the version, the backends installed and the devices seen",
        "Examples:\n  mlplab info            # under a second: versions, GPUs the driver lists\n"
        "  mlplab info --devices  # also ask PyTorch and JAX (imports them: seconds)",
    )
    p.add_argument(
        "--devices",
        action="store_true",
        help="import PyTorch and JAX to list the devices each sees (takes seconds)",
    )
    p.set_defaults(func=run_info)


# --- train -------------------------------------------------------------------


def _config_from_args(args: argparse.Namespace) -> TrainConfig:
    values = {f: getattr(args, f) for f in TrainConfig.__dataclass_fields__ if hasattr(args, f)}
    if "data" not in values:
        raise ConfigError(
            "give the training data: a built-in data set name (e.g. `mlplab train moons`) "
            "or a CSV path with --target COLUMN; or --resume CHECKPOINT."
        )
    return _with_flag_names(TrainConfig.from_dict, values)


def _with_flag_names(fn: Callable[[*Ts], T], *a: *Ts) -> T:
    """Call ``fn``; rewrite a ConfigError's `field` to the CLI's `--flag`."""
    try:
        return fn(*a)
    except ConfigError as err:
        text = str(err)
        for field, flag in _FLAGS.items():
            text = text.replace(f"`{field}`", f"`{flag}`")
        text = re.sub(r"`hidden\[(\d+)\]`", lambda m: f"`--hidden` width #{int(m[1]) + 1}", text)
        raise ConfigError(text) from None


class _Outputs:
    """Where a training run writes its files: named on the command line, never by a file."""

    def __init__(
        self,
        out: str | None,
        out_dir: str | None,
        checkpoint: str | None,
        name: str = "model.safetensors",
    ) -> None:
        if out is None:
            folder = Path(out_dir or ".")
            model = folder / name
        else:
            model = Path(out)
            folder = Path(out_dir) if out_dir else model.parent
        stem = model.name.removesuffix(".safetensors")
        self.model = model
        self.folder = folder
        self.metrics = folder / f"{stem}_metrics.json"
        self.loss_png = folder / f"{stem}_loss.png"
        self.boundary_png = folder / f"{stem}_boundary.png"
        self.checkpoint = Path(checkpoint) if checkpoint else folder / f"{stem}.ckpt.safetensors"

    def check(
        self, inputs: Iterable[str | Path] = (), plots: bool = True, resuming: str | None = None
    ) -> None:
        """Fail before training, not after: folders, clashes with inputs and each other."""
        named = {
            "--out": self.model,
            "the metrics file": self.metrics,
            "--checkpoint": self.checkpoint,
        }
        if plots:
            named |= {"the loss figure": self.loss_png, "the boundary figure": self.boundary_png}
        seen: dict[Path, str] = {}
        for what, path in named.items():
            if path.is_dir():
                raise ConfigError(f"output {str(path)!r} is a folder; give a file name.")
            for given in inputs:
                if Path(given).is_file() and _same(path, given):
                    raise ConfigError(
                        f"output {str(path)!r} is also an input of this run; "
                        "choose another --out so the input is not overwritten."
                    )
            key = _resolved(path)
            if key in seen:
                raise ConfigError(
                    f"{seen[key]} and {what} would both be written to {str(path)!r}; "
                    "give them different names."
                )
            seen[key] = what
        self._check_checkpoint_target(resuming)
        self._make_folder()

    def _check_checkpoint_target(self, resuming: str | None) -> None:
        """A Ctrl-C may replace a checkpoint, never a model or any other file."""
        from mlplab.files.model import CHECKPOINT_FORMAT, load_metadata

        path = self.checkpoint
        if not path.is_file() or (resuming and _same(path, resuming)):
            return  # absent, or a device / FIFO that the writer streams into (never replaces)
        try:
            kind = load_metadata(path)["format"]
        except ModelFileError:
            kind = None
        if kind != CHECKPOINT_FORMAT:
            what = "an mlplab model file" if kind else "not an mlplab checkpoint"
            raise ConfigError(
                f"--checkpoint {str(path)!r} exists and is {what}; a Ctrl-C would replace "
                "it. Choose another --checkpoint path (or move that file)."
            )

    def _make_folder(self) -> None:
        if self.folder.exists() and not self.folder.is_dir():
            raise ConfigError(f"--out-dir {str(self.folder)!r} is a file, not a folder.")
        if not self.folder.exists():
            try:
                self.folder.mkdir(parents=True, exist_ok=True)  # ranks may race here
            except OSError as err:
                raise ConfigError(
                    f"cannot create the output folder {str(self.folder)!r}: {err.strerror or err}."
                ) from None
        for path in (self.model, self.checkpoint):
            if not path.parent.is_dir():
                raise ConfigError(
                    f"cannot write {str(path)!r}: the folder {str(path.parent)!r} does not exist."
                )

    def as_dict(self) -> dict[str, str]:
        return {
            "out": str(self.model),
            "out_dir": str(self.folder),
            "checkpoint": str(self.checkpoint),
        }


def _resolved(path: str | Path) -> Path:
    try:
        return Path(path).resolve()
    except (RuntimeError, OSError):  # a symlink loop: the writer refuses it later
        return Path(os.path.abspath(path))


def _same(a: str | Path, b: str | Path) -> bool:
    return _resolved(a) == _resolved(b)


def run_train(args: argparse.Namespace) -> int:
    """``mlplab train``: data -> model -> fit -> files.

    Under ``torchrun`` every rank trains (:mod:`mlplab.train.distributed`); rank 0
    alone prints and writes the model, metrics, plots and checkpoints.
    """
    import contextlib

    from mlplab.train.distributed import is_lead

    if is_lead():
        return _run_train(args, lead=True)
    import warnings

    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
        with warnings.catch_warnings():  # rank 0 alone warns (the same data, the same words)
            warnings.simplefilter("ignore")
            return _run_train(args, lead=False)


def _run_train(args: argparse.Namespace, lead: bool) -> int:
    from mlplab.cli._interrupt import StopSignals

    resume = None
    if args.resume:
        resume = _load_resume(args)
        cfg, outputs = resume["config"], resume["outputs"]
    else:
        cfg = _config_from_args(args)
        outputs = _Outputs(args.out, args.out_dir, args.checkpoint)
    from mlplab.data.stream import is_streamed
    from mlplab.train.distributed import rank_device

    args.device = rank_device(args.device, cfg.backend)  # torchrun on GPUs: one each

    streamed = resume is not None and resume["extra"].get("streamed") is True  # a --stream run
    if is_streamed(cfg.data) or getattr(args, "stream", False) or streamed:  # larger than memory
        from mlplab.cli.train_stream import run_stream

        return run_stream(args, cfg, outputs, lead, resume)
    from mlplab.pipeline import TrainingData, build_model

    run = _with_flag_names(TrainingData, cfg)  # data errors first: no folders made yet
    outputs.check(inputs=[cfg.data], plots=not args.no_plots, resuming=args.resume)
    if resume is not None:
        if resume["fingerprint"] != run.fingerprint:
            raise DataError(
                f"the training data changed since checkpoint {args.resume!r} was saved "
                f"(data {cfg.data!r}); resume with the same data, or start a new run."
            )
        model, state = resume["model"], resume["state"]
        previous = resume["history"]
        epochs_left = cfg.epochs - state.epoch
    else:
        model = build_model(cfg, run, args.device)
        state, previous, epochs_left = None, None, cfg.epochs
    _announce(run, model, cfg, state)
    _say_ranks()
    with StopSignals("epoch" if cfg.backend == "jax" else "step") as stop:
        history = _fit_interruptibly(
            model, run, cfg, state, epochs_left, args, outputs, stop.requested, lead
        )
        stop.start_saving()  # from here a first Ctrl-C / SIGTERM lets the files be written
        merged = _merge_history(previous, history.as_dict())
        assert history.state is not None  # fit always records where the run stands
        state = history.state
        stopped = history.interrupted and (state.epoch < cfg.epochs or state.batch_in_epoch)
        if not lead:  # another rank of a torchrun job: rank 0 writes the same weights
            return stop.exit_status if stopped else 0
        if stopped:
            _save_checkpoint(model, state, cfg, run, merged, outputs, args, stop)
            return stop.exit_status
        _save_finished_run(model, cfg, run, merged, outputs, args)
    if stop.count:
        print(
            f"mlplab: {stop.name} arrived after training had finished; every file above was "
            "written in full.",
            file=sys.stderr,
        )
        return stop.exit_status
    return 0


def _announce(run: TrainingData, model: MLP, cfg: TrainConfig, state: TrainState | None) -> None:
    print(run.describe(), flush=True)
    print(f"model: {_describe_model(model, run)}", flush=True)
    what = "resuming" if state is not None else "training"
    where = (
        f" from step {state.step} (epoch {state.epoch}, batch {state.batch_in_epoch})"
        if state is not None
        else ""
    )
    print(
        f"{what}{where}: {cfg.epochs} epoch{'s' if cfg.epochs > 1 else ''}, "
        f"batch size {cfg.batch_size or 'full'}, "
        f"{cfg.optimizer} lr {_lr(cfg):g}, seed {cfg.seed}",
        flush=True,
    )


def _save_checkpoint(
    model: MLP,
    state: TrainState,
    cfg: TrainConfig,
    run: TrainingData,
    merged: dict[str, Any],
    outputs: _Outputs,
    args: argparse.Namespace,
    stop: StopSignals,
) -> None:
    from mlplab import files

    extra = {
        "history": merged,
        "outputs": {**outputs.as_dict(), "plots": not args.no_plots},  # shown on resume only
        "fingerprint": run.fingerprint,
        "split_seed": cfg.seed,
    }
    files.save_checkpoint(outputs.checkpoint, model, state, config=cfg.to_dict(), extra=extra)
    print(
        f"\ninterrupted ({stop.name}) after step {state.step} ({state.epoch} of {cfg.epochs} "
        "epochs done"
        + _batches_into(state.batch_in_epoch)
        + f"); checkpoint saved to {outputs.checkpoint}.\n"
        f"Resume with: mlplab train --resume {outputs.checkpoint}",
        flush=True,
    )


def _save_finished_run(
    model: MLP,
    cfg: TrainConfig,
    run: TrainingData,
    merged: dict[str, Any],
    outputs: _Outputs,
    args: argparse.Namespace,
) -> None:
    from mlplab import files

    metrics = run.metrics(model)
    _print_stopped_early(merged, args.verbose)
    _print_metrics(metrics)
    if run.dataset.task == "regression":
        print(f"{'':>10}  {run.units_note()}")
    baseline = _print_baseline(run, metrics)
    metadata = run.metadata(cfg, metrics)
    metadata["history"] = merged
    files.save_model(outputs.model, model, metadata=metadata)
    written = [outputs.model]
    report = {"config": cfg.to_dict(), "metrics": metrics, "history": merged}
    if baseline:
        report["baseline"] = baseline
    files.atomic_write_text(outputs.metrics, _json(report))
    written.append(outputs.metrics)
    if not args.no_plots:
        written += _plots(run, model, merged, outputs, written)
    print("wrote " + ", ".join(str(p) for p in written))
    _tidy_checkpoint(outputs, args.resume)


def _plots(
    run: TrainingData, model: MLP, merged: dict[str, Any], outputs: _Outputs, written: list[Path]
) -> list[Path]:
    """The figures; a failure to write one says that the model and metrics are saved."""
    from mlplab.files import FileWriteError

    try:
        return run.plots(model, merged, outputs)
    except (FileWriteError, OSError) as err:
        saved = ", ".join(str(p) for p in written)
        raise FileWriteError(
            f"{saved} were saved, but a figure could not be written: {err} "
            "Free some space (or pass --no-plots) and train again for the figures."
        ) from None


def _tidy_checkpoint(outputs: _Outputs, resumed: str | None) -> None:
    """After a finished run: remove the checkpoint it continued; point out a stale one."""
    import contextlib

    if resumed and Path(resumed).is_file():
        with contextlib.suppress(OSError):
            os.unlink(resumed)
            print(f"removed checkpoint {resumed}: the run it continued has finished.")
            return
        print(f"note: checkpoint {resumed} could not be removed; delete it by hand.")
    elif outputs.checkpoint.is_file():
        print(
            f"note: {outputs.checkpoint} is a checkpoint of an earlier interrupted run; it "
            "was left as it is (resume it, or delete it)."
        )


def _say_ranks() -> None:
    """Under torchrun: how many ranks share each batch (the lead rank prints it)."""
    from mlplab.train.distributed import launched

    if launched():
        world = int(os.environ["WORLD_SIZE"])
        print(
            f"data parallel: {world} ranks (torch.distributed), each takes 1/{world} of every "
            "batch; rank 0 writes the files",
            flush=True,
        )


def _fit_interruptibly(
    model: MLP,
    run: TrainingData,
    cfg: TrainConfig,
    state: TrainState | None,
    epochs: int,
    args: argparse.Namespace,
    outputs: _Outputs,
    should_stop: Callable[[], bool],
    lead: bool = True,
) -> History:
    """``fit`` stopping when ``should_stop()`` says so, and divergence saved."""
    import numpy as np

    from mlplab import files
    from mlplab.pipeline import fit_model

    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            history: History = fit_model(
                model, run, cfg, epochs=epochs, verbose=args.verbose, state=state,
                should_stop=should_stop, devices=args.devices,
            )  # fmt: skip
            return history
    except TrainingDiverged as err:
        if not lead:  # the lead rank saves the last good weights and says where
            raise
        metadata = run.metadata(cfg, {})
        metadata["diverged"] = {"step": err.step, "last_finite_loss": err.last_finite_loss}
        target = outputs.model
        if target.exists():  # never replace a model the user had with a diverged run's
            target = target.with_name(target.name.removesuffix(".safetensors") + ".diverged")
            target = target.with_name(target.name + ".safetensors")
        files.save_model(target, model, metadata=metadata)
        last = "none" if err.last_finite_loss is None else f"{err.last_finite_loss:.6g}"
        raise TrainingDiverged(
            f"training diverged at step {err.step}: {_diverged_what(err)} "
            f"(last finite loss {last}). The last good weights (from before that epoch) "
            f"were saved to {target}, marked 'diverged'. Try a smaller learning rate, "
            f"e.g. --lr {_lr(cfg) / 10:g}.",
            step=err.step,
            last_finite_loss=err.last_finite_loss,
        ) from None


def _diverged_what(err: TrainingDiverged) -> str:
    return getattr(err, "reason", None) or "the loss became NaN or infinite"


def _load_resume(args: argparse.Namespace) -> dict[str, Any]:
    from mlplab import files

    given = sorted(
        _FLAGS[f] for f in TrainConfig.__dataclass_fields__ if f != "data" and hasattr(args, f)
    )
    if given:
        raise ConfigError(
            f"--resume continues a run with the settings saved in the checkpoint; drop "
            f"{', '.join(given)} (or start a new run without --resume)."
        )
    _, _, config, extra = files.load_checkpoint(args.resume)
    try:
        cfg = TrainConfig.from_dict(config)
    except ConfigError as err:
        raise ModelFileError(
            f"checkpoint {args.resume!r} holds an invalid training config: {err}"
        ) from None
    if hasattr(args, "data") and args.data != cfg.data:
        raise ConfigError(
            f"checkpoint {args.resume!r} was trained on {cfg.data!r}, not {args.data!r}; "
            "drop DATA to resume on the same data."
        )
    _check_resume_extra(args.resume, extra)
    model, state, _, _ = files.load_checkpoint(args.resume, backend=cfg.backend, device=args.device)
    _check_progress(args.resume, state, cfg)
    saved = extra["outputs"]
    if saved.get("plots") is False:
        args.no_plots = True
    # A checkpoint is data, never authority over paths: the outputs are named on this command
    # line, else written beside the checkpoint under the model's file name only.
    name = Path(saved.get("out") or "model.safetensors").name
    if not name.endswith(".safetensors") or name.startswith("."):
        name = "model.safetensors"
    here = str(Path(args.resume).parent)
    outputs = _Outputs(
        args.out,
        args.out_dir or (None if args.out else here),
        args.checkpoint or args.resume,
        name=name,
    )
    stored = saved.get("out")
    if stored and not _same(stored, outputs.model):
        print(
            f"note: the checkpoint records the output {stored!r}; writing {str(outputs.model)!r} "
            "instead (outputs go beside the checkpoint unless --out / --out-dir name them)."
        )
    return {
        "config": cfg,
        "model": model,
        "state": state,
        "history": extra["history"],
        "fingerprint": extra["fingerprint"],
        "outputs": outputs,
        "extra": extra,
    }


def _check_resume_extra(path: str, extra: dict[str, Any]) -> None:
    """The fields ``mlplab train`` stores in a checkpoint, checked like a model file's."""
    for key in ("history", "outputs", "fingerprint"):
        if key not in extra:
            raise ModelFileError(
                f"{path!r} is an mlplab checkpoint but not one written by "
                f"`mlplab train` (no {key!r}); resume it from Python with fit(..., state=...)."
            )

    def bad(what: str) -> ModelFileError:
        return ModelFileError(f"checkpoint {path!r} is corrupted: {what}.")

    outputs, history = extra["outputs"], extra["history"]
    if not isinstance(outputs, dict):
        raise bad(f"`outputs` must be a JSON object; got {_short(outputs)}")
    for key in ("out", "out_dir", "checkpoint"):
        if not isinstance(outputs.get(key, ""), str):
            raise bad(f"`outputs.{key}` must be a path string; got {_short(outputs[key])}")
    if not isinstance(outputs.get("plots", True), bool):
        raise bad(f"`outputs.plots` must be true or false; got {_short(outputs['plots'])}")
    if not isinstance(extra["fingerprint"], str):
        raise bad(f"`fingerprint` must be a string; got {_short(extra['fingerprint'])}")
    if not isinstance(history, dict):
        raise bad(f"`history` must be a JSON object; got {_short(history)}")
    for key, value in history.items():
        listed = key == "epoch" or key.startswith(("train_", "val_"))
        if (listed or isinstance(value, list)) and not (
            isinstance(value, list) and all(_is_number(v) for v in value)
        ):
            raise bad(f"`history.{key}` must list numbers; got {_short(value)}")
    if not (isinstance(history.get("n_steps", 0), int) and history.get("n_steps", 0) >= 0):
        raise bad(f"`history.n_steps` must be an integer >= 0; got {_short(history['n_steps'])}")


def _check_progress(path: str, state: TrainState, cfg: TrainConfig) -> None:
    if state.epoch > cfg.epochs or (state.epoch == cfg.epochs and state.batch_in_epoch):
        raise ModelFileError(
            f"checkpoint {path!r} is corrupted: its training state is at epoch {state.epoch} "
            f"but the run has {cfg.epochs} epochs."
        )
    if state.epoch == cfg.epochs:
        raise ConfigError(
            f"checkpoint {path!r} has finished all {cfg.epochs} epochs: there is nothing to "
            "resume. Train a new run instead."
        )


def _is_number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _batches_into(n: int) -> str:
    return f", {n} batch{'es' if n > 1 else ''} into the next" if n else ""


def _merge_history(previous: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    if not previous:
        return new
    merged = dict(new)
    for key, value in new.items():
        if isinstance(value, list) and isinstance(previous.get(key), list):
            merged[key] = previous[key] + value
    merged["n_steps"] = previous.get("n_steps", 0) + new.get("n_steps", 0)
    if merged.get("val_loss"):  # fit's rule: the first epoch with the lowest validation loss
        first_best = min(range(len(merged["val_loss"])), key=merged["val_loss"].__getitem__)
        merged["best_epoch"] = merged["epoch"][first_best]
    return merged


def _lr(cfg: TrainConfig) -> float:
    options = cfg.fit_options()
    return options.lr_for(options.optimizer)


def _describe_model(model: MLP, run: TrainingData) -> str:
    sizes = "-".join(map(str, model.sizes))
    acts = model.activations[0].name if model.depth > 1 else "none"
    return (
        f"MLP {sizes} ({acts} hidden, {run.loss} loss), {model.n_params:,} parameters, "
        f"on {model.backend.describe()}"
    )


def _print_metrics(metrics: dict[str, Any]) -> None:
    for split in ("train", "validation", "test"):
        if split in metrics:
            values = "  ".join(f"{k} {v:.4f}" for k, v in metrics[split].items() if k != "n")
            print(f"{split:>10}: {values}  (n={metrics[split]['n']})")


def _print_stopped_early(history: dict[str, Any], verbose: int) -> None:
    """Say that early stopping ended the run (``fit`` says it itself when verbose)."""
    from mlplab.train.state import stopped_early_line

    line = stopped_early_line(history)
    if line and not verbose:
        print(line, flush=True)


def _print_baseline(run: TrainingData, metrics: dict[str, Any]) -> dict[str, Any]:
    """The linear baseline beside the MLP's own score (on the test split when there is one)."""
    baseline = run.baseline()
    if not baseline:
        return {}
    split = baseline["split"]
    name = "r2" if "r2" in baseline else "accuracy"
    mlp = metrics.get(split, {}).get(name)
    theirs = f"  (MLP {mlp:.4f})" if mlp is not None else ""
    print(f"{'baseline':>10}: {baseline['model']}, {split} {name} {baseline[name]:.4f}{theirs}")
    return baseline


def _json(obj: object) -> str:
    import json

    return json.dumps(obj, indent=2, allow_nan=False) + "\n"


# --- predict / evaluate ------------------------------------------------------


def _refuse_out_over_inputs(out: str | None, *inputs: str) -> None:
    """``--out`` must not name a file this command reads (it would be replaced)."""
    if not out:
        return
    for given in inputs:
        if Path(given).is_file() and Path(out).resolve() == Path(given).resolve():
            raise ConfigError(
                f"--out {out!r} is also an input of this command; choose another file "
                "so the input is not overwritten."
            )


def run_predict(args: argparse.Namespace) -> int:
    """``mlplab predict MODEL DATA``: predictions as CSV (stdout or --out)."""
    from mlplab import files
    from mlplab.pipeline import SavedModel

    _refuse_out_over_inputs(args.out, args.model, args.data)
    saved = SavedModel(args.model, args.backend, need_preprocessor=True)
    X, _ = saved.load_data(args.data, delimiter=args.delimiter, with_target=False)
    text = saved.predictions_csv(X)
    unseen = saved.preprocessor.unseen_rows if saved.preprocessor is not None else 0
    if args.out:
        files.atomic_write_text(args.out, text)
        note = f" ({unseen} with a category unseen at training time)" if unseen else ""
        print(f"wrote {X.shape[0]} predictions to {args.out}{note}")
    else:
        sys.stdout.write(text)
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    """``mlplab evaluate MODEL DATA``: loss and accuracy / R² on labelled data."""
    from mlplab import files
    from mlplab.pipeline import SavedModel

    _refuse_out_over_inputs(args.out, args.model, args.data)
    saved = SavedModel(args.model, args.backend, need_preprocessor=True)
    X, y = saved.load_data(args.data, delimiter=args.delimiter, with_target=True)
    metrics = saved.evaluate(X, y)
    if saved.preprocessor is not None and saved.preprocessor.unseen_rows:
        metrics["rows_with_unseen_categories"] = saved.preprocessor.unseen_rows
    for key, value in metrics.items():
        if key == "confusion_matrix":
            print("confusion matrix (rows: true class, columns: predicted):")
            names = [str(c) for c in saved.classes]
            width = 2 + max(6, *(len(n) for n in names))
            print(" " * width + "".join(f"{n:>{width}}" for n in names))
            for name, row in zip(names, value, strict=True):
                print(f"{name:>{width}}" + "".join(f"{v:>{width}}" for v in row))
        elif isinstance(value, float):
            print(f"{key}: {value:.4f}")
        else:
            print(f"{key}: {value}")
    if args.out:
        files.atomic_write_text(args.out, _json(metrics))
        print(f"wrote {args.out}")
    return 0


# --- explain -----------------------------------------------------------------


def run_explain(args: argparse.Namespace) -> int:
    """``mlplab explain``: the forward pass written out neuron by neuron."""
    import numpy as np

    from mlplab.nn.gates import TRUTH_INPUTS, gate
    from mlplab.pipeline import SavedModel, explain_lines

    if (args.model is None) == (args.gate is None):
        raise ConfigError(
            "give a model file or --gate NAME (not both), e.g. `mlplab explain --gate xor "
            "--input 1,0`."
        )
    saved = None
    if args.gate is not None:
        model = _with_flag_names(gate, args.gate.lower())
        n_inputs = model.n_inputs
    else:
        saved = SavedModel(args.model, "numpy", dtype="float64")
        model = saved.model
        n_inputs = model.n_inputs if saved.preprocessor is None else saved.n_raw_inputs
    if args.input is None:
        if args.gate is None:
            raise ConfigError(
                f"give the input to explain with --input, e.g. --input "
                f"{','.join(['0'] * n_inputs)} ({n_inputs} values)."
            )
        inputs = TRUTH_INPUTS
    else:
        inputs = np.array([_parse_input(args.input, n_inputs)])
    for x in inputs:
        for line in explain_lines(model, x, saved=saved, max_terms=args.terms):
            print(line)
        print()
    return 0


def _parse_input(text: str, n_inputs: int) -> list[float]:
    import math

    parts = re.split(r"\s*,\s*|\s+", text.strip())  # "1,0", "1, 0" or "1 0"
    try:
        values = [float(t) for t in parts]  # an empty field ("1,,0") is not a number
    except ValueError:
        raise DataError(
            f"--input must be comma-separated numbers such as 1,0; got {text!r}."
        ) from None
    if len(values) != n_inputs:
        raise DataError(
            f"--input has {len(values)} values but the model expects {n_inputs} inputs."
        )
    if not all(math.isfinite(v) for v in values):
        raise DataError(f"--input must hold finite numbers; got {text!r}.")
    return values


# --- info --------------------------------------------------------------------


def run_info(args: argparse.Namespace) -> int:
    """``mlplab info``: version, Python, backends with versions, devices.

    Fast by default (no framework is imported: versions come from the package
    metadata, GPUs from the NVIDIA driver's listing); ``--devices`` imports
    PyTorch and JAX and prints the devices each sees.
    """
    import platform
    from importlib import metadata

    import numpy as np

    import mlplab

    def version(name: str) -> str | None:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None

    print(f"mlplab {mlplab.__version__}")
    print(f"python {platform.python_version()} ({platform.system()} {platform.machine()})")
    print("backends:")
    print(f"  numpy {np.__version__}: devices cpu")
    for name, probe in (("torch", _torch_devices), ("jax", _jax_devices)):
        found = version(name)
        if found is None:
            print(f"  {name}: not installed (pip install 'mlplab[{name}]')")
        elif args.devices:
            print(f"  {name} {found}: devices {probe()}")
        else:
            print(f"  {name} {found}")
    if not args.devices:
        gpus = _driver_gpus()
        seen = f"{len(gpus)} NVIDIA GPU(s) listed by the driver" if gpus else "no NVIDIA GPU"
        print(f"devices: {seen}; `mlplab info --devices` asks PyTorch and JAX (seconds)")
    return 0


def _torch_devices() -> str:
    import torch

    devices = ["cpu"]
    if torch.cuda.is_available():
        devices += [
            f"cuda:{i} ({torch.cuda.get_device_name(i)})" for i in range(torch.cuda.device_count())
        ]
    return ", ".join(devices)


def _jax_devices() -> str:
    import jax

    return ", ".join(f"{d.platform}:{d.id} ({d.device_kind})" for d in jax.devices())


def _driver_gpus() -> list[str]:
    """The GPUs the NVIDIA driver lists (Linux), without importing a framework."""
    from pathlib import Path

    folder = Path("/proc/driver/nvidia/gpus")
    try:
        return sorted(p.name for p in folder.iterdir())
    except OSError:
        return []
