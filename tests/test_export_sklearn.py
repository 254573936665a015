"""Exports of the scikit-learn estimators, with their scalers and label map.

The oracle is the fitted scikit-learn pipeline itself: onnxruntime, the
exported PyTorch module and the Equinox module must give ``predict_proba`` /
``predict`` on held-out raw rows, to the model dtype's precision.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import REQUIRED

from mlplab.backend.arrays import is_available

_missing = [b for b in ("torch", "jax") if not is_available(b)]
if _missing:
    if set(_missing) & set(REQUIRED):
        raise RuntimeError(f"backends {_missing} are required (MLPLAB_REQUIRE_BACKENDS)")
    pytest.skip(f"export needs {_missing}", allow_module_level=True)

import torch  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier as SkMLPClassifier  # noqa: E402
from sklearn.pipeline import Pipeline, make_pipeline  # noqa: E402
from sklearn.preprocessing import (  # noqa: E402
    MaxAbsScaler,
    MinMaxScaler,
    RobustScaler,
    StandardScaler,
)

from mlplab import export  # noqa: E402
from mlplab.errors import ConfigError  # noqa: E402
from mlplab.export.estimators import recipe_of_estimator  # noqa: E402
from mlplab.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

ort = pytest.importorskip("onnxruntime")

# |export − pipeline| allowed, relative to max(1, |output|), by the network's dtype.
TOL = {"float32": 2e-6, "float64": 1e-12}


def _data(task):
    """Held-out split of a scikit-learn data set; classification labels as text."""
    if task == "binary":
        X, y = load_breast_cancer(return_X_y=True)  # areas ≈ 650: the scaler matters
        y = np.array(["malignant", "benign"])[y]
    elif task == "multiclass":
        X, y = load_wine(return_X_y=True)
        y = np.array(["barolo", "grignolino", "barbera"])[y]
    else:
        X, y = load_diabetes(return_X_y=True)
        X = X * 50 + 100  # raw-looking numbers: far from 0, not unit scale
    return train_test_split(X, y, test_size=0.25, random_state=0)


def _fit(pipe, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return pipe.fit(X, y)


@pytest.fixture(scope="module", params=["float32", "float64"])
def fitted(request):
    """{task: (pipeline, held-out X, held-out y)} for one model dtype."""
    dtype = request.param
    out = {}
    for task in ("binary", "multiclass", "regression"):
        X_train, X_test, y_train, y_test = _data(task)
        est_cls = MLPRegressor if task == "regression" else MLPClassifier
        est = est_cls((16,), max_iter=40, random_state=0, dtype=dtype)
        out[task] = (_fit(make_pipeline(StandardScaler(), est), X_train, y_train), X_test)
    return dtype, out


def _want(pipe, X):
    if hasattr(pipe, "predict_proba"):
        return pipe.predict_proba(X), pipe.predict(X)
    return pipe.predict(X)[:, None], None


def _check(got, want, labels, want_labels, dtype, where):
    scale = max(1.0, float(np.abs(want).max()))  # regression values: relative precision
    np.testing.assert_allclose(got, want, rtol=0, atol=TOL[dtype] * scale, err_msg=where)
    if want_labels is not None:
        assert [str(v) for v in labels] == [str(v) for v in want_labels], where


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_onnx_export_of_a_pipeline_gives_its_predictions(fitted, task):
    dtype, pipes = fitted
    pipe, X = pipes[task]
    want, want_labels = _want(pipe, X)
    sess = ort.InferenceSession(export.to_onnx_bytes(pipe))
    outputs = sess.run(None, {"x": X})
    labels = outputs[1] if want_labels is not None else None
    _check(outputs[0], want, labels, want_labels, dtype, f"onnx {task} {dtype}")


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_torch_export_of_a_pipeline_gives_its_predictions(fitted, task):
    dtype, pipes = fitted
    pipe, X = pipes[task]
    want, want_labels = _want(pipe, X)
    module = export.to_torch(pipe)
    with torch.no_grad():
        got = module(torch.as_tensor(X)).numpy()
    labels = module.predict(X.tolist()) if want_labels is not None else None
    _check(got, want, labels, want_labels, dtype, f"torch {task} {dtype}")
    if want_labels is not None:
        assert module.classes == pipe.classes_.tolist()


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_equinox_export_of_a_pipeline_gives_its_predictions(fitted, task):
    import jax.numpy as jnp

    dtype, pipes = fitted
    pipe, X = pipes[task]
    want, want_labels = _want(pipe, X)
    module = export.to_equinox(pipe)
    got = np.asarray(module(jnp.asarray(X)))
    labels = module.predict(X.tolist()) if want_labels is not None else None
    _check(got, want, labels, want_labels, dtype, f"equinox {task} {dtype}")


def test_a_bare_estimator_exports_its_label_map(fitted):
    dtype, pipes = fitted
    pipe, X = pipes["multiclass"]
    clf = pipe[-1]
    Xs = pipe[0].transform(X)  # the estimator alone takes scaled rows
    sess = ort.InferenceSession(export.to_onnx_bytes(clf))
    proba, labels = sess.run(None, {"x": Xs})
    _check(proba, clf.predict_proba(Xs), labels, clf.predict(Xs), dtype, "bare estimator")


def test_saved_pipeline_exports_load_back(fitted, tmp_path):
    dtype, pipes = fitted
    pipe, X = pipes["binary"]
    want, want_labels = _want(pipe, X)
    export.save_onnx(pipe, tmp_path / "m.onnx")
    proba, labels = ort.InferenceSession(str(tmp_path / "m.onnx")).run(None, {"x": X})
    _check(proba, want, labels, want_labels, dtype, "save_onnx")
    export.save_torch(pipe, tmp_path / "m.safetensors")
    module, _ = export.load_torch(tmp_path / "m.safetensors")
    assert module.predict(X.tolist()) == want_labels.tolist()
    export.save_equinox(pipe, tmp_path / "m.eqx")
    module, _ = export.load_equinox(tmp_path / "m.eqx")
    _check(np.asarray(module(X)), want, module.predict(X), want_labels, dtype, "save_equinox")


@pytest.mark.parametrize(
    "scalers",
    [
        [MinMaxScaler()],
        [MinMaxScaler(feature_range=(-1, 2))],
        [MaxAbsScaler()],
        [RobustScaler()],
        [StandardScaler(with_mean=False), "passthrough"],
        [StandardScaler(), MinMaxScaler()],
    ],
    ids=["minmax", "minmax-range", "maxabs", "robust", "std-no-mean", "std-then-minmax"],
)
def test_every_affine_scaler_and_chains_of_them_export(scalers):
    X_train, X_test, y_train, _ = _data("multiclass")
    clf = MLPClassifier((8,), max_iter=20, random_state=0)
    pipe = _fit(make_pipeline(*scalers, clf), X_train, y_train)
    proba, labels = ort.InferenceSession(export.to_onnx_bytes(pipe)).run(None, {"x": X_test})
    # float64: an affine step rewritten as (x − μ)/s differs by rounding only
    np.testing.assert_allclose(proba, pipe.predict_proba(X_test), rtol=0, atol=1e-12)
    assert labels.tolist() == pipe.predict(X_test).tolist()


def test_a_dataframe_pipeline_exports_its_column_names():
    pd = pytest.importorskip("pandas")
    X_train, X_test, y_train, _ = _data("binary")
    names = [f"f{i}" for i in range(X_train.shape[1])]
    df_train, df_test = pd.DataFrame(X_train, columns=names), pd.DataFrame(X_test, columns=names)
    pipe = _fit(
        make_pipeline(StandardScaler(), MLPClassifier((8,), max_iter=20)), df_train, y_train
    )
    module = export.to_torch(pipe)
    assert module.columns == names
    shuffled = df_test[names[::-1]]  # columns are found by name
    assert module.predict(shuffled) == pipe.predict(df_test).tolist()
    recipe = module.recipe
    sess = ort.InferenceSession(export.to_onnx_bytes(pipe))
    proba, _ = sess.run(None, recipe.onnx_inputs(shuffled))
    np.testing.assert_allclose(proba, pipe.predict_proba(df_test), rtol=0, atol=1e-12)


def test_multi_target_regression_exports_every_target():
    X_train, X_test, y_train, _ = _data("regression")
    Y = np.stack([y_train, -2 * y_train], axis=1)
    pipe = _fit(make_pipeline(RobustScaler(), MLPRegressor((8,), max_iter=20)), X_train, Y)
    (pred,) = ort.InferenceSession(export.to_onnx_bytes(pipe)).run(None, {"x": X_test})
    np.testing.assert_allclose(pred, pipe.predict(X_test), rtol=1e-12, atol=1e-10)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: make_pipeline(PCA(3), MLPClassifier((4,), max_iter=5)), "step 'pca' (PCA)"),
        (
            lambda: make_pipeline(MinMaxScaler(clip=True), MLPClassifier((4,), max_iter=5)),
            "clip=True",
        ),
        (lambda: make_pipeline(StandardScaler(), SkMLPClassifier((4,), max_iter=5)), "last step"),
    ],
    ids=["pca", "minmax-clip", "sklearn-mlp"],
)
def test_an_unsupported_pipeline_is_a_one_line_error(make, message):
    X_train, _, y_train, _ = _data("multiclass")
    pipe = _fit(make(), X_train, y_train)
    for fn in (export.to_onnx_bytes, export.to_torch, export.to_equinox):
        with pytest.raises(ConfigError, match="cannot export") as err:
            fn(pipe)
        assert message in str(err.value) and "\n" not in str(err.value)


def test_a_search_or_other_estimator_alone_is_a_one_line_error():
    from sklearn.model_selection import GridSearchCV

    X_train, _, y_train, _ = _data("binary")
    grid = _fit(
        GridSearchCV(MLPClassifier((4,), max_iter=5), {"alpha": [1e-4]}, cv=2), X_train, y_train
    )
    with pytest.raises(ConfigError, match="cannot export a GridSearchCV .*best_estimator_"):
        export.to_onnx_bytes(grid)
    assert export.to_onnx_bytes(grid.best_estimator_)  # what the message says to do
    with pytest.raises(ConfigError, match="cannot export a PCA: pass an mlplab MLP"):
        export.to_torch(PCA(2).fit(X_train))


def test_unfitted_or_doubly_preprocessed_pipelines_are_clear_errors():
    pipe = Pipeline([("scale", StandardScaler()), ("clf", MLPClassifier())])
    with pytest.raises(ConfigError, match="not fitted"):
        export.to_onnx_bytes(pipe)
    X_train, _, y_train, _ = _data("binary")
    _fit(pipe.set_params(clf__max_iter=5), X_train, y_train)
    with pytest.raises(ConfigError, match="carries its own preprocessing"):
        export.to_torch(pipe, preprocessor=recipe_of_estimator(pipe)[1])
