"""scikit-learn estimators: :class:`MLPClassifier` and :class:`MLPRegressor`.

Drop-in members of the scikit-learn ecosystem (``Pipeline``, ``GridSearchCV``,
``cross_val_score``, ``clone``, pickling) that train an :class:`~mlplab.nn.mlp.MLP`
with :func:`mlplab.fit`, on NumPy (default), PyTorch or JAX. They follow
scikit-learn's conventions: ``__init__`` stores its arguments unchanged,
``fit`` validates them, fitted attributes end with ``_``. They pass
``sklearn.utils.estimator_checks.parametrize_with_checks`` (see
``tests/test_sklearn.py``).

The model is the lecture's: hidden layers ``z = σ(b + W x)``, an ``identity``
output layer whose raw outputs are the logits (classification) or the
predictions (regression). Training minimises

``L(θ) = Σᵢ wᵢ lᵢ(θ) / Σᵢ wᵢ + (alpha / 2) Σ_ℓ ‖W_ℓ‖²``

with ``lᵢ`` the binary cross-entropy (two classes, one logit), the softmax
cross-entropy (k classes, k logits) or the squared error (regression), and
``wᵢ`` the ``sample_weight``.

Inputs are *not* standardised inside: put a ``StandardScaler`` before the
estimator in a ``Pipeline``, as with scikit-learn's own MLP.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Sequence
from numbers import Integral
from typing import TYPE_CHECKING, Any, Literal, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from .backend.arrays import (
    BACKENDS,
    DTYPES,
    Backend,
    backend_of,
    from_numpy_like,
    resolve_device,
    to_numpy,
)
from .errors import ConfigError, DataError, check_choice, check_number
from .nn.activations import Activation, get_activation, stable_sigmoid
from .nn.mlp import MLP, Array, check_hidden
from .nn.optim import SGD, Adam, AdamW
from .nn.schedules import Constant, Cosine, Step, Warmup
from .train import FitOptions, TrainState, fit

if TYPE_CHECKING:
    from sklearn.utils import Tags

    from .train.state import History

SOLVERS = ("adam", "sgd", "adamw")
LR_SCHEDULES = ("constant", "step", "cosine", "warmup")
# scikit-learn's activation names, mapped onto mlplab's.
_SKLEARN_ACTIVATIONS = {"logistic": "sigmoid"}


class _BaseMLP(BaseEstimator):  # type: ignore[misc]  # scikit-learn ships no type hints
    """What the classifier and the regressor share: validation, training, state.

    Subclasses define ``_encode_targets(y, first_call, classes)`` returning
    ``(targets for mlplab.fit, n_outputs, loss name)``.
    """

    # The fitted attributes, set by fit (declared for the type checker; not class attributes).
    model_: MLP
    n_features_in_: int
    n_outputs_: int
    n_layers_: int
    out_activation_: str
    loss_curve_: list[float]
    validation_scores_: list[float] | None
    validation_loss_curve_: list[float] | None
    best_loss_: float | None
    best_validation_score_: float | None
    n_iter_: int
    t_: int
    _train_state: TrainState | None

    def __init__(
        self,
        hidden_layer_sizes: int | Sequence[int] | None = (100,),
        activation: str | dict[str, Any] | Activation = "relu",
        *,
        solver: Literal["adam", "sgd", "adamw"] = "adam",
        alpha: float = 1e-4,
        batch_size: int | Literal["auto"] = "auto",
        learning_rate_init: float = 1e-3,
        lr_schedule: Literal["constant", "step", "cosine", "warmup"] = "constant",
        max_iter: int = 200,
        momentum: float = 0.9,
        nesterov: bool = False,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        tol: float = 1e-4,
        random_state: int | np.random.RandomState | None = None,
        backend: str = "numpy",
        dtype: str = "float64",
        device: Any = None,
        warm_start: bool = False,
        verbose: bool | int = False,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.lr_schedule = lr_schedule
        self.max_iter = max_iter
        self.momentum = momentum
        self.nesterov = nesterov
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.random_state = random_state
        self.backend = backend
        self.dtype = dtype
        self.device = device
        self.warm_start = warm_start
        self.verbose = verbose

    # --- hyperparameters ---------------------------------------------------

    def _check_params(self) -> None:
        """Raise :class:`~mlplab.errors.ConfigError` (a ``ValueError``) on a bad hyperparameter."""
        self._hidden_sizes()
        self._activation()
        check_choice("solver", self.solver, SOLVERS)
        check_number("alpha", self.alpha, ge=0)
        if not (isinstance(self.batch_size, str) and self.batch_size == "auto"):
            check_number("batch_size", self.batch_size, ge=1, integer=True, hint="Or pass 'auto'.")
        check_number("learning_rate_init", self.learning_rate_init, gt=0)
        check_choice("lr_schedule", self.lr_schedule, LR_SCHEDULES)
        check_number("max_iter", self.max_iter, ge=1, integer=True)
        check_number("momentum", self.momentum, ge=0, lt=1)
        _check_bool("nesterov", self.nesterov)
        self._optimizer()  # SGD checks momentum and nesterov together
        _check_bool("early_stopping", self.early_stopping)
        check_number("validation_fraction", self.validation_fraction, gt=0, lt=1)
        check_number("n_iter_no_change", self.n_iter_no_change, ge=1, integer=True)
        check_number("tol", self.tol, ge=0)
        check_choice("backend", self.backend, BACKENDS)
        check_choice("dtype", self.dtype, DTYPES)
        _check_bool("warm_start", self.warm_start)
        if not isinstance(self.verbose, bool | Integral):
            raise ConfigError(f"`verbose` must be a bool or an int; got {self.verbose!r}.")

    def _hidden_sizes(self) -> list[int]:
        return check_hidden(self.hidden_layer_sizes, "hidden_layer_sizes")

    def _activation(self) -> Activation:
        spec = self.activation
        if isinstance(spec, str):
            spec = _SKLEARN_ACTIVATIONS.get(spec, spec)
        return get_activation(spec)

    def _optimizer(self) -> SGD | Adam:
        if self.solver == "sgd":
            return SGD(momentum=float(self.momentum), nesterov=bool(self.nesterov))
        if self.solver == "adamw":
            return AdamW()
        return Adam()

    def _schedule(self, total_steps: int) -> Step | Cosine | Warmup | Constant:
        """The learning-rate schedule of a run of ``total_steps`` optimizer steps.

        ``"step"``: lr × 0.1 after each third of the run; ``"cosine"``: cosine decay
        to 0 over the run; ``"warmup"``: linear warm-up over the first 10 % of the
        steps, then constant.
        """
        if self.lr_schedule == "step":
            return Step(step_size=max(1, math.ceil(total_steps / 3)), gamma=0.1)
        if self.lr_schedule == "cosine":
            return Cosine()
        if self.lr_schedule == "warmup":
            return Warmup(warmup_steps=max(1, total_steps // 10))
        return Constant()

    # --- training ----------------------------------------------------------

    def fit(self, X: Array, y: Array, sample_weight: Array | None = None) -> Self:
        """Train on ``X`` `(n_samples, n_features)` and ``y``; return ``self``.

        Runs up to ``max_iter`` epochs of minibatch gradient descent. Without
        ``early_stopping`` training stops once the training loss has not
        improved by ``tol`` for ``n_iter_no_change`` consecutive epochs; with
        it, once the loss on a held-out ``validation_fraction`` has not, and the
        best weights are restored. With ``warm_start=True`` a second ``fit``
        continues from the current weights and optimizer state.
        """
        return self._fit(X, y, sample_weight, incremental=False, classes=None)

    def partial_fit(
        self, X: Array, y: Array, sample_weight: Array | None = None, **kwargs: Any
    ) -> Self:
        """One epoch over ``X, y``, continuing from the current weights and optimizer state.

        Uses the constant ``learning_rate_init`` (a schedule needs the length
        of the run, which ``partial_fit`` does not know) and never holds out
        validation data. ``MLPClassifier`` needs ``classes=`` on the first call.
        """
        classes = kwargs.pop("classes", None)
        if kwargs:
            raise TypeError(f"partial_fit() got unexpected arguments {sorted(kwargs)}.")
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def _fit(
        self,
        X: Array,
        y: Array,
        sample_weight: Array | None,
        *,
        incremental: bool,
        classes: ArrayLike | None,
    ) -> Self:
        self._check_params()
        continuing = hasattr(self, "model_") and (incremental or self.warm_start)
        X, targets, n_outputs, loss, sw = self._inputs(X, y, sample_weight, continuing, classes,
                                                      incremental)  # fmt: skip
        rng = check_random_state(self.random_state)
        reuse = self._model(X.shape[1], n_outputs, loss, continuing, rng)
        options = self._fit_options(X.shape[0], loss, incremental, rng)
        stopper = _NoImprovement(self.tol, self.n_iter_no_change, self.best_loss_)
        if not options.early_stopping and not incremental:
            options = dataclasses.replace(options, callbacks=(stopper,))
        history = fit(
            self.model_,
            X,
            targets,
            options=options,
            sample_weight=sw,
            state=self._train_state if reuse else None,
        )
        self._record(history, early=options.early_stopping)
        converged = stopper.stopped or history.stopped_early
        if not incremental and not converged and len(history.train_loss) == options.epochs:
            warnings.warn(
                f"Stochastic optimizer: maximum iterations ({options.epochs}) reached and the "
                "optimization hasn't converged yet. Raise max_iter, or learning_rate_init.",
                ConvergenceWarning,
                stacklevel=3,
            )
        return self

    def _inputs(
        self,
        X: Array,
        y: Array,
        sample_weight: Array | None,
        continuing: bool,
        classes: ArrayLike | None,
        incremental: bool,
    ) -> tuple[NDArray[np.floating], NDArray[Any], int, str, NDArray[np.float64] | None]:
        """Validated ``X``, the targets for :func:`mlplab.fit`, output count, loss, weights."""
        # PyTorch / JAX inputs (any device) are read as NumPy; training runs on `backend`.
        X, y, sample_weight = (_host(a) for a in (X, y, sample_weight))
        X, y = validate_data(
            self,
            X,
            y,
            reset=not (incremental and continuing),
            dtype=(np.float64, np.float32),
            **self._y_check_params(),
        )
        targets, n_outputs, loss = self._encode_targets(y, not continuing, classes, incremental)
        sw = None
        if sample_weight is not None:
            sw = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
            if not np.any(sw > 0):
                raise DataError("`sample_weight` must have a positive sum; got all zeros.")
        return X, targets, n_outputs, loss, sw

    def _y_check_params(self) -> dict[str, bool]:
        """The arguments of scikit-learn's ``validate_data`` for ``y`` (per subclass)."""
        raise NotImplementedError

    def _encode_targets(
        self, y: NDArray[Any], first_call: bool, classes: ArrayLike | None, incremental: bool
    ) -> tuple[NDArray[Any], int, str]:
        """``(targets for mlplab.fit, n_outputs, loss name)`` (per subclass)."""
        raise NotImplementedError

    def _model(
        self,
        n_features: int,
        n_outputs: int,
        loss: str,
        continuing: bool,
        rng: np.random.RandomState,
    ) -> bool:
        """Keep ``model_`` (warm start / partial fit, same shape) or build a new one; say which."""
        hidden = self._hidden_sizes()
        sizes = [n_features, *hidden, n_outputs]
        activation = self._activation()
        reuse = (
            continuing
            and self.model_.sizes == sizes
            and [a.spec() for a in self.model_.activations[:-1]]
            == [activation.spec()] * len(hidden)
            and (self.model_.backend.name, self.model_.backend.dtype) == (self.backend, self.dtype)
            and self.model_.backend.device == resolve_device(self.backend, self.device)
        )
        if not reuse:
            self.model_ = MLP(
                n_features,
                hidden,
                n_outputs,
                activation=activation,
                output_activation="identity",
                seed=int(rng.randint(np.iinfo(np.int32).max)),
                backend=self.backend,
                dtype=self.dtype,
                device=self.device,
            )
            self._train_state = None
            self.loss_curve_ = []
            self.validation_scores_ = None
            self.validation_loss_curve_ = None
            self.best_loss_ = math.inf
            self.best_validation_score_ = None
            self.t_ = 0
        self.n_features_in_ = n_features
        self.n_outputs_ = n_outputs
        self.n_layers_ = len(sizes)
        self.out_activation_ = {"bce": "logistic", "softmax_cross_entropy": "softmax"}.get(
            loss, "identity"
        )
        return reuse

    def _fit_options(
        self, n: int, loss: str, incremental: bool, rng: np.random.RandomState
    ) -> FitOptions:
        """scikit-learn's parameters as mlplab's :class:`~mlplab.train.FitOptions`."""
        batch = min(200, n) if self.batch_size == "auto" else min(int(self.batch_size), n)
        early = bool(self.early_stopping) and not incremental
        epochs = 1 if incremental else int(self.max_iter)
        n_train = n - int(round(n * self.validation_fraction)) if early else n
        total_steps = epochs * math.ceil(max(n_train, 1) / batch)
        return FitOptions(
            loss=loss,
            optimizer=self._optimizer(),
            lr=float(self.learning_rate_init),
            schedule=Constant() if incremental else self._schedule(total_steps),
            epochs=epochs,
            batch_size=batch,
            shuffle=True,
            seed=int(rng.randint(np.iinfo(np.int32).max)),
            validation_split=float(self.validation_fraction) if early else 0.0,
            early_stopping=early,
            patience=int(self.n_iter_no_change),
            min_delta=float(self.tol),
            l2=float(self.alpha),
            verbose=2 if self.verbose else 0,
        )

    def _record(self, history: History, *, early: bool) -> None:
        """Extend the fitted attributes (``loss_curve_``, ``n_iter_``, …) with a run's history."""
        assert history.state is not None  # fit() always records where the run stands
        self._train_state = history.state
        self.t_ = int(history.state.step)
        self.loss_curve_ = [*self.loss_curve_, *history.train_loss]
        self.n_iter_ = len(self.loss_curve_)
        if early:
            self.validation_scores_ = [*(self.validation_scores_ or []), *history.val_metric]
            self.validation_loss_curve_ = [
                *(self.validation_loss_curve_ or []),
                *history.val_loss,
            ]
            self.best_validation_score_ = float(max(self.validation_scores_))
            self.best_loss_ = None
        else:
            self.best_loss_ = float(min(self.loss_curve_))

    # --- prediction --------------------------------------------------------

    def _raw_output(self, X: Array) -> tuple[NDArray[np.float64], Array | None]:
        """The network's outputs `(n_samples, n_outputs)` as float64 NumPy, and the caller's array.

        ``X`` may be a NumPy, PyTorch (any device) or JAX array; the second value
        is that array (or ``None`` for NumPy / lists) so results can be handed
        back in the caller's type.
        """
        check_is_fitted(self, "model_")
        like = X if backend_of(X) in ("torch", "jax") else None
        X = _host(X)
        X = validate_data(self, X, reset=False, dtype=(np.float64, np.float32))
        out = to_numpy(self.model_(X)).astype(np.float64)  # (n_samples, n_outputs)
        return out, like

    @staticmethod
    def _as_caller(values: NDArray[Any], like: Array | None, return_numpy: bool) -> Array:
        if like is None or return_numpy or values.dtype.kind not in "biuf":
            return values
        return from_numpy_like(values, like)

    @property
    def coefs_(self) -> list[np.ndarray]:
        """Weight matrices in scikit-learn's layout, `(d_in, d_out)` per layer (``Wᵀ``)."""
        return [W.T for _, W in self.model_.numpy_params()]

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """Bias vectors `(d_out,)` per layer."""
        return [b for b, _ in self.model_.numpy_params()]

    # --- pickling: the model's activations hold functions, so store specs --

    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())  # a copy: never change the live __dict__
        model = state.get("model_")
        if isinstance(model, MLP):
            state["model_"] = {
                "params": model.numpy_params(),
                "activations": [a.spec() for a in model.activations],
                "backend": model.backend.name,
                "dtype": model.backend.dtype,
            }
        if state.get("_train_state") is not None:
            ts = state["_train_state"]
            state["_train_state"] = (_tree_to_numpy(ts.opt_state), ts.step, ts.epoch)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        model = state.get("model_")
        if isinstance(model, dict):
            state["model_"] = MLP.from_params(
                model["params"],
                model["activations"],
                backend=model["backend"],
                dtype=model["dtype"],
            )
            if isinstance(state.get("_train_state"), tuple):
                opt_state, step, epoch = state["_train_state"]
                backend = state["model_"].backend
                state["_train_state"] = TrainState(
                    _tree_to_backend(opt_state, backend), step, epoch
                )
        super().__setstate__(state)

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = False
        return tags


