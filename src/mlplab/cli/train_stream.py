"""``mlplab train data.parquet`` (or ``--stream`` a large CSV): training without loading the file.

One streaming pass computes the preprocessing (:func:`~mlplab.data.stream.scan_preprocessor`:
standardisation of the training rows, the categories of ``--one-hot`` text
columns, the classes), :func:`~mlplab.train.streaming.fit_stream` trains with a
bounded shuffle buffer (validation rows held out by ``--validation-split``,
``--early-stopping``), writing a checkpoint at every epoch end (rank 0 alone,
atomically) that ``mlplab train --resume`` continues exactly; a last pass
computes the metrics. The model file and metrics JSON are written as for an
in-memory run, so ``mlplab predict`` / ``evaluate`` / ``export`` read them the
same way.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
from typing import Any

from mlplab.config import TrainConfig
from mlplab.data.preprocessing import Preprocessor
from mlplab.data.stream import Part, TableStream
from mlplab.errors import ConfigError, DataError
from mlplab.nn.mlp import MLP
from mlplab.train.state import History

#: settings of the in-memory path that a streamed run does not have
_IN_MEMORY_ONLY = {
    "drop_missing": "--drop-missing",
    "impute": "--impute",
    "test_split": "--test-split",
    "features": "--features",
    "drop": "--drop",
}


def run_stream(args: argparse.Namespace, cfg: TrainConfig, outputs: Any, lead: bool,
               resume: dict[str, Any] | None = None) -> int:  # fmt: skip
    """Train on ``cfg.data`` streamed; write the model, metrics (and loss plot) on rank 0."""
    from mlplab.data.stream import scan_preprocessor

    shuffle_rows = _check(args, cfg, resume)
    stream = TableStream(cfg.data, cfg.target, one_hot=cfg.one_hot,
                         validation_split=cfg.validation_split, split_seed=cfg.seed)  # fmt: skip
    prep = scan_preprocessor(stream, "regression" if cfg.task == "regression" else None)
    outputs.check(inputs=[cfg.data], plots=not args.no_plots, resuming=args.resume)
    loss = cfg.loss or ("mse" if prep.task == "regression" else "bce")
    if prep.task == "multiclass" and loss == "bce":
        loss = "softmax_cross_entropy"
    if resume is not None:
        if resume["fingerprint"] != fingerprint(stream, prep):
            raise DataError(
                f"the training data changed since checkpoint {args.resume!r} was saved "
                f"(data {cfg.data!r}); resume with the same data, or start a new run."
            )
        model, state, previous = resume["model"], resume["state"], resume["history"]
    else:
        n_out = len(prep.classes or ()) if loss == "softmax_cross_entropy" else 1
        model = MLP(
            prep.n_features, cfg.hidden, n_out, activation=cfg.activation, seed=cfg.seed,
            backend=cfg.backend, dtype=cfg.dtype, device=args.device,
        )  # fmt: skip
        state, previous = None, None
    _announce(stream, prep, model, cfg, shuffle_rows, state)
    saver = _EpochSaver(model, stream, prep, cfg, outputs, args, shuffle_rows, previous, lead)
    options = cfg.fit_options(loss=loss)
    from mlplab.train.streaming import fit_stream

    try:
        history = fit_stream(
            model, stream, prep, loss=loss, optimizer=options.optimizer, lr=cfg.lr,
            schedule=cfg.schedule, epochs=cfg.epochs - (state.epoch if state else 0),
            batch_size=int(cfg.batch_size or 0), seed=cfg.seed, l2=cfg.l2,
            shuffle_rows=shuffle_rows, early_stopping=cfg.early_stopping,
            patience=cfg.patience, verbose=args.verbose, state=state, on_epoch_end=saver,
        )  # fmt: skip
    except KeyboardInterrupt:
        if lead and saver.saved:
            where = outputs.checkpoint
            print(f"\ninterrupted; the checkpoint of epoch {saver.saved} is {where}.\n"
                  f"Resume with: mlplab train --resume {where}", flush=True)  # fmt: skip
        raise
    if not lead:
        return 0
    ours = bool(saver.saved or args.resume)  # a checkpoint this run wrote or continued
    _finish(model, stream, prep, cfg, loss, saver.merged(history), outputs, args, ours)
    return 0


def fingerprint(stream: TableStream, prep: Preprocessor) -> str:
    """What a resumed run checks: the file's preprocessing (means, scales, categories, classes),
    computed from every row, and its row count."""
    text = json.dumps([prep.to_dict(), sum(stream.rows_per_piece())], sort_keys=True)
    return "stream-" + hashlib.sha256(text.encode()).hexdigest()


def _announce(stream: TableStream, prep: Preprocessor, model: MLP, cfg: TrainConfig,
              shuffle_rows: int, state: Any) -> None:  # fmt: skip
    held = f", {cfg.validation_split:.0%} held out for validation" if stream.holdout else ""
    one_hot = f", {len(prep.categories)} one-hot" if prep.categories else ""
    print(
        f"data: {cfg.data} streamed ({stream.kind}; {len(stream.features)} columns{one_hot} → "
        f"{prep.n_features} features, {prep.task}; target {cfg.target!r}{held}), "
        f"shuffle buffer {shuffle_rows} rows",
        flush=True,
    )
    print(f"model: MLP {'-'.join(map(str, model.sizes))}, {model.n_params:,} parameters",
          flush=True)  # fmt: skip
    if state is not None:
        print(f"resuming after epoch {state.epoch} of {cfg.epochs} (step {state.step})", flush=True)


class _EpochSaver:
    """The epoch-end hook: rank 0 writes the run's checkpoint (atomically) after each epoch."""

    def __init__(self, model: MLP, stream: TableStream, prep: Preprocessor, cfg: TrainConfig,
                 outputs: Any, args: argparse.Namespace, shuffle_rows: int,
                 previous: dict[str, Any] | None, lead: bool) -> None:  # fmt: skip
        self.model, self.cfg, self.outputs, self.args, self.lead = model, cfg, outputs, args, lead
        self.previous, self.saved = previous, 0
        self.extra = {"fingerprint": fingerprint(stream, prep), "split_seed": cfg.seed,
                      "shuffle_rows": shuffle_rows, "streamed": True,
                      "outputs": {**outputs.as_dict(), "plots": not args.no_plots}}  # fmt: skip

    def merged(self, history: History) -> dict[str, Any]:
        from mlplab.cli.train_cmds import _merge_history

        merged: dict[str, Any] = _merge_history(self.previous, history.as_dict())
        return merged

    def __call__(self, history: History) -> None:
        state = history.state
        if not self.lead or state is None or state.epoch >= self.cfg.epochs:
            return  # the last epoch: the model file follows
        _save_epoch(self.outputs.checkpoint, self.model, state, self.cfg,
                    {**self.extra, "history": self.merged(history)})  # fmt: skip
        self.saved = state.epoch


