"""Streaming has what the in-memory path has: one-hot text columns (vocabulary in the same
single pass), a seeded validation split with early stopping, and checkpoints at epoch ends
that `--resume` continues to exactly the uninterrupted run."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

pa = pytest.importorskip("pyarrow")
import pyarrow.csv as pcsv  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from mlplab import MLP, files  # noqa: E402
from mlplab.cli.main import main  # noqa: E402
from mlplab.data import Preprocessor  # noqa: E402
from mlplab.data.csvfile import load_csv  # noqa: E402
from mlplab.data.stream import Holdout, TableStream, scan_preprocessor  # noqa: E402
from mlplab.errors import ConfigError, DataError  # noqa: E402
from mlplab.train.streaming import evaluate_stream, fit_stream  # noqa: E402

N = 3000


def columns(n=N, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2)) * [2.0, 0.5] + [1.0, -3.0]
    color = rng.choice(["red", " green", "blue"], size=n)  # a space, as CSV cells have them
    shift = np.select([color == "red", color == "blue"], [1.5, -1.5], 0.0)
    label = np.where(x[:, 0] - 1 + shift > 0, "yes", "no")
    return {"x0": x[:, 0], "color": color, "x1": x[:, 1], "label": label}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("streamfeat")
    table = pa.table(columns())
    pq.write_table(table, folder / "c.parquet", row_group_size=400)  # 8 groups
    dictionary = table.set_column(1, "color", table.column("color").dictionary_encode())
    pq.write_table(dictionary, folder / "d.parquet", row_group_size=400)
    pcsv.write_csv(table, folder / "c.csv")
    return folder


def test_text_columns_one_hot_in_the_same_pass_as_the_in_memory_preprocessor(folder):
    memory = Preprocessor().fit(load_csv(folder / "c.csv", "label", one_hot=True)).to_dict()
    for name in ("c.parquet", "d.parquet", "c.csv"):  # plain and dictionary strings, CSV
        streamed = scan_preprocessor(TableStream(folder / name, "label", one_hot=True)).to_dict()
        assert streamed["categories"] == memory["categories"] == {"color": ["blue", "green", "red"]}
        assert streamed["feature_names"] == memory["feature_names"]
        for key in ("mean", "scale"):
            np.testing.assert_allclose(streamed["scaler"][key], memory["scaler"][key], rtol=1e-12)
        np.testing.assert_allclose(streamed["fill_values"], memory["fill_values"], rtol=1e-12)
        assert streamed["classes"] == memory["classes"] and streamed["task"] == memory["task"]


def test_text_columns_without_one_hot_and_too_many_categories_are_one_line_errors(folder, tmp_path):
    with pytest.raises(DataError, match=r"non-numeric feature column: 'color'.*--one-hot"):
        TableStream(folder / "c.parquet", "label")
    rng = np.random.default_rng(0)
    ids = {"id": [f"u{i}" for i in range(500)], "x": rng.normal(size=500), "y": [0, 1] * 250}
    pq.write_table(pa.table(ids), tmp_path / "ids.parquet")
    with pytest.raises(DataError, match="'id' has 500 distinct values in 500 rows"):
        scan_preprocessor(TableStream(tmp_path / "ids.parquet", "y", one_hot=True))


def test_the_holdout_is_a_seeded_hash_of_the_row_number():
    a, b = Holdout(0.2, 3), Holdout(0.2, 4)
    whole = a.mask(0, 100_000)
    np.testing.assert_array_equal(whole[1234:5678], a.mask(1234, 4444))  # any piece, any order
    assert abs(whole.mean() - 0.2) < 0.01 and not np.array_equal(whole, b.mask(0, 100_000))


def test_validation_rows_are_held_out_of_training_and_statistics(folder):
    stream = TableStream(folder / "c.parquet", "label", one_hot=True, validation_split=0.25,
                         split_seed=1)  # fmt: skip
    train, val = stream.part_rows("train"), stream.part_rows("validation")
    assert [t + v for t, v in zip(train, val, strict=True)] == stream.rows_per_piece()
    assert 600 < sum(val) < 900
    prep = scan_preprocessor(stream)
    mask = Holdout(0.25, 1).mask(0, N)
    np.testing.assert_allclose(prep.scaler.mean[0], columns()["x0"][~mask].mean(), rtol=1e-12)
    seen = sum(len(X) for X, _ in stream.batches(prep.categories, part="validation"))
    assert seen == sum(val) == int(mask.sum())


def run(stream, prep, epochs, model=None, **kw):
    model = model or MLP(prep.n_features, (8,), 1, seed=0, dtype="float64")
    kw = dict(batch_size=32, lr=0.01, shuffle_rows=500, verbose=0, schedule="cosine") | kw
    history = fit_stream(model, stream, prep, epochs=epochs, **kw)
    return model, history


def test_fit_stream_reports_validation_and_stops_early_with_the_best_weights(folder):
    stream = TableStream(folder / "c.parquet", "label", one_hot=True, validation_split=0.2)
    prep = scan_preprocessor(stream)
    model, h = run(stream, prep, 3)
    assert len(h.val_loss) == len(h.val_metric) == 3 and h.val_metric[-1] > 0.9
    assert h.val_loss[-1] < h.val_loss[0] and h.best_epoch == 1 + int(np.argmin(h.val_loss))
    val = evaluate_stream(model, stream, prep, "bce", "validation")
    assert val["accuracy"] == pytest.approx(h.val_metric[-1], abs=1e-12)
    snapshots, model = {}, MLP(prep.n_features, (8,), 1, seed=0, dtype="float64")

    def keep(history):
        snapshots[history.epoch[-1]] = [[a.copy() for a in p] for p in model.numpy_params()]

    _, h = run(stream, prep, 40, model, lr=0.2, patience=2, early_stopping=True,
               on_epoch_end=keep)  # fmt: skip
    assert h.stopped_early and len(h.epoch) < 40 and h.epoch[-1] - h.best_epoch == 2
    for (b, W), (b_best, W_best) in zip(model.numpy_params(), snapshots[h.best_epoch], strict=True):
        np.testing.assert_array_equal(W, W_best)
        np.testing.assert_array_equal(b, b_best)
    few = TableStream(folder / "c.parquet", "label", one_hot=True, validation_split=1e-6)
    with pytest.raises(ConfigError, match="holds no rows"):  # before any training
        run(few, scan_preprocessor(few), 1)
    with pytest.raises(ConfigError, match="needs validation rows"):
        run(TableStream(folder / "c.parquet", "label", one_hot=True), prep, 1, early_stopping=True)


def test_resumed_after_epoch_k_equals_the_uninterrupted_run_exactly(folder, tmp_path):
    stream = TableStream(folder / "c.parquet", "label", one_hot=True, validation_split=0.2)
    prep = scan_preprocessor(stream)
    whole, h_whole = run(stream, prep, 4)
    asked = iter(range(10))
    part, h_part = run(stream, prep, 4, should_stop=lambda: next(asked) == 1)  # after epoch 2
    assert h_part.interrupted and h_part.epoch == [1, 2]
    files.save_checkpoint(tmp_path / "k.ckpt.safetensors", part, h_part.state, config={})
    model, state, _, _ = files.load_checkpoint(tmp_path / "k.ckpt.safetensors", dtype="float64")
    h_rest = fit_stream(model, stream, prep, epochs=2, batch_size=32, lr=0.01, shuffle_rows=500,
                        verbose=0, schedule="cosine", state=state)  # fmt: skip
    assert h_rest.epoch == [3, 4] and h_rest.state.step == h_whole.state.step
    assert h_part.train_loss + h_rest.train_loss == h_whole.train_loss
    assert h_part.val_loss + h_rest.val_loss == h_whole.val_loss
    for (b1, W1), (b2, W2) in zip(model.numpy_params(), whole.numpy_params(), strict=True):
        np.testing.assert_array_equal(W1, W2)
        np.testing.assert_array_equal(b1, b2)


@pytest.mark.parametrize("data", ["c.parquet", "c.csv"])
def test_mlplab_train_streams_one_hot_validation_and_resumes_after_an_interrupt(
    data, folder, tmp_path, monkeypatch
):
    from mlplab.cli import train_stream

    flags = ["train", str(folder / data), "--target", "label", "--one-hot", "--stream",
             "--validation-split", "0.2", "--epochs", "3", "--hidden", "8", "--dtype",
             "float64", "--no-plots", "--verbose", "0", "--shuffle-rows", "600"]  # fmt: skip
    assert main([*flags, "--out-dir", str(tmp_path / "whole")]) == 0
    real = train_stream._save_epoch

    def save_then_die(*args):
        real(*args)
        raise KeyboardInterrupt  # as Ctrl-C (or a crash) after the checkpoint of epoch 1

    monkeypatch.setattr(train_stream, "_save_epoch", save_then_die)
    assert main([*flags, "--out-dir", str(tmp_path / "cut")]) == 130
    ckpt = tmp_path / "cut" / "model.ckpt.safetensors"
    _, state, _, extra = files.load_checkpoint(ckpt)
    assert state.epoch == 1 and extra["shuffle_rows"] == 600
    monkeypatch.setattr(train_stream, "_save_epoch", real)
    assert main(["train", "--resume", str(ckpt)]) == 0
    assert not ckpt.exists()  # the run finished: its checkpoint is gone
    whole, meta = files.load_model(tmp_path / "whole" / "model.safetensors", dtype="float64")
    resumed, meta_r = files.load_model(tmp_path / "cut" / "model.safetensors", dtype="float64")
    for (b1, W1), (b2, W2) in zip(whole.numpy_params(), resumed.numpy_params(), strict=True):
        np.testing.assert_array_equal(W1, W2)
        np.testing.assert_array_equal(b1, b2)
    assert meta["history"]["val_loss"] == meta_r["history"]["val_loss"]
    assert meta["metrics"]["validation"]["accuracy"] > 0.9
    # predict and evaluate read the streamed model with the in-memory code
    model_file = str(tmp_path / "whole" / "model.safetensors")
    assert main(["evaluate", model_file, str(folder / "c.csv")]) == 0
    out = tmp_path / "pred.csv"
    assert main(["predict", model_file, str(folder / "c.csv"), "--out", str(out)]) == 0
    assert out.read_text().count("\n") == N + 1
    if data.endswith(".parquet") and importlib.util.find_spec("onnx") is not None:  # export, too
        onnx = str(tmp_path / "model.onnx")
        assert main(["export", model_file, "--format", "onnx", "--out", onnx]) == 0