class MLPClassifier(ClassifierMixin, _BaseMLP):  # type: ignore[misc]  # no sklearn type hints
    """A multi-layer perceptron classifier, scikit-learn style, trained by mlplab.

    Two classes: one output logit ``z`` and the binary cross-entropy,
    ``P(class 1) = sigmoid(z)``. ``k > 2`` classes: ``k`` logits and the softmax
    cross-entropy, ``P = softmax(z)``. Labels may be any sortable values
    (strings too); ``classes_`` holds them in sorted order.

    Args:
        hidden_layer_sizes: width of each hidden layer, e.g. ``(100,)`` or ``(64, 64)``.
        activation: σ of the hidden layers: ``"relu"``, ``"tanh"``, ``"sigmoid"``
            (``"logistic"``), ``"leaky_relu"``, ``"softplus"``, ``"gelu"``,
            ``"identity"``, ``"heaviside"`` or a spec dict (see
            :func:`mlplab.get_activation`).
        solver: optimizer, ``"adam"``, ``"sgd"`` or ``"adamw"``.
        alpha: L2 penalty ``(alpha / 2) Σ ‖W‖²`` added to the mean loss (weights only).
        batch_size: minibatch size, or ``"auto"`` = ``min(200, n_samples)``.
        learning_rate_init: base learning rate.
        lr_schedule: ``"constant"``, ``"step"`` (× 0.1 after each third of the run),
            ``"cosine"`` (to 0 over the run) or ``"warmup"`` (linear over the
            first 10 % of steps).
        max_iter: maximum number of epochs.
        momentum: SGD's momentum μ (``solver="sgd"`` only).
        nesterov: Nesterov's variant of SGD's momentum (``solver="sgd"`` only).
        early_stopping: hold out ``validation_fraction`` of the data and stop when
            its loss has not improved by ``tol`` for ``n_iter_no_change`` epochs;
            the best weights are restored.
        validation_fraction: share of the data held out for early stopping.
        n_iter_no_change: patience, in epochs.
        tol: the smallest improvement of the (training or validation) loss that counts.
        random_state: seed of the initial weights, minibatch order and
            validation split (int, ``RandomState`` or ``None``).
        backend: ``"numpy"``, ``"torch"`` or ``"jax"``.
        dtype: ``"float64"`` (as scikit-learn) or ``"float32"``.
        device: ``"cpu"``, ``"cuda"``, ``"cuda:N"`` (torch / jax); ``None``: the
            backend's default (a GPU when present). The data is moved there once per fit.
        warm_start: a new ``fit`` continues from the previous weights and optimizer state.
        verbose: print one line per epoch.

    Fitted attributes: ``model_`` (the :class:`~mlplab.nn.mlp.MLP`), ``classes_``,
    ``n_features_in_``, ``feature_names_in_`` (with a DataFrame), ``loss_curve_``
    (per epoch, with the L2 term), ``validation_scores_`` (accuracy per epoch with
    early stopping, else ``None``), ``best_loss_``, ``best_validation_score_``,
    ``n_iter_`` (epochs), ``t_`` (optimizer steps), ``n_outputs_``,
    ``n_layers_``, ``out_activation_`` (``"logistic"`` or ``"softmax"``),
    ``coefs_`` and ``intercepts_`` (scikit-learn's layout).

    Examples:
        >>> from sklearn.datasets import load_iris
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = MLPClassifier((16,), max_iter=300, random_state=0).fit(X, y)
        >>> clf.score(X, y) > 0.9
        True
    """

    classes_: NDArray[Any]  # fitted: the labels, sorted

    def _y_check_params(self) -> dict[str, bool]:
        return {}

    def _encode_targets(
        self, y: NDArray[Any], first_call: bool, classes: ArrayLike | None, incremental: bool
    ) -> tuple[NDArray[Any], int, str]:
        check_classification_targets(y)
        y = column_or_1d(y, warn=True)
        if incremental and first_call:
            if classes is None:
                raise ValueError(
                    "`classes` must be passed on the first call to partial_fit, e.g. "
                    "partial_fit(X, y, classes=np.unique(y_all))."
                )
            self.classes_ = np.unique(np.asarray(classes))
        elif incremental:
            if classes is not None and not np.array_equal(np.unique(classes), self.classes_):
                raise ValueError(
                    f"`classes`={np.unique(classes).tolist()} is not the same as on the first "
                    f"call to partial_fit ({self.classes_.tolist()})."
                )
        elif first_call:
            self.classes_ = np.unique(y)
        unknown = np.setdiff1d(np.unique(y), self.classes_)
        if unknown.size:
            raise ValueError(
                f"`y` has labels {unknown.tolist()} that are not in classes_ "
                f"{self.classes_.tolist()} of the earlier call; warm_start and partial_fit "
                "need the same classes (pass classes= on the first partial_fit)."
            )
        k = len(self.classes_)
        if k < 2:
            raise ValueError(
                f"MLPClassifier needs samples of at least 2 classes; got 1 class "
                f"({self.classes_[0]!r}). Check the labels."
            )
        encoded = np.searchsorted(self.classes_, y).astype(np.int64)  # (n_samples,) in 0..k-1
        if k == 2:
            return encoded, 1, "bce"
        return encoded, k, "softmax_cross_entropy"

    def predict_proba(self, X: Array, *, return_numpy: bool = False) -> Array:
        """Class probabilities `(n_samples, n_classes)`, columns in the order of ``classes_``.

        Returned as the caller's array type (NumPy, PyTorch, JAX) unless
        ``return_numpy=True``.
        """
        out, like = self._raw_output(X)
        if out.shape[1] == 1:  # binary: P(class 1) = sigmoid(z)
            p = stable_sigmoid(out[:, 0])
            proba = np.stack([1 - p, p], axis=1)
        else:  # softmax over the k logits, max subtracted for stability
            e = np.exp(out - out.max(axis=1, keepdims=True))
            proba = e / e.sum(axis=1, keepdims=True)
        return self._as_caller(proba, like, return_numpy)

    def predict_log_proba(self, X: Array, *, return_numpy: bool = False) -> Array:
        """``log`` of :meth:`predict_proba`."""
        out, like = self._raw_output(X)
        if out.shape[1] == 1:  # log sigmoid(±z) = −softplus(∓z)
            z = out[:, 0]
            logp = np.stack([-np.logaddexp(0, z), -np.logaddexp(0, -z)], axis=1)
        else:
            z = out - out.max(axis=1, keepdims=True)
            logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return self._as_caller(logp, like, return_numpy)

    def predict(self, X: Array, *, return_numpy: bool = False) -> Array:
        """Predicted labels `(n_samples,)` from ``classes_``.

        Returned as the caller's array type (NumPy, PyTorch, JAX) when the labels
        are numbers, unless ``return_numpy=True``; string labels come back as NumPy.
        """
        out, like = self._raw_output(X)
        idx = (out[:, 0] > 0).astype(np.int64) if out.shape[1] == 1 else out.argmax(axis=1)
        return self._as_caller(self.classes_[idx], like, return_numpy)

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = False
        return tags