def _save_epoch(path: Any, model: MLP, state: Any, cfg: TrainConfig, extra: dict[str, Any]) -> None:
    from mlplab import files

    files.save_checkpoint(path, model, state, config=cfg.to_dict(), extra=extra)


def _finish(model: MLP, stream: TableStream, prep: Preprocessor, cfg: TrainConfig, loss: str,
            merged: dict[str, Any], outputs: Any, args: argparse.Namespace,
            ours: bool) -> None:  # fmt: skip
    """Rank 0: the metrics pass, the model file, the metrics JSON, the plot; the checkpoint goes."""
    from mlplab import files
    from mlplab.cli.train_cmds import _json, _print_metrics, _print_stopped_early
    from mlplab.train.streaming import evaluate_stream

    part: Part = "train" if stream.holdout else "all"
    metrics = {"train": evaluate_stream(model, stream, prep, loss, part)}
    if stream.holdout:
        metrics["validation"] = evaluate_stream(model, stream, prep, loss, "validation")
    _print_stopped_early(merged, args.verbose)
    _print_metrics(metrics)
    metadata = {
        "task": prep.task, "loss": loss, "classes": prep.classes, "target_name": cfg.target,
        "feature_names": list(prep.feature_names), "data": cfg.data,
        "preprocessor": prep.to_dict(), "config": cfg.to_dict(), "metrics": metrics,
        "history": merged,
    }  # fmt: skip
    files.save_model(outputs.model, model, metadata=metadata)
    files.atomic_write_text(outputs.metrics, _json({"config": cfg.to_dict(), "metrics": metrics,
                                                    "history": merged}))  # fmt: skip
    written = [outputs.model, outputs.metrics]
    if not args.no_plots and merged["train_loss"]:
        from mlplab.plots import plot_loss_curve

        written.append(plot_loss_curve(merged, outputs.loss_png, title=f"{cfg.data}: loss"))
    print("wrote " + ", ".join(str(p) for p in written))
    if ours and outputs.checkpoint.is_file():  # the run it holds has finished
        with contextlib.suppress(OSError):
            os.unlink(outputs.checkpoint)
            if args.resume:  # (a run that went through removes its own quietly)
                print(f"removed checkpoint {outputs.checkpoint}: the run it continued finished.")


def _check(args: argparse.Namespace, cfg: TrainConfig, resume: dict[str, Any] | None) -> int:
    """The settings a streamed run refuses, one line; the shuffle buffer's rows."""
    given = [flag for field, flag in _IN_MEMORY_ONLY.items() if getattr(cfg, field, None)]
    if args.devices is not None:
        given.append("--devices")
    if given:
        raise ConfigError(
            f"{', '.join(given)} apply to data loaded in memory; a streamed file trains on "
            "every row but those of --validation-split (prepare the file beforehand for the rest)."
        )
    if cfg.batch_size is None:
        raise ConfigError("a streamed file trains in minibatches: give --batch-size N.")
    if cfg.early_stopping and not cfg.validation_split:
        raise ConfigError("--early-stopping needs validation rows: add --validation-split 0.2.")
    rows = args.shuffle_rows
    if resume is not None:  # the buffer decides the order: the run's own, for the same numbers
        rows = resume.get("extra", {}).get("shuffle_rows", rows)
    if not isinstance(rows, int) or isinstance(rows, bool) or rows < cfg.batch_size:
        raise ConfigError(
            f"--shuffle-rows must be at least the batch size ({cfg.batch_size}); got {rows}."
        )
    return rows


__all__ = ["fingerprint", "run_stream"]
