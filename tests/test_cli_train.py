"""The data commands as a user runs them: train, predict, evaluate, explain, info.

Each command runs as a subprocess (exit code, key output lines, files written).
The round trip train → save → load → predict is checked on every backend: the
CLI's prediction CSV equals, bit for bit, what the library computes from the
saved file.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import require_backend
from safetensors.numpy import load_file

from mlplab.cli.main import build_parser, main
from mlplab.data import Preprocessor
from mlplab.files.model import load_model

# `python -m mlplab.cli.main` warns (runpy); this is what the `mlplab` script runs
MLPLAB = [sys.executable, "-c", "import sys; from mlplab.cli.main import main; sys.exit(main())"]

TINY = ["--hidden", "8", "--epochs", "15", "--batch-size", "16", "--verbose", "0"]


def mlplab(*args, cwd):
    return subprocess.run(
        [*MLPLAB, *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def write_points_csv(path, n=25, seed=1):
    X = np.random.default_rng(seed).uniform(-1.5, 2.5, size=(n, 2))
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["x1", "x2"])
        w.writerows([[repr(float(a)), repr(float(b))] for a, b in X])
    return X


def read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """moons, 3-way split, on NumPy, with plots: the run every other test reuses."""
    d = tmp_path_factory.mktemp("train")
    res = mlplab(
        "train", "moons", "--n-samples", "80", "--validation-split", "0.2", "--test-split", "0.2",
        *TINY, "--out-dir", "run", cwd=d,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    return d, res


def test_train_prints_metrics_and_writes_every_file(trained):
    d, res = trained
    out = res.stdout
    assert "data: moons (2 features, binary" in out
    assert "model: MLP 2-8-1" in out
    for split in ("train:", "validation:", "test:"):
        assert split in out
    assert "Traceback" not in res.stderr
    run = d / "run"
    files = {p.name for p in run.iterdir()}
    assert files == {
        "model.safetensors",
        "model_metrics.json",
        "model_loss.png",
        "model_boundary.png",
    }
    for png in ("model_loss.png", "model_boundary.png"):
        assert (run / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = json.loads((run / "model_metrics.json").read_text())
    assert report["config"]["data"] == "moons" and report["config"]["hidden"] == [8]
    assert set(report["metrics"]) == {"train", "validation", "test"}
    assert (
        report["metrics"]["train"]["n"]
        + report["metrics"]["validation"]["n"]
        + report["metrics"]["test"]["n"]
        == 80
    )
    assert len(report["history"]["train_loss"]) == 15
    model, meta = load_model(run / "model.safetensors")
    assert model.sizes == [2, 8, 1]
    assert meta["task"] == "binary" and meta["classes"] == [0, 1] and meta["loss"] == "bce"
    assert meta["metrics"] == report["metrics"]
    prep = Preprocessor.from_dict(meta["preprocessor"])
    assert prep.feature_names == ["x1", "x2"]
    # the printed training accuracy is the one stored
    acc = report["metrics"]["train"]["accuracy"]
    assert f"accuracy {acc:.4f}" in out


def test_evaluate_prints_accuracy_and_confusion_matrix(trained, tmp_path):
    d, _ = trained
    res = mlplab("evaluate", d / "run" / "model.safetensors", "moons", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "n: 200" in res.stdout  # the built-in set at its default size
    assert "accuracy:" in res.stdout and "confusion matrix" in res.stdout
    # the confusion matrix rows add up to the 200 samples
    rows = res.stdout.split("predicted):\n")[1].strip().splitlines()[1:]
    assert sum(int(v) for row in rows for v in row.split()[1:]) == 200


@pytest.mark.parametrize("backend", ["numpy", "torch", "jax"])
def test_train_save_load_predict_round_trip_is_exact(backend, tmp_path, capsys):
    require_backend(backend)
    # train in this process (the framework is imported here anyway), predict in a fresh one
    code = main(
        ["train", "moons", "--n-samples", "60", *TINY, "--backend", backend, "--no-plots",
         "--out", str(tmp_path / "m.safetensors")]
    )  # fmt: skip
    assert code == 0
    assert f"on {backend} (" in capsys.readouterr().out
    X = write_points_csv(tmp_path / "new.csv")
    res = mlplab(
        "predict", "m.safetensors", "new.csv", "--backend", backend, "--out", "p.csv", cwd=tmp_path
    )
    assert res.returncode == 0, res.stderr
    assert "wrote 25 predictions to p.csv" in res.stdout
    header, rows = read_csv(tmp_path / "p.csv")
    assert header == ["prediction", "p_0", "p_1"]
    # the library, from the same file, on the same backend: identical numbers
    model, meta = load_model(tmp_path / "m.safetensors", backend=backend)
    prep = Preprocessor.from_dict(meta["preprocessor"])
    proba = model.predict_proba(prep.transform(X))
    cli_proba = np.array([[float(v) for v in row[1:]] for row in rows])
    np.testing.assert_array_equal(cli_proba, proba)
    assert [int(row[0]) for row in rows] == np.argmax(proba, axis=1).tolist()


def test_predict_to_stdout_and_regression_in_target_units(tmp_path):
    res = mlplab("train", "cubic", *TINY, "--no-plots", "--out", "c.safetensors", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "r2" in res.stdout and "mse" in res.stdout
    with open(tmp_path / "x.csv", "w") as f:
        f.write("x\n0\n0.5\n1.75\n")
    res = mlplab("predict", "c.safetensors", "x.csv", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.strip().splitlines()
    assert lines[0] == "prediction"
    model, meta = load_model(tmp_path / "c.safetensors")
    prep = Preprocessor.from_dict(meta["preprocessor"])
    out = np.asarray(model(prep.transform(np.array([[0.0], [0.5], [1.75]]))), dtype=np.float64)
    expected = prep.inverse_transform_target(out)[:, 0]
    assert [float(v) for v in lines[1:]] == expected.tolist()
    # the targets were standardised with the statistics of the lecture's 8 samples
    from mlplab.data import cubic

    assert prep.target_scaler.mean[0] == pytest.approx(cubic(np.arange(8) * 0.25).mean())


def test_explain_gate_shows_the_lecture_arithmetic(tmp_path):
    res = mlplab("explain", "--gate", "xor", "--input", "1,0", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "h1.1 = H(-0.5 + 1·1 + 1·0) = H(0.5) = 1" in out  # OR fires
    assert "h1.2 = H(-1.5 + 1·1 + 1·0) = H(-0.5) = 0" in out  # AND does not
    assert "y1 = H(-0.5 + 1·1 - 2·0) = H(0.5) = 1" in out
    res = mlplab("explain", "--gate", "and", cwd=tmp_path)  # the whole truth table
    assert res.returncode == 0, res.stderr
    assert "H(-1 + 1·0 + 1·1) = H(0) = 0" in res.stdout  # the lecture's example, H(0) = 0
    assert [ln for ln in res.stdout.splitlines() if ln.startswith("output")] == [
        "output: 0",
        "output: 0",
        "output: 0",
        "output: 1",
    ]


def test_explain_trained_model_matches_its_prediction(trained, tmp_path):
    d, _ = trained
    path = d / "run" / "model.safetensors"
    res = mlplab("explain", path, "--input", "0.5,-0.25", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == "input: x1 = 0.5, x2 = -0.25"
    assert lines[1].startswith("standardised")
    assert sum(ln.startswith("  h1.") for ln in lines) == 8
    assert sum(ln.startswith("  y1 = ") for ln in lines) == 1
    model, meta = load_model(path, dtype="float64")
    prep = Preprocessor.from_dict(meta["preprocessor"])
    p = model.predict_proba(prep.transform(np.array([[0.5, -0.25]])))[0, 1]
    assert f"= {p:.4g} -> predicted class {int(p > 0.5)}" in res.stdout


def test_info_lists_version_backends_and_devices(tmp_path):
    import mlplab
    from mlplab.backend.arrays import available_backends

    res = subprocess.run([*MLPLAB, "info", "--devices"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[0] == f"mlplab {mlplab.__version__}"
    for backend in available_backends():
        line = next(ln for ln in res.stdout.splitlines() if ln.strip().startswith(backend + " "))
        devices = line.split("devices", 1)[1]
        assert any(kind in devices for kind in ("cpu", "cuda", "gpu"))  # a GPU machine: gpu:0


@pytest.mark.parametrize("command", ["train", "predict", "evaluate", "explain", "info"])
def test_every_command_has_help_with_an_example(command):
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices[command]
    text = sub.format_help()
    assert "Example" in text and f"mlplab {command}" in text


def test_same_seed_same_model_file(tmp_path):
    args = ["train", "xor", "--hidden", "4", "--epochs", "5", "--verbose", "0", "--no-plots"]
    for name in ("a", "b"):
        assert main([*args, "--seed", "3", "--out", str(tmp_path / f"{name}.safetensors")]) == 0
    assert main([*args, "--seed", "4", "--out", str(tmp_path / "c.safetensors")]) == 0
    a, b, c = (load_file(tmp_path / f"{n}.safetensors") for n in "abc")
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not all(np.array_equal(a[k], c[k]) for k in a)


def test_explain_input_may_start_with_a_minus_and_must_not_skip_a_value(tmp_path):
    res = mlplab("explain", "--gate", "xor", "--input", "-1,2", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("input: x1 = -1, x2 = 2")
    res = mlplab("explain", "--gate", "xor", "--input", "-0.5 1", cwd=tmp_path)
    assert res.returncode == 0 and res.stdout.startswith("input: x1 = -0.5, x2 = 1")
    res = mlplab("explain", "--gate", "xor", "--input", "1,,0", cwd=tmp_path)
    assert res.returncode == 2
    assert "--input must be comma-separated numbers such as 1,0; got '1,,0'" in res.stderr


def test_a_target_column_whose_name_holds_a_comma(tmp_path):
    """The model file keeps the target names as a list: 'price,usd' is one column."""
    X = np.random.default_rng(0).normal(size=(40, 2))
    with open(tmp_path / "d.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["a", "b", "price,usd"])
        w.writerows([[a, b, 2 * a - b] for a, b in X])
    with open(tmp_path / "p.csv", "w", newline="") as f:
        csv.writer(f).writerows([["a", "b"], *X[:3].tolist()])
    res = mlplab("train", "d.csv", "--target", "price,usd", *TINY, "--no-plots",
                 "--out", "m.safetensors", cwd=tmp_path)  # fmt: skip
    assert res.returncode == 0, res.stderr
    _, meta = load_model(tmp_path / "m.safetensors")
    assert Preprocessor.from_dict(meta["preprocessor"]).targets == ["price,usd"]
    res = mlplab("predict", "m.safetensors", "p.csv", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.strip().splitlines()
    assert lines[0] == "prediction" and len(lines) == 4
    res = mlplab("evaluate", "m.safetensors", "d.csv", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "r2" in res.stdout
