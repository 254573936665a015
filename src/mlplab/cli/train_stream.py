"""``mlplab train data.parquet`` (or ``--stream`` a large CSV): training without loading the file.

One streaming pass computes the preprocessing (:func:`~mlplab.data.stream.scan_preprocessor`),
:func:`~mlplab.train.streaming.fit_stream` trains with a bounded shuffle buffer, a
last pass computes the train metrics; the model file and metrics JSON are
written as for an in-memory run (rank 0 alone under torchrun), so ``mlplab
predict`` / ``evaluate`` read them the same way.
"""

from __future__ import annotations

from mlplab.config import TrainConfig
from mlplab.errors import ConfigError

#: settings of the in-memory path that a streamed run does not have
_IN_MEMORY_ONLY = {
    "one_hot": "--one-hot",
    "drop_missing": "--drop-missing",
    "impute": "--impute",
    "test_split": "--test-split",
    "validation_split": "--validation-split",
    "early_stopping": "--early-stopping",
}


def run_stream(args, cfg: TrainConfig, outputs, lead: bool) -> int:
    """Train on ``cfg.data`` streamed; write the model, metrics (and loss plot) on rank 0."""
    from mlplab import MLP, files
    from mlplab.cli.train_cmds import _json, _print_metrics
    from mlplab.data.stream import TableStream, scan_preprocessor
    from mlplab.train.streaming import evaluate_stream, fit_stream

    _check(args, cfg)
    stream = TableStream(cfg.data, cfg.target)
    task = "regression" if cfg.task == "regression" else None
    prep = scan_preprocessor(stream, task)
    outputs.check(inputs=[cfg.data], plots=not args.no_plots)
    loss = cfg.loss or ("mse" if prep.task == "regression" else "bce")
    if prep.task == "multiclass" and loss == "bce":
        loss = "softmax_cross_entropy"
    n_out = len(prep.classes) if loss == "softmax_cross_entropy" else 1
    model = MLP(
        len(stream.features), cfg.hidden, n_out, activation=cfg.activation, seed=cfg.seed,
        backend=cfg.backend, dtype=cfg.dtype, device=args.device,
    )  # fmt: skip
    print(
        f"data: {cfg.data} streamed ({stream.kind}; {len(stream.features)} features, "
        f"{prep.task}; target {cfg.target!r}), shuffle buffer {args.shuffle_rows} rows",
        flush=True,
    )
    print(
        f"model: MLP {'-'.join(map(str, model.sizes))}, {model.n_params:,} parameters", flush=True
    )
    history = fit_stream(
        model, stream, prep, loss=loss, optimizer=cfg.optimizer, lr=cfg.lr,
        schedule=cfg.schedule, epochs=cfg.epochs, batch_size=cfg.batch_size, seed=cfg.seed,
        l2=cfg.l2, shuffle_rows=args.shuffle_rows, verbose=args.verbose,
    )  # fmt: skip
    if not lead:
        return 0
    metrics = {"train": evaluate_stream(model, stream, prep, loss)}
    _print_metrics(metrics)
    merged = history.as_dict()
    metadata = {
        "task": prep.task, "loss": loss, "classes": prep.classes, "target_name": cfg.target,
        "feature_names": list(stream.features), "data": cfg.data,
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
    return 0


def _check(args, cfg: TrainConfig) -> None:
    given = [flag for field, flag in _IN_MEMORY_ONLY.items() if getattr(cfg, field, None)]
    if args.resume:
        given.append("--resume")
    if args.devices is not None:
        given.append("--devices")
    if given:
        raise ConfigError(
            f"{', '.join(given)} apply to data loaded in memory; a streamed file trains on "
            "every row (split the file beforehand for validation / test sets)."
        )
    if cfg.batch_size is None:
        raise ConfigError("a streamed file trains in minibatches: give --batch-size N.")
    if not isinstance(args.shuffle_rows, int) or args.shuffle_rows < cfg.batch_size:
        raise ConfigError(
            f"--shuffle-rows must be at least the batch size ({cfg.batch_size}); "
            f"got {args.shuffle_rows}."
        )
