"""`mlplab train` holds out a test split by default, compares with a linear baseline and says
when early stopping ended the run (issue 13, points 2 and 3)."""

from __future__ import annotations

import json

import numpy as np

import mlplab as ml
from mlplab.cli.main import main
from mlplab.config import TrainConfig
from mlplab.pipeline import TrainingData


def _train(tmp_path, capsys, *extra):
    capsys.readouterr()
    out = tmp_path / "m.safetensors"
    args = ["train", "moons", "--epochs", "3", "--no-plots", "--out", str(out), *extra]
    assert main(args) == 0
    captured = capsys.readouterr()
    report = json.loads((tmp_path / "m_metrics.json").read_text())
    return captured.out + captured.err, report


def test_a_test_split_is_held_out_by_default_with_a_baseline(tmp_path, capsys):
    text, report = _train(tmp_path, capsys)
    n = report["metrics"]["train"]["n"] + report["metrics"]["test"]["n"]
    assert report["metrics"]["test"]["n"] == round(0.2 * n)
    assert "test: 20% held out, stratified, seed 0" in text
    assert "      test: loss" in text
    assert "  baseline: logistic regression, test accuracy" in text
    assert report["baseline"]["model"] == "logistic regression"


def test_test_split_zero_keeps_every_row_for_training(tmp_path, capsys):
    text, report = _train(tmp_path, capsys, "--test-split", "0")
    assert set(report["metrics"]) == {"train"}
    assert "test:" not in text and "baseline: logistic regression, train accuracy" in text


def test_the_default_split_is_stratified_and_seeded():
    runs = [TrainingData(TrainConfig(data="breast-cancer")) for _ in range(2)]
    y_test = [r.raw["test"][1] for r in runs]
    np.testing.assert_array_equal(y_test[0], y_test[1])
    y_all = np.concatenate([runs[0].raw["train"][1], y_test[0]])
    assert abs(y_test[0].mean() - y_all.mean()) < 0.01  # class shares kept


def test_tiny_data_keeps_all_rows_and_says_so():
    run = TrainingData(TrainConfig(data="xor"))
    assert "test" not in run.raw and "no test split: 4 rows" in run.describe()


def test_regression_baseline_is_linear_regression(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 2))
    rows = "\n".join(f"{a},{b},{3 * a - b + 0.1 * rng.normal()}" for a, b in X)
    (tmp_path / "lin.csv").write_text("a,b,y\n" + rows + "\n")
    capsys.readouterr()
    out = tmp_path / "r.safetensors"
    args = ["train", str(tmp_path / "lin.csv"), "--target", "y", "--epochs", "2", "--no-plots"]
    assert main([*args, "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "baseline: linear regression, test r2 0.99" in text


def test_early_stopping_says_where_it_stopped_and_what_it_restored(tmp_path, capsys):
    extra = ["--validation-split", "0.2", "--early-stopping", "--patience", "2", "--lr", "0.5"]
    text, report = _train(tmp_path, capsys, "--epochs", "60", *extra)
    history = report["history"]
    assert history["stopped_early"]
    best = history["best_epoch"]
    val = history["val_loss"][history["epoch"].index(best)]
    line = (
        f"stopped early at epoch {history['epoch'][-1]}; restored the weights of epoch {best} "
        f"(best val_loss {val:.4f})"
    )
    assert text.count(line) == 1  # once: from fit (verbose), not again from the CLI


def test_python_fit_says_it_stopped_early(capsys):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 2))
    y = (X[:, 0] > 0).astype(int)
    net = ml.MLP(2, [8], 1, seed=0)
    history = net.fit(
        X, y, epochs=200, lr=0.5, validation_split=0.3, early_stopping=True, patience=2
    )
    assert history.stopped_early
    assert history.stopped_early_line() in capsys.readouterr().err
    net.fit(X, y, epochs=200, lr=0.5, validation_split=0.3, early_stopping=True, patience=2,
            verbose=0)  # fmt: skip
    assert "stopped early" not in capsys.readouterr().err
