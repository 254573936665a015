"""The scikit-learn estimators: scikit-learn's own checks, ecosystem use, state, interop."""

from __future__ import annotations

import io
import pickle
import warnings
from contextlib import redirect_stderr

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_iris, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import mlplab as ml
from mlplab.errors import ConfigError
from mlplab.sklearn import MLPClassifier, MLPRegressor

# scikit-learn's checks fit many tiny models; max_iter=100 (scikit-learn uses
# the same for its own MLPs in these checks) keeps them quick.
CHECKED = [MLPClassifier(max_iter=100), MLPRegressor(max_iter=100)]


@parametrize_with_checks(CHECKED)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_sklearn_estimator_checks(estimator, check, monkeypatch):
    # scikit-learn runs its array-API check only when SCIPY_ARRAY_API is set;
    # set it so that check runs instead of being skipped.
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")
    check(estimator)


def _quiet(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kwargs)


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(0)
    centers = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 3.0]])
    y = rng.integers(0, 3, 150)
    X = centers[y] + 0.6 * rng.standard_normal((150, 2))
    return X, y


# --- the ecosystem -------------------------------------------------------------


def test_pipeline_scaler_and_classifier(cancer):
    X_train, X_test, y_train, y_test = cancer
    pipe = make_pipeline(StandardScaler(), MLPClassifier((32,), max_iter=60, random_state=0))
    _quiet(pipe, X_train, y_train)
    assert pipe.score(X_test, y_test) > 0.94
    assert pipe[-1].out_activation_ == "logistic"
    assert pipe.predict_proba(X_test).shape == (len(X_test), 2)


def test_grid_search(blobs):
    X, y = blobs
    grid = GridSearchCV(
        MLPClassifier(learning_rate_init=0.02, max_iter=100, random_state=0),
        {"hidden_layer_sizes": [(4,), (16,)], "activation": ["tanh", "relu"]},
        cv=3,
    )
    _quiet(grid, X, y)
    assert set(grid.best_params_) == {"hidden_layer_sizes", "activation"}
    assert grid.best_score_ > 0.9
    assert grid.best_estimator_.classes_.tolist() == [0, 1, 2]
    assert len(grid.cv_results_["mean_test_score"]) == 4


def test_cross_val_score_regressor():
    X, y = make_regression(n_samples=120, n_features=4, noise=5.0, random_state=0)
    pipe = make_pipeline(
        StandardScaler(), MLPRegressor((32,), learning_rate_init=0.01, max_iter=300, random_state=0)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = cross_val_score(pipe, X, y / y.std(), cv=3)
    assert scores.shape == (3,)
    assert scores.min() > 0.9


def test_multiclass_uses_softmax_and_string_labels(blobs):
    X, y = blobs
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = MLPClassifier((16,), learning_rate_init=0.02, max_iter=100, random_state=0)
    _quiet(clf, X, names)
    assert clf.classes_.tolist() == ["setosa", "versicolor", "virginica"]
    assert clf.out_activation_ == "softmax" and clf.n_outputs_ == 3
    assert clf.model_.sizes == [2, 16, 3]
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-10)
    assert clf.score(X, names) > 0.9


def test_binary_proba_is_sigmoid_of_the_logit(cancer):
    X_train, _, y_train, _ = cancer
    X = StandardScaler().fit_transform(X_train)
    clf = _quiet(MLPClassifier((8,), max_iter=5, random_state=1), X, y_train)
    logit = ml.to_numpy(clf.model_(X))[:, 0].astype(np.float64)
    np.testing.assert_allclose(clf.predict_proba(X)[:, 1], 1 / (1 + np.exp(-logit)), rtol=1e-12)
    np.testing.assert_allclose(
        clf.predict_log_proba(X), np.log(clf.predict_proba(X)), rtol=1e-9, atol=1e-12
    )


def test_feature_names_from_dataframe():
    X, y = load_iris(return_X_y=True, as_frame=True)
    clf = _quiet(MLPClassifier((8,), max_iter=20, random_state=0), X, y)
    assert list(clf.feature_names_in_) == list(X.columns)
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(X.rename(columns=lambda c: c.upper()))


# --- state: partial_fit, warm_start, pickling ------------------------------------


def test_partial_fit_needs_classes_first(blobs):
    X, y = blobs
    clf = MLPClassifier((8,), random_state=0)
    with pytest.raises(ValueError, match="classes"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[:10], y[:10], classes=[0, 1, 2])
    assert clf.classes_.tolist() == [0, 1, 2] and clf.n_iter_ == 1
    with pytest.raises(ValueError, match="not the same"):
        clf.partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match=r"labels \[7\]"):
        clf.partial_fit(X[:3], np.array([7, 0, 1]))
    with pytest.raises(ValueError, match="features"):
        clf.partial_fit(X[:, :1], y)


