"""Export to PyTorch / Equinox / ONNX and import from PyTorch: numbers and gradients match."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import REQUIRED

import mlplab as ml
from mlplab.backend.arrays import is_available
from mlplab.cli.main import main
from mlplab.errors import ConfigError, ModelFileError
from mlplab.nn import gates

# Export needs PyTorch and JAX: skipped where they are missing, unless CI requires them.
_missing = [b for b in ("torch", "jax") if not is_available(b)]
if _missing:
    if set(_missing) & set(REQUIRED):
        raise RuntimeError(f"backends {_missing} are required (MLPLAB_REQUIRE_BACKENDS)")
    pytest.skip(f"export needs {_missing}", allow_module_level=True)

import equinox as eqx  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from mlplab import export  # noqa: E402

ACTIVATIONS = [
    "identity",
    "heaviside",
    {"name": "heaviside", "surrogate": "sigmoid", "slope": 5.0},
    {"name": "heaviside", "surrogate": "straight-through"},
    "sigmoid",
    "tanh",
    "relu",
    {"name": "leaky_relu", "negative_slope": 0.2},
    "softplus",
    "gelu",
]
IDS = ["identity", "heaviside", "heaviside-sigmoid", "heaviside-st"] + [
    a if isinstance(a, str) else a["name"] for a in ACTIVATIONS[4:]
]
TOL = {"float64": 1e-12, "float32": 2e-6}
# On a GPU, JAX runs float32 matrix products in TF32 by default (about 1e-3 relative
# error; jax_default_matmul_precision="highest" turns that off). CPUs compute in full float32.
JAX_F32_TOL = 3e-3 if jax.default_backend() == "gpu" else 0.0


def _model(act, dtype="float64", seed=1):
    """A 3-6-5-2 MLP with ``act`` on every layer and random (non-zero) biases."""
    init = ml.MLP(3, [6, 5], 2, activation=act, output_activation=act, seed=seed)
    rng = np.random.default_rng(seed)
    params = [(rng.normal(0, 0.5, b.shape), W) for b, W in init.numpy_params()]
    return ml.MLP.from_params(params, init.activations, dtype=dtype)


def _inputs(model, n=40, seed=0):
    """Random inputs whose pre-activations all stay away from 0 (the step's jump)."""
    X = np.random.default_rng(seed).standard_normal((n, model.n_inputs))
    _, caches = model.forward(X)
    z_min = min(np.abs(ml.to_numpy(c.z)).min() for c in caches)
    assert z_min > 1e-6, "pick another seed: a pre-activation is at the step"
    return X


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("act", ACTIVATIONS, ids=IDS)
def test_torch_and_equinox_outputs_equal_mlplab(act, dtype):
    model = _model(act, dtype)
    X = _inputs(model).astype(dtype)
    ref = ml.to_numpy(model(X))
    seq = export.to_torch(model)
    assert all(p.dtype == getattr(torch, dtype) for p in seq.parameters())
    np.testing.assert_allclose(seq(torch.as_tensor(X)).detach().numpy(), ref, atol=TOL[dtype])
    module = export.to_equinox(model)
    tol = max(TOL[dtype], JAX_F32_TOL) if dtype == "float32" else TOL[dtype]
    np.testing.assert_allclose(np.asarray(module(jnp.asarray(X))), ref, atol=tol, rtol=tol)
    # one sample, the Equinox way: (d_in,) -> (d_out,)
    one = np.asarray(module(jnp.asarray(X[0])))
    np.testing.assert_allclose(one, ref[0], atol=tol, rtol=tol)


@pytest.mark.parametrize("act", ACTIVATIONS, ids=IDS)
def test_round_trips_keep_weights_and_activations(act):
    model = _model(act)
    via_torch = export.from_torch(export.to_torch(model))
    for back in (via_torch, export.from_equinox(export.to_equinox(model))):
        assert [a.spec() for a in back.activations] == [a.spec() for a in model.activations]
        assert back.backend.dtype == "float64"
        for (b1, W1), (b2, W2) in zip(back.numpy_params(), model.numpy_params(), strict=True):
            np.testing.assert_array_equal(W1, W2)
            np.testing.assert_array_equal(b1, b2)


@pytest.mark.parametrize("act", ACTIVATIONS, ids=IDS)
def test_exported_modules_backpropagate_like_mlplab(act):
    """torch.autograd and jax.grad through the exports give mlplab's explicit gradients.

    For the step this checks its surrogate (or zero) derivative is kept.
    """
    model = _model(act)
    X = _inputs(model)
    y = np.random.default_rng(2).standard_normal((len(X), 2))
    _, grads = model.gradients(X, y, "mse")
    ref = [(ml.to_numpy(gb), ml.to_numpy(gW)) for gb, gW in grads.grads]

    seq = export.to_torch(model)
    loss = torch.mean(torch.sum((seq(torch.as_tensor(X)) - torch.as_tensor(y)) ** 2, 1) / 2)
    loss.backward()
    linears = [m for m in seq if isinstance(m, nn.Linear)]
    for (gb, gW), lin in zip(ref, linears, strict=True):
        np.testing.assert_allclose(lin.weight.grad.numpy(), gW, atol=1e-12)
        np.testing.assert_allclose(lin.bias.grad.numpy(), gb, atol=1e-12)

    module = export.to_equinox(model)

    @eqx.filter_grad
    def grad_fn(m):
        return jnp.mean(jnp.sum((m(jnp.asarray(X)) - y) ** 2, axis=1) / 2)

    g = grad_fn(module)
    for (gb, gW), lin in zip(ref, g.layers, strict=True):
        np.testing.assert_allclose(np.asarray(lin.weight), gW, atol=1e-12)
        np.testing.assert_allclose(np.asarray(lin.bias), gb, atol=1e-12)


def test_heaviside_keeps_h_of_zero_equal_zero():
    """AND is θ = [−1, 1, 1]: input (1, 0) puts z exactly at 0, and H(0) = 0."""
    X = gates.TRUTH_INPUTS
    expected = gates.TRUTH_TABLES["and"]
    seq = export.to_torch(ml.and_gate())
    assert [type(m).__name__ for m in seq] == ["Linear", "Heaviside"]
    out = seq(torch.as_tensor(X, dtype=torch.float32)).detach().numpy()
    np.testing.assert_array_equal(out[:, 0], expected)
    module = export.to_equinox(ml.and_gate())
    np.testing.assert_array_equal(np.asarray(module(jnp.asarray(X, jnp.float32)))[:, 0], expected)


def test_from_torch_imports_the_lectures_style_xor_network():
    H = export.Heaviside
    seq = nn.Sequential(nn.Linear(2, 2), H(), nn.Sequential(nn.Linear(2, 1), H()))
    with torch.no_grad():  # hidden: OR and AND; output: OR and not AND (the lecture's θ)
        seq[0].weight.copy_(torch.tensor([[1.0, 1.0], [1.0, 1.0]]))
        seq[0].bias.copy_(torch.tensor([-0.5, -1.5]))
        seq[2][0].weight.copy_(torch.tensor([[1.0, -2.0]]))
        seq[2][0].bias.copy_(torch.tensor([-0.5]))
    net = export.from_torch(seq)
    assert net.sizes == [2, 2, 1] and [a.name for a in net.activations] == ["heaviside"] * 2
    out = ml.to_numpy(net(gates.TRUTH_INPUTS))[:, 0]
    np.testing.assert_array_equal(out, gates.TRUTH_TABLES["xor"])


def test_from_torch_reads_half_precision_weights_as_float32():
    seq = nn.Sequential(nn.Linear(3, 2), nn.ReLU()).to(torch.bfloat16)
    net = export.from_torch(seq)
    assert net.backend.dtype == "float32"
    np.testing.assert_array_equal(net.numpy_params()[0][1], seq[0].weight.float().detach().numpy())


def test_from_torch_without_bias_and_identity():
    seq = nn.Sequential(nn.Linear(3, 4, bias=False), nn.Identity(), nn.Tanh(), nn.Linear(4, 1))
    net = export.from_torch(seq)
    assert [a.name for a in net.activations] == ["tanh", "identity"]
    np.testing.assert_array_equal(net.numpy_params()[0][0], np.zeros(4))
    X = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_allclose(
        ml.to_numpy(net(X)), seq(torch.as_tensor(X)).detach().numpy(), atol=1e-6
    )


@pytest.mark.parametrize(
    ("seq", "match"),
    [
        (
            nn.Sequential(nn.Linear(2, 2), nn.Conv1d(1, 1, 1)),
            "unsupported module Conv1d at position 1",
        ),
        (nn.Sequential(nn.Linear(2, 2), nn.GELU()), r"GELU\(approximate='none'\)"),
        (nn.Sequential(nn.ReLU(), nn.Linear(2, 2)), "before the first nn.Linear"),
        (nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Tanh()), "follows another activation"),
        (nn.Sequential(nn.Linear(2, 3), nn.Linear(2, 1)), "takes 2 inputs but layer 0 gives 3"),
        (nn.Sequential(nn.Linear(2, 2), nn.Softplus(beta=2.0)), "beta=1"),
        (nn.Sequential(nn.Linear(2, 2), nn.Softplus(threshold=1.0)), "threshold >= 20"),
        (nn.Sequential(), "no nn.Linear"),
        (nn.Linear(2, 2), "needs a torch.nn.Sequential"),
    ],
)
def test_from_torch_errors_name_the_problem(seq, match):
    with pytest.raises(ConfigError, match=match):
        export.from_torch(seq)


