"""CSV files as people have them (issue 13, point 4): a pandas index column, --features /
--drop, an id-column warning, True/False as 0/1, unseen categories as all zeros with a count,
regression units stated."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mlplab.cli.main import main
from mlplab.data import load_csv
from mlplab.errors import DataError, MLPLabWarning

pd = pytest.importorskip("pandas")


@pytest.fixture
def frame():
    rng = np.random.default_rng(0)
    n = 60
    df = pd.DataFrame(
        {
            "id": np.arange(1000, 1000 + n),
            "a": rng.normal(size=n),
            "flag": rng.random(n) > 0.5,
            "colour": rng.choice(["red", "green"], n),
        }
    )
    df["kind"] = np.where(df.a + df.flag > 0.5, "yes", "no")
    return df


def test_a_pandas_to_csv_file_loads_without_its_index(tmp_path, frame):
    frame.to_csv(tmp_path / "d.csv")  # with the unnamed index column
    with pytest.warns(MLPLabWarning, match="skipped the unnamed first column"):
        ds = load_csv(tmp_path / "d.csv", "kind", one_hot=True, drop=["id"])
    assert ds.columns == ["a", "flag", "colour"]


def test_true_false_columns_are_read_as_0_1_without_one_hot(tmp_path, frame):
    frame.drop(columns="colour").to_csv(tmp_path / "d.csv", index=False)
    ds = load_csv(tmp_path / "d.csv", "kind", drop=["id"])  # no --one-hot needed
    j = ds.feature_names.index("flag")
    np.testing.assert_array_equal(ds.X[:, j], frame.flag.to_numpy(float))


def test_features_and_drop_choose_the_columns(tmp_path, frame):
    frame.to_csv(tmp_path / "d.csv", index=False)
    ds = load_csv(tmp_path / "d.csv", "kind", features=["a", "flag"])
    assert ds.feature_names == ["a", "flag"]
    with pytest.raises(DataError, match=r"`drop` \(--drop\) names column\(s\) 'nope'"):
        load_csv(tmp_path / "d.csv", "kind", drop=["nope"], one_hot=True)


def test_an_integer_column_unique_per_row_draws_a_warning(tmp_path, frame):
    frame.to_csv(tmp_path / "d.csv", index=False)
    with pytest.warns(MLPLabWarning, match=r"column 'id' holds a different integer on every row"):
        load_csv(tmp_path / "d.csv", "kind", one_hot=True)


def test_cli_drop_unseen_categories_and_counts(tmp_path, frame, capsys):
    frame.to_csv(tmp_path / "d.csv")
    model = tmp_path / "m.safetensors"
    args = ["train", str(tmp_path / "d.csv"), "--target", "kind", "--one-hot", "--drop", "id"]
    assert main([*args, "--epochs", "2", "--no-plots", "--out", str(model)]) == 0
    err = capsys.readouterr().err
    assert "holds a different integer" not in err  # dropped: no identifier warning
    new = frame.head(5).copy()
    new.loc[[1, 3], "colour"] = "purple"
    new.to_csv(tmp_path / "new.csv")  # the id column is still in the file: ignored
    out = tmp_path / "p.csv"
    assert main(["predict", str(model), str(tmp_path / "new.csv"), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "wrote 5 predictions to" in captured.out
    assert "(2 with a category unseen at training time)" in captured.out
    assert "mlplab: warning: 2 of 5 rows have a category unseen at training time" in captured.err
    report = tmp_path / "e.json"
    assert main(["evaluate", str(model), str(tmp_path / "new.csv"), "--out", str(report)]) == 0
    assert json.loads(report.read_text())["rows_with_unseen_categories"] == 2


def test_regression_terminal_and_plot_share_the_target_units(tmp_path, capsys, monkeypatch):
    import mlplab.plots

    plotted = {}

    def spy(history, path, title=None):
        plotted.update(history=history, title=title)
        return path

    monkeypatch.setattr(mlplab.plots, "plot_loss_curve", spy)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    rows = "\n".join(f"{a},{b},{100 * a + 5}" for a, b in X)
    (tmp_path / "r.csv").write_text("a,b,price\n" + rows + "\n")
    capsys.readouterr()
    args = ["train", str(tmp_path / "r.csv"), "--target", "price", "--epochs", "2"]
    assert main([*args, "--out", str(tmp_path / "r.safetensors")]) == 0
    assert "mse, mae and the loss curve: in the units of the target 'price'" in (
        capsys.readouterr().out
    )
    from mlplab import files

    report = json.loads((tmp_path / "r_metrics.json").read_text())
    _, meta = files.load_model(tmp_path / "r.safetensors")
    std = meta["preprocessor"]["target_scaler"]["scale"][0]  # of the training rows
    scale = plotted["history"]["train_loss"][-1] / report["history"]["train_loss"][-1]
    assert scale == pytest.approx(std**2, rel=1e-12)
    assert "target's units" in plotted["title"]