def test_partial_fit_continues_the_optimizer_state(blobs):
    # Full-batch epochs do not depend on shuffling, so k partial_fit calls must
    # equal one fit of k epochs exactly: same initial weights, same Adam moments.
    X, y = blobs
    settings = dict(hidden_layer_sizes=(8,), batch_size=1000, tol=0.0, random_state=3)
    inc = MLPClassifier(**settings)
    for _ in range(4):
        inc.partial_fit(X, y, classes=[0, 1, 2])
    full = _quiet(MLPClassifier(max_iter=4, **settings), X, y)
    assert inc.n_iter_ == full.n_iter_ == 4 and inc.t_ == full.t_ == 4
    np.testing.assert_allclose(inc.loss_curve_, full.loss_curve_, rtol=1e-12)
    pairs = zip(inc.model_.numpy_params(), full.model_.numpy_params(), strict=True)
    for (b1, W1), (b2, W2) in pairs:
        np.testing.assert_allclose(W1, W2, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(b1, b2, rtol=1e-12, atol=1e-15)


def test_warm_start_continues_and_cold_start_restarts(blobs):
    X, y = blobs
    settings = dict(hidden_layer_sizes=(8,), batch_size=1000, tol=0.0, random_state=0)
    warm = _quiet(MLPClassifier(max_iter=5, warm_start=True, **settings), X, y)
    _quiet(warm, X, y)
    ten = _quiet(MLPClassifier(max_iter=10, **settings), X, y)
    assert warm.n_iter_ == 10 and len(warm.loss_curve_) == 10
    np.testing.assert_allclose(warm.loss_curve_, ten.loss_curve_, rtol=1e-12)
    cold = _quiet(MLPClassifier(max_iter=5, **settings), X, y)
    first = list(cold.loss_curve_)
    _quiet(cold, X, y)
    assert cold.n_iter_ == 5
    np.testing.assert_allclose(cold.loss_curve_, first, rtol=1e-12)


def test_warm_start_rejects_new_classes(blobs):
    X, y = blobs
    clf = _quiet(MLPClassifier((4,), max_iter=2, warm_start=True, random_state=0), X, y)
    with pytest.raises(ValueError, match="same classes"):
        clf.fit(X, np.where(y == 2, 5, y))


def test_pickle_round_trip_keeps_predictions_and_training_state(blobs):
    X, y = blobs
    settings = dict(hidden_layer_sizes=(8,), batch_size=1000, tol=0.0, random_state=0)
    clf = MLPClassifier(**settings).partial_fit(X, y, classes=[0, 1, 2])
    copy = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(copy.predict_proba(X), clf.predict_proba(X))
    assert isinstance(clf.model_, ml.MLP)  # pickling did not touch the original
    clf.partial_fit(X, y)
    copy.partial_fit(X, y)
    np.testing.assert_allclose(copy.loss_curve_, clf.loss_curve_, rtol=1e-12)


# --- sample weights ---------------------------------------------------------------


def test_integer_sample_weights_equal_repeated_samples(blobs):
    X, y = blobs
    X, y = X[:40], y[:40]
    w = np.random.default_rng(1).integers(0, 4, len(y))
    est = MLPClassifier((8,), max_iter=30, tol=0.0, random_state=0)
    weighted = _quiet(clone(est), X, y, sample_weight=w)
    repeated = _quiet(clone(est), np.repeat(X, w, axis=0), np.repeat(y, w))
    plain = _quiet(clone(est), X, y)
    np.testing.assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-9)
    assert not np.allclose(weighted.predict_proba(X), plain.predict_proba(X))


def test_sample_weight_errors(blobs):
    X, y = blobs
    with pytest.raises(ValueError, match="(?i)negative"):
        MLPClassifier(max_iter=1).fit(X, y, sample_weight=-np.ones(len(y)))
    with pytest.raises(ValueError, match="sample_weight"):
        MLPClassifier(max_iter=1).fit(X, y, sample_weight=np.ones(3))


# --- hyperparameters ---------------------------------------------------------------


def test_early_stopping_records_validation_and_stops(cancer):
    X_train, _, y_train, _ = cancer
    X = StandardScaler().fit_transform(X_train)
    clf = MLPClassifier(
        (32,),
        learning_rate_init=0.01,
        early_stopping=True,
        n_iter_no_change=3,
        max_iter=500,
        random_state=0,
    ).fit(X, y_train)
    assert clf.n_iter_ < 500
    assert len(clf.validation_scores_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_) > 0.9
    assert clf.best_loss_ is None