class MLPRegressor(RegressorMixin, _BaseMLP):  # type: ignore[misc]  # no sklearn type hints
    """A multi-layer perceptron regressor, scikit-learn style, trained by mlplab.

    Identity output layer, mean squared error. ``y`` may be `(n_samples,)` or
    `(n_samples, n_targets)`; predictions have the same number of dimensions.
    Hyperparameters and fitted attributes as :class:`MLPClassifier` (without
    ``classes_``; ``validation_scores_`` holds R² per epoch,
    ``out_activation_`` is ``"identity"``).

    Examples:
        >>> import numpy as np
        >>> X = np.linspace(-1, 1, 50)[:, None]
        >>> reg = MLPRegressor((32,), activation="tanh", max_iter=500, random_state=0)
        >>> reg.fit(X, np.sin(3 * X).ravel()).score(X, np.sin(3 * X).ravel()) > 0.9
        True
    """

    _y_ndim: int  # fitted: 1 or 2, as the `y` of the first fit

    def _y_check_params(self) -> dict[str, bool]:
        return {"multi_output": True, "y_numeric": True}

    def _encode_targets(
        self, y: NDArray[Any], first_call: bool, classes: ArrayLike | None, incremental: bool
    ) -> tuple[NDArray[Any], int, str]:
        if classes is not None:
            raise ValueError("`classes` is only for MLPClassifier.partial_fit.")
        y = np.asarray(y, dtype=np.float64)
        if first_call:
            self._y_ndim = y.ndim
        targets = y[:, None] if y.ndim == 1 else y  # (n_samples, n_outputs)
        if not first_call and targets.shape[1] != self.n_outputs_:
            raise ValueError(
                f"`y` has {targets.shape[1]} targets but the model was fitted with "
                f"{self.n_outputs_}; use warm_start=False to start again."
            )
        return targets, targets.shape[1], "mse"

    def predict(self, X: Array, *, return_numpy: bool = False) -> Array:
        """Predictions `(n_samples,)` (or `(n_samples, n_targets)` for 2-D ``y``).

        Returned as the caller's array type (NumPy, PyTorch, JAX) unless
        ``return_numpy=True``.
        """
        out, like = self._raw_output(X)
        if self._y_ndim == 1:
            out = out[:, 0]
        return self._as_caller(out, like, return_numpy)

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags


