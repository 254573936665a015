"""Exports carry the preprocessing and the labels: raw rows in, `mlplab predict`'s outputs out."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from conftest import REQUIRED

from mlplab.backend.arrays import is_available
from mlplab.cli.main import main

_missing = [b for b in ("torch", "jax") if not is_available(b)]
if _missing:
    if set(_missing) & set(REQUIRED):
        raise RuntimeError(f"backends {_missing} are required (MLPLAB_REQUIRE_BACKENDS)")
    pytest.skip(f"export needs {_missing}", allow_module_level=True)

from mlplab import export  # noqa: E402

ort = pytest.importorskip("onnxruntime")


def _write(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def _pets(path, n=120, seed=0):
    """Numbers far from 0 (weight ≈ 1000: the standardisation matters), a category, gaps."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        colour = rng.choice(["red", "green", "blue"])
        weight = 1000 + rng.normal(0, 3)
        kind = "cat" if weight - 1000 + 2 * (colour == "red") + rng.normal() > 0.5 else "dog"
        rows.append(
            ["" if i % 11 == 3 else f"{weight:.3f}", colour, f"{rng.normal(5, 2):.2f}", kind]
        )
    return _write(path, ["weight", "colour", "age", "kind"], rows)


def _predict(capsys, model, data):
    capsys.readouterr()
    assert main(["predict", str(model), str(data)]) == 0
    return list(csv.DictReader(io.StringIO(capsys.readouterr().out)))


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def pets(tmp_path_factory):
    d = tmp_path_factory.mktemp("pets")
    data = _pets(d / "pets.csv")
    model = d / "pets.safetensors"
    args = ["train", str(data), "--target", "kind", "--one-hot", "--impute", "mean"]
    args += ["--epochs", "5", "--out", str(model), "--no-plots", "--activation", "softplus"]
    assert main(args) == 0
    return d, data, model


@pytest.mark.parametrize("fmt", ["onnx", "torch", "equinox"])
def test_classifier_export_predicts_raw_rows_like_mlplab_predict(pets, fmt, capsys):
    d, data, model = pets
    out = d / f"pets.{fmt}"
    assert main(["export", str(model), "--format", fmt, "--out", str(out)]) == 0
    want = _predict(capsys, model, data)
    p_want = np.array([[float(r["p_cat"]), float(r["p_dog"])] for r in want])
    labels_want = [r["prediction"] for r in want]
    rows = _rows(data)
    if fmt == "onnx":
        sess = ort.InferenceSession(str(out))
        recipe = export.Recipe.from_dict(_onnx_header(out)["preprocessing"])
        proba, labels = sess.run(["probabilities", "label"], recipe.onnx_inputs(rows))
        assert labels.tolist() == labels_want
    else:
        load = export.load_torch if fmt == "torch" else export.load_equinox
        module, _ = load(out)
        proba = np.asarray(module(module.encode(rows)).tolist())
        assert module.predict(rows) == labels_want
        assert module.classes == ["cat", "dog"]
    np.testing.assert_allclose(proba, p_want, rtol=0, atol=3e-7)  # float32 model


def _onnx_header(path):
    import json

    import onnx

    meta = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    return json.loads(meta["mlplab_architecture"])


def test_onnx_graph_takes_text_categories_and_imputes_gaps(pets, capsys):
    d, data, model = pets
    out = d / "pets2.onnx"
    assert main(["export", str(model), "--format", "onnx", "--out", str(out)]) == 0
    sess = ort.InferenceSession(str(out))
    assert [i.name for i in sess.get_inputs()] == ["x", "categories"]
    x = np.array([[np.nan, 5.0], [1001.0, 5.0]])
    cats = np.array([["red"], ["purple"]], dtype=object)  # purple: unseen -> all-zero one-hot
    proba, labels = sess.run(None, {"x": x, "categories": cats})
    assert np.isfinite(proba).all() and np.allclose(proba.sum(axis=1), 1.0)
    header = _onnx_header(out)
    assert header["preprocessing"]["labels"] == ["cat", "dog"]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_regressor_export_gives_target_units(tmp_path, capsys, dtype):
    rng = np.random.default_rng(1)
    rows = [[a, b, 100 + 30 * a - 10 * b * b] for a, b in rng.normal(size=(80, 2))]
    data = _write(tmp_path / "house.csv", ["a", "b", "price"], rows)
    model = tmp_path / "house.safetensors"
    args = ["train", str(data), "--target", "price", "--epochs", "3", "--dtype", dtype]
    assert main([*args, "--activation", "gelu", "--out", str(model), "--no-plots"]) == 0
    want = np.array([float(r["prediction"]) for r in _predict(capsys, model, data)])
    tol = {"float64": 1e-12, "float32": 1e-5}[dtype] * np.abs(want).max()
    for fmt in ("onnx", "torch", "equinox"):
        out = tmp_path / f"house.{fmt}"
        assert main(["export", str(model), "--format", fmt, "--out", str(out)]) == 0
        if fmt == "onnx":
            (got,) = ort.InferenceSession(str(out)).run(None, {"x": np.asarray(rows)[:, :2]})
        else:
            load = export.load_torch if fmt == "torch" else export.load_equinox
            module, _ = load(out)
            got = np.asarray(module(module.encode(_rows(data))).tolist())
        np.testing.assert_allclose(got[:, 0], want, rtol=0, atol=tol, err_msg=fmt)


def test_network_only_export_keeps_the_bare_network(pets, capsys):
    d, _, model = pets
    out = d / "bare.onnx"
    assert (
        main(["export", str(model), "--format", "onnx", "--out", str(out), "--network-only"]) == 0
    )
    assert "network only" in capsys.readouterr().out
    sess = ort.InferenceSession(str(out))
    assert [i.name for i in sess.get_inputs()] == ["x"] and sess.get_inputs()[0].shape[1] == 5
