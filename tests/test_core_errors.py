"""Bad arguments and data raise an MLPLabError saying what was wrong, the value, what to do."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import require_backend

from mlplab import MLP, fit
from mlplab.errors import (
    ConfigError,
    DataError,
    MLPLabError,
    ModelFileError,
    TrainingDiverged,
    check_choice,
    check_number,
)


@pytest.fixture
def net():
    return MLP(2, [3], 1, seed=0)


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(10, 2)), np.arange(10) % 2


def test_error_classes():
    for cls in (ConfigError, DataError, ModelFileError):
        assert issubclass(cls, MLPLabError) and issubclass(cls, ValueError)
    err = TrainingDiverged("boom", step=3, last_finite_loss=0.5)
    assert isinstance(err, MLPLabError) and isinstance(err, FloatingPointError)
    assert (err.step, err.last_finite_loss, str(err)) == (3, 0.5, "boom")


def test_check_number_and_choice_messages():
    with pytest.raises(
        ConfigError,
        match=r"^`lr` must be > 0; got -1\. Pass a positive learning rate such as lr=0\.01\.$",
    ):
        check_number("lr", -1, gt=0, hint="Pass a positive learning rate such as lr=0.01.")
    with pytest.raises(ConfigError, match=r"^`n` must be an integer; got 2\.5\.$"):
        check_number("n", 2.5, integer=True)
    with pytest.raises(ConfigError, match=r"^`x` must be a number; got 'a'\.$"):
        check_number("x", "a")
    with pytest.raises(ConfigError, match=r"^`x` must be a number; got nan\.$"):
        check_number("x", float("nan"))
    with pytest.raises(ConfigError, match=r"^`flag` must be an integer; got True\.$"):
        check_number("flag", True, integer=True)
    with pytest.raises(ConfigError, match=r"^`p` must be <= 1; got 2\.$"):
        check_number("p", 2, le=1)
    with pytest.raises(ConfigError, match=r"^`mode` must be one of 'a', 'b'; got 'c'\.$"):
        check_choice("mode", "c", ("a", "b"))
    check_number("ok", 3, ge=1, le=3, integer=True)  # in range: no error


# --- configuration ----------------------------------------------------------


def test_unknown_names():
    with pytest.raises(
        ConfigError,
        match=r"unknown activation 'sigmod'; known activations: identity, heaviside, sigmoid, "
        r"tanh, relu, leaky_relu, softplus, gelu",
    ):
        MLP(2, [3], 1, activation="sigmod")
    with pytest.raises(ConfigError, match="unknown activation 'softmax'"):
        MLP(2, [3], 2, output_activation="softmax")
    with pytest.raises(
        ConfigError, match=r"`backend` must be one of 'numpy', 'torch', 'jax'; got 'mxnet'"
    ):
        MLP(2, [3], 1, backend="mxnet")
    with pytest.raises(
        ConfigError, match=r"`dtype` must be one of 'float32', 'float64'; got 'half'"
    ):
        MLP(2, [3], 1, dtype="half")


def test_unknown_loss_optimizer_schedule(net, data):
    X, y = data
    with pytest.raises(ConfigError, match=r"unknown loss 'hinge'; known losses: mse, bce"):
        fit(net, X, y, loss="hinge", verbose=0)
    with pytest.raises(
        ConfigError, match=r"unknown optimizer 'lbfgs'; known optimizers: sgd, adam, adamw"
    ):
        fit(net, X, y, optimizer="lbfgs", verbose=0)
    with pytest.raises(
        ConfigError,
        match=r"unknown schedule 'exp'; known schedules: constant, step, cosine, warmup",
    ):
        fit(net, X, y, schedule="exp", verbose=0)


def test_architecture_errors():
    with pytest.raises(ConfigError, match=r"`hidden\[1\]` must be >= 1; got 0"):
        MLP(2, [3, 0], 1)
    with pytest.raises(ConfigError, match=r"`hidden\[0\]` must be an integer; got 2\.5"):
        MLP(2, [2.5], 1)
    with pytest.raises(ConfigError, match=r"`n_inputs` must be >= 1; got 0"):
        MLP(0, [3], 1)
    with pytest.raises(ConfigError, match=r"`n_outputs` must be >= 1; got -2"):
        MLP(2, [3], -2)
    with pytest.raises(ConfigError, match=r"`seed` must be >= 0; got -1"):
        MLP(2, [3], 1, seed=-1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"lr": -1},
            r"`lr` must be > 0; got -1\. Pass a positive learning rate such as lr=0\.01\.",
        ),
        ({"lr": 0}, r"`lr` must be > 0; got 0\."),
        ({"lr": float("inf")}, r"`lr` must be a number; got inf\."),
        ({"batch_size": 0}, r"`batch_size` must be >= 1; got 0\."),
        ({"epochs": 0}, r"`epochs` must be >= 1; got 0\."),
        ({"steps": -5}, r"`steps` must be >= 1; got -5\."),
        ({"epochs": 3, "steps": 10}, r"give `epochs` or `steps`, not both\."),
        ({"validation_split": 1.0}, r"`validation_split` must be < 1; got 1\.0\."),
        ({"validation_split": -0.2}, r"`validation_split` must be >= 0; got -0\.2\."),
        (
            {"validation_split": 0.01},
            r"`validation_split`=0\.01 leaves 0 validation and 10 training samples",
        ),
        (
            {"early_stopping": True},
            r"`early_stopping=True` needs validation data: pass validation_split > 0",
        ),
        ({"patience": 0, "validation_split": 0.2}, r"`patience` must be >= 1; got 0\."),
        ({"l2": -0.1}, r"`l2` must be >= 0; got -0\.1\."),
        (
            {"validation_data": (np.zeros((2, 2)),)},
            r"`validation_data` must be a pair \(X_val, y_val\)\.",
        ),
    ],
)
def test_fit_argument_errors(net, data, kwargs, message):
    X, y = data
    with pytest.raises(ConfigError, match=message):
        fit(net, X, y, verbose=0, **kwargs)


# --- data ---------------------------------------------------------------------


def test_shape_mismatch_between_data_and_model(net, data):
    X, y = data
    with pytest.raises(DataError, match=r"input has 3 features but the model expects 2\."):
        fit(net, np.zeros((10, 3)), y, verbose=0)
    with pytest.raises(DataError, match=r"input has 3 features but the model expects 2\."):
        net.predict(np.zeros((4, 3)))
    with pytest.raises(
        DataError,
        match=r"input must be 2-D \(batch, 2\); got shape \(2,\)\. "
        r"Reshape one sample x to x\[None, :\]\.",
    ):
        net(np.zeros(2))
    with pytest.raises(DataError, match=r"input must be 2-D \(batch, 2\); got shape \(1, 2, 2\)"):
        net(np.zeros((1, 2, 2)))
    with pytest.raises(DataError, match=r"input is empty \(0 rows\)"):
        net(np.zeros((0, 2)))
    with pytest.raises(DataError, match=r"validation X has 3 rows but y has 2"):
        fit(net, X, y, validation_data=(np.zeros((3, 2)), np.array([0, 1])), verbose=0)
    with pytest.raises(DataError, match=r"input has 1 features but the model expects 2\."):
        fit(net, X, y, validation_data=(np.zeros((3, 1)), np.array([0, 1, 1])), verbose=0)


def test_text_or_complex_inputs(net, data):
    _, y = data
    msg = r"input must hold real numbers; got dtype <U1\. Convert the features to a numeric array"
    with pytest.raises(DataError, match=msg):
        fit(net, np.array([["a", "b"]] * 10), y, verbose=0)
    with pytest.raises(DataError, match=r"input must hold real numbers; got dtype <U1"):
        net.predict([["1", "2"]])
    with pytest.raises(DataError, match=r"input must hold real numbers; got dtype complex128"):
        net(np.array([[1 + 2j, 1.0]]))
    with pytest.raises(DataError, match=r"holds Python objects"):
        net(np.array([[1.0, None]], dtype=object))


def test_x_and_y_lengths_must_match(net, data):
    X, y = data
    with pytest.raises(DataError, match=r"X has 10 rows but y has 9; they must be equal\."):
        fit(net, X, y[:9], verbose=0)


def test_labels_of_the_wrong_kind(data):
    X, y = data
    three = MLP(2, [3], 3, seed=0)
    with pytest.raises(
        DataError, match=r"class labels must lie in 0\.\.2 for a model with 3 outputs; got \[3\]"
    ):
        fit(three, X, np.where(y == 1, 3, 0), verbose=0)
    with pytest.raises(
        DataError,
        match=r"binary labels must be 0 or 1 \(or probabilities in \[0, 1\]\); got \[2\.0\]",
    ):
        fit(MLP(2, [3], 1), X, y * 2, loss="bce", verbose=0)
    with pytest.raises(
        DataError,
        match=r"binary labels must be numbers; got dtype <U1\. Encode text labels as integers\.",
    ):
        fit(MLP(2, [3], 1), X, np.array(list("ababababab")), loss="bce", verbose=0)
    with pytest.raises(DataError, match=r"regression targets must be numbers; got dtype <U1"):
        fit(MLP(2, [3], 1), X, np.array(list("ababababab")), verbose=0)
    with pytest.raises(ConfigError, match="binary cross-entropy needs a model with 1 output"):
        fit(three, X, y, loss="bce", verbose=0)
    with pytest.raises(DataError, match=r"regression targets contain NaN or infinite values"):
        fit(MLP(2, [3], 1), X, np.where(y == 1, np.nan, 0.5), verbose=0)


def test_nan_in_x(net, data):
    X, y = data
    X = X.copy()
    X[3, 1] = np.nan
    X[7, 0] = np.inf
    with pytest.raises(
        DataError,
        match=r"X contains NaN or infinite values \(rows \[3, 7\]\); remove or fill them first\.",
    ):
        fit(net, X, y, verbose=0)


def test_nan_in_validation_x(net, data):
    X, y = data
    Xv = X.copy()
    Xv[2, 0] = np.nan
    with pytest.raises(
        DataError, match=r"validation X contains NaN or infinite values \(rows \[2\]\)"
    ):
        fit(net, X, y, validation_data=(Xv, y), early_stopping=True, verbose=0)


def test_bad_sample_weight(net, data):
    X, y = data
    msg = r"`sample_weight` must hold 10 finite, non-negative weights with a positive sum\."
    for w in (np.ones(9), -np.ones(10), np.zeros(10), np.full(10, np.nan)):
        with pytest.raises(DataError, match=msg):
            fit(net, X, y, sample_weight=w, verbose=0)


def test_errors_leave_the_model_untouched(net, data):
    X, y = data
    before = [W.copy() for _, W in net.numpy_params()]
    with pytest.raises(MLPLabError):
        fit(net, X, y[:9], verbose=0)
    for W, W0 in zip([W for _, W in net.numpy_params()], before, strict=True):
        np.testing.assert_array_equal(W, W0)


def test_huge_width_is_refused_before_allocating(monkeypatch):
    # 1e12 weights would need ~15 TiB: refused with the size, not a raw MemoryError.
    monkeypatch.setattr("mlplab.backend.memory.available_memory", lambda: 8 * 2**30)
    with pytest.raises(ConfigError, match=r"1,000,796,000,010 parameters.*TiB.*narrower"):
        MLP(784, [10**6, 10**6], 10)
    MLP(784, [64], 10)  # a sane size still builds


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"loss": 123}, r"`loss` must be a name or a loss object; got 123"),
        ({"optimizer": 3}, r"`optimizer` must be a name or an optimizer object; got 3"),
        ({"schedule": 3}, r"`schedule` must be a name or a schedule object; got 3"),
        ({"seed": -1}, r"`seed` must be >= 0; got -1"),
        ({"validation_data": 5}, r"`validation_data` must be a pair"),
        ({"verbose": "x"}, r"`verbose` must be an integer; got 'x'"),
        ({"callbacks": [5]}, r"`callbacks` must be functions"),
    ],
)
def test_bad_fit_arguments_of_the_wrong_kind(net, data, kwargs, match):
    X, y = data
    with pytest.raises(ConfigError, match=match):
        fit(net, X, y, **kwargs)


def test_state_of_another_optimizer_is_refused(net, data):
    X, y = data
    state = fit(MLP(2, [3], 1), X, y, optimizer="sgd", epochs=1, verbose=0).state
    with pytest.raises(ConfigError, match=r"`state` does not belong to optimizer 'adam'"):
        fit(net, X, y, optimizer="adam", state=state, verbose=0)


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: MLP(2, 3.0, 1), ConfigError, r"`hidden\[0\]` must be an integer"),
        (lambda: MLP(2, [3], 1, activation=None), ConfigError, r"unknown activation None"),
        (lambda: MLP(2, [3], 1)([[1, 2], [3]]), DataError, r"not a rectangular array"),
    ],
)
def test_bad_model_arguments_of_the_wrong_kind(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_complex_torch_input_is_refused():
    require_backend("torch")
    import torch

    with pytest.raises(DataError, match=r"must hold real numbers; got dtype torch.complex64"):
        MLP(2, [3], 1)(torch.tensor([[1 + 2j, 1.0]]))