def test_training_loss_stopping_rule_matches_sklearn(cancer):
    X_train, _, y_train, _ = cancer
    X = StandardScaler().fit_transform(X_train)
    clf = MLPClassifier((16,), tol=1e-2, n_iter_no_change=2, max_iter=500, random_state=0)
    clf.fit(X, y_train)
    curve = np.asarray(clf.loss_curve_)
    # stopped after n_iter_no_change + 1 = 3 epochs in a row without an improvement of tol
    assert 3 < clf.n_iter_ < 500
    for i in range(len(curve) - 3, len(curve)):
        assert curve[i] > curve[:i].min() - 1e-2
    assert not curve[len(curve) - 4] > curve[: len(curve) - 4].min() - 1e-2
    assert clf.best_loss_ == curve.min()


@pytest.mark.parametrize("schedule", ["constant", "step", "cosine", "warmup"])
def test_lr_schedules_follow_mlplab(schedule, blobs):
    """The estimator's run equals mlplab.fit with the documented schedule."""
    X, y = blobs
    est = MLPRegressor(
        (8,),
        solver="sgd",
        momentum=0.0,
        learning_rate_init=0.02,
        lr_schedule=schedule,
        batch_size=1000,
        max_iter=30,
        alpha=0.0,
        n_iter_no_change=30,
        random_state=0,
    )
    target = X[:, 0] * X[:, 1]
    _quiet(est, X, target)
    rng = np.random.RandomState(0)  # the estimator draws the init seed first
    net = ml.MLP(2, [8], 1, activation="relu", seed=rng.randint(np.iinfo(np.int32).max),
                 dtype="float64")  # fmt: skip
    sched = {
        "constant": ml.Constant(),
        "step": ml.Step(step_size=10, gamma=0.1),
        "cosine": ml.Cosine(),
        "warmup": ml.Warmup(warmup_steps=3),
    }[schedule]
    hist = ml.fit(net, X, target, optimizer="sgd", lr=0.02, schedule=sched, epochs=30, verbose=0)
    np.testing.assert_allclose(est.loss_curve_, hist.train_loss, rtol=1e-12)
    np.testing.assert_allclose(est.predict(X), ml.to_numpy(net(X))[:, 0], rtol=1e-12)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"solver": "lbfgs"}, "`solver` must be one of 'adam', 'sgd', 'adamw'; got 'lbfgs'"),
        ({"learning_rate_init": -1}, "`learning_rate_init` must be > 0; got -1"),
        ({"batch_size": 0}, "`batch_size` must be >= 1; got 0"),
        ({"hidden_layer_sizes": (4, 0)}, r"`hidden_layer_sizes\[1\]` must be >= 1; got 0"),
        ({"hidden_layer_sizes": "big"}, "`hidden_layer_sizes`"),
        ({"activation": "swish"}, "unknown activation 'swish'"),
        ({"lr_schedule": "exp"}, "`lr_schedule` must be one of"),
        ({"max_iter": 0}, "`max_iter` must be >= 1; got 0"),
        ({"backend": "tf"}, "`backend` must be one of"),
        ({"early_stopping": "yes"}, "`early_stopping` must be True or False"),
        ({"solver": "sgd", "momentum": 0.0, "nesterov": True}, "`nesterov=True` needs"),
    ],
)
def test_bad_hyperparameters_raise_config_error(params, match, blobs):
    X, y = blobs
    clf = MLPClassifier(**params)
    assert clf.get_params()[next(iter(params))] == next(iter(params.values()))  # stored as given
    with pytest.raises(ConfigError, match=match):
        clf.fit(X, y)


def test_sklearn_activation_name_and_coefs_layout(blobs):
    X, y = blobs
    clf = _quiet(MLPClassifier((5,), activation="logistic", max_iter=3, random_state=0), X, y)
    assert clf.model_.activations[0].name == "sigmoid"
    assert [c.shape for c in clf.coefs_] == [(2, 5), (5, 3)]
    assert [b.shape for b in clf.intercepts_] == [(5,), (3,)]
    z = 1 / (1 + np.exp(-(X @ clf.coefs_[0] + clf.intercepts_[0])))
    np.testing.assert_allclose(
        z @ clf.coefs_[1] + clf.intercepts_[1], ml.to_numpy(clf.model_(X)), rtol=1e-12
    )


def test_verbose_prints_one_line_per_epoch(blobs):
    X, y = blobs
    err = io.StringIO()
    with redirect_stderr(err):
        _quiet(MLPClassifier((4,), max_iter=3, tol=0.0, verbose=True, random_state=0), X, y)
    assert err.getvalue().count("epoch") == 3