# --- helpers -----------------------------------------------------------------


class _NoImprovement:
    """scikit-learn's stopping rule on the training loss, as an :func:`mlplab.fit` callback.

    An epoch counts as "no improvement" when its loss is above ``best − tol``;
    training stops after more than ``patience`` such epochs in a row.
    """

    def __init__(self, tol: float, patience: int, best: float | None) -> None:
        self.tol, self.patience = float(tol), int(patience)
        self.best = math.inf if best is None else float(best)
        self.count = 0
        self.stopped = False

    def __call__(self, epoch: int, logs: dict[str, float], model: MLP) -> bool:
        loss = logs["train_loss"]
        self.count = self.count + 1 if loss > self.best - self.tol else 0
        self.best = min(self.best, loss)
        self.stopped = self.count > self.patience
        return self.stopped


def _host(a: Array) -> Array:
    """PyTorch and JAX arrays as NumPy; anything else unchanged (scikit-learn validates it)."""
    return to_numpy(a) if a is not None and backend_of(a) in ("torch", "jax") else a


def _check_bool(name: str, value: object) -> None:
    if not isinstance(value, bool | np.bool_):
        raise ConfigError(f"`{name}` must be True or False; got {value!r}.")


def _tree_to_numpy(tree: Any) -> Any:  # an optimizer state: dicts / lists / tuples of arrays
    if isinstance(tree, dict):
        return {k: _tree_to_numpy(v) for k, v in tree.items()}
    if isinstance(tree, list | tuple):
        return type(tree)(_tree_to_numpy(v) for v in tree)
    return to_numpy(tree)


def _tree_to_backend(tree: Any, backend: Backend) -> Any:
    if isinstance(tree, dict):
        return {k: _tree_to_backend(v, backend) for k, v in tree.items()}
    if isinstance(tree, list | tuple):
        return type(tree)(_tree_to_backend(v, backend) for v in tree)
    return backend.asarray(tree)


__all__ = ["MLPClassifier", "MLPRegressor"]