def test_exporting_a_non_finite_or_foreign_model_is_refused():
    with pytest.raises(ConfigError, match="must be an mlplab MLP"):
        export.to_torch(nn.Linear(2, 2))
    bad = ml.MLP.from_params([(np.zeros(1), np.array([[np.nan, 1.0]]))], ["identity"])
    with pytest.raises(ml.DataError, match="NaN"):
        export.to_equinox(bad)


def test_torch_and_equinox_files_round_trip(tmp_path):
    model = ml.MLP(4, [8], 3, activation={"name": "leaky_relu", "negative_slope": 0.1}, seed=3)
    X = np.random.default_rng(0).standard_normal((7, 4)).astype(np.float32)
    ref = ml.to_numpy(model(X))

    export.save_torch(model, tmp_path / "net.safetensors", metadata={"classes": np.arange(3)})
    raw = (tmp_path / "net.safetensors").read_bytes()
    header_len = int.from_bytes(raw[:8], "little")  # a safetensors file, not a pickle
    header = json.loads(raw[8 : 8 + header_len])
    assert set(header) == {"__metadata__", "0.weight", "0.bias", "2.weight", "2.bias"}
    seq, extra = export.load_torch(tmp_path / "net.safetensors")
    assert extra == {"classes": [0, 1, 2]}
    np.testing.assert_allclose(seq(torch.as_tensor(X)).detach().numpy(), ref, atol=1e-6)

    export.save_equinox(model, tmp_path / "net.eqx")
    module, _ = export.load_equinox(tmp_path / "net.eqx")
    np.testing.assert_allclose(np.asarray(module(jnp.asarray(X))), ref, atol=max(1e-6, JAX_F32_TOL))


