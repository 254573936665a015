"""The pipeline behind ``mlplab train``: config → data → model → fit → files, as library calls.

:class:`TrainingData` turns a :class:`~mlplab.config.TrainConfig` into the
arrays ``mlplab train`` fits (splits, standardisation, label encoding) and
computes the metrics, metadata and plots of a run; :func:`build_model` and
:func:`fit_model` make and train its model; :func:`train` does all three::

    from mlplab.config import TrainConfig
    from mlplab.pipeline import train

    model, data, history = train(TrainConfig(data="moons", hidden=(16,), epochs=50))
    print(data.metrics(model)) :class:`SavedModel` is a
model file with its preprocessing, for ``predict``, ``evaluate`` and
``explain``. :func:`explain_lines` writes out a forward pass neuron by neuron.

Everything here is plain library calls: a Python user reproduces a CLI
prediction with ``model, meta = load_model(path)``,
``prep = Preprocessor.from_dict(meta["preprocessor"])`` and
``model.predict_proba(prep.transform(X_raw))``.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io as _io
import sys
from collections.abc import Callable
from pathlib import Path
from types import EllipsisType
from typing import TYPE_CHECKING, Any, Literal, Protocol, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mlplab.config import AUTO_TEST_MIN_ROWS, AUTO_TEST_SPLIT, TrainConfig
from mlplab.errors import ConfigError, DataError, ModelFileError

if TYPE_CHECKING:
    from mlplab.data import Dataset, Preprocessor
    from mlplab.nn.mlp import MLP, Array
    from mlplab.train.state import History, TrainState


class PlotPaths(Protocol):
    """Where :meth:`TrainingData.plots` writes its figures."""

    loss_png: Path
    boundary_png: Path


def train(cfg: TrainConfig, *, verbose: int = 0) -> tuple[MLP, TrainingData, History]:
    """What ``mlplab train`` does before writing files: ``(model, data, history)``."""
    data = TrainingData(cfg)
    model = build_model(cfg, data)
    return model, data, fit_model(model, data, cfg, verbose=verbose)


def build_model(cfg: TrainConfig, data: TrainingData, device: Any = None) -> MLP:
    """The seeded :class:`~mlplab.nn.mlp.MLP` that ``cfg`` describes, sized for ``data``,
    on ``device`` ("cpu", "cuda:0", …; None: the backend's default)."""
    from mlplab.nn.mlp import MLP

    return MLP(
        data.n_inputs,
        cfg.hidden,
        data.n_outputs,
        activation=cfg.activation,
        seed=cfg.seed,
        backend=cfg.backend,
        dtype=cfg.dtype,
        device=device,
    )


def fit_model(model: MLP, data: TrainingData, cfg: TrainConfig, *, epochs: int | None = None,
              verbose: int = 0, state: TrainState | None = None,
              should_stop: Callable[[], bool] | None = None,
              devices: int | str | None = None) -> History:  # fmt: skip
    """:func:`mlplab.fit` on ``data``'s training rows with ``cfg``'s settings and validation
    (``devices``: JAX, split each batch over that many devices)."""
    from mlplab.train import fit

    return fit(
        model,
        data.X_train,
        data.y_train,
        options=cfg.fit_options(loss=data.loss, epochs=epochs, verbose=verbose),
        validation_data=data.validation,
        state=state,
        should_stop=should_stop,
        devices=devices,
    )


def _is_builtin(name: str) -> bool:
    from mlplab.data import DATASETS

    return name.lower() in DATASETS


def _looks_like_path(name: str) -> bool:
    p = Path(name)
    return p.exists() or bool(p.suffix) or "/" in name or "\\" in name


def load_training_dataset(cfg: TrainConfig) -> Dataset:
    """The :class:`~mlplab.data.Dataset` named by ``cfg.data`` (built-in or CSV)."""
    from mlplab import data as datasets

    if _is_builtin(cfg.data) and not Path(cfg.data).is_file():
        csv_only = [
            name
            for name in (
                "target",
                "one_hot",
                "delimiter",
                "drop_missing",
                "impute",
                "task",
                "features",
                "drop",
            )
            if getattr(cfg, name) not in (None, False, ())
        ]
        if csv_only:
            flags = ", ".join("--" + n.replace("_", "-") for n in csv_only)
            raise ConfigError(
                f"{flags} apply to CSV files; {cfg.data!r} is a built-in data set. Drop them."
            )
        return datasets.load_dataset(
            cfg.data, seed=cfg.seed, n_samples=cfg.n_samples, noise=cfg.noise
        )
    if not _looks_like_path(cfg.data):  # a mistyped built-in name
        return datasets.load_dataset(cfg.data)  # raises, listing the names
    if cfg.n_samples is not None or cfg.noise is not None:
        raise ConfigError("--n-samples and --noise apply to generated data sets, not CSV files.")
    target = cfg.target
    if target is None:
        try:  # a column nobody has: the error lists the real ones
            datasets.load_csv(cfg.data, target="\x00", delimiter=cfg.delimiter)
        except DataError as err:
            text = str(err)
            if "The columns are: " not in text:
                raise
            columns = text.split("The columns are: ", 1)[1].split(". Pass one", 1)[0]
            raise ConfigError(
                f"a CSV needs its target column: pass --target COLUMN. "
                f"The columns of '{cfg.data}' are: {columns}."
            ) from None
        raise ConfigError("a CSV needs its target column: pass --target COLUMN.")
    return datasets.load_csv(
        cfg.data,
        target,
        one_hot=cfg.one_hot,
        task=cfg.task,
        delimiter=cfg.delimiter,
        drop_missing=cfg.drop_missing,
        impute=cfg.impute,
        features=cfg.features,
        drop=cfg.drop,
    )


class TrainingData:
    """The arrays of one ``mlplab train`` run, split, encoded and standardised.

    Attributes:
        dataset: the loaded :class:`~mlplab.data.Dataset`.
        preprocessor: fitted on the training rows only.
        X_train, y_train: `(n, d)` standardised inputs and the targets ``fit`` sees
            (class indices, or standardised regression targets).
        validation: ``(X_val, y_val)`` or ``None``. ``test``: the same, or ``None``.
        raw: ``{"train"|"validation"|"test": (X_raw, y_raw)}`` before standardisation.
        loss: the loss name; ``n_inputs``, ``n_outputs``: the model's widths.
        fingerprint: SHA-256 of the training arrays (a resumed run checks it).
    """

    def __init__(self, cfg: TrainConfig) -> None:
        from mlplab.data import Preprocessor, train_test_split

        ds = load_training_dataset(cfg)
        self.cfg, self.dataset = cfg, ds
        classify = ds.task != "regression"
        strat = (lambda y: y) if classify else (lambda y: None)
        X, y = ds.X, ds.y
        if ds.imputed is not None:  # re-open the gaps: the fill is learnt from training rows
            X = np.where(ds.imputed, np.nan, X)
        raw: dict[str, tuple[NDArray[Any], NDArray[Any]]] = {}
        self.test_note = ""
        if ds.X_test is not None and ds.y_test is not None:
            if cfg.test_split:
                raise ConfigError(
                    f"{ds.name!r} has its own test set ({len(ds.X_test)} rows); drop --test-split."
                )
            raw["test"] = (ds.X_test, ds.y_test)
            test_split = 0.0
            self.test_note = "the data set's own test set"
        else:
            test_split = _test_split(cfg, y, classify)
            if cfg.test_split is None and not test_split:
                self.test_note = (
                    f"no test split: {len(X)} rows, under {AUTO_TEST_MIN_ROWS}; "
                    "--test-split sets one"
                )
        if test_split:
            X, X_t, y, y_t = train_test_split(
                X, y, test_size=test_split, seed=cfg.seed, stratify=strat(y)
            )
            raw["test"] = (X_t, y_t)
            how = "stratified, " if classify else ""
            self.test_note = f"test: {test_split:.0%} held out, {how}seed {cfg.seed}"
        if cfg.validation_split:
            share = cfg.validation_split / (1 - test_split)  # of what the test split left
            X, X_v, y, y_v = train_test_split(
                X, y, test_size=share, seed=cfg.seed + 1, stratify=strat(y)
            )
            raw["validation"] = (X_v, y_v)
        raw["train"] = (X, y)
        self.raw = raw
        train_part = dataclasses.replace(ds, X=X, y=y, X_test=None, y_test=None, imputed=None)
        self.preprocessor = Preprocessor().fit(train_part)
        prep = self.preprocessor

        def encoded(part: str) -> tuple[NDArray[np.float64], NDArray[Any]]:
            Xr, yr = raw[part]
            return prep.transform(Xr), (yr if classify else prep.transform_target(yr))

        self.X_train, self.y_train = encoded("train")
        self.validation = encoded("validation") if "validation" in raw else None
        self.test = encoded("test") if "test" in raw else None

        self.n_inputs = ds.n_features
        self.loss = _pick_loss(cfg.loss, ds)
        self.n_outputs = (
            2 if self.loss == "softmax_cross_entropy" and ds.task == "binary" else (ds.n_outputs)
        )
        h = hashlib.sha256()
        for arr in (self.X_train, self.y_train):
            h.update(np.ascontiguousarray(arr).tobytes())
        self.fingerprint = h.hexdigest()

    def describe(self) -> str:
        ds = self.dataset
        kind = ds.task
        if ds.classes is not None:
            shown = ", ".join(str(c) for c in ds.classes[:10])
            kind += f", {len(ds.classes)} classes: {shown}" + (" …" if len(ds.classes) > 10 else "")
        sizes = " / ".join(f"{part} {len(self.raw[part][0])}" for part in self.raw)
        note = f" ({self.test_note})" if self.test_note else ""
        return (
            f"data: {ds.name} ({ds.n_features} features, {kind}; target {ds.target_name!r}); "
            f"{sizes}{note}"
        )

    def _target_scale(self) -> float | None:
        """``s_t²`` of a single regression target (the loss in target units is ``mse · s_t²``)."""
        ts = self.preprocessor.target_scaler
        if self.dataset.task != "regression" or ts is None or ts.scale is None:
            return None
        if len(ts.scale) != 1:
            return None
        return float(ts.scale[0]) ** 2

    def units_note(self) -> str:
        """Which units the printed metrics and the loss curve use (regression)."""
        names = ", ".join(repr(t) for t in self.dataset.targets)
        if self._target_scale() is not None:
            return (
                f"(mse, mae and the loss curve: in the units of the target {names}; the loss "
                "shown while training is the mse of the standardised target, (y - mean) / std)"
            )
        return (
            f"(mse, mae: in the units of the targets {names}; the loss curve and the training "
            "loss: the mse of the standardised targets, (y - mean) / std)"
        )

    def _loss_history(self, history: dict[str, Any]) -> tuple[dict[str, Any], str]:
        """The history to plot and its title: regression losses in target units if one target."""
        name = self.dataset.name
        if self.dataset.task != "regression":
            return history, f"{name}: loss"
        scale = self._target_scale()
        if scale is None:
            return history, f"{name}: loss (mse of the standardised targets)"
        shown = dict(history, loss=f"mse, units of {self.dataset.targets[0]!r} squared")
        for key in ("train_loss", "val_loss"):
            shown[key] = [v * scale for v in history.get(key) or []]
        return shown, f"{name}: loss (mse in the target's units)"

    def baseline(self) -> dict[str, Any]:
        """A linear baseline on the same split: logistic or linear regression (scikit-learn).

        ``{"model": name, "split": "test"|"train", metric: value}``; the metric is
        accuracy (classification) or R² (regression), on the test split when
        there is one.
        """
        from sklearn.linear_model import LinearRegression, LogisticRegression

        from mlplab.nn.metrics import accuracy, r2_score

        split = "test" if "test" in self.raw else "train"
        X_raw, y = self.raw[split]
        X = self.preprocessor.transform(X_raw)
        if self.dataset.task == "regression":
            fitted = LinearRegression().fit(self.X_train, self.y_train)
            pred = self.preprocessor.inverse_transform_target(fitted.predict(X))
            return {"model": "linear regression", "split": split, "r2": r2_score(y, pred)}
        if len(np.unique(self.y_train)) < 2:  # one class only: nothing to fit
            return {}
        fitted = LogisticRegression(max_iter=1000).fit(self.X_train, self.y_train)
        pred = fitted.predict(X)
        return {"model": "logistic regression", "split": split, "accuracy": accuracy(y, pred)}

    # --- evaluation ---

    def metrics(self, model: MLP) -> dict[str, dict[str, Any]]:
        """``{split: {metric: value, "n": rows}}`` for train, validation and test."""
        out: dict[str, dict[str, Any]] = {}
        for part, name in (("train", "train"), ("validation", "validation"), ("test", "test")):
            if part not in self.raw:
                continue
            X, y = self.raw[part]
            out[name] = evaluate_model(
                model, self.preprocessor, self.preprocessor.transform(X), y, self.loss
            )
        return out

    def metadata(self, cfg: TrainConfig, metrics: dict[str, Any]) -> dict[str, Any]:
        """The model file's metadata: everything ``predict`` needs, and the run's record."""
        ds = self.dataset
        return {
            "task": ds.task,
            "loss": self.loss,
            "classes": ds.classes,
            "target_name": ds.target_name,
            "feature_names": list(ds.feature_names),
            "data": ds.name,
            "preprocessor": self.preprocessor.to_dict(),
            "config": cfg.to_dict(),
            "metrics": metrics,
        }

    def plots(self, model: MLP, history: dict[str, Any], outputs: PlotPaths) -> list[Path]:
        """The loss curve, and the decision boundary for 2-D classification."""
        from mlplab.plots import plot_decision_boundary, plot_loss_curve

        written: list[Path] = []
        if history.get("train_loss"):
            shown, title = self._loss_history(history)
            written.append(plot_loss_curve(shown, outputs.loss_png, title=title))
        ds = self.dataset
        if ds.n_features == 2 and ds.task != "regression" and not ds.categories:
            X, y = self.raw["train"]
            written.append(
                plot_decision_boundary(
                    model,
                    X,
                    y,
                    outputs.boundary_png,
                    title=f"{ds.name}: decision boundary ({'-'.join(map(str, model.sizes))})",
                    transform=self.preprocessor.transform,
                )
            )
        return written


def _test_split(cfg: TrainConfig, y: NDArray[Any], classify: bool) -> float:
    """The test fraction: ``cfg.test_split``, or 20 % of data large enough to spare it."""
    if cfg.test_split is not None:
        return cfg.test_split
    if len(y) < AUTO_TEST_MIN_ROWS or cfg.validation_split + AUTO_TEST_SPLIT >= 1:
        return 0.0
    if classify and np.unique(y, return_counts=True)[1].min() < 2:
        return 0.0  # a class with one row cannot be in both parts
    return AUTO_TEST_SPLIT


def _pick_loss(loss: str | None, ds: Dataset) -> str:
    fits = {
        "binary": ("bce", "softmax_cross_entropy"),
        "multiclass": ("softmax_cross_entropy",),
        "regression": ("mse",),
    }[ds.task]
    if loss is None:
        return fits[0]
    if loss not in fits:
        raise ConfigError(
            f"`--loss` {loss!r} does not fit a {ds.task} target ({ds.name!r}); "
            f"use {' or '.join(fits)}."
        )
    return loss


def _outputs_np(model: MLP, X: Array) -> NDArray[np.float64]:
    from mlplab import to_numpy

    return to_numpy(model(X)).astype(np.float64)


def evaluate_model(
    model: MLP, prep: Preprocessor | None, X: Array, y: NDArray[Any], loss: str
) -> dict[str, Any]:
    """Metrics of ``model`` on standardised inputs ``X`` and targets ``y``.

    ``y`` holds class indices (classification) or values in target units
    (regression). Classification: ``loss``, ``accuracy``; regression: ``mse``,
    ``mae`` (target units) and ``r2``. Always ``n``, the number of rows.
    """
    from mlplab.backend.arrays import get_backend
    from mlplab.nn.losses import get_loss
    from mlplab.nn.metrics import accuracy, r2_score

    out = _outputs_np(model, X)
    result: dict[str, Any] = {"n": int(len(X))}
    if prep is None or prep.task != "regression":
        loss_fn = get_loss(loss)
        target = loss_fn.prepare_targets(
            np.asarray(y, dtype=np.int64), model.n_outputs, get_backend("numpy", "float64")
        )
        result["loss"] = float(loss_fn.value_and_grad(out, target)[0])
        result["accuracy"] = accuracy(y, model.predict_class(X))
        return result
    pred = prep.inverse_transform_target(out).reshape(np.shape(y))
    err = pred - np.asarray(y, dtype=np.float64)
    result["mse"] = float(np.mean(err**2))
    result["mae"] = float(np.mean(np.abs(err)))
    result["r2"] = r2_score(y, pred)
    return result


# --- saved models -------------------------------------------------------------


class SavedModel:
    """A model file with its preprocessing, ready to predict, evaluate and explain."""

    def __init__(
        self,
        path: str,
        backend: str = "numpy",
        dtype: str | None = None,
        *,
        need_preprocessor: bool = False,
    ) -> None:
        from mlplab import files
        from mlplab.data import Preprocessor
        from mlplab.files.model import load_metadata

        self.path = path
        header = load_metadata(path)  # checked before a tensor byte is read
        if need_preprocessor and "preprocessor" not in header["extra"]:
            self._need_preprocessor(None)
        _check_outputs(path, header["extra"], header["sizes"][-1])
        self.model, self.meta = files.load_model(path, backend=backend, dtype=dtype)
        if "diverged" in self.meta:  # the last good weights of a run that diverged
            step = (
                self.meta["diverged"].get("step")
                if isinstance(self.meta["diverged"], dict)
                else "?"
            )
            print(
                f"mlplab: warning: {str(path)!r} holds the last good weights of a run that "
                f"diverged at step {step}; retrain with a smaller learning rate.",
                file=sys.stderr,
            )
        self.preprocessor: Preprocessor | None = None
        if "preprocessor" in self.meta:
            self.preprocessor = Preprocessor.from_dict(self.meta["preprocessor"])
            if self.preprocessor.n_features != self.model.n_inputs:
                raise ModelFileError(
                    f"'{path}' is inconsistent: its preprocessing makes "
                    f"{self.preprocessor.n_features} inputs but the network takes "
                    f"{self.model.n_inputs}."
                )
        self.loss = self.meta.get("loss") or (
            "bce" if self.model.n_outputs == 1 else "softmax_cross_entropy"
        )

    @property
    def classes(self) -> list[Any]:
        if self.preprocessor is not None and self.preprocessor.classes is not None:
            return self.preprocessor.classes
        return list(range(max(2, self.model.n_outputs)))

    @property
    def is_regression(self) -> bool:
        return self.preprocessor is not None and self.preprocessor.task == "regression"

    @property
    def n_raw_inputs(self) -> int:
        return self.model.n_inputs

    def _need_preprocessor(
        self, preprocessor: Preprocessor | None | EllipsisType = ...
    ) -> Preprocessor:
        prep = self.preprocessor if isinstance(preprocessor, EllipsisType) else preprocessor
        if prep is None:
            raise ModelFileError(
                f"'{self.path}' has no preprocessing metadata (it was not written by "
                "`mlplab train`); predict from Python with load_model(...) and model.predict(X)."
            )
        return prep

    @overload
    def load_data(
        self, data: str, *, delimiter: str | None = None, with_target: Literal[True]
    ) -> tuple[NDArray[np.float64], NDArray[Any]]: ...

    @overload
    def load_data(
        self, data: str, *, delimiter: str | None = None, with_target: bool
    ) -> tuple[NDArray[np.float64], NDArray[Any] | None]: ...

    def load_data(
        self, data: str, *, delimiter: str | None = None, with_target: bool
    ) -> tuple[NDArray[np.float64], NDArray[Any] | None]:
        """``(X, y)``: standardised inputs and targets (indices / target units) or ``None``."""
        from mlplab import data as datasets

        prep = self._need_preprocessor()
        if _is_builtin(data) and not Path(data).is_file():
            ds = datasets.load_dataset(data)
            if ds.X_test is not None and ds.y_test is not None:  # its own test split: use it
                ds = dataclasses.replace(ds, X=ds.X_test, y=ds.y_test, X_test=None, y_test=None)
            if ds.n_features != prep.n_features:
                raise DataError(
                    f"data set {ds.name!r} has {ds.n_features} features but the model expects "
                    f"{prep.n_features} ({', '.join(prep.feature_names[:10])})."
                )
            X = prep.transform(ds.X)
            if not with_target:
                return X, None
            if prep.task == "regression" or ds.task == "regression":
                if prep.task != ds.task:
                    raise DataError(
                        f"data set {ds.name!r} is {ds.task} but the model is {prep.task}."
                    )
                return X, ds.y
            assert ds.classes is not None  # a built-in classification set names its classes
            labels = [ds.classes[i] for i in ds.y]
            return X, prep.transform_target(labels)  # check_labels_known with prep.classes
        if not _looks_like_path(data):
            datasets.load_dataset(data)  # raises: unknown name, lists the names
        target = prep.targets if with_target else None
        config = self.meta.get("config")
        # left out at training: ignored here too
        dropped = (config.get("drop") if isinstance(config, dict) else None) or []
        X, y = datasets.load_csv_for_prediction(
            data,
            prep,
            target=target,
            delimiter=delimiter,
            with_target=with_target,
            ignore=[c for c in dropped if isinstance(c, str)],
        )
        return X, y

    def predictions_csv(self, X: Array) -> str:
        """CSV text: ``prediction`` (a class label or a value) and, for classes, ``p_<class>``.

        Numbers are written with ``repr``, so they read back bit-for-bit.
        """
        buf = _io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        prep = self.preprocessor
        if prep is not None and prep.task == "regression":  # self.is_regression
            y = prep.inverse_transform_target(_outputs_np(self.model, X))  # (n, t)
            names = prep.targets
            header = ["prediction"] if len(names) == 1 else [f"prediction_{n}" for n in names]
            writer.writerow(header)
            writer.writerows([repr(float(v)) for v in row] for row in y)
            return buf.getvalue()
        proba = self.model.predict_proba(X)  # (n, k)
        labels = [self.classes[i] for i in np.argmax(proba, axis=1)]
        writer.writerow(["prediction", *(f"p_{c}" for c in self.classes)])
        for label, row in zip(labels, proba, strict=True):
            writer.writerow([label, *(repr(float(p)) for p in row)])
        return buf.getvalue()

    def evaluate(self, X: Array, y: NDArray[Any]) -> dict[str, Any]:
        """Metrics (see :func:`evaluate_model`) plus the confusion matrix for classes."""
        from mlplab.nn.metrics import confusion_matrix

        result = evaluate_model(self.model, self.preprocessor, X, y, self.loss)
        if not self.is_regression:
            C = confusion_matrix(y, self.model.predict_class(X), n_classes=len(self.classes))
            result["confusion_matrix"] = C.tolist()
        return result


def _check_outputs(path: str, meta: dict[str, Any], n_outputs: int) -> None:
    """The classes (or targets) a model file names must fit its output layer."""
    prep = meta.get("preprocessor")
    if not isinstance(prep, dict):
        prep = {}

    def bad(what: str) -> ModelFileError:
        return ModelFileError(f"'{path}' is inconsistent: {what}; it cannot predict.")

    if "regression" in (prep.get("task"), meta.get("task")):
        targets = prep.get("targets")
        if isinstance(targets, list) and len(targets) != n_outputs:
            raise bad(f"it names {len(targets)} target(s) but its network has {n_outputs} outputs")
        return
    for listed in (prep.get("classes"), meta.get("classes")):
        if isinstance(listed, list):
            _check_classes(listed, n_outputs, bad)


def _check_classes(
    classes: list[Any], n_outputs: int, bad: Callable[[str], ModelFileError]
) -> None:
    names = [str(c) for c in classes]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise bad(f"its class names repeat ({dup!r} more than once)")
    fits = n_outputs == len(classes) or (len(classes) == 2 and n_outputs == 1)
    if not fits:
        raise bad(
            f"it names {len(classes)} classes but its network has {n_outputs} output(s) "
            f"({'1 or 2' if len(classes) == 2 else len(classes)} expected)"
        )


# --- explain --------------------------------------------------------------------

_SYMBOL = {"heaviside": "H", "identity": ""}


def _num(v: float) -> str:
    text = f"{v:.4g}"
    return "0" if text == "-0" else text


def _sum_text(b: float, w: np.ndarray, x: np.ndarray, max_terms: int) -> str:
    if len(w) > max_terms:
        return f"{_num(b)} + w·x ({len(w)} terms)"
    text = _num(b)
    for wi, xi in zip(w, x, strict=True):
        sign = "-" if wi < 0 else "+"
        xs = _num(xi) if xi >= 0 else f"({_num(xi)})"
        text += f" {sign} {_num(abs(wi))}·{xs}"
    return text


def explain_lines(
    model: MLP,
    x: ArrayLike,
    *,
    saved: SavedModel | None = None,
    max_terms: int = 12,
) -> list[str]:
    """The forward pass of one input ``x`` `(d,)`, one line per neuron.

    Each neuron j of layer ℓ: ``σ(b_j + Σ_i W_ji · a_i) = σ(z_j) = a_j``, with
    the actual numbers (``H(-0.5 + 1·1 + 1·0) = H(0.5) = 1`` for the XOR net).
    With ``saved`` the raw input is standardised first, and the output is read
    as a class (with its probability) or a value in target units.
    """
    from mlplab.nn.mlp import forward_cache

    lines = []
    xs = np.asarray(x, dtype=np.float64)
    prep = saved.preprocessor if saved is not None else None
    names = prep.feature_names if prep is not None else [f"x{i + 1}" for i in range(len(xs))]
    lines.append("input: " + ", ".join(f"{n} = {_num(v)}" for n, v in zip(names, xs, strict=True)))
    if prep is not None:
        xs = prep.transform(xs[None, :])[0]
        lines.append("standardised (x - mean) / scale: [" + ", ".join(_num(v) for v in xs) + "]")
    params = model.numpy_params()
    activations = model.activations
    _, caches = forward_cache(
        [(np.asarray(b, np.float64), np.asarray(W, np.float64)) for b, W in params],
        activations,
        xs[None, :],
    )
    a_prev = xs
    for layer, ((b, W), sigma, cache) in enumerate(
        zip(params, activations, caches, strict=True), start=1
    ):
        last = layer == len(params)
        kind = "output" if last else "hidden"
        count = f"{len(b)} neuron" + ("s" if len(b) > 1 else "")
        lines.append(f"layer {layer} ({kind}, {sigma.name}, {count}): a = σ(b + W·x)")
        sym = _SYMBOL.get(sigma.name, sigma.name)
        z, a = np.asarray(cache.z)[0], np.asarray(cache.a)[0]
        for j in range(len(b)):
            label = f"y{j + 1}" if last else f"h{layer}.{j + 1}"
            inner = _sum_text(float(b[j]), W[j], a_prev, max_terms)
            if sym:
                lines.append(f"  {label} = {sym}({inner}) = {sym}({_num(z[j])}) = {_num(a[j])}")
            else:
                lines.append(f"  {label} = {inner} = {_num(a[j])}")
        a_prev = a
    lines.append(_read_output(model, a_prev, saved))
    return lines


def _read_output(model: MLP, out: NDArray[np.float64], saved: SavedModel | None) -> str:
    prep = saved.preprocessor if saved is not None else None
    if prep is not None and prep.task == "regression":
        value = prep.inverse_transform_target(out[None, :])[0]
        return "output (target units): " + ", ".join(_num(v) for v in value)
    if saved is None or prep is None:  # a hand-set net, or a file without preprocessing
        return "output: " + ", ".join(_num(v) for v in out)
    classes = saved.classes
    if model.n_outputs == 1:
        last = model.activations[-1].name
        p = out[0] if last in ("sigmoid", "heaviside") else 1 / (1 + np.exp(-out[0]))
        k = int(p > 0.5)
        how = "" if last in ("sigmoid", "heaviside") else f" = sigmoid({_num(out[0])})"
        return f"output: P(class {classes[1]!r}){how} = {_num(p)} -> predicted class {classes[k]!r}"
    e = np.exp(out - out.max())
    p = e / e.sum()
    k = int(np.argmax(p))
    shown = ", ".join(f"{c!r}: {_num(v)}" for c, v in zip(classes, p, strict=True))
    return f"output: softmax probabilities {{{shown}}} -> predicted class {classes[k]!r}"