def test_regressor_multi_output_shapes():
    X, Y = make_regression(n_samples=60, n_features=3, n_targets=2, random_state=0)
    reg = _quiet(MLPRegressor((8,), max_iter=5, random_state=0), X, Y / Y.std())
    assert reg.predict(X).shape == (60, 2) and reg.n_outputs_ == 2
    reg1 = _quiet(MLPRegressor((8,), max_iter=5, random_state=0), X, Y[:, 0] / Y.std())
    assert reg1.predict(X).shape == (60,)
    assert reg1.out_activation_ == "identity"


# --- backends and array interop ------------------------------------------------------


def test_backends_follow_the_same_loss_curve(backend, blobs):
    """Same seed, same numbers: the estimator on torch / jax equals NumPy (float64)."""
    X, y = blobs
    settings = dict(hidden_layer_sizes=(8,), batch_size=32, max_iter=5, tol=0.0, random_state=0)
    ref = _quiet(MLPClassifier(**settings), X, y)
    other = _quiet(MLPClassifier(backend=backend, **settings), X, y)
    assert other.model_.backend.name == backend
    np.testing.assert_allclose(other.loss_curve_, ref.loss_curve_, rtol=1e-9)
    np.testing.assert_allclose(
        other.predict_proba(X, return_numpy=True), ref.predict_proba(X), rtol=1e-8
    )


def test_predict_returns_the_callers_array_type(blobs):
    from conftest import require_backend

    require_backend("torch")
    require_backend("jax")
    import jax.numpy as jnp
    import torch

    X, y = blobs
    clf = _quiet(MLPClassifier((8,), max_iter=10, random_state=0), X, y)
    reg = _quiet(MLPRegressor((8,), max_iter=10, random_state=0), X, X[:, 0] - X[:, 1])
    ref_label, ref_proba, ref_reg = clf.predict(X), clf.predict_proba(X), reg.predict(X)

    Xt = torch.tensor(X, requires_grad=True)
    label, proba, pred = clf.predict(Xt), clf.predict_proba(Xt), reg.predict(Xt)
    assert all(isinstance(a, torch.Tensor) for a in (label, proba, pred))
    np.testing.assert_array_equal(label.numpy(), ref_label)
    np.testing.assert_allclose(proba.numpy(), ref_proba, rtol=1e-12)
    np.testing.assert_allclose(pred.numpy(), ref_reg, rtol=1e-12)

    Xj = jnp.asarray(X)
    label, proba = clf.predict(Xj), clf.predict_proba(Xj)
    assert type(label).__module__.startswith("jax") and type(proba).__module__.startswith("jax")
    np.testing.assert_array_equal(np.asarray(label), ref_label)
    np.testing.assert_allclose(np.asarray(reg.predict(Xj)), ref_reg, rtol=1e-6)

    assert isinstance(clf.predict(Xt, return_numpy=True), np.ndarray)
    # torch / jax inputs to fit work too and give the NumPy result
    clf_t = _quiet(MLPClassifier((8,), max_iter=10, random_state=0), Xt, torch.tensor(y))
    np.testing.assert_allclose(clf_t.loss_curve_, clf.loss_curve_, rtol=1e-12)
    assert clf.score(Xt, torch.tensor(y)) == clf.score(X, y)


# --- oracles: without hidden layers the estimators are scikit-learn's linear models ----


def test_no_hidden_layer_is_logistic_and_linear_regression():
    from sklearn.linear_model import LinearRegression, LogisticRegression

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    w = np.array([1.5, -2.0, 0.5])
    y = (rng.random(200) < 1 / (1 + np.exp(-(X @ w + 0.3)))).astype(int)
    settings = dict(alpha=0.0, learning_rate_init=0.05, batch_size=1000, max_iter=1500, tol=0.0)
    settings.update(n_iter_no_change=1500, random_state=0)
    clf = _quiet(MLPClassifier((), **settings), X, y)
    ref = LogisticRegression(C=1e8, tol=1e-10, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(clf.predict_proba(X), ref.predict_proba(X), atol=1e-6)
    np.testing.assert_allclose(clf.coefs_[0].ravel(), ref.coef_.ravel(), rtol=1e-5)

    target = X @ w + 0.1 * rng.normal(size=200)
    reg = _quiet(MLPRegressor((), **settings), X, target)
    np.testing.assert_allclose(
        reg.predict(X), LinearRegression().fit(X, target).predict(X), atol=1e-8
    )


def test_float32_and_a_surrogate_step_network(blobs):
    X, y = blobs
    clf = MLPClassifier(
        (16,),
        activation={"name": "heaviside", "surrogate": "sigmoid", "slope": 4.0},
        dtype="float32",
        learning_rate_init=0.02,
        max_iter=150,
        random_state=0,
    )
    _quiet(clf, X, y)
    assert clf.model_.backend.dtype == "float32"
    assert clf.model_.activations[0].name == "heaviside"
    assert clf.score(X, y) > 0.9  # the exact step forward, trained through its surrogate