def test_damaged_or_foreign_export_files_raise_model_file_error(tmp_path):
    model = ml.MLP(2, [3], 1, seed=0)
    export.save_equinox(model, tmp_path / "net.eqx")
    data = (tmp_path / "net.eqx").read_bytes()
    (tmp_path / "short.eqx").write_bytes(data[:-10])
    with pytest.raises(ModelFileError, match="truncated"):
        export.load_equinox(tmp_path / "short.eqx")
    (tmp_path / "junk.safetensors").write_bytes(b"not a model at all")
    with pytest.raises(ModelFileError, match="not a file written by mlplab"):
        export.load_torch(tmp_path / "junk.safetensors")
    with pytest.raises(ModelFileError, match="does not exist"):
        export.load_torch(tmp_path / "missing.safetensors")
    with pytest.raises(ModelFileError, match="mlplab-equinox-mlp"):
        export.load_equinox(tmp_path / "junk.safetensors")


# --- the CLI and ONNX --------------------------------------------------------------

# One hidden layer per activation, so one ONNX export covers them all.
ALL_HIDDEN = ["heaviside", "sigmoid", "tanh", "relu", {"name": "leaky_relu", "negative_slope": 0.3}]
ALL_HIDDEN += ["softplus", "gelu"]


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    from mlplab import files

    model = ml.MLP(3, [5] * len(ALL_HIDDEN), 2, activation=ALL_HIDDEN, seed=4)
    path = tmp_path_factory.mktemp("models") / "model.safetensors"
    files.save_model(path, model, metadata={"task": "regression"})
    return path, model


def test_cli_export_torch_and_equinox(model_file, tmp_path, capsys):
    path, model = model_file
    X = _inputs(model, n=9, seed=5).astype(np.float32)
    ref = ml.to_numpy(model(X))
    assert main(["export", str(path), "--format", "torch", "--out", str(tmp_path / "t.st")]) == 0
    assert "exported" in capsys.readouterr().out
    seq, extra = export.load_torch(tmp_path / "t.st")
    assert extra["model_metadata"] == {"task": "regression"}
    np.testing.assert_allclose(seq(torch.as_tensor(X)).detach().numpy(), ref, atol=1e-5)
    assert main(["export", str(path), "--format", "equinox", "--out", str(tmp_path / "m.eqx")]) == 0
    module, _ = export.load_equinox(tmp_path / "m.eqx")
    np.testing.assert_allclose(np.asarray(module(jnp.asarray(X))), ref, atol=max(1e-5, JAX_F32_TOL))


def test_cli_export_onnx_runs_in_the_onnx_reference_evaluator(model_file, tmp_path):
    onnx = pytest.importorskip("onnx")
    from onnx.reference import ReferenceEvaluator

    path, model = model_file
    out = tmp_path / "m.onnx"
    assert main(["export", str(path), "--format", "onnx", "--out", str(out)]) == 0
    proto = onnx.load(str(out))
    onnx.checker.check_model(proto)
    meta = {p.key: p.value for p in proto.metadata_props}
    assert json.loads(meta["mlplab_architecture"])["sizes"] == model.sizes
    run = ReferenceEvaluator(proto)
    for n in (1, 9):  # the batch size is dynamic
        X = _inputs(model, n=n, seed=5).astype(np.float32)
        (y,) = run.run(None, {"x": X})
        np.testing.assert_allclose(y, ml.to_numpy(model(X)), atol=1e-5)


def test_cli_export_errors_are_one_line(model_file, tmp_path, capsys):
    path, _ = model_file
    assert main(["export", str(tmp_path / "nope.safetensors"), "--format", "torch"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mlplab: error:") and "Traceback" not in err
    assert main(["export", str(path), "--format", "torch", "--out", str(path)]) == 2
    assert "model file itself" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["export", str(path), "--format", "keras"])
    assert exc.value.code == 2
    assert main(["export", str(path), "--format", "torch", "--out", str(tmp_path / "x" / "y")]) == 2
    assert "does not exist" in capsys.readouterr().err
